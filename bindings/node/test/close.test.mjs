// Closing: children of a closed database throw LDB_CLOSED and never crash; the engine closes
// (directory lock released) when the last handle closes, whatever children JavaScript still
// holds; unclosed children are released by garbage collection; nothing keeps the process alive.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';

import { dbPath, open, runNode, throwsCode } from './helpers.mjs';

function openedByAnotherProcess(path) {
  const child = runNode(
    `const { open } = require(PACKAGE);
     try { const db = open(process.argv[1]); console.log(String(db.get('k'))); db.close(); }
     catch (e) { console.log(e.code); }`,
    [path],
  );
  assert.equal(child.status, 0, child.stderr);
  return child.stdout.trim();
}

test('closing with live snapshots, transactions and iterators: they throw LDB_CLOSED, the lock is released', (t) => {
  const path = dbPath(t);
  const db = open(path);
  for (let i = 0; i < 100; i++) db.put(`k${i}`, `v${i}`);
  db.put('k', 'v');
  const snap = db.snapshot();
  const txn = db.begin();
  txn.put('uncommitted', 'x');
  const it = db.range();
  it.next(); // a chunk is read and buffered
  const snapIt = snap.range();
  const txnIt = txn.range();
  db.close();
  // The other process can open it now: nothing held the engine open.
  assert.equal(openedByAnotherProcess(path), 'v');
  for (const call of [
    () => snap.get('k'),
    () => snap.range(),
    () => txn.get('k'),
    () => txn.put('a', 'b'),
    () => txn.delete('a'),
    () => txn.range(),
    () => txn.commit(),
    () => it.next(),
    () => [...snapIt],
    () => [...txnIt],
  ]) {
    const error = throwsCode(call, 'LDB_CLOSED');
    assert.match(error.message, /database is closed/);
  }
  // Closing the children afterwards is fine.
  snap.close();
  it.close();
  throwsCode(() => txn.rollback(), 'LDB_CLOSED');
  // The uncommitted transaction left nothing behind.
  const again = open(path);
  assert.equal(again.get('uncommitted'), undefined);
  again.close();
});

test('reopening after close in the same process, many times', (t) => {
  const path = dbPath(t);
  for (let i = 0; i < 20; i++) {
    const db = open(path);
    db.put(`k${i}`, String(i));
    const it = db.range(); // left open on purpose
    it.next();
    db.close();
  }
  const db = open(path);
  assert.equal([...db.range()].length, 20);
  db.close();
});

test('an iterator, snapshot and transaction left open do not keep the process alive', () => {
  const child = runNode(
    `const os = require('node:os'), path = require('node:path'), fs = require('node:fs');
     const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lightning-node-alive-'));
     const { open } = require(PACKAGE);
     const db = open(path.join(dir, 'db'));
     for (let i = 0; i < 1000; i++) db.put('k' + i, 'v');
     const it = db.range(); it.next();
     const snap = db.snapshot(); const txn = db.begin(); txn.put('a', 'b');
     db.getAsync('k1').then(() => console.log('async done'));
     process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
     console.log('end of script');`,
    [],
    { timeout: 30_000 },
  );
  assert.equal(child.error, undefined, 'the process did not exit by itself');
  assert.equal(child.status, 0, child.stderr);
  assert.deepEqual(child.stdout.trim().split('\n'), ['end of script', 'async done']);
});

test('garbage collection releases unclosed children and databases', () => {
  const child = runNode(
    `const os = require('node:os'), path = require('node:path'), fs = require('node:fs');
     const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lightning-node-gc-'));
     process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
     const { open } = require(PACKAGE);
     const dbPath = path.join(dir, 'db');
     const db = open(dbPath, { maxActiveTransactions: 8 });
     for (let i = 0; i < 100; i++) db.put('k' + i, 'v');
     const settle = () => new Promise((resolve) => setTimeout(resolve, 5));
     // Made in functions of their own: a variable of the async function below could keep the
     // last object reachable.
     function leaveTransactions(n) { for (let i = 0; i < n; i++) { const t = db.begin(); t.put('x', 'y'); } }
     function leaveIterators(n) { for (let i = 0; i < n; i++) { const it = db.range(); it.next(); db.snapshot(); } }
     function leaveDatabase() { const other = open(dbPath); other.put('dropped', 'yes'); other.range().next(); }
     (async () => {
       // Unfinished transactions count against max_active_transactions until released.
       for (let round = 0; round < 5; round++) {
         leaveTransactions(8);
         let freed = false;
         for (let tries = 0; tries < 50 && !freed; tries++) {
           global.gc(); await settle();
           freed = db.stats().open_transactions === 0;
         }
         if (!freed) throw new Error('transactions were not released by garbage collection');
       }
       // Thousands of unclosed iterators and snapshots.
       leaveIterators(5000);
       global.gc(); await settle(); global.gc(); await settle();
       // A database that is never closed is closed when collected: the lock is released.
       db.close();
       leaveDatabase();
       let reopened = false;
       for (let tries = 0; tries < 50 && !reopened; tries++) {
         global.gc(); await settle();
         const probe = require('node:child_process').spawnSync(process.execPath, ['-e',
           'try { require(process.argv[1]).open(process.argv[2]).close(); console.log("ok") } catch (e) { console.log(e.code) }',
           PACKAGE, dbPath], { encoding: 'utf8' });
         reopened = probe.stdout.trim() === 'ok';
       }
       console.log(reopened ? 'released' : 'still locked');
     })().catch((e) => { console.error(e); process.exit(1); });`,
    [],
    { timeout: 120_000, flags: ['--expose-gc'] },
  );
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout.trim(), 'released');
});

// A child process started while the database is open (child_process never passes descriptors
// on, and the engine opens every file close-on-exec) does not hold its lock: the parent closes
// and reopens while the child still runs.
test('a running child process does not keep the database locked', (t) => {
  const path = dbPath(t);
  const db = open(path);
  db.put('k', 'parent');
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  db.close();
  const again = open(path);
  assert.equal(again.get('k').toString(), 'parent');
  again.close();
  assert.equal(child.exitCode, null, 'the child was still running');
});

