// Type definitions for lightning-db: Lightning DB for Node.js.
/// <reference types="node" />

/**
 * Keys and values: a `Buffer`, a `Uint8Array`, or a string (stored as its UTF-8 bytes).
 * Anything else throws a `TypeError` (code `ERR_INVALID_ARG_TYPE`) naming the argument.
 * Keys sort bytewise; a key is at most 4096 bytes (`LDB_INVALID_ARGUMENT` beyond).
 */
export type Bytes = Buffer | Uint8Array | string;

/**
 * The `code` of every error Lightning DB throws (or rejects a promise with), as in every
 * language: `'LDB_'` + the engine's code name.
 */
export type ErrorCode =
  /** A bad argument: a key over 4096 bytes, `start`/`end` together with `prefix`, a missing directory with `createIfMissing: false`. */
  | 'LDB_INVALID_ARGUMENT'
  /**
   * An unknown option, or a value it does not accept; the message names both and what is allowed
   * (never a secret's value). Also `encryptionKey` or `passphrase` for a database that is not
   * encrypted, and `encryption` for a new database without either.
   */
  | 'LDB_INVALID_OPTION'
  /** A checksum or structure check failed; the message names the file. */
  | 'LDB_CORRUPTION'
  /** The operating system reported an I/O error. */
  | 'LDB_IO_ERROR'
  /** The disk is full. */
  | 'LDB_NO_SPACE'
  /** Another process has the database open. */
  | 'LDB_LOCKED'
  /** The directory holds something that is not a Lightning DB database. */
  | 'LDB_NOT_A_DATABASE'
  /** The database was written by a newer, incompatible version. */
  | 'LDB_UNSUPPORTED_VERSION'
  /** The database, snapshot, transaction, bulk load or iterator was closed (or the transaction or bulk load finished). */
  | 'LDB_CLOSED'
  /** A transaction's commit conflicted with a concurrent commit: run it again. */
  | 'LDB_CONFLICT'
  /** A limit was reached (`maxActiveTransactions`), or a bulk load is open and is the only writer: try again later. */
  | 'LDB_BUSY'
  /** A write in a read-only transaction. */
  | 'LDB_READ_ONLY'
  /** A bug in Lightning DB; please report it. */
  | 'LDB_INTERNAL'
  /** The `encryptionKey` or `passphrase` does not open this encrypted database, or neither was given. */
  | 'LDB_WRONG_KEY';

/** An error from Lightning DB: a plain `Error` whose `code` names what went wrong. */
export interface LightningDbError extends Error {
  /** `'LDB_CONFLICT'`, `'LDB_CLOSED'`, ... */
  code: ErrorCode;
}

/**
 * Options of {@link open}, by name, camelCase or snake_case (`cacheSize` or `cache_size`).
 * Values are strings in the canonical form (`'64MiB'`), numbers or booleans; a bad name or
 * value throws `LDB_INVALID_OPTION`. `LIGHTNING_DB_<NAME>` environment variables are not read.
 *
 * A directory already open in this process (say, by another worker thread) is shared: the
 * options of the first `open` apply, and those of later ones are ignored — except `encryptionKey`
 * and `passphrase`: every `open` of an encrypted database must give its current key or passphrase
 * (`LDB_WRONG_KEY` otherwise), and none for a plain one.
 */
