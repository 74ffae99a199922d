// Bulk loads: db.bulkLoad() and BulkLoad's put, putMany, commit, commitAsync and abort. A load
// bigger than the engine's 8 MiB chunks, read back with get and range; key order; the load as the
// only writer (LDB_BUSY) while reads see the data before it; atomic commit; LDB_CLOSED once
// finished or once the database is closed; abort and garbage collection leave nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { dbPath, entries, lightning, open, openDb, rejectsCode, runNode, throwsCode } from './helpers.mjs';

const key = (i) => `key${String(i).padStart(6, '0')}`;

/** A 100-byte value that tells which key it belongs to. */
function valueOf(i) {
  const value = Buffer.alloc(100, 0x61 + (i % 26));
  value.write(String(i), 0, 'latin1');
  return value;
}

test('a load of 100k pairs (over 8 MiB) commits at once and reads back with get and range', (t) => {
  const path = dbPath(t);
  const db = open(path, { sync: false });
  // Data from before the load: some keys it replaces, some it leaves alone.
  db.put(key(10), 'old');
  db.put('a-before', 'kept');
  db.put('zz-after', 'kept');
  const n = 100_000;
  const load = db.bulkLoad();
  assert.ok(load instanceof lightning.BulkLoad);
  assert.equal(load.finished, false);
  // put for the first half, putMany (a generator: lazily) for the rest.
  for (let i = 0; i < n / 2; i++) load.put(key(i), valueOf(i));
  load.putMany(
    (function* pairs() {
      for (let i = n / 2; i < n; i++) yield [key(i), valueOf(i)];
    })(),
  );
  // Nothing is visible before the commit, though more than a chunk was written.
  assert.equal(db.get(key(0)), undefined);
  assert.equal(db.get(key(10)).toString(), 'old');
  assert.equal(db.get(key(n - 1)), undefined);
  load.commit();
  assert.equal(load.finished, true);

  for (let i = 0; i < n; i++) {
    const value = db.get(key(i));
    if (value === undefined || !value.equals(valueOf(i))) assert.fail(`${key(i)}: ${value}`);
  }
  assert.equal(db.get('a-before').toString(), 'kept');
  assert.equal(db.get('zz-after').toString(), 'kept');
  let i = 0;
  for (const [k, v] of db.range({ prefix: 'key' })) {
    if (k.toString() !== key(i) || !v.equals(valueOf(i))) assert.fail(`entry ${i}: ${k}`);
    i++;
  }
  assert.equal(i, n);
  assert.deepEqual(entries(db.range({ start: key(n - 2), end: 'zz' })), [
    [key(n - 2), valueOf(n - 2).toString('latin1')],
    [key(n - 1), valueOf(n - 1).toString('latin1')],
  ]);
  // Writes go on after the commit, and the load is durable.
  db.put(key(5), 'after');
  db.close();
  const again = open(path);
  assert.equal(again.get(key(5)).toString(), 'after');
  assert.ok(again.get(key(n - 1)).equals(valueOf(n - 1)));
  assert.equal([...again.range()].length, n + 2);
  again.close();
});

test('keys must ascend strictly: LDB_INVALID_ARGUMENT leaves the pair out and the load goes on', (t) => {
  const db = openDb(t);
  const load = db.bulkLoad();
  load.put('b', '1');
  const error = throwsCode(() => load.put('a', '2'), 'LDB_INVALID_ARGUMENT');
  assert.match(error.message, /ascending/);
  throwsCode(() => load.put('b', 'again'), 'LDB_INVALID_ARGUMENT'); // equal is not after
  load.put(Buffer.from('c'), new Uint8Array([0x33]));
  // putMany stops at the first error; the pairs before it are in the load.
  throwsCode(() => load.putMany([['d', '4'], ['e', '5'], ['a', 'x'], ['f', '6']]), 'LDB_INVALID_ARGUMENT');
  load.putMany(new Map([['g', '7'], ['h', '8']]));
  throwsCode(() => load.put('', 'too late'), 'LDB_INVALID_ARGUMENT'); // the empty key sorts first
  assert.equal(load.finished, false, 'an error does not finish the load');
  load.commit();
  assert.deepEqual(entries(db.range()), [
    ['b', '1'],
    ['c', '3'],
    ['d', '4'],
    ['e', '5'],
    ['g', '7'],
    ['h', '8'],
  ]);
});

