// lightning-db against lmdb-js (`lmdb`) and `classic-level`, in one run, on the workload of the
// Python benchmark (bindings/python/bench/bench.py): 200,000 keys of 16 bytes (the Rust bench's
// splitmix64 keys) with 100-byte values; bulk load, single puts, batches of 1,000, random gets
// and a full scan. Writes do not fsync in any engine (lightning `sync: false`, lmdb-js
// `noSync`, classic-level's default). Engines take turns in chunks (writes) or passes (reads),
// the order rotating, so a slow phase of a shared machine falls on every engine alike.
//
// Usage: npm install && node bench.mjs [--n 200000] [--engines lightning,lmdb,classic-level]
//                                      [--workloads bulk_load,write_buffered,...] [--dir PATH]
// Prints one JSON line per (engine, workload), then a table of ops/sec with the ratios and the
// project's targets: get, single put and scan >= 1.0x lmdb-js; batches >= 1.0x classic-level.
// Progress goes to stderr. Exit status 1 if a workload failed (a missed target is no failure).

import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

const WORKLOADS = ['bulk_load', 'write_buffered', 'write_batch_1000', 'read_random', 'scan'];
const READ_WORKLOADS = ['read_random', 'scan'];
const ENGINES = ['lightning', 'lmdb', 'classic-level'];
const TARGETS = [
  ['read_random', 'lmdb'],
  ['write_buffered', 'lmdb'],
  ['scan', 'lmdb'],
  ['write_batch_1000', 'classic-level'],
];
const VALUE_LEN = 100;
const WRITE_TIME = 10; // s: a write workload stops after the chunk in which an engine passed this
const WRITE_CHUNK = 10_000;
const BATCH_SIZE = 1_000;
const MIN_READ_TIME = 1; // s per engine, and at least MIN_READ_ROUNDS passes
const MIN_READ_ROUNDS = 3;
const CACHE_BYTES = 512 << 20;

// ---------------------------------------------------------------------------------------------
// Data: the Rust bench's keys (bench/src/workloads.rs), as the Python bench.

const MASK = (1n << 64n) - 1n;
const SEED = 0x4c69_6768_746e_696en;
const GOLDEN_GAMMA = 0x9e37_79b9_7f4a_7c15n;
const LOADED_STREAM = 0n;
const WRITE_BUFFERED_STREAM = 1n;
const WRITE_BATCH_STREAM = 8n;

function mix64(z) {
  z = ((z ^ (z >> 30n)) * 0xbf58_476d_1ce4_e5b9n) & MASK;
  z = ((z ^ (z >> 27n)) * 0x94d0_49bb_1331_11ebn) & MASK;
  return z ^ (z >> 31n);
}

function makeKey(stream, i) {
  const counter = (stream << 40n) + 2n * BigInt(i);
  const key = Buffer.allocUnsafe(16);
  key.writeBigUInt64BE(mix64((SEED + (counter + 1n) * GOLDEN_GAMMA) & MASK), 0);
  key.writeBigUInt64BE(mix64((SEED + (counter + 2n) * GOLDEN_GAMMA) & MASK), 8);
  return key;
}

/** Seeded pseudo-random (incompressible) bytes: xorshift64*. */
function randomBytes(seed, length) {
  const out = Buffer.allocUnsafe(length);
  let x = (seed | 1n) & MASK;
  for (let i = 0; i < length; i += 8) {
    x ^= x >> 12n;
    x ^= (x << 25n) & MASK;
    x ^= x >> 27n;
    const word = (x * 0x2545_f491_4f6c_dd1dn) & MASK;
    const bytes = Buffer.allocUnsafe(8);
    bytes.writeBigUInt64LE(word);
    bytes.copy(out, i, 0, Math.min(8, length - i));
  }
  return out;
}

function makePairs(stream, count) {
  const blob = randomBytes(SEED ^ stream, VALUE_LEN * count);
  const pairs = new Array(count);
  for (let i = 0; i < count; i++) {
    pairs[i] = [makeKey(stream, i), blob.subarray(i * VALUE_LEN, (i + 1) * VALUE_LEN)];
  }
  return pairs;
}

function randomLoadedKeys(seed, loaded, count) {
  let state = seed;
  const out = new Array(count);
  for (let i = 0; i < count; i++) {
    state = (state + GOLDEN_GAMMA) & MASK;
    out[i] = makeKey(LOADED_STREAM, Number((mix64(state) * BigInt(loaded)) >> 64n));
  }
  return out;
}

