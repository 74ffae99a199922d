//! Tests of `faulty.rs`, kept beside it so that file stays about the code.

use super::*;

fn p(s: &str) -> &Path {
    Path::new(s)
}

fn read_all(f: &dyn StorageFile) -> Vec<u8> {
    let mut buf = vec![0; f.len().unwrap() as usize];
    f.read_at(&mut buf, 0).unwrap();
    buf
}

fn raw(err: io::Error) -> Option<i32> {
    err.raw_os_error()
}

/// A file system with `/db` and an open file `/db/f`, both durable (their directories synced).
fn setup() -> (FaultyStorage, Arc<dyn StorageFile>) {
    let s = FaultyStorage::new();
    s.create_dir_all(p("/db")).unwrap();
    let f = s.open(p("/db/f"), OpenMode::Create).unwrap();
    s.sync_dir(p("/")).unwrap();
    s.sync_dir(p("/db")).unwrap();
    (s, f)
}

#[test]
fn read_write_len_set_len_sync() {
    let (s, f) = setup();
    assert_eq!(f.len().unwrap(), 0);
    f.write_at(b"hello", 0).unwrap();
    f.write_at(b"world", 10).unwrap();
    f.write_at(b"", 100).unwrap();
    assert_eq!(f.len().unwrap(), 15);
    assert_eq!(read_all(&*f), b"hello\0\0\0\0\0world");
    let mut buf = [0u8; 4];
    f.read_at(&mut buf, 11).unwrap();
    assert_eq!(&buf, b"orld");
    let err = f.read_at(&mut buf, 12).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    let err = f.read_at(&mut buf, u64::MAX).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);

    f.sync().unwrap();
    f.set_len(3).unwrap();
    assert_eq!(read_all(&*f), b"hel");
    f.set_len(5).unwrap();
    assert_eq!(read_all(&*f), b"hel\0\0");
    assert_eq!(s.read_file("/db/f").unwrap(), b"hel\0\0");

    let g = s.open(p("/db/f"), OpenMode::Existing).unwrap();
    assert_eq!(read_all(&*g), b"hel\0\0");
    assert_eq!(
        raw(f.write_at(b"x", MAX_FILE_LEN).unwrap_err()),
        Some(libc::EFBIG)
    );
    assert_eq!(
        raw(f.set_len(MAX_FILE_LEN + 1).unwrap_err()),
        Some(libc::EFBIG)
    );
}

#[test]
fn paths_directories_and_listing() {
    let s = FaultyStorage::new();
    assert!(s.is_dir(p("/")).unwrap());
    assert!(s.exists(p("")).unwrap());
    let err = s.open(p("/db/f"), OpenMode::Create).err().unwrap();
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
    let err = s.lock(p("/db/LOCK")).err().unwrap();
    assert_eq!(err.kind(), io::ErrorKind::NotFound);

    s.create_dir_all(p("/db/sub")).unwrap();
    s.create_dir_all(p("/db//sub/")).unwrap();
    assert!(s.is_dir(p("/db")).unwrap());
    assert!(s.exists(p("/db/sub")).unwrap());
    let err = s.open(p("/db/f"), OpenMode::Existing).err().unwrap();
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
    s.open(p("/db/f"), OpenMode::Create).unwrap();
    assert!(s.exists(p("/db/f")).unwrap());
    assert!(!s.is_dir(p("/db/f")).unwrap());
    assert!(!s.exists(p("/db/g")).unwrap());
    assert_eq!(
        raw(s.open(p("/db"), OpenMode::Create).err().unwrap()),
        Some(libc::EISDIR)
    );
    assert!(s.create_dir_all(p("/db/f/x")).is_err());

    let mut names = s.list(p("/db")).unwrap();
    names.sort();
    assert_eq!(names, ["f", "sub"]);
    assert_eq!(s.file_names("/db"), ["f"]);
    assert!(s.list(p("/db/sub")).unwrap().is_empty());
    assert_eq!(
        s.list(p("/nope")).unwrap_err().kind(),
        io::ErrorKind::NotFound
    );
    assert_eq!(raw(s.list(p("/db/f")).unwrap_err()), Some(libc::ENOTDIR));
    s.sync_dir(p("/db")).unwrap();
    assert_eq!(
        s.sync_dir(p("/nope")).unwrap_err().kind(),
        io::ErrorKind::NotFound
    );

    // Relative paths live under the empty root.
    s.create_dir_all(p("rel")).unwrap();
    s.open(p("rel/x"), OpenMode::Create).unwrap();
    assert_eq!(s.list(p("rel")).unwrap(), ["x"]);
}

