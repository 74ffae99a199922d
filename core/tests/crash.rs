//! Crash test (DESIGN §3, §6): a child process writes `Durability::Sync` batches and is killed with
//! SIGKILL at a random moment; the parent reopens the database and checks that every acknowledged
//! batch is there, that no batch is partial, that the batches present are a prefix of the ones
//! issued (no holes), and that `verify()` is clean. The next child then goes on writing on the
//! same database, so recovery of an already recovered (and again interrupted) state is exercised
//! too.
//!
//! The children are this test binary run again with `--exact child_writer` (or `child_checker`);
//! those tests do nothing unless `LIGHTNING_CRASH_CHILD_DIR` is set.
//!
//! - The writer opens the database, reads the counter key `last`, prints `START <last + 1>` and then
//!   writes batch `last + 1`, `last + 2`, ... for ever, printing `ACK <i>` (flushed) after each
//!   write returns. The parent reads these lines through a pipe and kills the writer after a random
//!   delay, sometimes so short that the kill lands in `Database::open` (recovery) itself.
//! - The check opens the database and compares its whole content with the state that batches
//!   `1..=last` must produce. Most rounds it runs in a child process that then exits *without*
//!   closing the database (so the next writer recovers from what a recovery left behind); the other
//!   rounds it runs in this process and closes the database cleanly.
//!
//! Batch `i` (everything is a pure function of `i`):
//! - puts `b{i:010}-{j}` for `j < keys_in_batch(i)` (1 to 6 keys); small values, but a 10–50 KB
//!   value (overflow pages) when `i % 10 == 5` (the first key; every key when `i % 20 == 15`, so
//!   the batch is larger than the memtable) and when `i % 50 == 7` (the first two keys);
//! - puts the hot key `h{i % 16:02}` (overwritten every 16 batches);
//! - when `i % 10 == 0`: deletes every key of batch `i - 5` (and one key that never existed);
//! - deletes every key of batch `i - 2000` (unless batch `i - 1995` did): a sliding window keeps the
//!   database, and so each check, small however many kills a run makes;
//! - puts `last` = `i`.
//!
//! The options use a 64 KiB memtable, so WAL segments rotate and background merges run every few
//! batches; the cache and `mmap` settings vary from child to child.
//!
//! Environment: `LIGHTNING_CRASH_KILLS` (default 200) sets the number of kills, and
//! `LIGHTNING_CRASH_SEED` replays a seed (the timing of the kills still varies from run to run).

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::env::env_number;
use common::rng::{mix, seed_from_env_or_clock, Rng};
use common::tempdir::KeepOnFailure;
use lightning_db::{Compression, Database, Durability, Options, Range, VerifyReport, WriteBatch};

/// Set in a child: the database directory. Its absence means "not a child".
const CHILD_DIR_ENV: &str = "LIGHTNING_CRASH_CHILD_DIR";
/// Set in a child: which variant of the options to open with.
const CHILD_VARIANT_ENV: &str = "LIGHTNING_CRASH_CHILD_VARIANT";
/// Set in a checker child: the least `last` the database must hold.
const CHILD_MIN_LAST_ENV: &str = "LIGHTNING_CRASH_CHILD_MIN_LAST";
const KILLS_ENV: &str = "LIGHTNING_CRASH_KILLS";
const SEED_ENV: &str = "LIGHTNING_CRASH_SEED";
/// Option variants from this one on are encrypted (see `options`).
const ENCRYPTED_VARIANTS: u64 = 24;
const DEFAULT_KILLS: u64 = 200;

/// A writer that lives this long was not killed: the parent is gone or broken.
const WRITER_MAX_LIFETIME: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------------------------------------
// The workload: batch `i` and the state batches `1..=last` leave behind.
// ---------------------------------------------------------------------------------------------

const HOT_KEYS: u64 = 16;

fn keys_in_batch(i: u64) -> usize {
    1 + (mix(i) % 6) as usize
}

fn batch_key(i: u64, j: usize) -> Vec<u8> {
    format!("b{i:010}-{j}").into_bytes()
}