function* chunks(array, size) {
  for (let i = 0; i < array.length; i += size) yield array.slice(i, i + size);
}

const now = () => performance.now() / 1000;

// ---------------------------------------------------------------------------------------------
// Engines: each loop is written out per engine in the same shape, so only the engines differ.
// Every method may return a Promise (classic-level's API is asynchronous).

class Lightning {
  static name = 'lightning';
  constructor(path) {
    const { open } = require('../index.js');
    this.db = open(path, { cacheSize: CACHE_BYTES, sync: false });
  }
  bulkLoad(pairs) {
    // The loading API: sorted pairs straight into the tree; the commit fsyncs it.
    const load = this.db.bulkLoad();
    load.putMany(pairs);
    load.commit();
  }
  puts(pairs) {
    const db = this.db;
    for (const [k, v] of pairs) db.put(k, v);
  }
  batches(pairs) {
    const db = this.db;
    for (const chunk of chunks(pairs, BATCH_SIZE)) {
      db.batch(chunk.map(([key, value]) => ({ type: 'put', key, value })));
    }
  }
  gets(keys) {
    const db = this.db;
    let missing = 0;
    for (const k of keys) if (db.get(k) === undefined) missing++;
    return missing;
  }
  scan() {
    let count = 0;
    for (const [k, v] of this.db.range()) count++; // eslint-disable-line no-unused-vars
    return count;
  }
  close() {
    this.db.close();
  }
}

class Lmdb {
  static name = 'lmdb';
  constructor(path) {
    const { open } = require('lmdb');
    this.db = open({
      path,
      noSync: true, // commits reach the OS but are not fsynced, as the others
      compression: false,
      encoding: 'binary',
      keyEncoding: 'binary',
      mapSize: 4 * 1024 ** 3,
    });
  }
  bulkLoad(pairs) {
    const db = this.db;
    db.transactionSync(() => {
      for (const [k, v] of pairs) db.put(k, v);
    });
    db.flushed; // eslint-disable-line no-unused-expressions
  }
  puts(pairs) {
    const db = this.db;
    for (const [k, v] of pairs) db.putSync(k, v);
  }
  batches(pairs) {
    const db = this.db;
    for (const chunk of chunks(pairs, BATCH_SIZE)) {
      db.transactionSync(() => {
        for (const [k, v] of chunk) db.put(k, v);
      });
    }
  }
  gets(keys) {
    const db = this.db;
    let missing = 0;
    for (const k of keys) if (db.get(k) === undefined) missing++;
    return missing;
  }
  scan() {
    let count = 0;
    for (const { key, value } of this.db.getRange()) count++; // eslint-disable-line no-unused-vars
    return count;
  }
  close() {
    return this.db.close();
  }
}

class ClassicLevel {
  static name = 'classic-level';
  constructor(path) {
    const { ClassicLevel: Level } = require('classic-level');
    this.db = new Level(path, {
      keyEncoding: 'buffer',
      valueEncoding: 'buffer',
      cacheSize: CACHE_BYTES,
    });
  }
  async bulkLoad(pairs) {
    await this.db.open();
    await this.db.batch(pairs.map(([key, value]) => ({ type: 'put', key, value })));
  }
  async open() {
    await this.db.open();
  }
  async puts(pairs) {
    const db = this.db;
    for (const [k, v] of pairs) await db.put(k, v);
  }
  async batches(pairs) {
    const db = this.db;
    for (const chunk of chunks(pairs, BATCH_SIZE)) {
      await db.batch(chunk.map(([key, value]) => ({ type: 'put', key, value })));
    }
  }
  async gets(keys) {
    const db = this.db;
    let missing = 0;
    for (const k of keys) if ((await db.get(k)) === undefined) missing++;
    return missing;
  }
  async scan() {
    let count = 0;
    const it = this.db.iterator();
    for (;;) {
      const entries = await it.nextv(1000);
      if (entries.length === 0) break;
      count += entries.length;
    }
    await it.close();
    return count;
  }
  close() {
    return this.db.close();
  }
}

const CLASSES = { lightning: Lightning, lmdb: Lmdb, 'classic-level': ClassicLevel };

async function openEngine(name, path) {
  mkdirSync(path, { recursive: true });
  const engine = new CLASSES[name](path);
  if (engine.open) await engine.open();
  return engine;
}

