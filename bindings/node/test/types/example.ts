// A typed use of the package, checked with `tsc --noEmit -p test/types` (test/types.test.mjs):
// the declarations in index.d.ts must accept all of this and reject what is marked.
import { open, version, Database, Snapshot, Transaction, BulkLoad, RangeIterator } from 'lightning-db';
import type { BatchOperation, Encryption, ErrorCode, Kdf, LightningDbError, OpenOptions, RekeyOptions, Stats } from 'lightning-db';

const options: OpenOptions = { cacheSize: '64MiB', sync: true, max_active_transactions: 100 };
const db: Database = open('/tmp/typed.db', options);
open(new URL('file:///tmp/typed.db'));
const compressed: OpenOptions = { compression: 'zstd', compressionLevel: 5 };
open('/tmp/typed-compressed.db', compressed).close();
open('/tmp/typed-compressed.db', { compression: 'auto', compression_level: '19' }).close();
const cipher: Encryption = 'chacha20-poly1305';
const kdf: Kdf = 'pbkdf2-sha256';
const encrypted: OpenOptions = {
  encryption: 'aes-256-gcm',
  compression: 'zstd',
  passphrase: 'correct horse',
  kdf: 'argon2id',
  kdfMemory: '1MiB',
  kdfIterations: 1,
  kdfParallelism: 2,
};
open('/tmp/typed-encrypted.db', encrypted).close();
const keyed = open('/tmp/typed-keyed.db', { encryption: cipher, encryption_key: '00'.repeat(32), kdf_memory: 1 << 20 });
const rekeyed: RekeyOptions = { passphrase: 'battery staple', kdf, kdfIterations: '10000', kdf_parallelism: 1 };
keyed.rekey(rekeyed);
keyed.rekey({ encryptionKey: '11'.repeat(32) });
const rekeying: Promise<void> = keyed.rekeyAsync({ encryption_key: '22'.repeat(32) });
keyed.close();

db.put('hello', 'world');
db.put(Buffer.from('k'), new Uint8Array([1, 2, 3]), { sync: false });
const value: Buffer | undefined = db.get('hello');
if (value !== undefined) console.log(value.toString('utf8'));
const present: boolean = db.has('hello');
db.delete('hello', { sync: true });

const ops: BatchOperation[] = [
  { type: 'put', key: 'a', value: '1' },
  { type: 'del', key: Buffer.from('b') },
];
db.batch(ops, { sync: true });

for (const [key, val] of db.range({ prefix: 'user:', reverse: true })) {
  const k: Buffer = key;
  const v: Buffer = val;
  console.log(k.length, v.length);
}
const it: RangeIterator = db.range({ start: 'a', end: new Uint8Array([0x7a]) });
const first: IteratorResult<[Buffer, Buffer], undefined> = it.next();
if (!first.done) console.log(first.value[0]);
it.close();

const snap: Snapshot = db.snapshot();
const old: Buffer | undefined = snap.get('a');
snap.close();

const n: number = db.transaction(
  (txn: Transaction) => {
    const count = Number(txn.get('count') ?? 0) + 1;
    txn.put('count', String(count));
    return count;
  },
  { isolation: 'serializable', maxRetries: 5 },
);
const later: Promise<string> = db.transaction(async (txn) => {
  await Promise.resolve();
  txn.delete('count');
  return 'done';
});

const txn = db.begin({ isolation: 'snapshot', readOnly: true });
const finished: boolean = txn.finished;
txn.rollback();

const load: BulkLoad = db.bulkLoad();
load.put('a', Buffer.from('1'));
load.put(new Uint8Array([0x62]), '2');
load.putMany([
  ['c', '3'],
  [Buffer.from('d'), new Uint8Array([4])],
]);
load.putMany(new Map([['e', '5']]));
function* sortedPairs(): Generator<[string, string]> {
  yield ['f', '6'];
}
load.putMany(sortedPairs());
const loadFinished: boolean = load.finished;
load.commit();
db.bulkLoad().abort();

async function asyncUse(database: Database): Promise<void> {
  const committed: Promise<void> = database.bulkLoad().commitAsync();
  await committed;
  await database.putAsync('a', 'b', { sync: true });
  const got: Buffer | undefined = await database.getAsync('a');
  await database.batchAsync([{ type: 'del', key: 'a' }]);
  await database.syncAsync();
  const givenBack: number = await database.compactAsync();
  console.log(givenBack);
  console.log(got);
}

db.sync();
db.flush();
const bytesGivenBack: number = db.compact();
console.log(bytesGivenBack);
const stats: Stats = db.stats();
const puts = stats.puts;
const report = db.verify();
const path: string = db.path;
const closed: boolean = db.closed;

try {
  db.get('x'.repeat(5000));
} catch (e) {
  const error = e as LightningDbError;
  const code: ErrorCode = error.code;
  if (code === 'LDB_INVALID_ARGUMENT') console.log(error.message);
}
try {
  open('/tmp/typed-encrypted.db', { passphrase: 'wrong' });
} catch (e) {
  if ((e as LightningDbError).code === 'LDB_WRONG_KEY') console.log('wrong passphrase');
}

// Rejected by the types:
// @ts-expect-error a number is not a key
db.put(42, 'v');
// @ts-expect-error an object is not a value
db.put('k', { v: 1 });
// @ts-expect-error batch operations are 'put' or 'del'
db.batch([{ type: 'delete', key: 'a' }]);
// @ts-expect-error a put needs a value
db.batch([{ type: 'put', key: 'a' }]);
// @ts-expect-error an unknown isolation
db.begin({ isolation: 'chaos' });
// @ts-expect-error option values are strings, numbers or booleans
open('/tmp/typed.db', { cacheSize: [64] });
// @ts-expect-error not a compression
open('/tmp/typed.db', { compression: 'gzip' });
// @ts-expect-error not a cipher
open('/tmp/typed.db', { encryption: 'aes-128-cbc' });
// @ts-expect-error not a KDF
open('/tmp/typed.db', { kdf: 'scrypt' });
// @ts-expect-error a key is given as hex digits, not bytes
open('/tmp/typed.db', { encryption: 'aes-256-gcm', encryptionKey: Buffer.alloc(32) });
// @ts-expect-error rekey takes the new key, not other options
db.rekey({ cacheSize: '64MiB' });
// @ts-expect-error rekey needs the new key
db.rekey();
// @ts-expect-error there is no constructor
new Database();
// @ts-expect-error putMany takes [key, value] pairs
db.bulkLoad().putMany(['a', 'b']);
// @ts-expect-error a number is not a bulk load value
db.bulkLoad().put('k', 1);
// @ts-expect-error not an error code
const wrong: ErrorCode = 'CONFLICT';

db.close();
console.log(version, present, old, n, later, finished, loadFinished, asyncUse, puts, report, path, closed, wrong, rekeying);