/// `(batch, index)` of a key written by [`batch_key`].
fn parse_batch_key(key: &[u8]) -> Option<(u64, usize)> {
    let s = std::str::from_utf8(key).ok()?.strip_prefix('b')?;
    let (i, j) = s.split_once('-')?;
    Some((i.parse().ok()?, j.parse().ok()?))
}

fn is_large(i: u64, j: usize) -> bool {
    (i % 10 == 5 && (j == 0 || i % 20 == 15)) || (i % 50 == 7 && j < 2)
}

fn value_len(i: u64, j: usize) -> usize {
    let r = mix(i.wrapping_mul(31).wrapping_add(j as u64) ^ 0x5EED);
    if is_large(i, j) {
        10_000 + (r % 40_001) as usize
    } else {
        8 + (r % 200) as usize
    }
}

fn batch_value(i: u64, j: usize) -> Vec<u8> {
    let len = value_len(i, j);
    let mut v = format!("v{i}.{j}:").into_bytes();
    let mut x = mix((i << 8) | j as u64);
    while v.len() < len {
        x = mix(x);
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    v
}

fn hot_key(k: u64) -> Vec<u8> {
    format!("h{k:02}").into_bytes()
}

fn hot_value(i: u64) -> Vec<u8> {
    let mut v = format!("hot {i} ").into_bytes();
    v.resize(v.len() + (mix(i ^ 0x407) % 64) as usize, b'.');
    v
}

/// Batches live this long: batch `i` deletes the keys of batch `i - WINDOW`, which keeps the
/// database (and so each check) small however many kills a run makes.
const WINDOW: u64 = 2000;

/// The batch that deletes batch `i`'s keys: `i + 5` when `i % 10 == 5`, else `i + WINDOW`.
fn deleted_by(i: u64) -> u64 {
    if i % 10 == 5 {
        i + 5
    } else {
        i + WINDOW
    }
}

/// The keys of batch `i` that batches `1..=last` leave in the database.
fn expected_keys_of_batch(i: u64, last: u64) -> usize {
    if i == 0 || i > last || deleted_by(i) <= last {
        0
    } else {
        keys_in_batch(i)
    }
}

fn make_batch(i: u64) -> WriteBatch {
    let mut batch = WriteBatch::new();
    for j in 0..keys_in_batch(i) {
        batch.put(&batch_key(i, j), &batch_value(i, j));
    }
    batch.put(&hot_key(i % HOT_KEYS), &hot_value(i));
    if i.is_multiple_of(10) && i >= 10 {
        let old = i - 5;
        for j in 0..keys_in_batch(old) {
            batch.delete(&batch_key(old, j));
        }
        batch.delete(&batch_key(old, 9)); // never written
    }
    if i > WINDOW && deleted_by(i - WINDOW) == i {
        let old = i - WINDOW;
        for j in 0..keys_in_batch(old) {
            batch.delete(&batch_key(old, j));
        }
    }
    batch.put(b"last", i.to_string().as_bytes());
    batch
}

/// The newest batch `<= last` that wrote hot key `k`.
fn hot_writer(k: u64, last: u64) -> Option<u64> {
    if last < k {
        return None;
    }
    let i = k + (last - k) / HOT_KEYS * HOT_KEYS;
    (i >= 1).then_some(i)
}

/// The key of the crash test's encrypted databases.
const KEY: &str = "5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed";

/// Opens with one of a few option sets; every one has the smallest memtable. Variants from
/// `ENCRYPTED_VARIANTS` on open an encrypted database (AES-256-GCM or ChaCha20-Poly1305, chosen
/// when it is created), so one run uses either kind of variant only.
fn options(variant: u64) -> Options {
    let encrypted = variant >= ENCRYPTED_VARIANTS;
    Options {
        encryption: match (encrypted, variant % 2) {
            (false, _) => lightning_db::Encryption::None,
            (true, 0) => lightning_db::Encryption::Aes256Gcm,
            (true, _) => lightning_db::Encryption::ChaCha20Poly1305,
        },
        encryption_key: lightning_db::Secret::new(if encrypted { KEY } else { "" }),
        memtable_size: 64 << 10,
        mmap: variant.is_multiple_of(2),
        cache_size: [64 << 20, 256 << 10, 0][(variant / 2 % 3) as usize],
        max_frozen_memtables: 1 + (variant / 6 % 4) as u32,
        compression: [
            Compression::None,
            Compression::Lz4,
            Compression::Zstd,
            Compression::Auto,
            Compression::Snappy,
        ][(variant % 5) as usize],
        ..Options::default()
    }
}

fn read_last(db: &Database) -> Result<u64, String> {
    match db.get(b"last").map_err(|e| format!("get(last): {e}"))? {
        None => Ok(0),
        Some(v) => String::from_utf8(v.clone())
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("the key `last` holds garbage: {v:?}")),
    }
}

