// The whole API: open and options, get/put/delete/has, batch, range, snapshot, transactions,
// sync/stats/verify/close, the module's shape (CommonJS and ESM), argument types.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';

import * as esm from '../index.mjs';
import { dbPath, entries, lightning, open, openDb, random, runNode, tempDir, throwsCode } from './helpers.mjs';

test('the module: CommonJS and ESM export the same objects', () => {
  assert.equal(typeof lightning.open, 'function');
  assert.equal(esm.open, lightning.open);
  assert.equal(esm.default, lightning);
  for (const name of ['Database', 'Snapshot', 'Transaction', 'BulkLoad', 'RangeIterator']) {
    assert.equal(typeof lightning[name], 'function', name);
    assert.equal(esm[name], lightning[name]);
  }
  assert.match(lightning.version, /^\d+\.\d+\.\d+/);
});

test('open creates the directory; camelCase and snake_case options; a file URL', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'db');
  const db = open(path, { cacheSize: '1MiB', memtable_size: '1MiB', sync: false, mmap: true, maxActiveTransactions: 10 });
  assert.ok(db instanceof lightning.Database);
  assert.equal(db.path, path);
  assert.equal(db.closed, false);
  assert.equal(db.stats().cache_capacity, 1 << 20);
  db.put('k', 'v');
  db.close();
  assert.equal(db.closed, true);
  assert.ok(existsSync(join(path, 'data.ldb')));
  const again = open(pathToFileURL(path), { cache_size: 1 << 21, page_size: 4096 });
  assert.equal(again.get('k').toString(), 'v');
  assert.equal(again.stats().cache_capacity, 1 << 21);
  again.close();
});

test('compression: WAL records written under one policy read back under another', (t) => {
  const dir = tempDir(t);
  const rng = random(7);
  const expected = new Map();
  for (let i = 0; i < 400; i++) {
    const value = Buffer.alloc(200); // half random, half zeros
    for (let j = 0; j < 100; j++) value[j] = Math.floor(rng() * 256);
    expected.set(`key${String(i).padStart(4, '0')}`, value);
  }
  const first = [...expected].slice(0, 300);
  const walBytes = (compression) => {
    const db = open(join(dir, compression), { compression, compressionLevel: 5, sync: false });
    for (const [key, value] of first) db.put(key, value);
    const stats = db.stats();
    if (compression === 'zstd') {
      assert.ok(stats.codec_zstd_blocks > 0, JSON.stringify(stats));
      assert.ok(stats.compression_saved_bytes > 0, JSON.stringify(stats));
    } else {
      assert.equal(stats.compression_saved_bytes, 0);
    }
    db.close();
    return stats.wal_bytes;
  };
  const plain = walBytes('none');
  const zstd = walBytes('zstd');
  assert.ok(zstd * 5 < plain * 4, `${zstd} WAL bytes with zstd against ${plain} plain`);

  const path = join(dir, 'zstd');
  const lz4 = open(path, { compression: 'lz4' });
  for (const [key, value] of first) assert.deepEqual(lz4.get(key), value, key);
  lz4.close();
  // A process that ends without close leaves its (LZ4) records in the WAL for the next open.
  const child = runNode(
    `const { open } = require(PACKAGE);
     const db = open(process.argv[1], { compression: 'LZ4' }); // any letter case
     for (const [key, hex] of JSON.parse(process.argv[2])) db.put(key, Buffer.from(hex, 'hex'));
     console.log('written');
     process.exit(0);`,
    [path, JSON.stringify([...expected].slice(300).map(([k, v]) => [k, v.toString('hex')]))],
  );
  assert.equal(child.stdout.trim(), 'written', child.stderr);
  const none = open(path, { compression: 'none' });
  for (const [key, value] of expected) assert.deepEqual(none.get(key), value, key);
  assert.equal([...none.range()].length, expected.size);
  none.close();

  const error = throwsCode(() => open(dbPath(t), { compression: 'gzip' }), 'LDB_INVALID_OPTION');
  assert.match(error.message, /gzip.*compression/);
});

