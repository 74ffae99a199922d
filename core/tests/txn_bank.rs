//! Bank transfers: the classic end-to-end check of transactions. Accounts hold balances; threads
//! move money between random accounts, each transfer one transaction that reads both balances and
//! writes both back. Money is neither created nor destroyed, so the sum of all balances is an
//! invariant that any isolation or atomicity bug breaks: a lost update (two transfers that read
//! the same balance) creates money, a partially applied or partially recovered transfer creates
//! or destroys it, and a torn snapshot (a scan that sees one half of a transfer) miscounts it.
//!
//! - `transfers_keep_the_total_across_reopen_*`: four threads transfer concurrently, each end of a
//!   transfer being one of a few hot accounts one time in four (so about four transfers in ten
//!   touch one), so that transactions really collide and the retry helper really retries. Meanwhile an auditor thread sums all accounts again and
//!   again: in a read-only transaction (forward and backward), and in a serializable read-write
//!   transaction that also moves one unit from the richest to the poorest account and sums again
//!   through its own pending writes. Every sum must be the initial total, whatever commits
//!   concurrently. Afterwards the total, the per-thread transfer counters (each transfer bumps its
//!   thread's counter in the same transaction, so they count committed transactions exactly once
//!   despite retries) and `verify()` are checked before and after a close and reopen. A 64 KiB
//!   memtable makes background merges run during the transfers. Under snapshot isolation the
//!   workload is safe too, because a transfer writes both accounts it reads: two transfers that
//!   share an account have a write-write conflict.
//! - `transfers_keep_the_total_across_sigkill`: as in `crash.rs`, this test binary is run again as
//!   a child (`--exact child_bank_writer`) that opens the database, creates the accounts in one
//!   transaction if they are absent, and transfers from several threads, most commits with
//!   `Durability::Sync` and some `Buffered`, printing a line for each acknowledged transfer. The
//!   parent kills it with SIGKILL after a random delay (sometimes during `open` or the account
//!   creation), reopens the database, and checks that the accounts are all there or (before
//!   their creation was acknowledged) all absent, that the total is exact, that `verify()` is
//!   clean, and that each thread's counter is at least the last transfer it acknowledged: an
//!   acknowledged commit survives a process crash, `Sync` and `Buffered` alike (the latter is
//!   documented to survive a crash of the process, just not power loss). The next child goes on
//!   from the recovered state, and must start each thread's counter exactly where the check
//!   found it.
//!
//! Randomness comes from a small seeded PRNG (no crate needed). Environment:
//! `LIGHTNING_BANK_KILLS` (default 30) sets the number of kills, and `LIGHTNING_BANK_SEED` replays
//! a seed (the timing, and so the interleavings, still vary from run to run).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::env::env_number;
use common::rng::{mix, seed_from_env_or_clock, Rng};
use common::tempdir::KeepOnFailure;
use lightning_db::{
    Database, Durability, ErrorCode, Isolation, Iter, Options, Range, Transaction,
    TransactionOptions,
};

// ---------------------------------------------------------------------------------------------
// The bank: accounts, balances, counters.
// ---------------------------------------------------------------------------------------------

const ACCOUNTS: u64 = 200;
const INITIAL_BALANCE: u64 = 1000;
const TOTAL: u64 = ACCOUNTS * INITIAL_BALANCE;
const ACCOUNT_PREFIX: &[u8] = b"acct-";
/// Each end of a transfer is one of accounts `0..HOT_ACCOUNTS` one time in four: enough traffic
/// on a few keys that concurrent transfers collide.
const HOT_ACCOUNTS: u64 = 4;
/// Written in the transaction that creates the accounts: present exactly when they are.
const CREATED_KEY: &[u8] = b"meta-created";

/// Generous: a transfer that runs out of retries fails the test, and the hot accounts make long
/// streaks of conflicts possible on a loaded machine. The backoff between attempts is capped at
/// about 10 ms, so this bounds a transfer at a few seconds.
const TRANSFER_RETRIES: u32 = 500;

fn account_key(index: u64) -> Vec<u8> {
    format!("acct-{index:03}").into_bytes()
}

