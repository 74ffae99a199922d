// lightning-db: Lightning DB for Node.js.
//
// This file is the public API; the native module (lightning.<platform>.node, built from src/ with
// napi-rs on Lightning DB's C ABI) does the work. Here: argument checks (a TypeError that names
// the argument), strings to UTF-8, option objects to option names, iterators, and the retry loop
// of transaction(). Types and full documentation: index.d.ts.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { fileURLToPath } = require('node:url');

// ---------------------------------------------------------------------------------------------
// The native module

function loadNative() {
  const { platform, arch } = process;
  const names = [];
  if (process.env.LIGHTNING_DB_NATIVE) names.push(path.resolve(process.env.LIGHTNING_DB_NATIVE));
  if (platform === 'linux') {
    names.push(`lightning.linux-${arch}-gnu.node`, `lightning.linux-${arch}-musl.node`);
  } else if (platform === 'win32') {
    names.push(`lightning.win32-${arch}-msvc.node`);
  } else {
    names.push(`lightning.${platform}-${arch}.node`);
  }
  const errors = [];
  for (const name of names) {
    const file = path.resolve(__dirname, name);
    if (!fs.existsSync(file)) continue;
    try {
      return require(file);
    } catch (e) {
      errors.push(`${name}: ${e.message}`);
    }
  }
  throw new Error(
    `lightning-db: no native module for ${platform}-${arch} could be loaded ` +
      `(looked for ${names.join(', ')} in ${__dirname})` +
      (errors.length ? `:\n  ${errors.join('\n  ')}` : '; run `npm install` in the package to build it'),
  );
}

const native = loadNative();
// get, has, put and delete skip napi-rs's class glue (see src/fast.rs): they take the handle's
// External (Database._handle) as their first argument.
const fast = native.fastFunctions();
const fastGet = fast.get;
const fastHas = fast.has;
const fastPut = fast.put;
const fastDelete = fast.delete;

// Values read by get() are copied by the native module into a shared pool and handed out as
// views into it, as Buffer.allocUnsafe does with its own pool: one Buffer per value of its own
// would cost far more than the lookup. Values over 2 KiB come as Buffers of their own.
const POOL_SIZE = 16 * 1024;
let pool = Buffer.allocUnsafeSlow(POOL_SIZE);
let poolOffset = 0;

function getFromPool(handle, key) {
  let found = fastGet(handle, key, pool, poolOffset);
  if (typeof found !== 'number') return found;
  if (found < 0) {
    pool = Buffer.allocUnsafeSlow(POOL_SIZE);
    poolOffset = 0;
    found = fastGet(handle, key, pool, 0);
    if (typeof found !== 'number') return found;
  }
  const start = poolOffset;
  const end = start + found;
  poolOffset = (end + 7) & ~7;
  return pool.subarray(start, end);
}

// ---------------------------------------------------------------------------------------------
// Arguments

/** A TypeError like Node's own for a wrong argument type. */
function invalidType(name, expected, value) {
  let received;
  if (value === null) received = 'null';
  else if (value === undefined) received = 'undefined';
  else if (typeof value === 'object' || typeof value === 'function') {
    const ctor = value.constructor && value.constructor.name;
    received = ctor ? `an instance of ${ctor}` : `type ${typeof value}`;
  } else {
    let shown = String(value);
    if (shown.length > 25) shown = `${shown.slice(0, 25)}...`;
    received = `type ${typeof value} (${typeof value === 'string' ? JSON.stringify(shown) : shown})`;
  }
  const error = new TypeError(`The "${name}" argument must be ${expected}. Received ${received}`);
  error.code = 'ERR_INVALID_ARG_TYPE';
  return error;
}

const BYTES = 'a Buffer, Uint8Array or string';

/**
 * `value` as bytes for a native call: a Buffer or Uint8Array on an ordinary ArrayBuffer as is, a
 * string as UTF-8. A view on a SharedArrayBuffer is copied first: another thread may change its
 * bytes at any moment, and the native side reads the bytes it is given as if they cannot change
 * during the call. (Callers test `x instanceof Uint8Array && x.buffer instanceof ArrayBuffer`
 * inline first, the common case, and come here for everything else.)
 */