test('get, put, delete, has with Buffers, Uint8Arrays and strings', (t) => {
  const db = openDb(t);
  db.put(Buffer.from('a'), Buffer.from('1'));
  db.put(new Uint8Array([0x62]), new Uint8Array([0x32]));
  db.put('c', '3');
  db.put('ключ', 'значение'); // UTF-8
  db.put(Buffer.from([0, 255, 0]), Buffer.alloc(0)); // any bytes; an empty value
  const value = db.get('a');
  assert.ok(Buffer.isBuffer(value));
  assert.equal(value.toString(), '1');
  assert.equal(db.get(Buffer.from('b')).toString(), '2');
  assert.equal(db.get(new Uint8Array([0x63])).toString(), '3');
  assert.equal(db.get('ключ').toString(), 'значение');
  assert.deepEqual(db.get(Buffer.from('ключ')), Buffer.from('значение'));
  assert.deepEqual(db.get(Buffer.from([0, 255, 0])), Buffer.alloc(0));
  assert.equal(db.get('missing'), undefined);
  assert.equal(db.has('a'), true);
  assert.equal(db.has('missing'), false);
  assert.equal(db.has(Buffer.from([0, 255, 0])), true);
  db.delete('a');
  db.delete('never there'); // fine
  assert.equal(db.get('a'), undefined);
  assert.equal(db.has('a'), false);
  db.put('a', 'again', { sync: true });
  db.put('b', 'buffered', { sync: false });
  db.delete('c', { sync: false });
  db.delete('b', {});
  assert.equal(db.get('a').toString(), 'again');
  assert.equal(db.get('b'), undefined);
  // The empty key is a key.
  db.put('', 'empty key');
  assert.equal(db.get('').toString(), 'empty key');
  assert.equal(db.get(new Uint8Array(0)).toString(), 'empty key');
});

test('values of every size come back whole, also long after other reads', (t) => {
  const db = openDb(t, { sync: false });
  const sizes = [0, 1, 7, 8, 100, 2047, 2048, 2049, 4096, 16383, 16384, 70_000, 1 << 20];
  const expected = new Map();
  for (let i = 0; i < 400; i++) {
    const size = sizes[i % sizes.length];
    const value = Buffer.alloc(size, i % 251);
    if (size > 0) value[size - 1] = i % 7;
    expected.set(`k${i}`, value);
    db.put(`k${i}`, value);
  }
  const got = new Map();
  for (let round = 0; round < 3; round++) {
    for (const key of expected.keys()) got.set(`${key}/${round}`, db.get(key));
  }
  for (const [name, value] of got) assert.deepEqual(value, expected.get(name.split('/')[0]), name);
  // Changing a value that was read does not change the database, nor other values read.
  const a = db.get('k4');
  const b = db.get('k4');
  a.fill(0);
  assert.deepEqual(b, expected.get('k4'));
  assert.deepEqual(db.get('k4'), expected.get('k4'));
});

test('the value written is the one at the call: later changes to the Buffer do not count', (t) => {
  const db = openDb(t);
  const value = Buffer.from('original');
  db.put('k', value);
  value.write('CHANGED!');
  assert.equal(db.get('k').toString(), 'original');
});