/// The index of an account key, if `key` is one.
fn account_index(key: &[u8]) -> Option<u64> {
    let digits = key.strip_prefix(ACCOUNT_PREFIX)?;
    let index: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    (index < ACCOUNTS && key == account_key(index).as_slice()).then_some(index)
}

/// Thread `thread`'s counter of committed transfer transactions; outside the account prefix so
/// that scans of the accounts do not see it.
fn counter_key(thread: u64) -> Vec<u8> {
    format!("count-{thread}").into_bytes()
}

fn encode(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

fn decode(key: &[u8], value: &[u8]) -> u64 {
    let bytes: [u8; 8] = value.try_into().unwrap_or_else(|_| {
        panic!(
            "{:?} holds {} bytes, not an 8-byte number: {value:?}",
            String::from_utf8_lossy(key),
            value.len()
        )
    });
    u64::from_be_bytes(bytes)
}

fn read_number(txn: &Transaction, key: &[u8]) -> lightning_db::Result<Option<u64>> {
    Ok(txn.get(key)?.map(|value| decode(key, &value)))
}

fn read_balance(txn: &Transaction, index: u64) -> lightning_db::Result<u64> {
    let key = account_key(index);
    Ok(read_number(txn, &key)?
        .unwrap_or_else(|| panic!("account {index} is missing in a transaction's snapshot")))
}

/// Creates the accounts in one transaction unless they exist. Returns whether it created them.
fn create_accounts(db: &Database, durability: Durability) -> bool {
    let options = TransactionOptions::new()
        .isolation(Isolation::Serializable)
        .durability(durability);
    db.transaction_with(&options, |txn| {
        if txn.get(CREATED_KEY)?.is_some() {
            return Ok(false);
        }
        for index in 0..ACCOUNTS {
            txn.put(&account_key(index), &encode(INITIAL_BALANCE))?;
        }
        txn.put(CREATED_KEY, b"yes")?;
        Ok(true)
    })
    .expect("create the accounts")
}

/// What a scan of the accounts found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ledger {
    accounts: u64,
    total: u64,
}

const FULL_LEDGER: Ledger = Ledger {
    accounts: ACCOUNTS,
    total: TOTAL,
};

/// Sums the accounts an iterator over [`ACCOUNT_PREFIX`] yields, checking on the way that every
/// key is an account key and that keys come strictly in the iterator's order (no duplicates).
fn tally(iter: Iter, reverse: bool) -> lightning_db::Result<Ledger> {
    let mut ledger = Ledger {
        accounts: 0,
        total: 0,
    };
    let mut previous: Option<u64> = None;
    for entry in iter {
        let (key, value) = entry?;
        let index = account_index(&key).unwrap_or_else(|| {
            panic!(
                "a scan of the accounts yielded the key {:?}",
                String::from_utf8_lossy(&key)
            )
        });
        if let Some(previous) = previous {
            let in_order = if reverse {
                index < previous
            } else {
                index > previous
            };
            assert!(
                in_order,
                "account {index} came after account {previous} in a {} scan",
                if reverse { "reverse" } else { "forward" }
            );
        }
        previous = Some(index);
        ledger.accounts += 1;
        ledger.total += decode(&key, &value);
    }
    Ok(ledger)
}

fn scan_ledger(txn: &Transaction) -> lightning_db::Result<Ledger> {
    tally(txn.iter(Range::prefix(ACCOUNT_PREFIX)), false)
}

/// One transfer, chosen before its transaction runs so that every retry tries the same one.
#[derive(Debug, Clone, Copy)]
struct Transfer {
    from: u64,
    to: u64,
    amount: u64,
}

impl Transfer {
    fn random(rng: &mut Rng) -> Transfer {
        let pick = |rng: &mut Rng| {
            if rng.below(4) == 0 {
                rng.below(HOT_ACCOUNTS)
            } else {
                rng.below(ACCOUNTS)
            }
        };
        let from = pick(rng);
        let mut to = pick(rng);
        while to == from {
            to = rng.below(ACCOUNTS);
        }
        // Up to half the initial balance: most transfers go through, some find too little money.
        let amount = 1 + rng.below(INITIAL_BALANCE / 2);
        Transfer { from, to, amount }
    }
}

