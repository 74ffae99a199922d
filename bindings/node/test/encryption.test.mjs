// Encryption at rest from Node: options `encryption`, `encryptionKey`/`passphrase` and the KDF's
// costs; what is on disk is unreadable without the key; a wrong or missing key is LDB_WRONG_KEY, a
// key for a plain database or a malformed one LDB_INVALID_OPTION, and no message ever holds a
// secret; rekey()/rekeyAsync() change the key. Passphrases use the KDF's cheapest costs
// (kdfMemory '1MiB', kdfIterations 1) so the suite stays fast.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { dbPath, open, openDb, rejectsCode, throwsCode } from './helpers.mjs';

const KEY_A = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
const KEY_B = 'ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100';
const PASSPHRASE = 'correct horse battery staple';
/** Argon2id at its floors: fine for tests, far too cheap for real passphrases. */
const CHEAP = { kdfMemory: '1MiB', kdfIterations: 1 };
/** Bytes that would show in the files if values were stored in the clear. */
const MARKER = 'PLAINTEXT-MARKER-';

const key = (i) => `key${String(i).padStart(6, '0')}`;
const value = (i) => `${MARKER}${String(i).padStart(6, '0')}`.padEnd(150, 'x');

function fill(db, from, to) {
  for (let i = from; i < to; i++) db.put(key(i), value(i), { sync: false });
}

function check(db, n) {
  for (let i = 0; i < n; i++) assert.equal(db.get(key(i))?.toString(), value(i), key(i));
  assert.equal(db.get(key(n)), undefined);
}

/** Every file under `dir`, recursively. */
function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? files(path) : [path];
  });
}

/** The files under `dir` that hold `needle` (a string as UTF-8, or bytes). */
function filesHolding(dir, needle) {
  const bytes = Buffer.from(needle);
  return files(dir).filter((file) => readFileSync(file).includes(bytes));
}

/** Asserts that `error` (its message and stack) holds none of `secrets`. */
function assertNoSecret(error, ...secrets) {
  for (const secret of secrets) {
    assert.ok(!error.message.includes(secret), `a secret in the message: ${error.message}`);
    assert.ok(!String(error.stack).includes(secret), 'a secret in the stack');
  }
}

/** `open` fails with `code`, and the message holds none of the secrets in `options`. */
function openFails(path, options, code) {
  const error = throwsCode(() => open(path, options), code);
  assertNoSecret(error, ...[options.encryptionKey, options.encryption_key, options.passphrase].filter(Boolean));
  return error;
}

const CASES = [
  ['aes-256-gcm + zstd, passphrase (argon2id)', { encryption: 'aes-256-gcm', compression: 'zstd', passphrase: PASSPHRASE, ...CHEAP }],
  ['aes-256-gcm + zstd, encryptionKey', { encryption: 'aes-256-gcm', compression: 'zstd', encryptionKey: KEY_A }],
  ['chacha20-poly1305, passphrase (pbkdf2-sha256)', { encryption: 'chacha20-poly1305', passphrase: PASSPHRASE, kdf: 'pbkdf2-sha256', kdfIterations: 10000 }],
  ['chacha20-poly1305, encryptionKey (snake_case)', { encryption: 'chacha20-poly1305', encryption_key: KEY_A }],
];

for (const [name, options] of CASES) {
  test(`round trip: ${name}`, (t) => {
    const path = dbPath(t);
    let db = open(path, { ...options, sync: false });
    fill(db, 0, 600);
    db.flush(); // these in the page file, the next ones only in the WAL
    fill(db, 600, 800);
    check(db, 800);
    db.close();
    assert.deepEqual(filesHolding(path, MARKER), [], 'a value is in the clear on disk');
    assert.deepEqual(filesHolding(path, key(7)), [], 'a key is in the clear on disk');

    // Reopened with only the key or passphrase: the cipher and the KDF come from the files.
    const secret = options.encryptionKey ?? options.encryption_key;
    const reopen = secret ? { encryptionKey: secret } : { passphrase: PASSPHRASE };
    db = open(path, reopen);
    try {
      check(db, 800);
      const report = db.verify();
      assert.ok(report.pages > 0, JSON.stringify(report));
      db.put(key(800), value(800));
    } finally {
      db.close();
    }
    db = open(path, { ...reopen, compression: 'lz4' });
    check(db, 801);
    db.close();
  });
}

test('the check for plaintext finds it in a plain database', (t) => {
  const path = dbPath(t);
  const db = open(path, { compression: 'none' });
  fill(db, 0, 10);
  db.close();
  assert.ok(filesHolding(path, MARKER).length > 0);
});

test('no file holds the passphrase or the key', (t) => {
  for (const options of [{ passphrase: PASSPHRASE, ...CHEAP }, { encryptionKey: KEY_A }]) {
    const path = dbPath(t);
    const db = open(path, { encryption: 'aes-256-gcm', ...options });
    fill(db, 0, 50);
    db.flush();
    db.close();
    for (const needle of [PASSPHRASE, KEY_A, Buffer.from(KEY_A, 'hex')]) {
      assert.deepEqual(filesHolding(path, needle), []);
    }
  }
});