test('Uint8Arrays on a SharedArrayBuffer work everywhere, copied at the call, while another thread changes them', async (t) => {
  // The native side reads the bytes it gets as if they cannot change during the call, which a
  // SharedArrayBuffer does not promise: the JavaScript layer passes a copy of such views.
  const db = openDb(t);
  const shared = new SharedArrayBuffer(4096);
  const key = new Uint8Array(shared, 0, 8);
  const value = new Uint8Array(shared, 8, 4000);
  key.set(Buffer.from('sharedk1'));
  value.fill(7);
  db.put(key, value);
  assert.ok(db.has(key));
  assert.deepEqual(db.get(key), Buffer.alloc(4000, 7));
  value.fill(9); // later changes do not reach what was written
  assert.deepEqual(db.get('sharedk1'), Buffer.alloc(4000, 7));
  db.batch([{ type: 'put', key, value }]);
  assert.deepEqual(db.get('sharedk1'), Buffer.alloc(4000, 9));
  const txn = db.begin();
  txn.put(key, new Uint8Array(shared, 8, 3));
  txn.commit();
  assert.deepEqual(db.get('sharedk1'), Buffer.from([9, 9, 9]));
  assert.deepEqual(await db.getAsync(key), Buffer.from([9, 9, 9]));
  db.delete(key);
  assert.equal(db.get('sharedk1'), undefined);
  const { runInNewContext } = await import('node:vm');
  const foreign = runInNewContext('new Uint8Array(new SharedArrayBuffer(1)).fill(102)');
  db.put(foreign, foreign);
  assert.equal(db.get('f').toString(), 'f');

  // A worker rewrites the key (between "sharedk1" and "sharedk2") and the value (each 32-bit
  // lane the same counter) as fast as it can while this thread writes and reads with them.
  const { Worker } = await import('node:worker_threads');
  db.put('sharedk1', 'one');
  db.put('sharedk2', 'two');
  const flags = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(`
    const { workerData } = require('node:worker_threads');
    const bytes = new Uint8Array(workerData.shared);
    const lanes = new Int32Array(workerData.shared, 8, 1000);
    const stop = new Int32Array(workerData.flags);
    for (let n = 0; Atomics.load(stop, 0) === 0; n++) {
      bytes[7] = 49 + (n & 1);
      for (let i = 0; i < lanes.length; i++) lanes[i] = n;
    }`, { eval: true, workerData: { shared, flags: flags.buffer } });
  try {
    for (let i = 0; i < 5000; i++) {
      const got = db.get(key);
      assert.ok(got !== undefined, 'a key in the middle of a rewrite is still one of the two');
      if (i % 10 === 0) db.put(`copy${i % 100}`, value);
    }
  } finally {
    Atomics.store(flags, 0, 1);
    await new Promise((resolve) => worker.once('exit', resolve));
  }
  db.verify();
});

test('batch: puts and deletes, atomic, in order', (t) => {
  const db = openDb(t);
  db.put('gone', 'x');
  db.batch([
    { type: 'put', key: 'a', value: '1' },
    { type: 'put', key: Buffer.from('b'), value: new Uint8Array([50]) },
    { type: 'del', key: 'gone' },
    { type: 'put', key: 'c', value: 'first' },
    { type: 'put', key: 'c', value: 'second' },
    { type: 'put', key: 'd', value: 'x' },
    { type: 'del', key: 'd' },
  ]);
  assert.deepEqual(entries(db.range()), [
    ['a', '1'],
    ['b', '2'],
    ['c', 'second'],
  ]);
  db.batch([], { sync: true }); // empty is fine
  db.batch([{ type: 'put', key: 'e', value: '5' }], { sync: false });
  assert.equal(db.get('e').toString(), '5');
  // A bad operation anywhere: nothing is applied.
  assert.throws(() => db.batch([{ type: 'put', key: 'f', value: '6' }, { type: 'put', key: 'g', value: 7 }]), TypeError);
  assert.equal(db.get('f'), undefined);
  throwsCode(() => db.batch([{ type: 'put', key: 'f', value: '6' }, { type: 'put', key: 'x'.repeat(5000), value: '' }]), 'LDB_INVALID_ARGUMENT');
  assert.equal(db.get('f'), undefined);
});

