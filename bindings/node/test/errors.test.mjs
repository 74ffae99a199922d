// Every error code a user can provoke from Node, each an Error with `code` = 'LDB_' + name.
// Not provoked: LDB_NO_SPACE (needs a full disk) and LDB_INTERNAL (needs a bug), as in the C and
// Python suites.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import {
  PAGE,
  dbPath,
  fillAndClose,
  flipByte,
  leafPages,
  open,
  openDb,
  rejectsCode,
  runNode,
  tempDir,
  throwsCode,
} from './helpers.mjs';

test('LDB_INVALID_ARGUMENT: an oversized key, start or end with prefix, a missing database', (t) => {
  const db = openDb(t);
  const error = throwsCode(() => db.put('k'.repeat(4097), 'v'), 'LDB_INVALID_ARGUMENT');
  assert.match(error.message, /4097/);
  assert.ok(!(error instanceof TypeError));
  throwsCode(() => db.get('k'.repeat(4097)), 'LDB_INVALID_ARGUMENT');
  throwsCode(() => db.has(Buffer.alloc(5000)), 'LDB_INVALID_ARGUMENT');
  throwsCode(() => db.delete(Buffer.alloc(5000)), 'LDB_INVALID_ARGUMENT');
  throwsCode(() => db.range({ start: 'a', prefix: 'a' }), 'LDB_INVALID_ARGUMENT');
  throwsCode(() => db.range({ end: 'b', prefix: 'a' }), 'LDB_INVALID_ARGUMENT');
  const txn = db.begin();
  throwsCode(() => txn.put(Buffer.alloc(5000), 'v'), 'LDB_INVALID_ARGUMENT');
  txn.rollback();
  const missing = join(tempDir(t), 'missing');
  throwsCode(() => open(missing, { createIfMissing: false }), 'LDB_INVALID_ARGUMENT');
  assert.equal(existsSync(missing), false);
});

for (const options of [
  { no_such_option: 1 },
  { noSuchOption: 'x' },
  { sync: 'maybe' },
  { cacheSize: 'lots' },
  { pageSize: 5000 },
  { max_active_transactions: 0 },
  { mmap: 2 },
  { compression: 'gzip' },
  { compressionLevel: 20 },
]) {
  test(`LDB_INVALID_OPTION: ${JSON.stringify(options)}`, (t) => {
    const path = dbPath(t);
    const error = throwsCode(() => open(path, options), 'LDB_INVALID_OPTION');
    const name = Object.keys(options)[0].replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    assert.ok(error.message.includes(name), error.message);
    assert.equal(existsSync(path), false);
  });
}

test('LDB_CORRUPTION: a flipped byte in a leaf page never gives wrong data', (t) => {
  const dir = tempDir(t);
  for (const mmap of [false, true]) {
    const path = join(dir, `corrupt-${mmap}`);
    const contents = fillAndClose(path, { mmap });
    const leaves = leafPages(path);
    assert.ok(leaves.length > 0, 'no leaf page found');
    flipByte(path, leaves[0] * PAGE + 300);
    let db;
    try {
      db = open(path, { mmap });
    } catch (e) {
      assert.equal(e.code, 'LDB_CORRUPTION');
      assert.match(e.message, /data\.ldb/);
      continue;
    }
    try {
      const error = throwsCode(() => db.verify(), 'LDB_CORRUPTION');
      assert.match(error.message, /data\.ldb/);
      let corrupt = 0;
      for (const [key, value] of contents) {
        try {
          assert.deepEqual(db.get(key), value); // never wrong data
        } catch (e) {
          if (e.code !== 'LDB_CORRUPTION') throw e;
          corrupt++;
        }
      }
      assert.ok(corrupt > 0);
      throwsCode(() => {
        for (const [key, value] of db.range()) assert.deepEqual(value, contents.get(key.toString()));
      }, 'LDB_CORRUPTION');
      const snap = db.snapshot();
      throwsCode(() => [...snap.range({ reverse: true })], 'LDB_CORRUPTION');
      snap.close();
    } finally {
      db.close();
    }
  }
});

test('LDB_CORRUPTION or LDB_NOT_A_DATABASE: both meta pages corrupted', (t) => {
  const path = dbPath(t);
  fillAndClose(path, { n: 10 });
  flipByte(path, 64);
  flipByte(path, PAGE + 64);
  assert.throws(
    () => open(path),
    (e) => ['LDB_CORRUPTION', 'LDB_NOT_A_DATABASE'].includes(e.code) && /data\.ldb/.test(e.message),
  );
});

test('LDB_IO_ERROR: a database under a file', (t) => {
  const file = join(tempDir(t), 'a-file');
  writeFileSync(file, 'hello');
  throwsCode(() => open(join(file, 'db')), 'LDB_IO_ERROR');
});