export interface OpenOptions {
  /** Create the database if the directory holds none (default `true`). */
  createIfMissing?: boolean;
  /** The default durability of writes: `true` (default) returns after fsync, `false` after handing the write to the OS (survives a process crash). */
  sync?: boolean;
  /** Page cache for reads that do not go through the memory map, e.g. `'256MiB'` (default `'64MiB'`). */
  cacheSize?: string | number;
  /** Page size, a power of two from 4096 to 65536; fixed when the database is created (default 4096). */
  pageSize?: string | number;
  /** The in-memory table is frozen and merged into the page file when it reaches this, 64 KiB to 4 GiB (default `'64MiB'`). */
  memtableSize?: string | number;
  /** Beyond this backlog of frozen tables, writers are slowed (never stopped), 1 to 64 (default 4). */
  maxFrozenMemtables?: string | number;
  /** Read pages through a memory map when the storage allows (default `true`). */
  mmap?: boolean;
  /** Open transactions allowed at once, 1 to 1,000,000 (default 1024); beyond, `begin` throws `LDB_BUSY`. */
  maxActiveTransactions?: string | number;
  /**
   * How WAL records are compressed from now on (default `'none'`; any letter case). Each record
   * says how it was written, so this may change between opens. `'auto'` picks per record: LZ4 for
   * data with repeats, Zstandard where entropy coding saves much more, nothing where compression
   * saves under 1/8.
   */
  compression?: 'none' | 'lz4' | 'zstd' | 'snappy' | 'auto';
  /** Zstandard's level, for `compression` `'zstd'` and `'auto'`: a whole number, 1 to 19 (default 3). */
  compressionLevel?: string | number;
  create_if_missing?: boolean;
  cache_size?: string | number;
  page_size?: string | number;
  memtable_size?: string | number;
  max_frozen_memtables?: string | number;
  max_active_transactions?: string | number;
  compression_level?: string | number;
  /**
   * The cipher a new database encrypts its pages and WAL records with (default `'none'`); needs
   * `encryptionKey` or `passphrase`. An existing database keeps its own cipher, whatever this says.
   * Encryption and `compression` go together: each block is compressed, then encrypted.
   */
  encryption?: Encryption;
  /**
   * The 256-bit key of an encrypted database, as 64 hex digits (e.g.
   * `crypto.randomBytes(32).toString('hex')`). Secret: never shown in an error message. Without
   * it (or `passphrase`), opening an encrypted database throws `LDB_WRONG_KEY`; given for a plain
   * database, `LDB_INVALID_OPTION`.
   */
  encryptionKey?: string;
  /** A passphrase that opens (and protects) an encrypted database, through `kdf`; instead of `encryptionKey`. Secret, as `encryptionKey`. */
  passphrase?: string;
  /** How a new database (or {@link Database.rekey}) derives its key from `passphrase` (default `'argon2id'`); an existing database records its own. */
  kdf?: Kdf;
  /** Argon2id's memory cost, `'1MiB'` to `'4GiB'` (default `'64MiB'`). */
  kdfMemory?: string | number;
  /** Argon2id's passes or PBKDF2's iterations; 0 (default) is the KDF's own default (3 and 600000). At least 1 for Argon2id, 10000 for PBKDF2. */
  kdfIterations?: string | number;
  /** Argon2id's lanes, 1 to 16 (default 1). */
  kdfParallelism?: string | number;
  encryption_key?: string;
  kdf_memory?: string | number;
  kdf_iterations?: string | number;
  kdf_parallelism?: string | number;
  /** Options added later, by name. */
  [name: string]: string | number | boolean | undefined;
}

/** A cipher for option `encryption`, any letter case: AES-256-GCM or ChaCha20-Poly1305 (both authenticated). */
export type Encryption = 'none' | 'aes-256-gcm' | 'chacha20-poly1305';

/** How a key is derived from a passphrase (option `kdf`). */
export type Kdf = 'argon2id' | 'pbkdf2-sha256';

/**
 * The new key of {@link Database.rekey}: `encryptionKey` or `passphrase` (one of them), and for a
 * passphrase the KDF and its costs. Names as in {@link OpenOptions}.
 */
export type RekeyOptions = Pick<
  OpenOptions,
  | 'encryptionKey'
  | 'passphrase'
  | 'kdf'
  | 'kdfMemory'
  | 'kdfIterations'
  | 'kdfParallelism'
  | 'encryption_key'
  | 'kdf_memory'
  | 'kdf_iterations'
  | 'kdf_parallelism'
>;

/** Durability of one write. */
export interface WriteOptions {
  /** `true`: return after fsync; `false`: after handing the write to the OS; omitted: the database's option `sync`. */
  sync?: boolean;
}

/** One operation of {@link Database.batch}. */
export type BatchOperation =
  | { type: 'put'; key: Bytes; value: Bytes }
  | { type: 'del'; key: Bytes };