#[test]
fn rename_and_remove_follow_inodes() {
    let (s, f) = setup();
    f.write_at(b"one", 0).unwrap();
    s.write_file("/db/g", b"old");
    s.rename(p("/db/f"), p("/db/g")).unwrap();
    assert_eq!(s.file_names("/db"), ["g"]);
    assert_eq!(s.read_file("/db/g").unwrap(), b"one");
    // The handle follows the inode.
    f.write_at(b"two", 3).unwrap();
    assert_eq!(s.read_file("/db/g").unwrap(), b"onetwo");
    assert_eq!(
        s.rename(p("/db/f"), p("/db/h")).unwrap_err().kind(),
        io::ErrorKind::NotFound
    );
    assert_eq!(
        s.rename(p("/db/g"), p("/nodir/h")).unwrap_err().kind(),
        io::ErrorKind::NotFound
    );
    s.rename(p("/db/g"), p("/db/g")).unwrap();

    // A removed file stays usable through open handles.
    s.remove(p("/db/g")).unwrap();
    assert!(!s.exists(p("/db/g")).unwrap());
    assert!(s.read_file("/db/g").is_none());
    f.write_at(b"!", 6).unwrap();
    assert_eq!(read_all(&*f), b"onetwo!");
    assert_eq!(
        s.remove(p("/db/g")).unwrap_err().kind(),
        io::ErrorKind::NotFound
    );
    assert_eq!(raw(s.remove(p("/db")).unwrap_err()), Some(libc::EISDIR));
    // Once the directory is synced, no durable name refers to either inode any more.
    s.sync_dir(p("/db")).unwrap();
    drop(f);
    assert!(
        s.state.lock().inodes.is_empty(),
        "unlinked inode freed on last close"
    );
}

#[test]
fn helpers_write_read_flip() {
    let s = FaultyStorage::new();
    s.write_file("/a/b/c", b"\x00\x01\x02");
    assert!(s.is_dir(p("/a/b")).unwrap());
    assert_eq!(s.read_file("/a/b/c").unwrap(), [0, 1, 2]);
    s.flip_byte("/a/b/c", 1);
    assert_eq!(s.read_file("/a/b/c").unwrap(), [0, 0xFE, 2]);
    // The flip is durable.
    s.power_loss(PowerLoss::DropAll);
    assert_eq!(s.read_file("/a/b/c").unwrap(), [0, 0xFE, 2]);
    assert!(s.read_file("/a/b/missing").is_none());
    assert_eq!(s.op_count(), 1, "only the is_dir call counts");
}

#[test]
fn lock_is_exclusive_and_released_on_drop() {
    let (s, _f) = setup();
    let guard = s.lock(p("/db/LOCK")).unwrap();
    assert!(s.exists(p("/db/LOCK")).unwrap());
    let err = s.lock(p("/db/LOCK")).err().unwrap();
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    // A clone shares the lock table.
    let err = s.clone().lock(p("/db/LOCK")).err().unwrap();
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    // Another path is another lock.
    let _other = s.lock(p("/db/LOCK2")).unwrap();
    drop(guard);
    let again = s.lock(p("/db/LOCK")).unwrap();

    // After a power loss the old guard no longer holds the lock, and dropping it late does
    // not release the new holder's lock.
    s.power_loss(PowerLoss::KeepAll);
    let fresh = s.lock(p("/db/LOCK")).unwrap();
    drop(again);
    let err = s.lock(p("/db/LOCK")).err().unwrap();
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    drop(fresh);
    s.lock(p("/db/LOCK")).unwrap();
}

#[test]
fn every_operation_is_counted() {
    let s = FaultyStorage::new();
    assert_eq!(s.op_count(), 0);
    s.create_dir_all(p("/d")).unwrap(); // 1
    let f = s.open(p("/d/f"), OpenMode::Create).unwrap(); // 2
    f.write_at(b"abc", 0).unwrap(); // 3
    f.read_at(&mut [0; 3], 0).unwrap(); // 4
    f.sync().unwrap(); // 5
    f.len().unwrap(); // 6
    f.set_len(1).unwrap(); // 7
    s.list(p("/d")).unwrap(); // 8
    s.exists(p("/d/f")).unwrap(); // 9
    s.is_dir(p("/d")).unwrap(); // 10
    s.rename(p("/d/f"), p("/d/g")).unwrap(); // 11
    s.sync_dir(p("/d")).unwrap(); // 12
    let l = s.lock(p("/d/LOCK")).unwrap(); // 13
    s.remove(p("/d/g")).unwrap(); // 14
    assert!(s.open(p("/d/g"), OpenMode::Existing).is_err()); // 15 (failures count too)
    f.map(1).unwrap();
    drop((f, l));
    assert_eq!(s.op_count(), 15);
}