test('range: all, start/end, prefix, reverse, lazily and at one point in time', (t) => {
  const db = openDb(t);
  const keys = ['a', 'ab', 'abc', 'b', 'ba', 'c', 'd'];
  for (const k of keys) db.put(k, k.toUpperCase());
  const keysOf = (options) => [...db.range(options)].map(([k]) => k.toString());
  assert.deepEqual(keysOf(), keys);
  assert.deepEqual(keysOf({}), keys);
  assert.deepEqual(keysOf({ reverse: true }), [...keys].reverse());
  assert.deepEqual(keysOf({ start: 'ab' }), ['ab', 'abc', 'b', 'ba', 'c', 'd']);
  assert.deepEqual(keysOf({ end: 'b' }), ['a', 'ab', 'abc']);
  assert.deepEqual(keysOf({ start: 'ab', end: 'c' }), ['ab', 'abc', 'b', 'ba']);
  assert.deepEqual(keysOf({ start: Buffer.from('ab'), end: new Uint8Array([0x63]), reverse: true }), ['ba', 'b', 'abc', 'ab']);
  assert.deepEqual(keysOf({ prefix: 'a' }), ['a', 'ab', 'abc']);
  assert.deepEqual(keysOf({ prefix: 'b', reverse: true }), ['ba', 'b']);
  assert.deepEqual(keysOf({ prefix: 'z' }), []);
  assert.deepEqual(keysOf({ start: 'c', end: 'a' }), []);
  assert.deepEqual(entries(db.range({ prefix: 'ab' })), [
    ['ab', 'AB'],
    ['abc', 'ABC'],
  ]);
  // One point in time: writes after range() are not seen.
  const it = db.range();
  db.put('0', 'new');
  db.delete('d');
  assert.deepEqual([...it].map(([k]) => k.toString()), keys);
  // An iterator is its own iterable, used once; next() after the end keeps saying done.
  const once = db.range({ prefix: 'c' });
  assert.equal(once[Symbol.iterator](), once);
  assert.deepEqual(once.next().value.map(String), ['c', 'C']);
  assert.deepEqual(once.next(), { done: true, value: undefined });
  assert.deepEqual(once.next(), { done: true, value: undefined });
  // break releases it; close() is idempotent.
  for (const [k] of db.range()) {
    assert.equal(k.toString(), '0');
    break;
  }
  const closed = db.range();
  closed.close();
  closed.close();
  assert.deepEqual(closed.next(), { done: true, value: undefined });
});

test('range over many entries (chunks grow), in both directions', (t) => {
  const db = openDb(t, { sync: false });
  const n = 5000;
  const key = (i) => `key${String(i).padStart(6, '0')}`;
  db.batch(Array.from({ length: n }, (_, i) => ({ type: 'put', key: key(i), value: `value ${i}`.repeat(i % 5) })));
  let i = 0;
  for (const [k, v] of db.range()) {
    assert.equal(k.toString(), key(i));
    assert.equal(v.toString(), `value ${i}`.repeat(i % 5));
    i++;
  }
  assert.equal(i, n);
  for (const [k] of db.range({ reverse: true })) assert.equal(k.toString(), key(--i));
  assert.equal(i, 0);
  // Big values: a chunk stops at about 1 MiB.
  for (let j = 0; j < 12; j++) db.put(`big${j}`, Buffer.alloc(300_000, j));
  let count = 0;
  for (const [k, v] of db.range({ prefix: 'big' })) {
    assert.equal(v.length, 300_000);
    assert.equal(v[0], Number(k.toString().slice(3)));
    count++;
  }
  assert.equal(count, 12);
});