/// What one committed transfer transaction did.
#[derive(Debug, Clone, Copy)]
struct Applied {
    moved: bool,
    /// The thread's counter after this transaction.
    count: u64,
}

/// The body of a transfer transaction: moves the money if the balance suffices, and bumps the
/// thread's counter either way. Both balances are written, so that under snapshot isolation too
/// two transfers sharing an account conflict instead of one overwriting the other.
fn apply_transfer(
    txn: &Transaction,
    transfer: Transfer,
    counter: &[u8],
) -> lightning_db::Result<Applied> {
    let from_balance = read_balance(txn, transfer.from)?;
    let to_balance = read_balance(txn, transfer.to)?;
    let moved = from_balance >= transfer.amount;
    if moved {
        txn.put(
            &account_key(transfer.from),
            &encode(from_balance - transfer.amount),
        )?;
        txn.put(
            &account_key(transfer.to),
            &encode(to_balance + transfer.amount),
        )?;
    }
    let count = read_number(txn, counter)?.unwrap_or(0) + 1;
    txn.put(counter, &encode(count))?;
    Ok(Applied { moved, count })
}

fn transfer_options(isolation: Isolation, durability: Durability) -> TransactionOptions {
    TransactionOptions::new()
        .isolation(isolation)
        .durability(durability)
        .max_retries(TRANSFER_RETRIES)
}

/// Runs one transfer to completion; running out of retries (or any error) fails the test.
fn transfer(
    db: &Database,
    options: &TransactionOptions,
    transfer: Transfer,
    thread: u64,
) -> Applied {
    let counter = counter_key(thread);
    db.transaction_with(options, |txn| apply_transfer(txn, transfer, &counter))
        .unwrap_or_else(|e| panic!("thread {thread}: {transfer:?} failed: {e}"))
}

/// A 64 KiB memtable (the smallest allowed): merges run every few hundred transfers.
fn bank_options() -> Options {
    let mut options = Options::default();
    options.set("memtable_size", "64KiB").unwrap();
    options
}

// ---------------------------------------------------------------------------------------------
// Concurrent transfers with an auditor, then a reopen.
// ---------------------------------------------------------------------------------------------

const TRANSFER_THREADS: u64 = 4;
const TRANSFERS_PER_THREAD: u64 = 2500;
/// The auditor's rebalancing transaction reads every account, so it conflicts with any transfer
/// that commits while it runs; under heavy traffic it may run out of these retries, which is
/// fine (it is counted, not failed).
const REBALANCE_RETRIES: u32 = 8;

/// What the auditor did.
#[derive(Debug, Default)]
struct Audits {
    read_only: u64,
    rebalances: u64,
    rebalance_attempts: u64,
    rebalances_given_up: u64,
}

/// One audit in a read-only transaction: the accounts summed forward and backward, from the same
/// snapshot.
fn audit_read_only(db: &Database) {
    let options = TransactionOptions::new().read_only(true);
    let (forward, backward) = db
        .transaction_with(&options, |txn| {
            let forward = scan_ledger(txn)?;
            let backward = tally(txn.iter(Range::prefix(ACCOUNT_PREFIX).reverse()), true)?;
            Ok((forward, backward))
        })
        .expect("read-only audit");
    assert_eq!(forward, FULL_LEDGER, "read-only audit, forward scan");
    assert_eq!(backward, FULL_LEDGER, "read-only audit, reverse scan");
}