// ---------------------------------------------------------------------------------------------
// The check.
// ---------------------------------------------------------------------------------------------

/// What a successful check found.
struct Checked {
    last: u64,
    report: VerifyReport,
}

/// Checks `db` against the state batches `1..=last` produce, where `last` is what the database
/// says; `last` must be at least `min_last`. Returns every problem found, described.
fn check_database(db: &Database, min_last: u64) -> Result<Checked, String> {
    const MAX_SHOWN: usize = 30;
    let mut problems: Vec<String> = Vec::new();

    let report = match db.verify() {
        Ok(report) => Some(report),
        Err(e) => {
            problems.push(format!("verify() failed: {e}"));
            None
        }
    };
    let last = read_last(db)?;
    if last < min_last {
        problems.push(format!(
            "acknowledged batches lost: `last` is {last}, but batch {min_last} was acknowledged \
             (or seen after an earlier recovery)"
        ));
    }

    // One pass over everything: per batch, which of its keys are there and whether their values
    // are right; every other key aside.
    let mut present: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    let mut others: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut previous: Option<Vec<u8>> = None;
    let mut entries = 0u64;
    for entry in db.iter(Range::all()).map_err(|e| format!("iter: {e}"))? {
        let (key, value) = entry.map_err(|e| format!("iterating after {entries} entries: {e}"))?;
        entries += 1;
        if previous.as_ref().is_some_and(|p| *p >= key) {
            problems.push(format!(
                "iteration out of order: {:?} after {:?}",
                String::from_utf8_lossy(&key),
                String::from_utf8_lossy(previous.as_ref().unwrap())
            ));
        }
        match parse_batch_key(&key) {
            Some((i, j)) => {
                if j >= keys_in_batch(i) {
                    problems.push(format!(
                        "batch {i} never wrote its key {j}, but it is there"
                    ));
                } else if value != batch_value(i, j) {
                    problems.push(format!(
                        "batch {i} key {j}: wrong value ({} bytes, expected {})",
                        value.len(),
                        value_len(i, j)
                    ));
                }
                present.entry(i).or_default().push(j);
            }
            None => {
                others.insert(key.clone(), value);
            }
        }
        previous = Some(key);
    }

    // Per batch: whole or absent, and a prefix of the history.
    let highest = present.keys().next_back().copied().unwrap_or(0);
    if highest != last {
        problems.push(format!(
            "the highest batch with keys is {highest}, but `last` says {last}"
        ));
    }
    for i in 1..=last.max(highest) {
        let want = expected_keys_of_batch(i, last);
        let have = present.get(&i).map_or(0, Vec::len);
        if want == have {
            continue;
        }
        let what = if i > last {
            format!("batch {i} is after `last` = {last}, yet {have} of its keys are there")
        } else if have == 0 {
            format!("hole: batch {i} is missing ({want} keys) while `last` = {last}")
        } else if want == 0 {
            format!(
                "batch {i} should have been deleted by batch {} (<= last = {last}), yet {have} \
                 of its {} keys are there (a partial batch {})",
                deleted_by(i),
                keys_in_batch(i),
                deleted_by(i)
            )
        } else {
            format!("partial batch {i}: {have} of its {want} keys are there")
        };
        problems.push(what);
    }

    // The hot keys and the counter.
    let mut expected_others: BTreeMap<Vec<u8>, Vec<u8>> = (0..HOT_KEYS)
        .filter_map(|k| hot_writer(k, last).map(|i| (hot_key(k), hot_value(i))))
        .collect();
    if last > 0 {
        expected_others.insert(b"last".to_vec(), last.to_string().into_bytes());
    }
    if others != expected_others {
        for (k, v) in &others {
            if expected_others.get(k) != Some(v) {
                problems.push(format!(
                    "key {:?} = {:?}, expected {:?}",
                    String::from_utf8_lossy(k),
                    String::from_utf8_lossy(v),
                    expected_others.get(k).map(|v| String::from_utf8_lossy(v))
                ));
            }
        }
        for k in expected_others.keys().filter(|k| !others.contains_key(*k)) {
            problems.push(format!("key {:?} is missing", String::from_utf8_lossy(k)));
        }
    }

    // Point reads agree with the scan: the newest batches, a spread of older ones (mostly live),
    // and the next batch (absent).
    let mut probes: Vec<u64> = (last.saturating_sub(12) + 1..=last + 1).collect();
    let live = last.clamp(1, WINDOW);
    probes.extend((0..16).map(|n| last.saturating_sub(live) + 1 + mix(last ^ n) % live));
    probes.extend((16..20).map(|n| 1 + mix(last ^ n) % last.max(1)));
    for i in probes {
        let want = expected_keys_of_batch(i, last);
        for j in 0..keys_in_batch(i) {
            let got = db
                .get(&batch_key(i, j))
                .map_err(|e| format!("get(batch {i} key {j}): {e}"))?;
            let expected = (j < want).then(|| batch_value(i, j));
            if got != expected {
                problems.push(format!(
                    "get(batch {i} key {j}) = {:?} bytes, expected {:?} bytes (scan had {:?})",
                    got.map(|v| v.len()),
                    expected.map(|v| v.len()),
                    present.get(&i)
                ));
            }
        }
    }

    match report {
        Some(report) if problems.is_empty() => Ok(Checked { last, report }),
        _ => {
            let total = problems.len();
            problems.truncate(MAX_SHOWN);
            Err(format!(
                "{total} problem(s) after recovery (last = {last}, required >= {min_last}, \
                 {entries} entries):\n  {}",
                problems.join("\n  ")
            ))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The children.
// ---------------------------------------------------------------------------------------------

fn child_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn child_variant() -> u64 {
    child_env(CHILD_VARIANT_ENV)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A child's report line on stdout: `@@<tag> <number>`. The test harness may print on the same
/// line before it, so the parent looks for the tag anywhere in a line. A failure to write means
/// the parent is gone.
fn say(tag: &str, n: u64) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "@@{tag} {n}").expect("stdout (the parent is gone?)");
    out.flush().expect("stdout (the parent is gone?)");
}

/// The writer child: writes batches until killed.
#[test]
fn child_writer() {
    let Some(dir) = child_env(CHILD_DIR_ENV) else {
        return;
    };
    let started = Instant::now();
    let db = Database::open(&dir, options(child_variant())).expect("open");
    let mut i = read_last(&db).expect("read last") + 1;
    say("START", i);
    let mut merges = 0;
    while started.elapsed() < WRITER_MAX_LIFETIME {
        db.write_with(&make_batch(i), Durability::Sync)
            .unwrap_or_else(|e| panic!("write of batch {i}: {e}"));
        say("ACK", i);
        if i.is_multiple_of(8) {
            let now = db.stats().merges;
            if now > merges {
                merges = now;
                say("MERGES", merges);
            }
        }
        i += 1;
    }
    panic!("the writer was not killed within {WRITER_MAX_LIFETIME:?}");
}

/// The checker child: checks, then exits without closing the database (as a crash would).
#[test]
fn child_checker() {
    let (Some(dir), Some(min_last)) = (child_env(CHILD_DIR_ENV), child_env(CHILD_MIN_LAST_ENV))
    else {
        return;
    };
    let min_last: u64 = min_last.parse().expect("min last");
    let db = Database::open(&dir, options(child_variant())).expect("open");
    match check_database(&db, min_last) {
        Ok(checked) => say("LAST", checked.last),
        Err(problems) => panic!("{problems}"),
    }
    std::process::exit(0); // no close, no drop: the next open recovers what this one left
}

// ---------------------------------------------------------------------------------------------
// The parent.
// ---------------------------------------------------------------------------------------------

fn child_command(test: &str, dir: &Path, variant: u64) -> Command {
    let mut cmd = Command::new(std::env::current_exe().expect("current_exe"));
    cmd.args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR_ENV, dir)
        .env(CHILD_VARIANT_ENV, variant.to_string())
        .env_remove(CHILD_MIN_LAST_ENV)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Reads a child's stream in a thread: lines with the time they arrived.
fn collect_lines(
    stream: impl Read + Send + 'static,
    start: Instant,
) -> mpsc::Receiver<Vec<(Duration, String)>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stream).lines() {
            match line {
                Ok(line) => lines.push((start.elapsed(), line)),
                Err(_) => break,
            }
        }
        let _ = tx.send(lines);
    });
    rx
}