/** Which keys {@link Database.range} covers, and in which order. */
export interface RangeOptions {
  /** The first key (inclusive); omitted: from the smallest. */
  start?: Bytes;
  /** Where the range stops (exclusive); omitted: to the largest. */
  end?: Bytes;
  /** Exactly the keys with this prefix (not together with `start` or `end`: `LDB_INVALID_ARGUMENT`). */
  prefix?: Bytes;
  /** Largest key first (default `false`). */
  reverse?: boolean;
}

/** Isolation of a transaction. */
export type Isolation = 'snapshot' | 'serializable';

/** Options of {@link Database.begin}. */
export interface BeginOptions {
  /**
   * `'snapshot'` (default): a commit fails with `LDB_CONFLICT` if a key it writes was written by
   * another commit after it began. `'serializable'`: also if a key it read, or any key in a
   * range it iterated, was.
   */
  isolation?: Isolation;
  /** A read-only transaction never conflicts; a write throws `LDB_READ_ONLY` (default `false`). */
  readOnly?: boolean;
  /** The durability of the commit; omitted: the database's option `sync`. */
  sync?: boolean;
}

/** Options of {@link Database.transaction}. */
export interface TransactionOptions {
  /** As in {@link BeginOptions.isolation}. */
  isolation?: Isolation;
  /** How many times to run `fn` again after `LDB_CONFLICT` (default 10); then the conflict is thrown. */
  maxRetries?: number;
  /** The durability of the commit; omitted: the database's option `sync`. */
  sync?: boolean;
}

/**
 * Counters and sizes from {@link Database.stats}, e.g. `puts`, `gets`, `wal_syncs`,
 * `cache_hits`, `open_transactions`, `transaction_conflicts`, `last_sequence`.
 */
export interface Stats {
  [name: string]: number | string;
}

/** What {@link Database.verify} checked, e.g. pages and WAL records. */
export interface VerifyReport {
  [name: string]: number | string;
}

/**
 * A lazy iterator of `[key, value]` pairs in key order (or reversed), seeing one point in time
 * however long it lives; it never blocks writers. Use it with `for...of` once (a `break` releases
 * it). Keys and values are Buffers that share memory with others read in the same chunk; copy
 * one (`Buffer.from(value)`) to keep it long without keeping the chunk.
 *
 * Released when read to the end, by `close()`, by a `break` out of `for...of`, when its
 * database is closed (then `next()` throws `LDB_CLOSED`), or by garbage collection. An iterator
 * left open never keeps the process alive.
 */
export declare class RangeIterator implements IterableIterator<[Buffer, Buffer]> {
  private constructor();
  [Symbol.iterator](): RangeIterator;
  /** The next entry; `LDB_CLOSED` once its database is closed. */
  next(): IteratorResult<[Buffer, Buffer], undefined>;
  /** Releases the iterator (called by `for...of` on `break`). */
  return(): IteratorResult<[Buffer, Buffer], undefined>;
  /** Releases the iterator now; closing twice is fine. */
  close(): void;
}

/**
 * A consistent read-only view of the database as of the moment it was taken. It never blocks
 * writers. Release it with `close()` (or let it be garbage-collected); using it afterwards, or
 * after its database is closed, throws `LDB_CLOSED`.
 */
export declare class Snapshot {
  private constructor();
  /** The value of `key` in the snapshot, or `undefined`. */
  get(key: Bytes): Buffer | undefined;
  /** `[key, value]` pairs of the snapshot; see {@link Database.range}. */
  range(options?: RangeOptions): RangeIterator;
  /** Releases the snapshot; closing twice is fine. */
  close(): void;
}

/**
 * A transaction: reads see the database as of `begin()` plus the transaction's own writes;
 * `commit()` applies the writes atomically, or throws `LDB_CONFLICT` if a concurrent commit got
 * in the way. After `commit()` or `rollback()` it is finished: any use throws `LDB_CLOSED`.
 * An unfinished transaction that is garbage-collected is rolled back.
 */