/// One audit in a serializable read-write transaction: sums the accounts, moves one unit from
/// the richest account to the poorest (a write that depends on the whole scan, so any concurrent
/// transfer makes it conflict), and sums again through its own pending writes. Returns whether it
/// committed.
fn audit_and_rebalance(db: &Database, audits: &mut Audits) -> bool {
    let options = TransactionOptions::new()
        .isolation(Isolation::Serializable)
        .durability(Durability::Buffered)
        .max_retries(REBALANCE_RETRIES);
    let result = db.transaction_with(&options, |txn| {
        audits.rebalance_attempts += 1;
        let mut balances = Vec::with_capacity(ACCOUNTS as usize);
        for entry in txn.iter(Range::prefix(ACCOUNT_PREFIX)) {
            let (key, value) = entry?;
            balances.push((key.clone(), decode(&key, &value)));
        }
        let ledger = Ledger {
            accounts: balances.len() as u64,
            total: balances.iter().map(|(_, balance)| balance).sum(),
        };
        assert_eq!(ledger, FULL_LEDGER, "serializable audit");

        let (richest, richest_balance) = balances.iter().max_by_key(|(_, b)| *b).unwrap();
        let (poorest, poorest_balance) = balances.iter().min_by_key(|(_, b)| *b).unwrap();
        // Two distinct accounts: `max_by_key` picks the last maximum, `min_by_key` the first
        // minimum, so they differ even if every balance is equal.
        assert_ne!(richest, poorest);
        txn.put(richest, &encode(richest_balance - 1))?;
        txn.put(poorest, &encode(poorest_balance + 1))?;
        // The scan now merges the pending writes over the snapshot: still every account once,
        // still the same total, and the moved unit where it was put.
        assert_eq!(
            scan_ledger(txn)?,
            FULL_LEDGER,
            "serializable audit, after its own rebalancing writes"
        );
        assert_eq!(read_number(txn, poorest)?, Some(poorest_balance + 1));
        Ok(())
    });
    match result {
        Ok(()) => true,
        Err(e) if e.code() == ErrorCode::Conflict => false,
        Err(e) => panic!("serializable audit: {e}"),
    }
}

/// Audits until `stop` is set, at least once.
fn audit_until(db: &Database, stop: &AtomicBool) -> Audits {
    let mut audits = Audits::default();
    loop {
        audit_read_only(db);
        audits.read_only += 1;
        if audit_and_rebalance(db, &mut audits) {
            audits.rebalances += 1;
        } else {
            audits.rebalances_given_up += 1;
        }
        if stop.load(Ordering::Acquire) {
            return audits;
        }
    }
}

/// What a transfer thread did.
#[derive(Debug, Default, Clone, Copy)]
struct TransferReport {
    committed: u64,
    moved: u64,
}

fn transfer_thread(db: &Database, isolation: Isolation, thread: u64, seed: u64) -> TransferReport {
    let mut rng = Rng(seed ^ mix(thread));
    let options = transfer_options(isolation, Durability::Buffered);
    let mut report = TransferReport::default();
    for n in 1..=TRANSFERS_PER_THREAD {
        let applied = transfer(db, &options, Transfer::random(&mut rng), thread);
        // Each call commits exactly once, however often the closure ran.
        assert_eq!(applied.count, n, "thread {thread}'s counter");
        report.committed += 1;
        report.moved += u64::from(applied.moved);
    }
    report
}

/// The accounts and the thread counters as the database holds them now, outside transactions.
fn check_database(db: &Database, counters: &[u64], when: &str) {
    let ledger = tally(db.iter(Range::prefix(ACCOUNT_PREFIX)).unwrap(), false).unwrap();
    assert_eq!(ledger, FULL_LEDGER, "{when}: the accounts");
    // Point reads agree with the scan.
    let by_gets: u64 = (0..ACCOUNTS)
        .map(|i| {
            let key = account_key(i);
            let value = db
                .get(&key)
                .unwrap()
                .unwrap_or_else(|| panic!("{when}: account {i} is missing"));
            decode(&key, &value)
        })
        .sum();
    assert_eq!(by_gets, TOTAL, "{when}: the sum of point reads");
    for (thread, &expected) in counters.iter().enumerate() {
        let key = counter_key(thread as u64);
        let count = db.get(&key).unwrap().map(|v| decode(&key, &v));
        assert_eq!(count, Some(expected), "{when}: thread {thread}'s counter");
    }
    // Nothing else: the accounts, the counters and the creation marker.
    let keys = db.iter(Range::all()).unwrap().count() as u64;
    assert_eq!(keys, ACCOUNTS + counters.len() as u64 + 1, "{when}: keys");
    db.verify()
        .unwrap_or_else(|e| panic!("{when}: verify: {e}"));
    assert_eq!(db.stats().background_error, None, "{when}");
}