test('snapshot: a view as of its creation; get, range, close', (t) => {
  const db = openDb(t);
  db.put('a', '1');
  db.put('b', '2');
  const snap = db.snapshot();
  assert.ok(snap instanceof lightning.Snapshot);
  db.put('a', 'changed');
  db.delete('b');
  db.put('c', '3');
  assert.equal(snap.get('a').toString(), '1');
  assert.equal(snap.get('b').toString(), '2');
  assert.equal(snap.get('c'), undefined);
  assert.deepEqual(entries(snap.range()), [
    ['a', '1'],
    ['b', '2'],
  ]);
  assert.deepEqual(entries(snap.range({ reverse: true, start: 'b' })), [['b', '2']]);
  assert.equal(db.get('a').toString(), 'changed');
  const it = snap.range();
  snap.close();
  snap.close(); // twice is fine
  throwsCode(() => snap.get('a'), 'LDB_CLOSED');
  throwsCode(() => snap.range(), 'LDB_CLOSED');
  // An iterator made before the snapshot closed still reads it.
  assert.deepEqual(entries(it), [
    ['a', '1'],
    ['b', '2'],
  ]);
});

test('begin: reads its snapshot and its own writes; commit applies atomically; rollback discards', (t) => {
  const db = openDb(t);
  db.put('a', '1');
  const txn = db.begin();
  assert.ok(txn instanceof lightning.Transaction);
  assert.equal(txn.finished, false);
  assert.equal(txn.get('a').toString(), '1');
  txn.put('a', '2');
  txn.put('b', 'new');
  txn.delete('gone');
  assert.equal(txn.get('a').toString(), '2'); // its own write
  assert.equal(db.get('a').toString(), '1'); // not yet
  assert.deepEqual(entries(txn.range()), [
    ['a', '2'],
    ['b', 'new'],
  ]);
  txn.commit();
  assert.equal(txn.finished, true);
  assert.equal(db.get('a').toString(), '2');
  assert.equal(db.get('b').toString(), 'new');
  throwsCode(() => txn.get('a'), 'LDB_CLOSED');
  throwsCode(() => txn.put('a', '3'), 'LDB_CLOSED');
  throwsCode(() => txn.commit(), 'LDB_CLOSED');

  const rolled = db.begin({ isolation: 'serializable', sync: false });
  rolled.put('a', 'never');
  rolled.rollback();
  assert.equal(rolled.finished, true);
  assert.equal(db.get('a').toString(), '2');
  throwsCode(() => rolled.rollback(), 'LDB_CLOSED');

  const reader = db.begin({ readOnly: true });
  assert.equal(reader.get('b').toString(), 'new');
  throwsCode(() => reader.put('x', 'y'), 'LDB_READ_ONLY');
  reader.commit();
  const snake = db.begin({ read_only: true });
  throwsCode(() => snake.delete('x'), 'LDB_READ_ONLY');
  snake.rollback();
});

test('transaction(fn): commits, returns what fn returned, retries on conflict', (t) => {
  const db = openDb(t);
  assert.equal(
    db.transaction((txn) => {
      txn.put('n', '1');
      return 'done';
    }),
    'done',
  );
  assert.equal(db.get('n').toString(), '1');

  // The first attempt is made to conflict (a plain put of the key it writes, after it began).
  let attempts = 0;
  const result = db.transaction((txn) => {
    attempts++;
    const n = Number(txn.get('n'));
    if (attempts === 1) db.put('n', '10');
    txn.put('n', String(n + 1));
    return n + 1;
  });
  assert.equal(attempts, 2);
  assert.equal(result, 11);
  assert.equal(db.get('n').toString(), '11');

  // maxRetries: 0 gives the conflict to the caller.
  attempts = 0;
  const error = throwsCode(
    () =>
      db.transaction(
        (txn) => {
          attempts++;
          txn.get('n');
          db.put('n', 'other');
          txn.put('n', 'mine');
        },
        { maxRetries: 0, isolation: 'serializable' },
      ),
    'LDB_CONFLICT',
  );
  assert.ok(error instanceof Error);
  assert.equal(attempts, 1);
  assert.equal(db.get('n').toString(), 'other');

  // Always conflicting: maxRetries + 1 attempts, then the conflict.
  attempts = 0;
  throwsCode(
    () =>
      db.transaction(
        (txn) => {
          attempts++;
          txn.put('n', 'mine');
          db.put('n', `other ${attempts}`);
        },
        { maxRetries: 3 },
      ),
    'LDB_CONFLICT',
  );
  assert.equal(attempts, 4);

  // Another error rolls back and is thrown as it is, without retrying.
  attempts = 0;
  assert.throws(
    () =>
      db.transaction((txn) => {
        attempts++;
        txn.put('n', 'never');
        throw new RangeError('mine');
      }),
    RangeError,
  );
  assert.equal(attempts, 1);
  assert.equal(db.get('n').toString(), 'other 4');

  // fn may finish the transaction itself.
  db.transaction((txn) => {
    txn.put('self', 'committed');
    txn.commit();
  });
  assert.equal(db.get('self').toString(), 'committed');
  db.transaction((txn) => {
    txn.put('self', 'rolled back');
    txn.rollback();
  });
  assert.equal(db.get('self').toString(), 'committed');
  assert.equal(db.stats().open_transactions, 0);
});