test('LDB_WRONG_KEY: a wrong key, a wrong passphrase, none, or the other kind', (t) => {
  const keyed = dbPath(t);
  let db = open(keyed, { encryption: 'aes-256-gcm', compression: 'zstd', encryptionKey: KEY_A });
  fill(db, 0, 10);
  db.close();
  const wrongKey = openFails(keyed, { encryptionKey: KEY_B }, 'LDB_WRONG_KEY');
  assertNoSecret(wrongKey, KEY_A);
  openFails(keyed, { encryptionKey: KEY_B.toUpperCase() }, 'LDB_WRONG_KEY');
  openFails(keyed, {}, 'LDB_WRONG_KEY');
  openFails(keyed, { compression: 'zstd' }, 'LDB_WRONG_KEY');
  openFails(keyed, { passphrase: KEY_A, ...CHEAP }, 'LDB_WRONG_KEY');

  const passphrased = dbPath(t);
  db = open(passphrased, { encryption: 'chacha20-poly1305', passphrase: PASSPHRASE, ...CHEAP });
  fill(db, 0, 10);
  db.close();
  const wrongPassphrase = openFails(passphrased, { passphrase: `${PASSPHRASE} `, ...CHEAP }, 'LDB_WRONG_KEY');
  assertNoSecret(wrongPassphrase, PASSPHRASE);
  openFails(passphrased, { passphrase: 'hunter2' }, 'LDB_WRONG_KEY');
  openFails(passphrased, {}, 'LDB_WRONG_KEY');
  openFails(passphrased, { encryptionKey: KEY_A }, 'LDB_WRONG_KEY');

  // The right ones still open both: nothing above changed them.
  db = open(keyed, { encryptionKey: KEY_A });
  check(db, 10);
  db.close();
  db = open(passphrased, { passphrase: PASSPHRASE });
  check(db, 10);
  db.close();
});

test('LDB_INVALID_OPTION: a key or passphrase for a plain database', (t) => {
  for (const compression of ['none', 'lz4']) {
    const path = dbPath(t);
    const db = open(path, { compression });
    fill(db, 0, 10);
    db.close();
    const error = openFails(path, { encryptionKey: KEY_A }, 'LDB_INVALID_OPTION');
    assert.match(error.message, /not encrypted/);
    openFails(path, { passphrase: PASSPHRASE, ...CHEAP }, 'LDB_INVALID_OPTION');
    // Asking for encryption does not encrypt an existing database, and needs a key anyway.
    openFails(path, { encryption: 'aes-256-gcm', encryptionKey: KEY_A }, 'LDB_INVALID_OPTION');
    const plain = open(path, { compression });
    check(plain, 10);
    plain.close();
  }
});

test('LDB_INVALID_OPTION: malformed keys and bad encryption options, never echoing a secret', (t) => {
  const malformed = [
    'not-a-hex-key-but-a-secret',
    KEY_A.slice(1), // 63 digits
    `${KEY_A}00`, // 66 digits
    `${KEY_A.slice(2)}zz`,
  ];
  for (const encryptionKey of malformed) {
    const error = openFails(dbPath(t), { encryption: 'aes-256-gcm', encryptionKey }, 'LDB_INVALID_OPTION');
    assert.match(error.message, /encryption_key/);
    assertNoSecret(error, encryptionKey.slice(0, 20), encryptionKey.slice(-20));
  }
  const both = openFails(
    dbPath(t),
    { encryption: 'aes-256-gcm', encryptionKey: KEY_A, passphrase: PASSPHRASE },
    'LDB_INVALID_OPTION',
  );
  assert.match(both.message, /encryption_key/);
  openFails(dbPath(t), { encryption: 'aes-256-gcm' }, 'LDB_INVALID_OPTION'); // no key
  openFails(dbPath(t), { encryptionKey: KEY_A }, 'LDB_INVALID_OPTION'); // no cipher
  for (const options of [
    { encryption: 'rot13', encryptionKey: KEY_A },
    { encryption: 'aes-256-gcm', passphrase: PASSPHRASE, kdf: 'md5' },
    { encryption: 'aes-256-gcm', passphrase: PASSPHRASE, kdfMemory: '512KiB' },
    { encryption: 'aes-256-gcm', passphrase: PASSPHRASE, kdf: 'pbkdf2-sha256', kdfIterations: 9999 },
    { encryption: 'aes-256-gcm', passphrase: PASSPHRASE, kdfParallelism: 17 },
  ]) {
    const error = openFails(dbPath(t), options, 'LDB_INVALID_OPTION');
    assertNoSecret(error, PASSPHRASE);
  }
});

