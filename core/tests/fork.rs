//! `fork()` with a database open: the child holds nothing of it. Every handle it inherited answers
//! `CLOSED` and closing them changes nothing; the parent can close and reopen while the child
//! lives; the child can open the database itself once the parent has closed it. Before, the child
//! inherited the `LOCK` descriptor, so the lock was held until every child had exited.
//!
//! One test in its own binary: a forked child of a process with few threads.

use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};

use lightning_db::{Database, ErrorCode, Options, Range};

/// A pipe: (read end, write end).
fn pipe() -> (std::fs::File, std::fs::File) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors `pipe` writes.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors were just created and are owned by nobody else.
    unsafe {
        (
            std::fs::File::from(OwnedFd::from_raw_fd(fds[0])),
            std::fs::File::from(OwnedFd::from_raw_fd(fds[1])),
        )
    }
}

/// What the child does; returns a line for the parent (`ok ...` or what went wrong).
fn child(db: Database, path: &std::path::Path, mut go: std::fs::File) -> String {
    let mut report = Vec::new();
    let closed = |what: &str, code: Option<ErrorCode>| match code {
        Some(ErrorCode::Closed) => String::new(),
        other => format!("{what}: expected CLOSED, got {other:?}; "),
    };
    if !db.is_closed() {
        report.push("is_closed() is false for the parent's handle; ".into());
    }
    report.push(closed("get", db.get(b"k").err().map(|e| e.code())));
    report.push(closed(
        "put",
        db.put(b"child", b"x").err().map(|e| e.code()),
    ));
    report.push(closed("snapshot", db.snapshot().err().map(|e| e.code())));
    report.push(closed("begin", db.begin().err().map(|e| e.code())));
    // Dropping the inherited handle touches nothing and waits for no thread.
    drop(db);
    // Wait until the parent has closed and reopened (while this child lives) and closed again.
    let mut byte = [0u8; 1];
    if go.read_exact(&mut byte).is_err() {
        return "the parent went away".into();
    }
    match Database::open(path, Options::default()) {
        Ok(own) => {
            if own.get(b"k").ok().flatten().as_deref() != Some(&b"parent"[..]) {
                report.push("the child's own handle does not see the parent's write; ".into());
            }
            if let Err(e) = own.put(b"from-child", b"yes") {
                report.push(format!("write in the child: {e}; "));
            }
            if let Err(e) = own.close() {
                report.push(format!("close in the child: {e}; "));
            }
        }
        Err(e) => report.push(format!("open in the child: {e}; ")),
    }
    let problems: String = report.concat();
    if problems.is_empty() {
        "ok".into()
    } else {
        problems
    }
}

#[test]
fn a_forked_child_leaves_the_parents_database_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let db = Database::open(&path, Options::default()).unwrap();
    db.put(b"k", b"parent").unwrap();
    let snapshot = db.snapshot().unwrap();

    let (mut from_child, mut to_parent) = pipe();
    let (go_read, mut go_write) = pipe();
    // SAFETY: the child runs only this test's code and leaves with `_exit`.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        drop(from_child);
        drop(go_write);
        // Running: the at-fork handler has let go of the lock in this process.
        let _ = to_parent.write_all(b"r");
        let inherited = snapshot.get(b"k").err().map(|e| e.code());
        let mut line = child(db, &path, go_read);
        if inherited != Some(ErrorCode::Closed) {
            line = format!("inherited snapshot: expected CLOSED, got {inherited:?}; {line}");
        }
        let _ = writeln!(to_parent, "{line}");
        // SAFETY: ends the child at once, without running the parent's destructors again.
        unsafe { libc::_exit(0) };
    }
    drop(to_parent);
    drop(go_read);
    let mut ready = [0u8; 1];
    from_child.read_exact(&mut ready).unwrap();
    assert_eq!(&ready, b"r");

    // The child is alive and never opened the database: the parent closes and reopens it.
    drop(snapshot);
    db.close().unwrap();
    let again = Database::open(&path, Options::default())
        .expect("reopen while a forked child lives (the child must not hold the lock)");
    assert_eq!(again.get(b"k").unwrap(), Some(b"parent".to_vec()));
    again.close().unwrap();

    // Now the child opens it itself.
    go_write.write_all(b"g").unwrap();
    let mut line = String::new();
    from_child.read_to_string(&mut line).unwrap();
    let mut status = 0;
    // SAFETY: waits for the child forked above.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert_eq!(line.trim(), "ok", "the child reported a problem");
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);

    let db = Database::open(&path, Options::default()).unwrap();
    let all: Vec<_> = db
        .iter(Range::all())
        .unwrap()
        .collect::<lightning_db::Result<_>>()
        .unwrap();
    assert_eq!(
        all,
        vec![
            (b"from-child".to_vec(), b"yes".to_vec()),
            (b"k".to_vec(), b"parent".to_vec())
        ]
    );
    db.verify().unwrap();
}
