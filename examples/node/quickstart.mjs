// quickstart.mjs — a tour of Lightning DB from Node.js.
//
//     (cd bindings/node && npm install)        # builds the native module
//     node examples/node/quickstart.mjs [DIRECTORY]
//
// With no argument the database goes into a new temporary directory (removed at the end); the
// encrypted database of the last part always does. With the package installed
// (`npm install lightning-db`), the import below finds it; in this repository the example falls
// back to bindings/node.

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

/**
 * Encryption at rest: every page and WAL record is compressed, then encrypted, under a key derived
 * from a passphrase (or given as 64 hex digits in `encryptionKey`). Only that passphrase opens the
 * database again; a wrong or missing one throws LDB_WRONG_KEY.
 */
function encryptionTour(path) {
  // Argon2id's costs are kept low so the example runs fast; for a real passphrase leave kdfMemory
  // and kdfIterations at their defaults (64 MiB, 3 passes).
  const cheap = { kdfMemory: '1MiB', kdfIterations: 1 };
  let db = open(path, { encryption: 'aes-256-gcm', compression: 'zstd', passphrase: 'correct horse', ...cheap });
  db.put('secret', 'readable only with the passphrase');
  db.close();

  // The cipher and the KDF are recorded in the database: the passphrase alone opens it.
  db = open(path, { passphrase: 'correct horse' });
  console.log('secret =', db.get('secret').toString());
  db.rekey({ passphrase: 'battery staple', ...cheap }); // from now on only the new one opens it
  db.close();

  try {
    open(path, { passphrase: 'correct horse' }).close();
  } catch (e) {
    if (e.code !== 'LDB_WRONG_KEY') throw e;
    console.log('the old passphrase is refused:', e.code);
  }
  db = open(path, { passphrase: 'battery staple' });
  console.log('with the new one, secret =', db.get('secret').toString());
  db.close();
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

const encrypted = mkdtempSync(join(tmpdir(), 'lightning-quickstart-encrypted-'));
try {
  encryptionTour(join(encrypted, 'db'));
} finally {
  rmSync(encrypted, { recursive: true, force: true });
}
