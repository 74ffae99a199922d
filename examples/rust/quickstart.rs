//! quickstart.rs — a tour of Lightning DB from Rust.
//!
//!     cargo run -p lightning-db --example quickstart [DIRECTORY]
//!
//! With no argument the database goes into a new directory under the system's temporary one
//! (removed at the end).

use std::path::Path;

use lightning_db::{
    Database, Durability, ErrorCode, Isolation, Options, Range, Result, TransactionOptions,
    WriteBatch,
};

/// Adds `amount` to the number stored at `key` in a transaction; returns the new number.
/// `Database::transaction_with` runs the closure in a new transaction and commits it; if a
/// concurrent commit got in the way (`CONFLICT`), it runs the closure again (16 times at most).
fn add_to_counter(db: &Database, key: &[u8], amount: u64) -> Result<u64> {
    let serializable = TransactionOptions::new().isolation(Isolation::Serializable);
    db.transaction_with(&serializable, |txn| {
        let old = txn.get(key)?.unwrap_or_else(|| b"0".to_vec());
        let total = String::from_utf8_lossy(&old).parse::<u64>().unwrap_or(0) + amount;
        txn.put(key, total.to_string().as_bytes())?;
        Ok(total)
    })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn tour(path: &Path) -> Result<()> {
    // Options by name, with string values: the same names in every language.
    let mut options = Options::default();
    options.set("cache_size", "64MiB")?;
    let db = Database::open(path, options)?;

    db.put(b"hello", b"world")?; // durable: returns after fsync (shared by group commit)
    db.put_with(b"language", b"rust", Durability::Buffered)?; // survives a process crash
    println!("hello = {:?}", db.get(b"hello")?.map(|v| text(&v)));
    println!("missing = {:?}", db.get(b"missing")?);

    // A batch is atomic: after any crash, all of it or none of it is there.
    let mut batch = WriteBatch::new();
    for (name, color) in [("apple", "red"), ("banana", "yellow"), ("cherry", "red")] {
        batch.put(format!("fruit:{name}").as_bytes(), color.as_bytes());
    }
    batch.delete(b"language");
    db.write(&batch)?;

    // Iterate over a prefix in key order (`.reverse()` for the other way).
    for entry in db.iter(Range::prefix(b"fruit:"))? {
        let (key, value) = entry?;
        println!("  {} = {}", text(&key), text(&value));
    }
    if let Some(last) = db.iter(Range::prefix(b"fruit:").reverse())?.next() {
        println!("last fruit: {}", text(&last?.0));
    }

    // A snapshot keeps seeing the database as of the moment it was taken.
    let snapshot = db.snapshot()?;
    db.put(b"fruit:apple", b"green")?;
    println!(
        "apple now: {:?}, in the snapshot: {:?}",
        db.get(b"fruit:apple")?.map(|v| text(&v)),
        snapshot.get(b"fruit:apple")?.map(|v| text(&v)),
    );
    drop(snapshot);

    // Transactions, with the retry helper, or by hand.
    add_to_counter(&db, b"visits", 1)?;
    println!("visits = {}", add_to_counter(&db, b"visits", 41)?);
    let txn = db.begin()?;
    txn.put(b"note", b"written in a transaction")?;
    txn.commit()?;

    // A bulk load: pairs in ascending key order go straight into the tree, and the commit makes
    // them all visible and durable at once.
    let mut load = db.bulk_load()?;
    for i in 0..1000u32 {
        load.put(format!("item:{i:04}").as_bytes(), b"loaded")?;
    }
    load.commit()?;
    println!("item:0999 = {:?}", db.get(b"item:0999")?.map(|v| text(&v)));

    // Errors carry a code and a message.
    let too_long = vec![b'k'; 5000];
    match db.put(&too_long, b"a key longer than the 4 KiB limit") {
        Err(e) if e.code() == ErrorCode::InvalidArgument => println!("refused as expected: {e}"),
        other => panic!("a 5000-byte key was not refused: {other:?}"),
    }

    let mut keys = Vec::new();
    for entry in db.iter(Range::all())? {
        let (key, _) = entry?;
        if !key.starts_with(b"item:") {
            keys.push(text(&key));
        }
    }
    println!("keys: {keys:?}");
    db.close()?;
    encrypted(&path.with_extension("encrypted"))
}

/// An encrypted, compressed database: pages and WAL records are compressed, then sealed with
/// AES-256-GCM under a random data key that the passphrase (through Argon2id) unlocks.
fn encrypted(path: &Path) -> Result<()> {
    let mut options = Options::default();
    options.set("compression", "auto")?;
    options.set("encryption", "aes-256-gcm")?;
    options.set("passphrase", "correct horse battery staple")?;
    let db = Database::open(path, options.clone())?;
    db.put(b"card", b"4111 1111 1111 1111")?;
    db.close()?;

    let mut wrong = options.clone();
    wrong.set("passphrase", "tr0ub4dor&3")?;
    match Database::open(path, wrong) {
        Err(e) if e.code() == ErrorCode::WrongKey => println!("wrong passphrase: {e}"),
        other => panic!("a wrong passphrase opened the database: {:?}", other.err()),
    }
    let db = Database::open(path, options)?;
    println!("card = {:?}", db.get(b"card")?.map(|v| text(&v)));
    db.close()
}

fn main() -> Result<()> {
    match std::env::args_os().nth(1) {
        Some(dir) => tour(Path::new(&dir)),
        None => {
            let dir =
                std::env::temp_dir().join(format!("lightning-quickstart-{}", std::process::id()));
            let result = tour(&dir.join("db"));
            let _ = std::fs::remove_dir_all(&dir);
            result
        }
    }
}