function bytes(value, name) {
  // A Uint8Array from another realm (vm context) fails instanceof.
  if (value instanceof Uint8Array ||
      (ArrayBuffer.isView(value) && Object.prototype.toString.call(value) === '[object Uint8Array]')) {
    return value.buffer instanceof ArrayBuffer ? value : new Uint8Array(value);
  }
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  throw invalidType(name, BYTES, value);
}

/** `bytes`, or null for undefined/null. */
function optionalBytes(value, name) {
  return value === undefined || value === null ? null : bytes(value, name);
}

function checkObject(value, name) {
  if (value !== undefined && value !== null && typeof value !== 'object') {
    throw invalidType(name, 'an object', value);
  }
}

/** Durability code for the native module: 0 = the database's option `sync`, 1 = sync, 2 = buffered. */
function durability(options) {
  if (options === undefined || options === null) return 0;
  checkObject(options, 'options');
  const sync = options.sync;
  if (sync === undefined || sync === null) return 0;
  if (typeof sync !== 'boolean') throw invalidType('options.sync', 'a boolean', sync);
  return sync ? 1 : 2;
}

function isolationCode(isolation) {
  if (isolation === undefined || isolation === null || isolation === 'snapshot') return 0;
  if (isolation === 'serializable') return 1;
  const error = new TypeError(
    `The "options.isolation" argument must be 'snapshot' or 'serializable'. Received ${JSON.stringify(String(isolation))}`,
  );
  error.code = 'ERR_INVALID_ARG_VALUE';
  throw error;
}

function checkBoolean(value, name) {
  if (value !== undefined && value !== null && typeof value !== 'boolean') {
    throw invalidType(name, 'a boolean', value);
  }
  return value === true;
}

/** Option objects to [name, value, name, value, ...] with DESIGN §4 names (snake_case). */
function optionPairs(options) {
  if (options === undefined || options === null) return [];
  checkObject(options, 'options');
  const pairs = [];
  for (const key of Object.keys(options)) {
    const value = options[key];
    if (value === undefined) continue;
    const name = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    let text;
    if (typeof value === 'boolean') text = value ? 'true' : 'false';
    else if (typeof value === 'number' || typeof value === 'bigint') text = String(value);
    else if (typeof value === 'string') text = value;
    else throw invalidType(`options.${key}`, 'a string, number or boolean', value);
    pairs.push(name, text);
  }
  return pairs;
}

function rangeArgs(options) {
  if (options === undefined || options === null) return [null, null, null, false];
  checkObject(options, 'options');
  return [
    optionalBytes(options.start, 'options.start'),
    optionalBytes(options.end, 'options.end'),
    optionalBytes(options.prefix, 'options.prefix'),
    checkBoolean(options.reverse, 'options.reverse'),
  ];
}

/** `name=value` lines as an object: numbers where the value is one, strings otherwise. */
function parseReport(text) {
  const report = {};
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (at <= 0) continue;
    const name = line.slice(0, at);
    const value = line.slice(at + 1);
    report[name] = /^\d+$/.test(value) ? Number(value) : value;
  }
  return report;
}

function closedError(what) {
  const error = new Error(`the ${what} is closed`);
  error.code = 'LDB_CLOSED';
  return error;
}

const rejected = (error) => Promise.reject(error);

// ---------------------------------------------------------------------------------------------
// Iteration

const DONE = Object.freeze({ done: true, value: undefined });

/**
 * A lazy iterator of [key, value] pairs over a range, seeing one point in time. Entries come from
 * the native module in chunks (one Buffer each); keys and values are views into the chunk.
 */
class RangeIterator {
  constructor(db, nativeIter) {
    this._db = db;
    this._native = nativeIter;
    this._chunk = null;
    this._pos = 0;
    this._done = false;
  }

  [Symbol.iterator]() {
    return this;
  }

  next() {
    if (this._db._closed) throw closedError('database');
    let chunk = this._chunk;
    let pos = this._pos;
    if (chunk === null || pos >= chunk.length) {
      if (this._done) return DONE;
      chunk = this._native.next();
      if (chunk === null || chunk === undefined) {
        this._done = true;
        this._chunk = null;
        return DONE;
      }
      this._chunk = chunk;
      pos = 0;
    }
    const keyStart = pos + 8;
    const valueStart = keyStart + chunk.readUInt32LE(pos);
    const end = valueStart + chunk.readUInt32LE(pos + 4);
    this._pos = end;
    return { done: false, value: [chunk.subarray(keyStart, valueStart), chunk.subarray(valueStart, end)] };
  }