/// The number of a line that [`say`] printed with `tag`.
fn heard(line: &str, tag: &str) -> Option<u64> {
    let (_, rest) = line.split_once(&format!("@@{tag} "))?;
    rest.trim_end().parse().ok()
}

/// What one writer did before it was killed.
struct WriterRun {
    status: ExitStatus,
    /// The batch it started at, and when it said so (after `open`).
    start: Option<(u64, Duration)>,
    acks: Vec<u64>,
    merges: u64,
    stderr: String,
}

fn run_writer(dir: &Path, variant: u64, kill_after: Duration) -> WriterRun {
    let spawned = Instant::now();
    let mut child: Child = child_command("child_writer", dir, variant)
        .spawn()
        .expect("spawn the writer");
    let stdout = collect_lines(child.stdout.take().unwrap(), spawned);
    let stderr = collect_lines(child.stderr.take().unwrap(), spawned);
    thread::sleep(kill_after.saturating_sub(spawned.elapsed()));
    child.kill().expect("SIGKILL the writer"); // SIGKILL on Unix
    let status = child.wait().expect("wait for the writer");
    let mut run = WriterRun {
        status,
        start: None,
        acks: Vec::new(),
        merges: 0,
        stderr: stderr
            .recv()
            .unwrap_or_default()
            .into_iter()
            .map(|(_, l)| l + "\n")
            .collect(),
    };
    for (at, line) in stdout.recv().unwrap_or_default() {
        if let Some(n) = heard(&line, "START") {
            run.start = Some((n, at));
        } else if let Some(n) = heard(&line, "ACK") {
            run.acks.push(n);
        } else if let Some(n) = heard(&line, "MERGES") {
            run.merges = n;
        }
    }
    run
}