test('rekey: the old key stops opening the database and the new one opens it', async (t) => {
  const path = dbPath(t);
  let db = open(path, { encryption: 'chacha20-poly1305', compression: 'zstd', encryptionKey: KEY_A });
  fill(db, 0, 300);
  db.flush();

  // From a key to a passphrase; the database stays open and usable.
  db.rekey({ passphrase: PASSPHRASE, ...CHEAP });
  fill(db, 300, 400);
  check(db, 400);
  db.close();
  openFails(path, { encryptionKey: KEY_A }, 'LDB_WRONG_KEY');
  db = open(path, { passphrase: PASSPHRASE });
  check(db, 400);

  // Back to a key, off the event loop; snake_case names.
  await db.rekeyAsync({ encryption_key: KEY_B });
  db.close();
  openFails(path, { passphrase: PASSPHRASE }, 'LDB_WRONG_KEY');
  openFails(path, { encryptionKey: KEY_A }, 'LDB_WRONG_KEY');
  db = open(path, { encryptionKey: KEY_B });
  check(db, 400);
  db.verify();

  // A failed rekey changes nothing.
  const none = throwsCode(() => db.rekey({}), 'LDB_INVALID_OPTION');
  assert.match(none.message, /encryption_key|passphrase/);
  throwsCode(() => db.rekey(), 'LDB_INVALID_OPTION');
  const bad = throwsCode(() => db.rekey({ encryptionKey: 'secret-not-hex' }), 'LDB_INVALID_OPTION');
  assertNoSecret(bad, 'secret-not-hex');
  const both = throwsCode(() => db.rekey({ encryptionKey: KEY_A, passphrase: PASSPHRASE }), 'LDB_INVALID_OPTION');
  assertNoSecret(both, KEY_A, PASSPHRASE);
  throwsCode(() => db.rekey({ passphrase: PASSPHRASE, kdf: 'pbkdf2-sha256', kdfIterations: 9999 }), 'LDB_INVALID_OPTION');
  await rejectsCode(db.rekeyAsync({}), 'LDB_INVALID_OPTION');
  assert.throws(() => db.rekey('passphrase'), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  await assert.rejects(db.rekeyAsync(42), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  db.close();
  throwsCode(() => db.rekey({ encryptionKey: KEY_A }), 'LDB_CLOSED');
  await rejectsCode(db.rekeyAsync({ encryptionKey: KEY_A }), 'LDB_CLOSED');
  db = open(path, { encryptionKey: KEY_B });
  check(db, 400);
  db.close();
});

test('rekey: LDB_INVALID_ARGUMENT for a database that is not encrypted', async (t) => {
  const db = openDb(t);
  db.put('k', 'v');
  const error = throwsCode(() => db.rekey({ encryptionKey: KEY_A }), 'LDB_INVALID_ARGUMENT');
  assert.match(error.message, /not encrypted/);
  assertNoSecret(error, KEY_A);
  await rejectsCode(db.rekeyAsync({ passphrase: PASSPHRASE, ...CHEAP }), 'LDB_INVALID_ARGUMENT');
  assert.equal(db.get('k').toString(), 'v');
});

test('an open that shares an engine already open in this process needs its key too', (t) => {
  const path = dbPath(t);
  const first = open(path, { encryption: 'aes-256-gcm', passphrase: PASSPHRASE, ...CHEAP });
  try {
    fill(first, 0, 10);
    openFails(path, { passphrase: 'not it' }, 'LDB_WRONG_KEY');
    openFails(path, {}, 'LDB_WRONG_KEY');
    openFails(path, { encryptionKey: KEY_A }, 'LDB_WRONG_KEY');
    openFails(path, { encryptionKey: KEY_A, passphrase: PASSPHRASE }, 'LDB_INVALID_OPTION');
    openFails(path, { encryptionKey: 'zz-secret' }, 'LDB_INVALID_OPTION');
    const second = open(path, { passphrase: PASSPHRASE }); // shares the engine
    try {
      check(second, 10);
      second.rekey({ encryptionKey: KEY_B });
      openFails(path, { passphrase: PASSPHRASE }, 'LDB_WRONG_KEY');
      const third = open(path, { encryption_key: ` ${KEY_B.toUpperCase()} ` });
      check(third, 10);
      third.close();
    } finally {
      second.close();
    }
  } finally {
    first.close();
  }
  // Closed: the engine itself checks again.
  openFails(path, { passphrase: PASSPHRASE }, 'LDB_WRONG_KEY');
  open(path, { encryptionKey: KEY_B }).close();

  const plainPath = dbPath(t);
  const plain = open(plainPath);
  try {
    openFails(plainPath, { encryptionKey: KEY_A }, 'LDB_INVALID_OPTION');
    openFails(plainPath, { passphrase: PASSPHRASE }, 'LDB_INVALID_OPTION');
    open(plainPath, { compression: 'lz4' }).close();
  } finally {
    plain.close();
  }
});