#[test]
fn fail_op_eio_once() {
    let (s, f) = setup();
    f.write_at(b"aaaa", 0).unwrap();
    s.fail_op(1, FaultKind::Eio, false);
    f.len().unwrap(); // op 0
    let err = f.write_at(b"bb", 0).unwrap_err(); // op 1
    assert_eq!(err.raw_os_error(), Some(libc::EIO));
    assert_eq!(read_all(&*f), b"aaaa", "a failing write writes nothing");
    f.write_at(b"cc", 0).unwrap();
    s.sync_dir(p("/db")).unwrap();
    assert_eq!(read_all(&*f), b"ccaa");
}

#[test]
fn fail_op_enospc_sticky_until_cleared() {
    let (s, f) = setup();
    s.fail_op(0, FaultKind::Enospc, true);
    for _ in 0..3 {
        let err = f.write_at(b"x", 0).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOSPC));
        let err = s.open(p("/db/new"), OpenMode::Create).err().unwrap();
        assert_eq!(err.raw_os_error(), Some(libc::ENOSPC));
        assert!(s.exists(p("/db")).is_err());
    }
    assert!(
        s.read_file("/db/new").is_none(),
        "a failing open creates nothing"
    );
    s.clear_faults();
    f.write_at(b"x", 0).unwrap();
    assert_eq!(read_all(&*f), b"x");
}

#[test]
fn fail_op_can_target_each_operation_of_a_scenario() {
    // The usual test pattern: count the scenario's operations, then fail each one in turn.
    fn scenario(s: &FaultyStorage) -> io::Result<()> {
        s.create_dir_all(p("/x"))?;
        let f = s.open(p("/x/f"), OpenMode::Create)?;
        f.write_at(b"data", 0)?;
        f.sync()?;
        s.rename(p("/x/f"), p("/x/g"))?;
        s.sync_dir(p("/x"))
    }
    let clean = FaultyStorage::new();
    let start = clean.op_count();
    scenario(&clean).unwrap();
    let n = clean.op_count() - start;
    assert_eq!(n, 6);
    for i in 0..n {
        let s = FaultyStorage::new();
        s.fail_op(i, FaultKind::Eio, false);
        assert_eq!(raw(scenario(&s).unwrap_err()), Some(libc::EIO), "op {i}");
    }
    let s = FaultyStorage::new();
    s.fail_op(n, FaultKind::Eio, false);
    scenario(&s).unwrap();
}

#[test]
fn power_loss_keep_all_and_drop_all() {
    for mode in [PowerLoss::KeepAll, PowerLoss::DropAll] {
        let (s, f) = setup();
        f.write_at(b"synced", 0).unwrap();
        f.sync().unwrap();
        f.write_at(b"SY", 0).unwrap();
        f.write_at(b"+unsynced", 6).unwrap();
        f.set_len(10).unwrap();
        let g = s.open(p("/db/never-synced"), OpenMode::Create).unwrap();
        g.write_at(b"zzz", 0).unwrap();
        s.power_loss(mode);
        match mode {
            PowerLoss::KeepAll => {
                assert_eq!(s.read_file("/db/f").unwrap(), b"SYnced+uns");
                assert_eq!(s.read_file("/db/never-synced").unwrap(), b"zzz");
            }
            _ => {
                assert_eq!(s.read_file("/db/f").unwrap(), b"synced");
                // Neither its content nor its name (the directory was not synced since).
                assert!(s.read_file("/db/never-synced").is_none());
            }
        }
        // Stale handles fail with EIO and do nothing.
        assert_eq!(raw(f.write_at(b"X", 0).unwrap_err()), Some(libc::EIO));
        assert_eq!(raw(f.read_at(&mut [0; 1], 0).unwrap_err()), Some(libc::EIO));
        assert_eq!(raw(f.sync().unwrap_err()), Some(libc::EIO));
        assert_eq!(raw(f.len().unwrap_err()), Some(libc::EIO));
        assert_eq!(raw(g.set_len(0).unwrap_err()), Some(libc::EIO));
        // A fresh handle works, and a second power loss keeps what is now durable.
        let h = s.open(p("/db/f"), OpenMode::Existing).unwrap();
        let before = read_all(&*h);
        drop((f, g));
        s.power_loss(PowerLoss::DropAll);
        assert_eq!(s.read_file("/db/f").unwrap(), before);
        assert!(h.len().is_err());
    }
}