test('while a load is open it is the only writer (LDB_BUSY); reads see the database as before', async (t) => {
  const path = dbPath(t);
  const db = open(path);
  db.put('a', 'old');
  db.put('c', 'old');
  const snapshotBefore = db.snapshot();
  const txn = db.begin();
  txn.put('t', 'x');
  const other = open(path); // another handle on the same engine

  const load = db.bulkLoad();
  load.put('a', 'new');
  load.put('b', 'new');
  for (const write of [
    () => db.put('x', 'y'),
    () => db.delete('a'),
    () => db.batch([{ type: 'put', key: 'x', value: 'y' }]),
    () => db.transaction((tx) => tx.put('x', 'y')),
    () => txn.commit(),
    () => db.flush(),
    () => db.compact(),
    () => db.bulkLoad(),
    () => other.put('x', 'y'),
    () => other.bulkLoad(),
  ]) {
    throwsCode(write, 'LDB_BUSY');
  }
  await rejectsCode(db.putAsync('x', 'y'), 'LDB_BUSY');
  await rejectsCode(db.batchAsync([{ type: 'del', key: 'a' }]), 'LDB_BUSY');
  await rejectsCode(db.compactAsync(), 'LDB_BUSY');

  // Reads go on and see the data from before the load, in every form.
  assert.equal(db.get('a').toString(), 'old');
  assert.equal(db.has('b'), false);
  assert.equal((await db.getAsync('a')).toString(), 'old');
  assert.equal(other.get('a').toString(), 'old');
  assert.deepEqual(entries(db.range()), [['a', 'old'], ['c', 'old']]);
  assert.deepEqual(entries(db.snapshot().range()), [['a', 'old'], ['c', 'old']]);
  assert.equal(db.begin({ readOnly: true }).get('b'), undefined);
  load.put('d', 'new');
  await load.commitAsync();
  assert.equal(load.finished, true);

  // Committed at once; the snapshot taken before still sees the old data.
  assert.deepEqual(entries(db.range()), [['a', 'new'], ['b', 'new'], ['c', 'old'], ['d', 'new']]);
  assert.deepEqual(entries(other.range({ start: 'b', end: 'c' })), [['b', 'new']]);
  assert.equal(snapshotBefore.get('a').toString(), 'old');
  snapshotBefore.close();
  // Writers write again.
  db.put('x', 'y');
  other.delete('x');
  db.bulkLoad().abort();
  await db.putAsync('x', 'z');
  assert.equal(db.get('x').toString(), 'z');
  other.close();
  db.close();
});

test('after commit, commitAsync or abort the load is finished: every call throws LDB_CLOSED', async (t) => {
  const db = openDb(t);
  const finishes = [(load) => load.commit(), (load) => load.commitAsync(), (load) => load.abort()];
  for (const finish of finishes) {
    const load = db.bulkLoad();
    load.put('k', 'v');
    const pending = finish(load);
    assert.equal(load.finished, true);
    for (const call of [
      () => load.put('z', 'v'),
      () => load.putMany([['z', 'v']]),
      () => load.commit(),
      () => load.abort(),
    ]) {
      const error = throwsCode(call, 'LDB_CLOSED');
      assert.match(error.message, /bulk load is closed/);
    }
    await rejectsCode(load.commitAsync(), 'LDB_CLOSED');
    await pending;
  }
  assert.equal(db.get('k').toString(), 'v');
  assert.equal(db.get('z'), undefined);
  // An empty load commits fine.
  const empty = db.bulkLoad();
  empty.commit();
  throwsCode(() => empty.put('k', 'v'), 'LDB_CLOSED');
});

test('closing the database during a load: LDB_CLOSED, nothing written, the lock released', async (t) => {
  const path = dbPath(t);
  const db = open(path);
  db.put('k', 'before');
  const load = db.bulkLoad();
  for (let i = 0; i < 20_000; i++) load.put(key(i), valueOf(i)); // more than a chunk
  db.close();
  for (const call of [() => load.put(key(99_999), 'v'), () => load.putMany([[key(99_999), 'v']]), () => load.commit()]) {
    const error = throwsCode(call, 'LDB_CLOSED');
    assert.match(error.message, /database is closed/);
  }
  assert.equal(load.finished, true);
  throwsCode(() => load.abort(), 'LDB_CLOSED');
  await rejectsCode(load.commitAsync(), 'LDB_CLOSED');
  throwsCode(() => db.bulkLoad(), 'LDB_CLOSED');

  // Another process can open it: the load did not keep the engine open; nothing of it is there.
  const child = runNode(
    `const { open } = require(PACKAGE);
     const db = open(process.argv[1]);
     console.log(String(db.get('k')), String(db.get('key000000')), [...db.range()].length);
     db.put('x', 'y');
     db.close();`,
    [path],
  );
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout.trim(), 'before undefined 1');
});