test('LDB_LOCKED: another process has the database open', (t) => {
  const path = dbPath(t);
  const db = open(path);
  try {
    const child = runNode(
      `const { open } = require(PACKAGE);
       try { open(process.argv[1]); console.log('opened'); } catch (e) { console.log(e.code); }`,
      [path],
    );
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout.trim(), 'LDB_LOCKED');
  } finally {
    db.close();
  }
  // Closed here: the other process may open it now.
  const child = runNode(`const { open } = require(PACKAGE); open(process.argv[1]).close(); console.log('opened');`, [path]);
  assert.equal(child.stdout.trim(), 'opened', child.stderr);
});

test('LDB_NOT_A_DATABASE: a file, a directory of other files, a garbage page file', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'a-file');
  writeFileSync(file, 'hello');
  throwsCode(() => open(file), 'LDB_NOT_A_DATABASE');

  const foreign = join(dir, 'foreign');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'notes.txt'), 'my notes');
  const error = throwsCode(() => open(foreign), 'LDB_NOT_A_DATABASE');
  assert.match(error.message, /notes\.txt/);
  assert.equal(readFileSync(join(foreign, 'notes.txt'), 'utf8'), 'my notes');
  assert.equal(existsSync(join(foreign, 'data.ldb')), false);

  const garbage = join(dir, 'garbage');
  mkdirSync(garbage);
  writeFileSync(join(garbage, 'data.ldb'), Buffer.alloc(8192, 'x'));
  throwsCode(() => open(garbage), 'LDB_NOT_A_DATABASE');
});

test('LDB_UNSUPPORTED_VERSION: meta pages of a newer format', (t) => {
  const path = dbPath(t);
  const db = open(path);
  db.put('k', 'v');
  db.close();
  const file = join(path, 'data.ldb');
  const data = readFileSync(file);
  for (const meta of [0, PAGE]) data.writeUInt32LE(99, meta + 24);
  writeFileSync(file, data);
  throwsCode(() => open(path), 'LDB_UNSUPPORTED_VERSION');
});

test('LDB_CLOSED: every call after close(), sync and async', async (t) => {
  const db = open(dbPath(t));
  db.put('k', 'v');
  db.close();
  for (const call of [
    () => db.get('k'),
    () => db.has('k'),
    () => db.put('k', 'v'),
    () => db.delete('k'),
    () => db.batch([{ type: 'put', key: 'k', value: 'v' }]),
    () => db.range(),
    () => db.snapshot(),
    () => db.begin(),
    () => db.transaction(() => {}),
    () => db.bulkLoad(),
    () => db.sync(),
    () => db.flush(),
    () => db.compact(),
    () => db.stats(),
    () => db.verify(),
  ]) {
    const error = throwsCode(call, 'LDB_CLOSED');
    assert.match(error.message, /closed/);
  }
  await rejectsCode(db.getAsync('k'), 'LDB_CLOSED');
  await rejectsCode(db.putAsync('k', 'v'), 'LDB_CLOSED');
  await rejectsCode(db.batchAsync([{ type: 'del', key: 'k' }]), 'LDB_CLOSED');
  await rejectsCode(db.syncAsync(), 'LDB_CLOSED');
  await rejectsCode(db.compactAsync(), 'LDB_CLOSED');
  db.close(); // twice is fine
});

test('LDB_CONFLICT: two transactions write one key', (t) => {
  const db = openDb(t);
  const t1 = db.begin();
  const t2 = db.begin();
  t1.put('k', '1');
  t2.put('k', '2');
  t1.commit();
  throwsCode(() => t2.commit(), 'LDB_CONFLICT');
  assert.equal(db.get('k').toString(), '1');
  throwsCode(() => t2.get('k'), 'LDB_CLOSED'); // finished by the failed commit
});

test('LDB_BUSY: beyond maxActiveTransactions; not retried by transaction()', (t) => {
  const db = openDb(t, { maxActiveTransactions: 1 });
  const txn = db.begin();
  const error = throwsCode(() => db.begin(), 'LDB_BUSY');
  assert.match(error.message, /max_active_transactions/);
  throwsCode(() => db.begin({ readOnly: true }), 'LDB_BUSY');
  let calls = 0;
  throwsCode(() => db.transaction(() => calls++), 'LDB_BUSY');
  assert.equal(calls, 0);
  txn.commit(); // a finished transaction no longer counts
  db.begin({ isolation: 'serializable' }).rollback();
});

test('LDB_READ_ONLY: a write in a read-only transaction', (t) => {
  const db = openDb(t);
  const txn = db.begin({ readOnly: true });
  throwsCode(() => txn.put('k', 'v'), 'LDB_READ_ONLY');
  throwsCode(() => txn.delete('k'), 'LDB_READ_ONLY');
  txn.commit();
});

test('the native functions refuse what is not theirs without crashing', (t) => {
  const db = openDb(t);
  // The native calls check their handle and argument types themselves, too.
  assert.throws(() => db._native.range('not bytes', null, null, false), Error);
  const { _handle: handle } = db;
  assert.equal(typeof handle, 'object');
  const copy = Object.create(db);
  copy._handle = {};
  throwsCode(() => copy.get('k'), 'LDB_INVALID_ARGUMENT');
  copy._handle = 42;
  throwsCode(() => copy.put('k', 'v'), 'LDB_INVALID_ARGUMENT');
});