// ---------------------------------------------------------------------------------------------
// Workloads.

const log = (message) => process.stderr.write(message + '\n');
const results = new Map(); // `${engine}/${workload}` -> ops/sec or null
let anyFailed = false;

function report(engine, workload, outcome) {
  if (outcome instanceof Error) {
    anyFailed = true;
    log(`[${engine}] ${workload}: FAILED: ${outcome.stack || outcome}`);
    results.set(`${engine}/${workload}`, null);
    console.log(JSON.stringify({ engine, workload, ops_per_sec: null, error: String(outcome) }));
    return;
  }
  const [ops, seconds] = outcome;
  const rate = ops / Math.max(seconds, 1e-9);
  log(`[${engine}] ${workload}: ${ops} ops in ${seconds.toFixed(2)} s = ${formatRate(rate)} ops/s`);
  results.set(`${engine}/${workload}`, rate);
  console.log(JSON.stringify({ engine, workload, ops_per_sec: Math.round(rate * 10) / 10 }));
}

function formatRate(rate) {
  let [scaled, suffix] = [rate, ''];
  if (rate >= 1e6) [scaled, suffix] = [rate / 1e6, 'M'];
  else if (rate >= 1e3) [scaled, suffix] = [rate / 1e3, 'K'];
  if (!suffix || scaled >= 100) return `${scaled.toFixed(0)}${suffix}`;
  return `${scaled.toFixed(scaled >= 10 ? 1 : 2)}${suffix}`;
}

async function interleavedWrites(names, workload, pairs, dir) {
  const engines = {};
  const failed = {};
  const totals = Object.fromEntries(names.map((n) => [n, [0, 0]]));
  for (const name of names) {
    try {
      engines[name] = await openEngine(name, join(dir, name, workload));
    } catch (e) {
      failed[name] = e;
    }
  }
  let round = 0;
  for (const chunk of chunks(pairs, WRITE_CHUNK)) {
    const live = names.filter((n) => !(n in failed));
    if (live.length === 0) break;
    const shift = round++ % live.length;
    for (const name of [...live.slice(shift), ...live.slice(0, shift)]) {
      const start = now();
      try {
        if (workload === 'write_buffered') await engines[name].puts(chunk);
        else await engines[name].batches(chunk);
      } catch (e) {
        failed[name] = e;
        continue;
      }
      totals[name][0] += chunk.length;
      totals[name][1] += now() - start;
    }
    if (live.some((n) => totals[n][1] >= WRITE_TIME)) break;
  }
  for (const [name, engine] of Object.entries(engines)) {
    try {
      await engine.close();
    } catch (e) {
      failed[name] ??= e;
    }
    rmSync(join(dir, name, workload), { recursive: true, force: true });
  }
  for (const name of names) report(name, workload, failed[name] ?? totals[name]);
}

async function readPass(engine, workload, n, keys) {
  const start = now();
  if (workload === 'read_random') {
    const missing = await engine.gets(keys);
    if (missing) throw new Error(`${missing} of ${keys.length} loaded keys not found`);
    return [keys.length, now() - start];
  }
  const count = await engine.scan();
  if (count !== n) throw new Error(`scan found ${count} keys, expected ${n}`);
  return [count, now() - start];
}

async function interleavedReads(engines, workload, n, keys) {
  const names = Object.keys(engines);
  const totals = Object.fromEntries(names.map((name) => [name, [0, 0]]));
  const failed = {};
  for (let round = 0; ; round++) {
    const live = names.filter((name) => !(name in failed));
    if (live.length === 0) break;
    const shift = round % live.length;
    for (const name of [...live.slice(shift), ...live.slice(0, shift)]) {
      try {
        const [ops, seconds] = await readPass(engines[name], workload, n, keys);
        totals[name][0] += ops;
        totals[name][1] += seconds;
      } catch (e) {
        failed[name] = e;
      }
    }
    const done = live.every((name) => totals[name][1] >= MIN_READ_TIME);
    if (round + 1 >= MIN_READ_ROUNDS && done) break;
  }
  for (const name of names) report(name, workload, failed[name] ?? totals[name]);
}