test('transaction(async fn): awaited, committed, retried on conflict', async (t) => {
  const db = openDb(t);
  db.put('n', '0');
  let attempts = 0;
  const result = await db.transaction(async (txn) => {
    attempts++;
    const n = Number(txn.get('n'));
    await new Promise((resolve) => setTimeout(resolve, 1));
    if (attempts === 1) await db.putAsync('n', '100');
    txn.put('n', String(n + 1));
    return n + 1;
  });
  assert.equal(attempts, 2);
  assert.equal(result, 101);
  assert.equal(db.get('n').toString(), '101');
  await assert.rejects(
    db.transaction(async (txn) => {
      txn.put('n', 'never');
      throw new Error('async failure');
    }),
    /async failure/,
  );
  assert.equal(db.get('n').toString(), '101');
  assert.equal(db.stats().open_transactions, 0);
});

test('sync, stats, verify', (t) => {
  const db = openDb(t, { sync: false });
  db.put('a', '1');
  db.get('a');
  db.sync();
  const stats = db.stats();
  assert.equal(typeof stats, 'object');
  for (const name of ['puts', 'gets', 'wal_syncs', 'cache_capacity', 'open_transactions', 'last_sequence']) {
    assert.equal(typeof stats[name], 'number', name);
  }
  assert.ok(stats.puts >= 1 && stats.gets >= 1 && stats.wal_syncs >= 1);
  const report = db.verify();
  assert.equal(typeof report, 'object');
  assert.ok(Object.keys(report).length > 0);
  for (const value of Object.values(report)) assert.ok(['number', 'string'].includes(typeof value));
});

test('flush, compact and compactAsync give back what deletes freed', async (t) => {
  const db = openDb(t);
  const value = Buffer.alloc(400, 'v');
  const keys = Array.from({ length: 4000 }, (_, i) => `key${String(i).padStart(5, '0')}`);
  db.batch(keys.map((key) => ({ type: 'put', key, value })));
  db.flush();
  db.batch(keys.filter((_, i) => i % 10 !== 0).map((key) => ({ type: 'del', key })));
  db.flush();
  const before = db.stats().file_bytes;
  const givenBack = db.compact();
  const after = db.stats().file_bytes;
  assert.equal(typeof givenBack, 'number');
  assert.ok(givenBack > 0);
  assert.equal(after + givenBack, before);
  assert.ok(after * 4 < before);
  assert.equal(await db.compactAsync(), 0);
  assert.deepEqual(
    entries(db.range()).map(([k]) => k.toString()),
    keys.filter((_, i) => i % 10 === 0),
  );
  assert.deepEqual(db.get('key00010'), value);
});