fn transfers_keep_the_total_across_reopen(isolation: Isolation) {
    if std::env::var_os(CHILD_DIR_ENV).is_some() {
        return; // a child runs only its own test
    }
    let seed = seed_from_env_or_clock(SEED_ENV);
    let tmp = KeepOnFailure::new("bank test");
    let dir = tmp.path().join("db");
    let began = Instant::now();
    let db = Database::open(&dir, bank_options()).unwrap();
    assert!(create_accounts(&db, Durability::Buffered));
    assert!(!create_accounts(&db, Durability::Buffered));

    let stop = AtomicBool::new(false);
    let (reports, audits) = thread::scope(|s| {
        let auditor = s.spawn(|| audit_until(&db, &stop));
        let workers: Vec<_> = (0..TRANSFER_THREADS)
            .map(|thread| {
                let db = &db;
                s.spawn(move || transfer_thread(db, isolation, thread, seed))
            })
            .collect();
        // Join every worker before looking at the results: the auditor must be stopped even if
        // one of them panicked, or the scope would wait for it for ever.
        let joined: Vec<_> = workers.into_iter().map(|w| w.join()).collect();
        stop.store(true, Ordering::Release);
        let audits = auditor.join();
        let reports: Vec<TransferReport> = joined
            .into_iter()
            .map(|r| r.unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect();
        (
            reports,
            audits.unwrap_or_else(|p| std::panic::resume_unwind(p)),
        )
    });
    let stats = db.stats();
    let counters: Vec<u64> = reports.iter().map(|r| r.committed).collect();
    check_database(&db, &counters, "after the transfers");
    db.close().unwrap();

    let db = Database::open(&dir, bank_options()).unwrap();
    check_database(&db, &counters, "after a reopen");
    db.close().unwrap();

    // Conflicts depend on timing, so they are shown, not asserted.
    println!(
        "bank {isolation:?}, seed {seed} (replay with {SEED_ENV}={seed}): {} transfers ({} moved \
         money) in {:.1?}; {} conflicts, {} committed, {} rolled back, {} merges; auditor: {} \
         read-only audits, {} rebalances committed of {} attempts, {} gave up after {} retries",
        counters.iter().sum::<u64>(),
        reports.iter().map(|r| r.moved).sum::<u64>(),
        began.elapsed(),
        stats.transaction_conflicts,
        stats.transactions_committed,
        stats.transactions_rolled_back,
        stats.merges,
        audits.read_only,
        audits.rebalances,
        audits.rebalance_attempts,
        audits.rebalances_given_up,
        REBALANCE_RETRIES,
    );
}

#[test]
fn transfers_keep_the_total_across_reopen_serializable() {
    transfers_keep_the_total_across_reopen(Isolation::Serializable);
}

#[test]
fn transfers_keep_the_total_across_reopen_snapshot() {
    transfers_keep_the_total_across_reopen(Isolation::Snapshot);
}

// ---------------------------------------------------------------------------------------------
// SIGKILL during transfers: the child.
// ---------------------------------------------------------------------------------------------

/// Set in a child: the database directory. Its absence means "not a child".
const CHILD_DIR_ENV: &str = "LIGHTNING_BANK_CHILD_DIR";
/// Set in a child: the seed of its transfers.
const CHILD_SEED_ENV: &str = "LIGHTNING_BANK_CHILD_SEED";
/// Set in a child: which variant of the options to open with.
const CHILD_VARIANT_ENV: &str = "LIGHTNING_BANK_CHILD_VARIANT";
const KILLS_ENV: &str = "LIGHTNING_BANK_KILLS";
const SEED_ENV: &str = "LIGHTNING_BANK_SEED";
const DEFAULT_KILLS: u64 = 30;

const CHILD_THREADS: u64 = 4;
/// A child that lives this long was not killed: the parent is gone or broken.
const CHILD_MAX_LIFETIME: Duration = Duration::from_secs(60);

/// Every variant has the 64 KiB memtable; the page cache and `mmap` vary, as the child and the
/// recovering parent may open the same database differently.
fn crash_options(variant: u64) -> Options {
    let mut options = bank_options();
    options.mmap = variant.is_multiple_of(2);
    options.cache_size = if (variant / 2).is_multiple_of(2) {
        0
    } else {
        8 << 20
    };
    options
}

fn child_env_number(name: &str) -> u64 {
    env_number(name).unwrap_or_else(|| panic!("{name} is not set"))
}

/// A child's report line on stdout, `@@TAG fields...`, written and flushed at once so that lines
/// from several threads do not mix. The test harness may print on the same line before it, so
/// the parent looks for the tag anywhere in a line. A failure to write means the parent is gone.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "@@{line}").expect("stdout (the parent is gone?)");
    out.flush().expect("stdout (the parent is gone?)");
}