test('commitAsync while the database closes: it commits first or rejects with LDB_CLOSED', async (t) => {
  const path = dbPath(t);
  for (let round = 0; round < 5; round++) {
    const db = open(path);
    const load = db.bulkLoad();
    load.put(`round${round}`, 'v');
    const committed = load.commitAsync().then(
      () => 'committed',
      (e) => e.code,
    );
    db.close();
    const outcome = await committed;
    assert.ok(['committed', 'LDB_CLOSED'].includes(outcome), outcome);
    const again = open(path);
    assert.equal(again.has(`round${round}`), outcome === 'committed');
    again.close();
  }
});

test('closing one handle releases its load: the other handles write again', (t) => {
  const path = dbPath(t);
  const a = open(path);
  const b = open(path);
  const load = a.bulkLoad();
  load.put('from-load', 'v');
  throwsCode(() => b.put('k', 'v'), 'LDB_BUSY');
  a.close();
  throwsCode(() => load.commit(), 'LDB_CLOSED');
  b.put('k', 'v');
  assert.equal(b.get('from-load'), undefined);
  b.close();
});

test('abort leaves nothing; the database is as before and writable', (t) => {
  const path = dbPath(t);
  const db = open(path);
  db.put(key(3), 'old');
  const load = db.bulkLoad();
  for (let i = 0; i < 100_000; i++) load.put(key(i), valueOf(i));
  load.abort();
  assert.equal(load.finished, true);
  assert.deepEqual(entries(db.range()), [[key(3), 'old']]);
  db.put('after', 'abort');
  db.close();
  const again = open(path);
  assert.deepEqual(entries(again.range()), [['after', 'abort'], [key(3), 'old']]);
  again.verify();
  again.close();
});

test('wrong argument types are TypeErrors that name the argument', (t) => {
  const db = openDb(t);
  const load = db.bulkLoad();
  const typeError = (fn, pattern) =>
    assert.throws(fn, (e) => e instanceof TypeError && e.code === 'ERR_INVALID_ARG_TYPE' && pattern.test(e.message));
  typeError(() => load.put(42, 'v'), /"key"/);
  typeError(() => load.put('k', null), /"value"/);
  typeError(() => load.putMany(42), /"pairs"/);
  typeError(() => load.putMany(null), /"pairs"/);
  typeError(() => load.putMany(['ab']), /"pairs\[0\]"/);
  // The pairs before a bad one are in the load.
  typeError(() => load.putMany([['a', '1'], ['b']]), /"pairs\[1\]\[1\]"/);
  typeError(() => load.putMany([['c', '3'], [{}, '4']]), /"pairs\[1\]\[0\]"/);
  load.put('d', '4');
  assert.equal(load.finished, false);
  load.commit();
  assert.deepEqual(entries(db.range()), [['a', '1'], ['c', '3'], ['d', '4']]);
});

test('an unfinished load that is garbage-collected is abandoned: writers write again', () => {
  const child = runNode(
    `const os = require('node:os'), path = require('node:path'), fs = require('node:fs');
     const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lightning-node-gc-load-'));
     process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
     const { open } = require(PACKAGE);
     const db = open(path.join(dir, 'db'));
     function leaveLoad() { const load = db.bulkLoad(); load.put('from-load', 'v'); }
     (async () => {
       leaveLoad();
       let written = false;
       for (let tries = 0; tries < 50 && !written; tries++) {
         global.gc(); await new Promise((resolve) => setTimeout(resolve, 5));
         try { db.put('k', 'v'); written = true; } catch (e) { if (e.code !== 'LDB_BUSY') throw e; }
       }
       console.log(written ? 'released' : 'still busy', String(db.get('from-load')));
       db.close();
     })().catch((e) => { console.error(e); process.exit(1); });`,
    [],
    { timeout: 60_000, flags: ['--expose-gc'] },
  );
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout.trim(), 'released undefined');
});