test('close: idempotent; reopening sees everything; a second handle in this process shares the engine', (t) => {
  const path = dbPath(t);
  const first = open(path);
  first.put('a', '1');
  const second = open(path, { cacheSize: '1MiB' }); // shared: the first open's options apply
  assert.equal(second.get('a').toString(), '1');
  second.put('b', '2');
  assert.equal(first.get('b').toString(), '2');
  assert.equal(second.stats().cache_capacity, first.stats().cache_capacity);
  first.close();
  first.close();
  throwsCode(() => first.get('a'), 'LDB_CLOSED');
  assert.equal(second.get('a').toString(), '1'); // the other handle is still open
  second.put('c', '3');
  second.close();
  const again = open(path);
  assert.deepEqual(entries(again.range()), [
    ['a', '1'],
    ['b', '2'],
    ['c', '3'],
  ]);
  again.close();
});

test('wrong argument types are TypeErrors that name the argument and the type', (t) => {
  const db = openDb(t);
  const bad = [42, null, undefined, {}, [], true, 12n, Symbol('s'), new Uint16Array(2), new Int8Array(2), new ArrayBuffer(2), () => 1];
  for (const value of bad) {
    for (const call of [
      () => db.get(value),
      () => db.has(value),
      () => db.put(value, 'v'),
      () => db.put('k', value),
      () => db.delete(value),
    ]) {
      assert.throws(call, (e) => {
        assert.ok(e instanceof TypeError, String(e));
        assert.equal(e.code, 'ERR_INVALID_ARG_TYPE');
        assert.match(e.message, /"(key|value)" argument must be a Buffer, Uint8Array or string/);
        return true;
      });
    }
  }
  assert.throws(() => db.put(42, 'v'), /Received type number \(42\)/);
  assert.throws(() => db.put({}, 'v'), /Received an instance of Object/);
  assert.throws(() => db.put(new Uint16Array(1), 'v'), /Received an instance of Uint16Array/);
  assert.throws(() => db.batch('nope'), TypeError);
  assert.throws(() => db.batch([null]), /operations\[0\]/);
  assert.throws(() => db.batch([{ type: 'put', key: 'k' }]), /operations\[0\]\.value/);
  assert.throws(() => db.batch([{ type: 'delete', key: 'k' }]), /'put' or 'del'/);
  assert.throws(() => db.batch([{ type: 'del', key: 5 }]), /operations\[0\]\.key/);
  assert.throws(() => db.range({ start: 5 }), /options\.start/);
  assert.throws(() => db.range({ prefix: {} }), /options\.prefix/);
  assert.throws(() => db.range({ reverse: 'yes' }), /options\.reverse/);
  assert.throws(() => db.range(5), TypeError);
  assert.throws(() => db.put('k', 'v', { sync: 'yes' }), /options\.sync/);
  assert.throws(() => db.begin({ isolation: 'chaos' }), /'snapshot' or 'serializable'/);
  assert.throws(() => db.begin({ readOnly: 1 }), /options\.readOnly/);
  assert.throws(() => db.transaction('not a function'), /"fn" argument must be a function/);
  assert.throws(() => db.transaction(() => {}, { maxRetries: -1 }), /maxRetries/);
  assert.throws(() => open(42), /"path" argument must be a string/);
  assert.throws(() => open(dbPath(t), { cacheSize: {} }), /options\.cacheSize/);
  assert.throws(() => open(dbPath(t), 'sync'), TypeError);
  const snap = db.snapshot();
  assert.throws(() => snap.get(1), TypeError);
  snap.close();
  const txn = db.begin();
  assert.throws(() => txn.put('k', null), TypeError);
  assert.throws(() => txn.get([]), TypeError);
  txn.rollback();
});

test('a Uint8Array from another realm is accepted', async (t) => {
  const db = openDb(t);
  const { runInNewContext } = await import('node:vm');
  const foreign = runInNewContext('new Uint8Array([107])');
  assert.equal(foreign instanceof Uint8Array, false);
  db.put(foreign, foreign);
  assert.equal(db.get('k').toString(), 'k');
});