/// The child: opens, creates the accounts if absent, and transfers from several threads until
/// killed, printing `@@ACK <thread> <count> <S|B>` after each acknowledged transfer.
#[test]
fn child_bank_writer() {
    let Some(dir) = std::env::var_os(CHILD_DIR_ENV) else {
        return;
    };
    let seed = child_env_number(CHILD_SEED_ENV);
    let variant = child_env_number(CHILD_VARIANT_ENV);
    let started = Instant::now();
    let db = Database::open(&dir, crash_options(variant)).expect("open");
    say("OPEN");
    create_accounts(&db, Durability::Sync);
    say("READY");
    thread::scope(|s| {
        for thread in 0..CHILD_THREADS {
            let db = &db;
            s.spawn(move || child_transfers(db, thread, seed, started));
        }
    });
    panic!("the child was not killed within {CHILD_MAX_LIFETIME:?}");
}

fn child_transfers(db: &Database, thread: u64, seed: u64, started: Instant) {
    let mut rng = Rng(seed ^ mix(thread));
    let sync = transfer_options(Isolation::Serializable, Durability::Sync);
    let buffered = transfer_options(Isolation::Serializable, Durability::Buffered);
    let mut reported_conflicts = 0;
    while started.elapsed() < CHILD_MAX_LIFETIME {
        let planned = Transfer::random(&mut rng);
        // One commit in four is buffered: it shares group commits with synced ones.
        let (options, tag) = if rng.below(4) == 0 {
            (&buffered, "B")
        } else {
            (&sync, "S")
        };
        let applied = transfer(db, options, planned, thread);
        say(&format!("ACK {thread} {} {tag}", applied.count));
        if thread == 0 {
            let stats = db.stats();
            if stats.transaction_conflicts > reported_conflicts {
                reported_conflicts = stats.transaction_conflicts;
                say(&format!(
                    "STATS {} {}",
                    stats.transaction_conflicts, stats.merges
                ));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// SIGKILL during transfers: the parent.
// ---------------------------------------------------------------------------------------------

/// Reads a child's stream in a thread, up to its end (the kill closes it).
fn collect_lines(stream: impl Read + Send + 'static) -> mpsc::Receiver<Vec<String>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let lines: Vec<String> = BufReader::new(stream)
            .lines()
            .map_while(Result::ok)
            .collect();
        let _ = tx.send(lines);
    });
    rx
}

/// The fields of a line that [`say`] printed with `tag`.
fn heard<'l>(line: &'l str, tag: &str) -> Option<Vec<&'l str>> {
    let (_, rest) = line.split_once(&format!("@@{tag}"))?;
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    Some(rest.split_whitespace().collect())
}

/// What one child did before it was killed.
#[derive(Debug, Default)]
struct ChildRun {
    status: Option<ExitStatus>,
    opened: bool,
    ready: bool,
    /// Per thread, the counters it acknowledged, in order, and whether each was `Sync`.
    acks: Vec<Vec<(u64, bool)>>,
    conflicts: u64,
    merges: u64,
    stderr: String,
}

impl ChildRun {
    fn last_ack(&self, thread: usize, sync_only: bool) -> u64 {
        self.acks[thread]
            .iter()
            .filter(|(_, sync)| *sync || !sync_only)
            .map(|(count, _)| *count)
            .max()
            .unwrap_or(0)
    }
}