#[test]
fn power_loss_forgets_removed_open_files_and_keeps_renames() {
    let (s, f) = setup();
    f.write_at(b"abc", 0).unwrap();
    f.sync().unwrap();
    s.rename(p("/db/f"), p("/db/g")).unwrap();
    let t = s.open(p("/db/tmp"), OpenMode::Create).unwrap();
    s.remove(p("/db/tmp")).unwrap();
    s.sync_dir(p("/db")).unwrap();
    s.power_loss(PowerLoss::DropAll);
    assert_eq!(s.file_names("/db"), ["g"]);
    assert_eq!(s.read_file("/db/g").unwrap(), b"abc");
    assert_eq!(s.state.lock().inodes.len(), 1);
    drop((f, t)); // Stale handles drop quietly.
    assert_eq!(s.state.lock().inodes.len(), 1);
}

/// Builds a scenario with synced data in `[0, 4096)` of `/db/f` and unsynced writes after it,
/// plus an unsynced rewrite of a second file, then loses power with `seed`.
fn random_scenario(seed: u64) -> (Vec<u8>, Vec<u8>) {
    let (s, f) = setup();
    let synced: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 256) as u8).collect();
    f.write_at(&synced, 0).unwrap();
    f.sync().unwrap();
    for i in 0..8u64 {
        let chunk = vec![i as u8 + 1; 1000];
        f.write_at(&chunk, 4096 + i * 1000).unwrap();
    }
    let g = s.open(p("/db/g"), OpenMode::Create).unwrap();
    s.sync_dir(p("/db")).unwrap();
    g.write_at(&[1; 2048], 0).unwrap();
    g.sync().unwrap();
    g.write_at(&[2; 2048], 0).unwrap();
    g.set_len(1024).unwrap();
    g.write_at(&[3; 100], 1500).unwrap();
    s.power_loss(PowerLoss::Random { seed });
    assert!(f.len().is_err() && g.len().is_err(), "stale handles");
    let f_after = s.read_file("/db/f").unwrap();
    assert!(f_after.len() >= 4096);
    assert_eq!(
        &f_after[..4096],
        &synced[..],
        "synced data survives (seed {seed})"
    );
    // What survives is what a fresh handle reads.
    let h = s.open(p("/db/f"), OpenMode::Existing).unwrap();
    assert_eq!(read_all(&*h), f_after);
    (f_after, s.read_file("/db/g").unwrap())
}

#[test]
fn power_loss_random_is_deterministic_and_varied() {
    let mut outcomes = Vec::new();
    let mut torn = false;
    for seed in 0..64 {
        let a = random_scenario(seed);
        assert_eq!(
            a,
            random_scenario(seed),
            "seed {seed} must be deterministic"
        );
        // Each unsynced 1000-byte write to f is whole, absent, or torn.
        let tail = &a.0[4096..];
        for (i, chunk) in tail.chunks(1000).enumerate() {
            let v = i as u8 + 1;
            assert!(chunk.iter().all(|&b| b == v || b == 0), "seed {seed}");
            if chunk.len() == 1000 && chunk.contains(&0) && chunk.contains(&v) {
                torn = true;
            }
        }
        outcomes.push(a);
    }
    outcomes.sort();
    outcomes.dedup();
    assert!(
        outcomes.len() > 10,
        "only {} distinct outcomes",
        outcomes.len()
    );
    assert!(torn, "some seed tears a write");
    let full: Vec<u8> = (0..8u8).flat_map(|i| vec![i + 1; 1000]).collect();
    assert!(
        outcomes.iter().any(|o| o.0[4096..] == full[..]),
        "some seed keeps all"
    );
    assert!(
        outcomes.iter().any(|o| o.0.len() == 4096),
        "some seed drops all"
    );
}

#[test]
fn shared_between_threads() {
    let (s, f) = setup();
    std::thread::scope(|scope| {
        for t in 0..4u8 {
            let f = Arc::clone(&f);
            scope.spawn(move || {
                for i in 0..100u64 {
                    f.write_at(&[t; 8], (u64::from(t) * 100 + i) * 8).unwrap();
                }
                f.sync().unwrap();
            });
        }
    });
    assert_eq!(s.op_count(), 4 + 4 * 101);
    s.power_loss(PowerLoss::DropAll);
    let data = s.read_file("/db/f").unwrap();
    assert_eq!(data.len(), 3200);
    for (i, chunk) in data.chunks(800).enumerate() {
        assert!(chunk.iter().all(|&b| b == i as u8));
    }
}

