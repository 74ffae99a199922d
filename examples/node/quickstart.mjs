// quickstart.mjs — a tour of Lightning DB from Node.js.
//
//     (cd bindings/node && npm install)        # builds the native module
//     node examples/node/quickstart.mjs [DIRECTORY]
//
// With no argument the database goes into a new temporary directory (removed at the end). With the
// package installed (`npm install lightning-db`), the import below finds it; in this repository
// the example falls back to bindings/node.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { open } = await import('lightning-db').catch((e) => {
  if (e.code !== 'ERR_MODULE_NOT_FOUND') throw e;
  return import(new URL('../../bindings/node/index.mjs', import.meta.url).href);
});

/**
 * Adds `amount` to the number stored at `key` in a transaction; returns the new number.
 * db.transaction() runs the function in a new transaction and commits it; if a concurrent commit
 * got in the way (LDB_CONFLICT), it runs the function again, up to maxRetries times.
 */
function addToCounter(db, key, amount) {
  return db.transaction(
    (txn) => {
      const total = Number(txn.get(key) ?? '0') + amount;
      txn.put(key, String(total));
      return total;
    },
    { maxRetries: 10 },
  );
}

async function tour(path) {
  // Options by name, camelCase or snake_case: strings, numbers or booleans.
  const db = open(path, { cacheSize: '64MiB', sync: true });

  // Keys and values are Buffers, Uint8Arrays or strings (UTF-8); values come back as Buffers.
  db.put('hello', 'world');
  db.put(Buffer.from('language'), new Uint8Array([0x6a, 0x73]), { sync: false });
  console.log('hello =', db.get('hello').toString());
  console.log('missing =', db.get('missing'));
  console.log('has hello:', db.has('hello'));

  // A batch is atomic: after any crash, all of it or none of it is there.
  db.batch([
    { type: 'put', key: 'fruit:apple', value: 'red' },
    { type: 'put', key: 'fruit:banana', value: 'yellow' },
    { type: 'put', key: 'fruit:cherry', value: 'red' },
    { type: 'del', key: 'language' },
  ]);

  // Iterate over a prefix, lazily, in key order (reverse: true for the other way).
  for (const [key, value] of db.range({ prefix: 'fruit:' })) {
    console.log(`  ${key} = ${value}`);
  }
  for (const [key] of db.range({ prefix: 'fruit:', reverse: true })) {
    console.log('last fruit:', key.toString());
    break; // releases the iterator
  }

  // A snapshot keeps seeing the database as of the moment it was taken.
  const snap = db.snapshot();
  db.put('fruit:apple', 'green');
  console.log('apple now:', db.get('fruit:apple').toString(), 'in the snapshot:', snap.get('fruit:apple').toString());
  snap.close();

  // Transactions, with the retry helper.
  addToCounter(db, 'visits', 1);
  console.log('visits =', addToCounter(db, 'visits', 41));

  // Or by hand.
  const txn = db.begin({ isolation: 'serializable' });
  txn.put('note', 'written in a transaction');
  txn.commit();

  // A bulk load: pairs in ascending key order go straight into the tree, and commit() makes them
  // all visible and durable at once.
  const load = db.bulkLoad();
  load.putMany(Array.from({ length: 1000 }, (_, i) => [`item:${String(i).padStart(4, '0')}`, 'loaded']));
  await load.commitAsync();
  console.log('item:0999 =', db.get('item:0999').toString());

  // Promise twins run on the libuv thread pool and never block the event loop.
  await db.putAsync('async', 'yes');
  console.log('async =', (await db.getAsync('async')).toString());
  await db.syncAsync();

  // Errors are Error objects with a code.
  try {
    db.put('k'.repeat(5000), 'a key longer than the 4 KiB limit');
  } catch (e) {
    console.log(`refused as expected: ${e.code}: ${e.message}`);
  }
  try {
    db.put(42, 'x');
  } catch (e) {
    console.log(`${e.name}: ${e.message}`);
  }

  const keys = [...db.range()].map(([key]) => key.toString()).filter((k) => !k.startsWith('item:'));
  console.log('keys:', keys.join(' '));
  console.log('writes so far:', db.stats().last_sequence);
  db.close();
  try {
    db.get('hello');
  } catch (e) {
    console.log('after close:', e.code);
  }
}

if (process.argv[2]) {
  await tour(process.argv[2]);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'lightning-quickstart-'));
  try {
    await tour(join(dir, 'db'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