fn run_child(dir: &Path, variant: u64, seed: u64, kill_after: Duration) -> ChildRun {
    let spawned = Instant::now();
    let mut child = Command::new(std::env::current_exe().expect("current_exe"))
        .args([
            "--exact",
            "child_bank_writer",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR_ENV, dir)
        .env(CHILD_SEED_ENV, seed.to_string())
        .env(CHILD_VARIANT_ENV, variant.to_string())
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the child");
    let stdout = collect_lines(child.stdout.take().unwrap());
    let stderr = collect_lines(child.stderr.take().unwrap());
    thread::sleep(kill_after.saturating_sub(spawned.elapsed()));
    child.kill().expect("SIGKILL the child"); // SIGKILL on Unix
    let mut run = ChildRun {
        status: Some(child.wait().expect("wait for the child")),
        acks: vec![Vec::new(); CHILD_THREADS as usize],
        stderr: stderr.recv().unwrap_or_default().join("\n"),
        ..ChildRun::default()
    };
    for line in stdout.recv().unwrap_or_default() {
        if heard(&line, "OPEN").is_some() {
            run.opened = true;
        } else if heard(&line, "READY").is_some() {
            run.ready = true;
        } else if let Some(fields) = heard(&line, "ACK") {
            // A line cut short by the kill lacks its last field, and is ignored.
            if let [thread, count, tag @ ("S" | "B")] = fields[..] {
                let thread: usize = thread.parse().expect("ACK thread");
                let count: u64 = count.parse().expect("ACK count");
                run.acks[thread].push((count, tag == "S"));
            }
        } else if let Some(fields) = heard(&line, "STATS") {
            if let [conflicts, merges] = fields[..] {
                run.conflicts = conflicts.parse().expect("STATS conflicts");
                run.merges = merges.parse().expect("STATS merges");
            }
        }
    }
    run
}

/// What the check after a kill found.
struct Recovered {
    created: bool,
    counters: Vec<u64>,
}

/// Opens the database after a kill and checks the bank: every account or none (only allowed
/// while the creation was never acknowledged), the exact total, clean `verify()`. Closes it.
fn check_recovered(dir: &Path, variant: u64, must_exist: bool) -> Result<Recovered, String> {
    let db = Database::open(dir, crash_options(variant)).map_err(|e| format!("open: {e}"))?;
    db.verify().map_err(|e| format!("verify: {e}"))?;
    let created = db
        .get(CREATED_KEY)
        .map_err(|e| format!("get: {e}"))?
        .is_some();
    let ledger = tally(db.iter(Range::prefix(ACCOUNT_PREFIX)).unwrap(), false)
        .map_err(|e| format!("scan: {e}"))?;
    let mut counters = Vec::new();
    for thread in 0..CHILD_THREADS {
        let key = counter_key(thread);
        let count = db.get(&key).map_err(|e| format!("get: {e}"))?;
        counters.push(count.map_or(0, |v| decode(&key, &v)));
    }
    if !created {
        if must_exist {
            return Err("the accounts' creation was acknowledged, but they are gone".into());
        }
        if ledger.accounts != 0 || counters.iter().any(|&c| c != 0) {
            return Err(format!(
                "the creation marker is missing, but {ledger:?} and counters {counters:?} are \
                 there (a partial transaction)"
            ));
        }
        db.close().map_err(|e| format!("close: {e}"))?;
        return Ok(Recovered { created, counters });
    }
    if ledger != FULL_LEDGER {
        return Err(format!(
            "the scan found {ledger:?}, expected {FULL_LEDGER:?}"
        ));
    }
    // The same from a serializable transaction, and account by account with point reads.
    let options = TransactionOptions::new().isolation(Isolation::Serializable);
    let in_transaction = db
        .transaction_with(&options, scan_ledger)
        .map_err(|e| format!("scan in a transaction: {e}"))?;
    if in_transaction != FULL_LEDGER {
        return Err(format!("a transaction's scan found {in_transaction:?}"));
    }
    let mut by_gets = 0;
    for index in 0..ACCOUNTS {
        let key = account_key(index);
        match db.get(&key).map_err(|e| format!("get: {e}"))? {
            Some(value) => by_gets += decode(&key, &value),
            None => return Err(format!("get(account {index}) found nothing")),
        }
    }
    if by_gets != TOTAL {
        return Err(format!("point reads sum to {by_gets}, expected {TOTAL}"));
    }
    db.close().map_err(|e| format!("close: {e}"))?;
    Ok(Recovered { created, counters })
}

#[test]
fn transfers_keep_the_total_across_sigkill() {
    if std::env::var_os(CHILD_DIR_ENV).is_some() {
        return; // a child runs only its own test
    }
    let kills = env_number(KILLS_ENV).unwrap_or(DEFAULT_KILLS);
    let seed = seed_from_env_or_clock(SEED_ENV);
    println!("bank crash test: {kills} kills, seed {seed} (replay with {SEED_ENV}={seed})");
    let mut rng = Rng(seed);
    let tmp = KeepOnFailure::new("bank test");
    let dir = tmp.path().join("db");
    let began = Instant::now();

    let mut creation_acknowledged = false;
    // Each thread's counter as the last check found it: where the next child must go on.
    let mut counters = vec![0u64; CHILD_THREADS as usize];
    let mut acks = 0u64;
    let mut sync_acks = 0u64;
    let mut kills_before_open = 0u64;
    let mut kills_before_ready = 0u64;
    let mut unacknowledged_kept = 0u64;
    let mut conflicts = 0u64;
    let mut merges = 0u64;
    for round in 1..=kills {
        let fail = |what: String| -> ! {
            panic!("bank crash test, seed {seed}, round {round}/{kills}: {what}");
        };
        let variant = rng.below(4);
        // One kill in five comes right after the start: in `open` (recovery) or in the creation.
        let kill_after = Duration::from_millis(if rng.below(5) == 0 {
            rng.below(15)
        } else {
            20 + rng.below(280)
        });
        let run = run_child(&dir, variant, rng.below(u64::MAX), kill_after);
        let status = run.status.unwrap();
        if status.signal() != Some(libc::SIGKILL) {
            fail(format!(
                "the child was not killed by SIGKILL but ended with {status}; its stderr:\n{}",
                run.stderr
            ));
        }
        kills_before_open += u64::from(!run.opened);
        kills_before_ready += u64::from(!run.ready);
        creation_acknowledged |= run.ready;
        conflicts += run.conflicts;
        merges += run.merges;

        // Each thread's acknowledged counters go on from where the last check left them.
        for (thread, thread_acks) in run.acks.iter().enumerate() {
            for (n, &(count, _)) in thread_acks.iter().enumerate() {
                if count != counters[thread] + 1 + n as u64 {
                    fail(format!(
                        "thread {thread} acknowledged counter {count} as its transfer {} in this \
                         run, but the last check found the counter at {}",
                        n + 1,
                        counters[thread]
                    ));
                }
            }
            acks += thread_acks.len() as u64;
            sync_acks += thread_acks.iter().filter(|(_, sync)| *sync).count() as u64;
        }

        let recovered = check_recovered(&dir, variant, creation_acknowledged).unwrap_or_else(|e| {
            fail(format!(
                "after a kill at {kill_after:?} (options variant {variant}): {e}"
            ))
        });
        for (thread, (&found, &before)) in recovered.counters.iter().zip(&counters).enumerate() {
            let last_sync = run.last_ack(thread, true);
            let last_any = run.last_ack(thread, false);
            if found < before {
                fail(format!(
                    "thread {thread}'s counter went back from {before} to {found}"
                ));
            }
            if found < last_sync {
                fail(format!(
                    "thread {thread}'s counter is {found} after recovery, but the child had \
                     acknowledged transfer {last_sync} with Durability::Sync"
                ));
            }
            if found < last_any {
                fail(format!(
                    "thread {thread}'s counter is {found} after recovery, but the child had \
                     acknowledged transfer {last_any} with Durability::Buffered, which must \
                     survive a crash of the process"
                ));
            }
            unacknowledged_kept += found - last_any.max(before);
        }
        if recovered.created {
            creation_acknowledged = true;
        }
        counters = recovered.counters;
    }

    println!(
        "bank crash test: {kills} kills in {:.1?}, seed {seed}: {} transfers survive, {acks} \
         acknowledged ({sync_acks} with Sync), {unacknowledged_kept} committed but unacknowledged \
         ones kept; {kills_before_open} kills before the child had opened the database, \
         {kills_before_ready} before the accounts were ready; {conflicts} conflicts and {merges} \
         merges seen in children",
        began.elapsed(),
        counters.iter().sum::<u64>(),
    );
    assert!(
        creation_acknowledged,
        "no child lived long enough to create the accounts"
    );
}