/// Runs the check in a child that exits without closing; returns the `last` it found.
fn run_checker(dir: &Path, variant: u64, min_last: u64) -> Result<u64, String> {
    let output = child_command("child_checker", dir, variant)
        .env(CHILD_MIN_LAST_ENV, min_last.to_string())
        .output()
        .expect("run the checker");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().find_map(|l| heard(l, "LAST"));
    match (output.status.success(), last) {
        (true, Some(last)) => Ok(last),
        _ => Err(format!(
            "the checker failed ({}):\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr),
            stdout
        )),
    }
}

/// Runs the check here and closes the database cleanly.
fn check_here(dir: &Path, variant: u64, min_last: u64) -> Result<Checked, String> {
    let db = Database::open(dir, options(variant)).map_err(|e| format!("open: {e}"))?;
    let checked = check_database(&db, min_last)?;
    db.close().map_err(|e| format!("close: {e}"))?;
    Ok(checked)
}

#[test]
fn sigkill_during_sync_writes_keeps_every_acknowledged_batch() {
    if std::env::var_os(CHILD_DIR_ENV).is_some() {
        return; // a child runs only its own test
    }
    let kills = env_number(KILLS_ENV).unwrap_or(DEFAULT_KILLS);
    let seed = seed_from_env_or_clock(SEED_ENV);
    println!("crash test: {kills} kills, seed {seed} (replay with {SEED_ENV}={seed})");
    // The kill schedule.
    let mut rng = Rng(seed);
    let tmp = KeepOnFailure::new("crash test");
    let dir = tmp.path().join("db");
    let began = Instant::now();

    let mut last = 0u64; // what the last check found
    let mut acked_total = 0u64;
    let mut killed_in_open = 0u64;
    let mut beyond_ack = 0u64;
    let mut merges = 0u64;
    let mut checks_in_child = 0u64;
    let mut open_times = Vec::new();
    for round in 1..=kills {
        let fail = |what: String| -> ! {
            panic!("crash test, seed {seed}, round {round}/{kills}: {what}");
        };
        // Half the runs (by seed) keep an encrypted database.
        let variant = rng.below(24) + (seed % 2) * ENCRYPTED_VARIANTS;
        // One kill in six comes right after the start: in `open`, while it recovers.
        let kill_after = Duration::from_millis(if rng.below(6) == 0 {
            rng.below(12)
        } else {
            5 + rng.below(146)
        });
        let run = run_writer(&dir, variant, kill_after);
        if run.status.signal() != Some(9) {
            fail(format!(
                "the writer was not killed by SIGKILL but ended with {}; its stderr:\n{}",
                run.status, run.stderr
            ));
        }
        match run.start {
            Some((start, at)) => {
                open_times.push(at);
                if start != last + 1 {
                    fail(format!(
                        "the writer reopened at `last` = {}, but the previous check found {last}",
                        start - 1
                    ));
                }
            }
            None => killed_in_open += 1,
        }
        let first = run.start.map_or(last + 1, |(s, _)| s);
        if let Some(bad) = run
            .acks
            .iter()
            .enumerate()
            .find(|&(n, &a)| a != first + n as u64)
        {
            fail(format!(
                "acks out of order: {:?} at position {}",
                bad.1, bad.0
            ));
        }
        let max_ack = run.acks.last().copied().unwrap_or(0);
        acked_total += run.acks.len() as u64;
        merges += run.merges;
        let min_last = last.max(max_ack);

        let found = if rng.below(10) < 7 {
            checks_in_child += 1;
            run_checker(&dir, variant, min_last)
        } else {
            check_here(&dir, variant, min_last).map(|c| c.last)
        };
        let found = found.unwrap_or_else(|problems| {
            fail(format!(
                "after a kill at {kill_after:?} (acks {:?}..={max_ack}, options variant \
                 {variant}): {problems}",
                run.acks.first()
            ))
        });
        if found > max_ack.max(last) {
            beyond_ack += 1; // written, not yet acknowledged: allowed
        }
        last = found;
        if round % 100 == 0 && round < kills {
            println!(
                "crash test: {round} kills, {last} batches, {:.1?}",
                began.elapsed()
            );
        }
    }

    let checked = check_here(&dir, (seed % 2) * ENCRYPTED_VARIANTS, last)
        .unwrap_or_else(|problems| panic!("crash test, seed {seed}, final check: {problems}"));
    open_times.sort();
    let median_open = open_times.get(open_times.len() / 2).copied();
    println!(
        "crash test: {kills} kills in {:.1?}, seed {seed}: {last} batches survive ({acked_total} \
         acknowledged), {killed_in_open} kills before the writer had opened the database (median \
         time to open {median_open:?}), {beyond_ack} recoveries kept unacknowledged batches, {merges} merges in \
         writers, {checks_in_child} checks left the database unclosed; final verify: {:?}",
        began.elapsed(),
        checked.report
    );
    assert_eq!(checked.last, last);
}