export declare class Transaction {
  private constructor();
  /** Whether `commit()` or `rollback()` was called. */
  readonly finished: boolean;
  /** The value of `key` as this transaction sees it, or `undefined`. */
  get(key: Bytes): Buffer | undefined;
  /** Sets `key` to `value` when the transaction commits. */
  put(key: Bytes, value: Bytes): void;
  /** Removes `key` when the transaction commits. */
  delete(key: Bytes): void;
  /** `[key, value]` pairs as this transaction sees them; see {@link Database.range}. */
  range(options?: RangeOptions): RangeIterator;
  /** Applies the writes atomically; `LDB_CONFLICT` if a concurrent commit got in the way (the transaction is finished either way). */
  commit(): void;
  /** Discards the writes. */
  rollback(): void;
}

/**
 * A bulk load, from {@link Database.bulkLoad}: pairs given in strictly ascending key order
 * (bytewise) go straight into the page file, not through the write-ahead log, with memory bounded
 * (the engine writes them in chunks of 8 MiB) however many come. `commit()` makes them all
 * durable and visible at once; after any crash, all of them or none are there.
 *
 * Until it is finished it is the database's only writer: `put`, `delete`, `batch`, a
 * transaction's commit, `flush`, `compact` and a second `bulkLoad` throw `LDB_BUSY` (their async
 * twins reject with it), for every handle on the database in this process. Reads go on and see
 * the database as before the load.
 *
 * After `commit()`, `commitAsync()` or `abort()` it is finished: any use throws `LDB_CLOSED`, as
 * it does once its database is closed (which abandons an unfinished load). An unfinished load
 * that is garbage-collected is abandoned.
 *
 * @example
 * const load = db.bulkLoad();
 * try {
 *   for (const [key, value] of sortedPairs) load.put(key, value);
 *   load.commit();
 * } finally {
 *   if (!load.finished) load.abort();
 * }
 */
export declare class BulkLoad {
  private constructor();
  /** Whether `commit()`, `commitAsync()` or `abort()` was called. */
  readonly finished: boolean;
  /**
   * Adds a pair; it replaces the value the key has in the database. `LDB_INVALID_ARGUMENT` if
   * `key` does not sort after the previous pair's key: the pair is left out and the load goes on.
   */
  put(key: Bytes, value: Bytes): void;
  /**
   * {@link BulkLoad.put} for each `[key, value]` of `pairs` in order (an array, a generator, a
   * `Map` with sorted keys, ...), with fewer calls into native code. It stops at the first error
   * and throws it; the pairs before it are in the load.
   */
  putMany(pairs: Iterable<readonly [Bytes, Bytes]>): void;
  /** Makes every pair durable and visible at once; the load is finished either way. */
  commit(): void;
  /** {@link BulkLoad.commit} on the libuv thread pool (the writing and the fsync too); the load is finished at once. */
  commitAsync(): Promise<void>;
  /** Abandons the load: nothing it was given is written. */
  abort(): void;
}

/**
 * An open database. Safe to use from any number of worker threads, each with its own
 * `Database` from {@link open}: they share one engine. Every method throws `LDB_CLOSED` after
 * `close()`.
 */
export declare class Database {
  private constructor();
  /** The directory the database lives in, as given to {@link open}. */
  readonly path: string;
  /** Whether `close()` was called. */
  readonly closed: boolean;