async function loadAndWarm(name, sortedPairs, n, dir, workloads) {
  const engine = await openEngine(name, join(dir, name, 'loaded'));
  const start = now();
  await engine.bulkLoad(sortedPairs);
  const elapsed = now() - start;
  if (workloads.includes('bulk_load')) report(name, 'bulk_load', [n, elapsed]);
  const count = await engine.scan();
  if (count !== n) throw new Error(`after the bulk load a scan found ${count} keys, expected ${n}`);
  const missing = await engine.gets(randomLoadedKeys(0x5eed_ffffn, n, Math.min(10_000, n)));
  if (missing) throw new Error(`${missing} loaded keys not found while warming up`);
  if ((await engine.gets([makeKey(WRITE_BUFFERED_STREAM, 0)])) !== 1) {
    throw new Error('a key that was never written was found');
  }
  return engine;
}

function parseArgs(argv) {
  const args = { n: 200_000, engines: ENGINES, workloads: WORKLOADS, dir: tmpdir() };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--n') args.n = Number(value.replaceAll('_', ''));
    else if (flag === '--engines') args.engines = value.split(',');
    else if (flag === '--workloads') args.workloads = value.split(',');
    else if (flag === '--dir') args.dir = value;
    else throw new Error(`unknown argument ${flag}`);
  }
  for (const e of args.engines) if (!ENGINES.includes(e)) throw new Error(`unknown engine ${e}`);
  for (const w of args.workloads) if (!WORKLOADS.includes(w)) throw new Error(`unknown workload ${w}`);
  if (!Number.isInteger(args.n) || args.n < 1) throw new Error('--n must be a positive integer');
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const { n, engines, workloads } = args;
  const dir = mkdtempSync(join(args.dir, 'lightning-node-bench-'));
  const started = now();
  console.log(`n = ${n} keys of 16 bytes, values of ${VALUE_LEN} bytes; engines: ${engines.join(', ')}`);
  try {
    const loaded = makePairs(LOADED_STREAM, n);
    const sorted = [...loaded].sort((a, b) => Buffer.compare(a[0], b[0]));
    const readKeys = randomLoadedKeys(0x5eedn, n, n);
    const open = {};
    const readers = READ_WORKLOADS.filter((w) => workloads.includes(w));
    if (workloads.includes('bulk_load') || readers.length) {
      for (const name of engines) {
        try {
          open[name] = await loadAndWarm(name, sorted, n, dir, workloads);
        } catch (e) {
          for (const w of ['bulk_load', ...readers]) if (workloads.includes(w)) report(name, w, e);
        }
      }
    }
    for (const w of readers) await interleavedReads(open, w, n, readKeys);
    for (const engine of Object.values(open)) await engine.close();
    if (workloads.includes('write_buffered')) {
      await interleavedWrites(engines, 'write_buffered', makePairs(WRITE_BUFFERED_STREAM, n), dir);
    }
    if (workloads.includes('write_batch_1000')) {
      await interleavedWrites(engines, 'write_batch_1000', makePairs(WRITE_BATCH_STREAM, n), dir);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  printTable(engines, workloads);
  console.log(`\ntotal time ${(now() - started).toFixed(1)} s`);
  process.exitCode = anyFailed ? 1 : 0;
}

function printTable(engines, workloads) {
  const peers = engines.includes('lightning') ? engines.filter((e) => e !== 'lightning') : [];
  const ratio = (w, p) => {
    const ours = results.get(`lightning/${w}`);
    const theirs = results.get(`${p}/${w}`);
    return ours == null || !theirs ? null : ours / theirs;
  };
  const rows = [['ops/sec', ...engines, ...peers.map((p) => `lightning/${p}`)]];
  for (const w of workloads) {
    const rates = engines.map((e) => {
      const r = results.get(`${e}/${w}`);
      return r == null ? 'failed' : formatRate(r);
    });
    rows.push([w, ...rates, ...peers.map((p) => (ratio(w, p) == null ? '-' : `${ratio(w, p).toFixed(2)}x`))]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  console.log();
  rows.forEach((row, i) => {
    console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
    if (i === 0) console.log('-'.repeat(widths.reduce((a, b) => a + b + 2, -2)));
  });
  console.log();
  for (const [w, p] of TARGETS) {
    if (!workloads.includes(w) || !engines.includes(p) || !engines.includes('lightning')) continue;
    const r = ratio(w, p);
    const verdict = r == null ? 'not measured' : r >= 1 ? `met (${r.toFixed(3)}x)` : `MISSED (${r.toFixed(3)}x)`;
    console.log(`target ${w} >= 1.00x ${p}: ${verdict}`);
  }
}

await main();