#[test]
fn directory_entries_are_durable_once_their_directory_is_synced() {
    let s = FaultyStorage::new();
    s.create_dir_all(p("/a/b")).unwrap();
    let f = s.open(p("/a/b/f"), OpenMode::Create).unwrap();
    f.write_at(b"data", 0).unwrap();
    f.sync().unwrap(); // the content, not the name
    s.power_loss(PowerLoss::DropAll);
    assert!(!s.is_dir(p("/a")).unwrap(), "nothing was synced into /");

    s.create_dir_all(p("/a/b")).unwrap();
    let f = s.open(p("/a/b/f"), OpenMode::Create).unwrap();
    f.write_at(b"data", 0).unwrap();
    f.sync().unwrap();
    s.sync_dir(p("/")).unwrap();
    s.sync_dir(p("/a")).unwrap();
    s.power_loss(PowerLoss::DropAll);
    assert!(s.is_dir(p("/a/b")).unwrap());
    assert!(s.read_file("/a/b/f").is_none(), "/a/b was not synced");

    s.write_file("/a/b/f", b"data"); // the helper's files are durable
    let f = s.open(p("/a/b/f"), OpenMode::Existing).unwrap();
    s.rename(p("/a/b/f"), p("/a/b/g")).unwrap();
    s.remove(p("/a/b/g")).unwrap();
    drop(f);
    s.power_loss(PowerLoss::DropAll);
    assert_eq!(
        s.file_names("/a/b"),
        ["f"],
        "the rename and the remove were undone"
    );
    assert_eq!(s.read_file("/a/b/f").unwrap(), b"data");

    s.rename(p("/a/b/f"), p("/a/b/g")).unwrap();
    s.power_loss(PowerLoss::KeepAll);
    assert_eq!(
        s.file_names("/a/b"),
        ["g"],
        "KeepAll keeps unsynced entries"
    );

    // Random: each directory keeps or drops its unsynced entries, by seed.
    let mut outcomes = BTreeSet::new();
    for seed in 0..32 {
        let s = FaultyStorage::new();
        s.write_file("/x/old", b"1");
        s.write_file("/y/old", b"2");
        s.rename(p("/x/old"), p("/x/new")).unwrap();
        s.rename(p("/y/old"), p("/y/new")).unwrap();
        s.power_loss(PowerLoss::Random { seed });
        outcomes.insert((s.file_names("/x"), s.file_names("/y")));
    }
    assert_eq!(outcomes.len(), 4, "{outcomes:?}");
}

#[test]
fn a_map_is_live_through_writes_truncation_flips_and_power_loss() {
    let (s, f) = setup();
    let path = p("/db/f");
    f.write_at(b"hello", 0).unwrap();
    f.sync().unwrap();
    let ops = s.op_count();
    let map = f.map(8192).unwrap().expect("FaultyStorage maps");
    assert_eq!(s.op_count(), ops, "map is not an operation");
    assert_eq!(map.len(), 8192);
    assert_eq!(&map[..5], b"hello");
    // A later write, past the old end too, shows through the map made before it.
    f.write_at(b"J", 0).unwrap();
    f.write_at(b"world", 100).unwrap();
    assert_eq!(&map[..5], b"Jello");
    assert_eq!(&map[100..105], b"world");
    // So does a flipped byte and a cut.
    s.flip_byte(path, 1);
    assert_eq!(map[1], b'e' ^ 0xFF);
    f.set_len(3).unwrap();
    assert_eq!(
        &map[3..5],
        &[0, 0],
        "cut bytes read as zeros through the map"
    );
    // A power loss replaces what the map shows with what survived: "hello" was synced.
    s.power_loss(PowerLoss::DropAll);
    assert_eq!(&map[..5], &[b'h', b'e' ^ 0xFF, b'l', b'l', b'o']);
    assert_eq!(&map[100..105], &[0; 5]);
    // A stale handle cannot map.
    assert!(f.map(4096).is_err());
    let again = s.open(path, OpenMode::Existing).unwrap();
    let second = again.map(4096).unwrap().unwrap();
    assert_eq!(&second[..5], &map[..5]);
}
