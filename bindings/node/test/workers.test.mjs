// Worker threads: every open of one directory in the process shares one engine; each thread's
// Database is its own handle; closing one does not disturb the others; a terminated worker's
// handles are released.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';

import { PACKAGE, dbPath, open, runNode, throwsCode } from './helpers.mjs';

// A worker that opens the database and answers commands; the code runs as a string (eval).
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { open } = require(workerData.pkg);
const { path, id } = workerData;
let db = open(path, { sync: false });
const other = 1 - id;
parentPort.on('message', (command) => {
  try {
    if (command === 'write') {
      for (let i = 0; i < 200; i++) db.put('w' + id + ':' + i, 'from ' + id);
      db.batch([{ type: 'put', key: 'batch' + id, value: 'b' }, { type: 'del', key: 'w' + id + ':0' }]);
      parentPort.postMessage('written');
    } else if (command === 'read') {
      let seen = 0;
      for (let i = 1; i < 200; i++) if (String(db.get('w' + other + ':' + i)) === 'from ' + other) seen++;
      const fromMain = String(db.get('main'));
      const ranged = [...db.range({ prefix: 'w' + other + ':' })].length;
      parentPort.postMessage({ seen, fromMain, ranged, batch: db.has('batch' + other), deleted: !db.has('w' + other + ':0') });
    } else if (command === 'count') {
      for (let i = 0; i < 50; i++) {
        // Generous retries: on a loaded 2-core machine one worker can lose many races in a row.
        db.transaction((txn) => { txn.put('counter', String(Number(txn.get('counter') ?? 0) + 1)); }, { maxRetries: 1000 });
      }
      parentPort.postMessage('counted');
    } else if (command === 'close') {
      db.close();
      let code;
      try { db.get('main'); } catch (e) { code = e.code; }
      parentPort.postMessage(code);
    } else if (command === 'write-again') {
      db.put('again' + id, 'yes');
      parentPort.postMessage(String(db.get('again' + id)));
    } else if (command === 'async') {
      db.putAsync('async' + id, 'yes').then(() => db.getAsync('async' + id)).then((v) => parentPort.postMessage(String(v)));
    }
  } catch (e) {
    parentPort.postMessage({ error: e.code || String(e) });
  }
});
parentPort.postMessage('ready');
`;

function startWorker(path, id) {
  const worker = new Worker(WORKER, { eval: true, workerData: { pkg: PACKAGE, path, id } });
  const messages = [];
  const waiting = [];
  worker.on('message', (m) => (waiting.length ? waiting.shift()(m) : messages.push(m)));
  worker.on('error', (e) => {
    throw e;
  });
  const next = () => (messages.length ? Promise.resolve(messages.shift()) : new Promise((resolve) => waiting.push(resolve)));
  const ask = async (command) => {
    worker.postMessage(command);
    const answer = await next();
    if (answer && answer.error) throw new Error(`worker ${id}: ${answer.error}`);
    return answer;
  };
  return { worker, next, ask };
}

test('two workers and the main thread share one database', async (t) => {
  const path = dbPath(t);
  const main = open(path);
  main.put('main', 'hello');
  const workers = [startWorker(path, 0), startWorker(path, 1)];
  // A failed assertion must not leave live workers keeping the test process alive.
  t.after(() => Promise.all(workers.map((w) => w.worker.terminate())));
  for (const w of workers) assert.equal(await w.next(), 'ready');
  await Promise.all(workers.map((w) => w.ask('write')));
  for (const w of workers) {
    assert.deepEqual(await w.ask('read'), { seen: 199, fromMain: 'hello', ranged: 199, batch: true, deleted: true });
  }
  assert.equal(main.get('w0:5').toString(), 'from 0');
  assert.equal(main.get('w1:5').toString(), 'from 1');

  // Concurrent transactions from both workers: conflicts are retried, no increment is lost.
  await Promise.all(workers.map((w) => w.ask('count')));
  assert.equal(main.get('counter').toString(), '100');

  // Closing one worker's handle leaves the others working.
  assert.equal(await workers[0].ask('close'), 'LDB_CLOSED');
  assert.equal(await workers[1].ask('write-again'), 'yes');
  assert.equal(await workers[1].ask('async'), 'yes');
  assert.equal(main.get('again1').toString(), 'yes');
  main.put('still', 'open');

  // A worker that ends without closing its handle: its handles are released with it.
  await Promise.all(workers.map((w) => w.worker.terminate()));
  assert.equal(main.get('still').toString(), 'open');
  main.close();
  throwsCode(() => main.get('still'), 'LDB_CLOSED');

  // Every handle is gone: another process can open the database.
  const child = runNode(
    `const { open } = require(PACKAGE);
     try { const db = open(process.argv[1]); console.log(String(db.get('again1'))); db.close(); }
     catch (e) { console.log(e.code); }`,
    [path],
  );
  assert.equal(child.stdout.trim(), 'yes', child.stderr);
});

test('a worker opening a database the main thread then closes', async (t) => {
  const path = dbPath(t);
  const main = open(path);
  const w = startWorker(path, 0);
  t.after(() => w.worker.terminate());
  assert.equal(await w.next(), 'ready');
  main.close(); // the worker's handle keeps the engine open
  await w.ask('write');
  assert.equal(await w.ask('close'), 'LDB_CLOSED');
  await w.worker.terminate();
  const again = open(path);
  assert.equal(again.get('w0:1').toString(), 'from 0');
  again.close();
});