  /** Called by `for...of` on `break`/`throw`: releases the iterator. */
  return() {
    this.close();
    return DONE;
  }

  /** Releases the iterator now (also done at the end, and by garbage collection). */
  close() {
    this._done = true;
    this._chunk = null;
    this._native.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Snapshot

/** A consistent read-only view of the database as of the moment it was taken. */
class Snapshot {
  constructor(db, nativeSnapshot) {
    this._db = db;
    this._native = nativeSnapshot;
  }

  get(key) {
    return this._native.get(bytes(key, 'key'));
  }

  range(options) {
    const [start, end, prefix, reverse] = rangeArgs(options);
    return new RangeIterator(this._db, this._native.range(start, end, prefix, reverse));
  }

  close() {
    this._native.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Transaction

/** A transaction: reads see one snapshot plus its own writes; commit() applies them atomically. */
class Transaction {
  constructor(db, nativeTxn) {
    this._db = db;
    this._native = nativeTxn;
    this._finished = false;
  }

  get finished() {
    return this._finished;
  }

  get(key) {
    return this._native.get(bytes(key, 'key'));
  }

  put(key, value) {
    this._native.put(bytes(key, 'key'), bytes(value, 'value'));
  }

  delete(key) {
    this._native.delete(bytes(key, 'key'));
  }

  range(options) {
    const [start, end, prefix, reverse] = rangeArgs(options);
    return new RangeIterator(this._db, this._native.range(start, end, prefix, reverse));
  }

  commit() {
    this._finished = true;
    this._native.commit();
  }

  rollback() {
    this._finished = true;
    this._native.rollback();
  }

  /** Rolls back if still open, ignoring errors (the database may be closed). */
  _abandon() {
    if (this._finished) return;
    try {
      this.rollback();
    } catch {
      // Nothing to undo, or nothing left to do it with.
    }
  }
}

const isConflict = (e) => e !== null && typeof e === 'object' && e.code === 'LDB_CONFLICT';

/** A random pause before the next attempt, growing with the attempts: 25 µs to ~13 ms. */
function backoffMs(attempt) {
  const base = 0.05 * 2 ** Math.min(attempt, 8);
  return base * (0.5 + Math.random());
}

let sleeper;
function sleepSync(ms) {
  if (!sleeper) sleeper = new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait(sleeper, 0, 0, ms);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const isThenable = (v) => v !== null && (typeof v === 'object' || typeof v === 'function') && typeof v.then === 'function';

function transactionOptions(options) {
  if (options === undefined || options === null) return { isolation: 0, maxRetries: 10, sync: 0 };
  checkObject(options, 'options');
  let maxRetries = options.maxRetries ?? options.max_retries;
  if (maxRetries === undefined || maxRetries === null) maxRetries = 10;
  else if (typeof maxRetries !== 'number' || !Number.isInteger(maxRetries) || maxRetries < 0) {
    throw invalidType('options.maxRetries', 'a non-negative integer', maxRetries);
  }
  return { isolation: isolationCode(options.isolation), maxRetries, sync: durability(options) };
}

// ---------------------------------------------------------------------------------------------
// Bulk load

/** Pairs handed to the native module per call by putMany(). */
const PUT_MANY_CHUNK = 1024;

/**
 * A bulk load: pairs in strictly ascending key order, written straight into the page file and
 * made durable and visible at once by commit(). Until it is finished it is the database's only
 * writer.
 */
class BulkLoad {
  constructor(db, nativeLoad) {
    this._db = db;
    this._native = nativeLoad;
    this._finished = false;
  }

  get finished() {
    return this._finished;
  }

  /** LDB_CLOSED once finished (also while commitAsync() is in flight). */
  _check() {
    if (this._finished) throw closedError(this._db._closed ? 'database' : 'bulk load');
  }

  put(key, value) {
    this._check();
    this._native.put(
      key instanceof Uint8Array && key.buffer instanceof ArrayBuffer ? key : bytes(key, 'key'),
      value instanceof Uint8Array && value.buffer instanceof ArrayBuffer ? value : bytes(value, 'value'),
    );
  }

  putMany(pairs) {
    this._check();
    if (pairs === null || pairs === undefined || typeof pairs[Symbol.iterator] !== 'function') {
      throw invalidType('pairs', 'an iterable of [key, value] pairs', pairs);
    }
    // As put() pair by pair: it stops at the first error, and the pairs before it are in the load.
    let keys = [];
    let values = [];
    let i = 0;
    try {
      for (const pair of pairs) {
        if (pair === null || typeof pair !== 'object') throw invalidType(`pairs[${i}]`, 'a [key, value] pair', pair);
        const key = pair[0];
        const value = pair[1];
        const k = key instanceof Uint8Array && key.buffer instanceof ArrayBuffer ? key : bytes(key, `pairs[${i}][0]`);
        const v = value instanceof Uint8Array && value.buffer instanceof ArrayBuffer ? value : bytes(value, `pairs[${i}][1]`);
        keys.push(k);
        values.push(v);
        i++;
        if (keys.length === PUT_MANY_CHUNK) {
          const [chunkKeys, chunkValues] = [keys, values];
          keys = [];
          values = [];
          this._native.putMany(chunkKeys, chunkValues);
        }
      }
    } finally {
      // The pairs read before a failure (or the end) go in too; an error of theirs comes first.
      if (keys.length > 0) this._native.putMany(keys, values);
    }
  }

  commit() {
    this._check();
    this._finished = true;
    this._native.commit();
  }

  commitAsync() {
    try {
      this._check();
      this._finished = true;
      return this._native.commitAsync();
    } catch (e) {
      return rejected(e);
    }
  }

  abort() {
    this._check();
    this._finished = true;
    this._native.abort();
  }
}

// ---------------------------------------------------------------------------------------------
// Database

/** An open database. Create one with `open()`. */
class Database {
  constructor(nativeDb, dbPath) {
    this._native = nativeDb;
    this._handle = nativeDb.external();
    this._path = dbPath;
    this._closed = false;
  }

  get path() {
    return this._path;
  }

  get closed() {
    return this._closed;
  }

  get(key) {
    return getFromPool(this._handle, key instanceof Uint8Array && key.buffer instanceof ArrayBuffer ? key : bytes(key, 'key'));
  }

  has(key) {
    return fastHas(this._handle, key instanceof Uint8Array && key.buffer instanceof ArrayBuffer ? key : bytes(key, 'key'));
  }

  put(key, value, options) {
    fastPut(
      this._handle,
      key instanceof Uint8Array && key.buffer instanceof ArrayBuffer ? key : bytes(key, 'key'),
      value instanceof Uint8Array && value.buffer instanceof ArrayBuffer ? value : bytes(value, 'value'),
      options === undefined ? 0 : durability(options),
    );
  }

  delete(key, options) {
    fastDelete(this._handle, key instanceof Uint8Array && key.buffer instanceof ArrayBuffer ? key : bytes(key, 'key'), options === undefined ? 0 : durability(options));
  }

  batch(operations, options) {
    const [keys, values] = batchArgs(operations);
    this._native.write(keys, values, durability(options));
  }

  range(options) {
    const [start, end, prefix, reverse] = rangeArgs(options);
    return new RangeIterator(this, this._native.range(start, end, prefix, reverse));
  }

  snapshot() {
    return new Snapshot(this, this._native.snapshot());
  }

  begin(options) {
    let isolation = 0;
    let readOnly = false;
    let sync = 0;
    if (options !== undefined && options !== null) {
      checkObject(options, 'options');
      isolation = isolationCode(options.isolation);
      readOnly = checkBoolean(options.readOnly ?? options.read_only, 'options.readOnly');
      sync = durability(options);
    }
    return new Transaction(this, this._native.begin(isolation, readOnly, sync));
  }

  transaction(fn, options) {
    if (typeof fn !== 'function') throw invalidType('fn', 'a function', fn);
    const opts = transactionOptions(options);
    for (let attempt = 0; ; attempt++) {
      const txn = new Transaction(this, this._native.begin(opts.isolation, false, opts.sync));
      try {
        const result = fn(txn);
        if (isThenable(result)) return this._transactionAsync(fn, opts, txn, result, attempt);
        if (!txn._finished) txn.commit();
        return result;
      } catch (e) {
        txn._abandon();
        if (!isConflict(e) || attempt >= opts.maxRetries) throw e;
      }
      sleepSync(backoffMs(attempt));
    }
  }

  /** transaction() with an async `fn`: awaits it, commits, and retries on conflict. */
  async _transactionAsync(fn, opts, txn, pending, attempt) {
    for (;;) {
      try {
        const result = await pending;
        if (!txn._finished) txn.commit();
        return result;
      } catch (e) {
        txn._abandon();
        if (!isConflict(e) || attempt >= opts.maxRetries) throw e;
      }
      await sleep(backoffMs(attempt));
      attempt += 1;
      txn = new Transaction(this, this._native.begin(opts.isolation, false, opts.sync));
      try {
        pending = fn(txn);
      } catch (e) {
        pending = Promise.reject(e);
      }
    }
  }

  bulkLoad() {
    return new BulkLoad(this, this._native.bulkLoad());
  }

  sync() {
    this._native.sync();
  }

  flush() {
    this._native.flush();
  }

  compact() {
    return this._native.compact();
  }

  rekey(options) {
    this._native.rekey(optionPairs(options));
  }

  stats() {
    return parseReport(this._native.stats());
  }

  verify() {
    return parseReport(this._native.verify());
  }

  close() {
    this._closed = true;
    this._native.close();
  }

  getAsync(key) {
    try {
      return this._native.getAsync(bytes(key, 'key'));
    } catch (e) {
      return rejected(e);
    }
  }

  putAsync(key, value, options) {
    try {
      return this._native.putAsync(bytes(key, 'key'), bytes(value, 'value'), durability(options));
    } catch (e) {
      return rejected(e);
    }
  }

  batchAsync(operations, options) {
    try {
      const [keys, values] = batchArgs(operations);
      return this._native.writeAsync(keys, values, durability(options));
    } catch (e) {
      return rejected(e);
    }
  }

  syncAsync() {
    try {
      return this._native.syncAsync();
    } catch (e) {
      return rejected(e);
    }
  }

  compactAsync() {
    try {
      return this._native.compactAsync();
    } catch (e) {
      return rejected(e);
    }
  }

  rekeyAsync(options) {
    try {
      return this._native.rekeyAsync(optionPairs(options));
    } catch (e) {
      return rejected(e);
    }
  }
}

/** Batch operations as parallel arrays of keys and values (null: delete). */
function batchArgs(operations) {
  if (!Array.isArray(operations)) throw invalidType('operations', 'an array', operations);
  const n = operations.length;
  const keys = new Array(n);
  const values = new Array(n);
  for (let i = 0; i < n; i++) {
    const op = operations[i];
    if (op === null || typeof op !== 'object') throw invalidType(`operations[${i}]`, 'an object', op);
    const key = op.key;
    keys[i] = key instanceof Uint8Array && key.buffer instanceof ArrayBuffer ? key : bytes(key, `operations[${i}].key`);
    if (op.type === 'put') {
      const value = op.value;
      values[i] = value instanceof Uint8Array && value.buffer instanceof ArrayBuffer ? value : bytes(value, `operations[${i}].value`);
    } else if (op.type === 'del') {
      values[i] = null;
    } else {
      const error = new TypeError(
        `The "operations[${i}].type" argument must be 'put' or 'del'. Received ${JSON.stringify(String(op.type))}`,
      );
      error.code = 'ERR_INVALID_ARG_VALUE';
      throw error;
    }
  }
  return [keys, values];
}

/**
 * Opens (or creates) the database in directory `path`.
 * @param {string} dbPath
 * @param {object} [options] options by name, camelCase or snake_case (DESIGN §4)
 * @returns {Database}
 */
function open(dbPath, options) {
  if (dbPath instanceof URL) dbPath = fileURLToPath(dbPath);
  if (typeof dbPath !== 'string') throw invalidType('path', 'a string or file URL', dbPath);
  return new Database(native.open(dbPath, optionPairs(options)), dbPath);
}

module.exports = {
  open,
  Database,
  Snapshot,
  Transaction,
  BulkLoad,
  RangeIterator,
  version: native.version(),
};