  /**
   * The value of `key`, or `undefined` if absent. Values of up to 2 KiB are views into a shared
   * pool (as with `Buffer.allocUnsafe`), which a long-kept value keeps alive.
   */
  get(key: Bytes): Buffer | undefined;
  /** Whether `key` is present. */
  has(key: Bytes): boolean;
  /** Sets `key` to `value`; by default durable when it returns (option `sync`). */
  put(key: Bytes, value: Bytes, options?: WriteOptions): void;
  /** Removes `key`; an absent key is fine. */
  delete(key: Bytes, options?: WriteOptions): void;
  /** Applies puts and deletes atomically: after any crash, all of them or none are there. */
  batch(operations: readonly BatchOperation[], options?: WriteOptions): void;
  /** `[key, value]` pairs from `start` (inclusive) to `end` (exclusive), or with `prefix`, lazily, as of now. */
  range(options?: RangeOptions): RangeIterator;
  /** A consistent read-only view as of now. */
  snapshot(): Snapshot;
  /** Begins a transaction; `LDB_BUSY` beyond `maxActiveTransactions` open ones. */
  begin(options?: BeginOptions): Transaction;
  /**
   * Runs `fn(txn)` in a new transaction and commits it; on `LDB_CONFLICT` runs it again (after a
   * short random pause), up to `maxRetries` more times. Returns what `fn` returned. If `fn` is
   * async (returns a promise), the promise is awaited before the commit, and `transaction`
   * returns a promise. `fn` may run more than once; it may also commit or roll back `txn`
   * itself. Other errors roll back and are thrown as they are.
   */
  transaction<T>(fn: (txn: Transaction) => T, options?: TransactionOptions): T;
  /**
   * Begins a bulk load: sorted pairs written straight into the page file and made visible at
   * once by its `commit()`; see {@link BulkLoad}. What is in memory is merged into the page file
   * first. `LDB_BUSY` if another bulk load is open.
   */
  bulkLoad(): BulkLoad;
  /** Makes every write so far durable, including buffered ones. */
  sync(): void;
  /** Merges everything in memory into the page file and waits until it is there. */
  flush(): void;
  /**
   * Gives the page file's free space back to the file system while the database stays open:
   * merges what is in memory, moves the tree out of the file's tail and cuts the file. Readers
   * and writers go on; a crash at any point loses nothing. Pages an open snapshot, iterator or
   * transaction still reads stay until it is closed. Returns the bytes the file shrank by. Also
   * runs by itself when free pages pass a third of a page file of 64 MiB or more.
   */
  compact(): number;
  /**
   * Changes an encrypted database's key or passphrase to the `encryptionKey` or `passphrase` in
   * `options`; from then on only the new one opens it. Only the wrapped data key in the meta page
   * is rewritten (the data is not re-encrypted), atomically: if this fails or the process dies
   * meanwhile, the old key or the new one opens the database, never neither. A passphrase's key
   * derivation runs here, on the calling thread; see
   * {@link Database.rekeyAsync}. `LDB_INVALID_ARGUMENT` for a database that is not encrypted,
   * `LDB_INVALID_OPTION` when `options` hold neither a key nor a passphrase (or both, or a bad one).
   *
   * @example
   * db.rekey({ passphrase: newPassphrase });
   */
  rekey(options: RekeyOptions): void;
  /** Counters and sizes. */
  stats(): Stats;
  /** Reads and checks every page and WAL record; returns what it checked, or throws `LDB_CORRUPTION` naming the fault. */
  verify(): VerifyReport;
  /**
   * Closes this handle; closing twice is fine. Its snapshots, transactions and iterators are
   * released. The engine closes (and the directory's lock is released) when the last handle on
   * it in this process closes.
   */
  close(): void;

  /** {@link Database.get} on the libuv thread pool: never blocks the event loop. The key is copied first. */
  getAsync(key: Bytes): Promise<Buffer | undefined>;
  /** {@link Database.put} on the libuv thread pool (the fsync too). Key and value are copied first. */
  putAsync(key: Bytes, value: Bytes, options?: WriteOptions): Promise<void>;
  /** {@link Database.batch} on the libuv thread pool. The operations are copied first. */
  batchAsync(operations: readonly BatchOperation[], options?: WriteOptions): Promise<void>;
  /** {@link Database.sync} on the libuv thread pool. */
  syncAsync(): Promise<void>;
  /** {@link Database.compact} on the libuv thread pool. */
  compactAsync(): Promise<number>;
  /** {@link Database.rekey} on the libuv thread pool (the key derivation too). The options are copied first. */
  rekeyAsync(options: RekeyOptions): Promise<void>;
}

/**
 * Opens (or creates) the database in directory `path`. Opening a directory already open in this
 * process (from this thread or a worker thread) shares its engine; another process gets
 * `LDB_LOCKED`.
 *
 * An encrypted database's key derivation (option `passphrase`) runs here, on the calling thread.
 *
 * @example
 * const db = open('my.db', { cacheSize: '64MiB', sync: true });
 * const secret = open('secret.db', { encryption: 'aes-256-gcm', passphrase, compression: 'zstd' });
 */
export declare function open(path: string | URL, options?: OpenOptions): Database;

/** The version of the Lightning DB library in this package, e.g. `'0.1.0'`. */
export declare const version: string;
