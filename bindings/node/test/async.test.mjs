// The Promise twins: results, errors as rejections with a code, copies of the arguments, and an
// event loop that keeps running while they work.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { openDb, rejectsCode } from './helpers.mjs';

test('putAsync, getAsync, batchAsync, syncAsync', async (t) => {
  const db = openDb(t);
  const put = db.putAsync('a', 'alpha');
  assert.ok(put instanceof Promise);
  assert.equal(await put, undefined);
  assert.equal(db.get('a').toString(), 'alpha');
  const value = await db.getAsync('a');
  assert.ok(Buffer.isBuffer(value));
  assert.equal(value.toString(), 'alpha');
  assert.equal(await db.getAsync('missing'), undefined);
  await db.putAsync(Buffer.from('b'), new Uint8Array([1, 2]), { sync: false });
  assert.deepEqual(await db.getAsync(new Uint8Array([0x62])), Buffer.from([1, 2]));
  await db.putAsync('big', Buffer.alloc(100_000, 7), { sync: true });
  assert.deepEqual(await db.getAsync('big'), Buffer.alloc(100_000, 7));
  await db.putAsync('empty', '');
  assert.deepEqual(await db.getAsync('empty'), Buffer.alloc(0));
  assert.equal(
    await db.batchAsync([
      { type: 'put', key: 'c', value: '3' },
      { type: 'del', key: 'a' },
    ]),
    undefined,
  );
  assert.equal(db.get('a'), undefined);
  assert.equal(db.get('c').toString(), '3');
  await db.batchAsync([], { sync: false });
  assert.equal(await db.syncAsync(), undefined);
  // Many at once, all settled.
  const keys = Array.from({ length: 200 }, (_, i) => `many${i}`);
  await Promise.all(keys.map((k) => db.putAsync(k, k, { sync: false })));
  const values = await Promise.all(keys.map((k) => db.getAsync(k)));
  assert.deepEqual(values.map(String), keys);
});

test('errors reject the promise with the code; bad types reject with a TypeError', async (t) => {
  const db = openDb(t);
  await rejectsCode(db.putAsync('k'.repeat(5000), 'v'), 'LDB_INVALID_ARGUMENT');
  await rejectsCode(db.getAsync('k'.repeat(5000)), 'LDB_INVALID_ARGUMENT');
  await rejectsCode(db.batchAsync([{ type: 'put', key: Buffer.alloc(5000), value: 'v' }]), 'LDB_INVALID_ARGUMENT');
  for (const promise of [
    db.putAsync(42, 'v'),
    db.putAsync('k', null),
    db.getAsync({}),
    db.batchAsync('nope'),
    db.batchAsync([{ type: 'put', key: 'k', value: 1 }]),
  ]) {
    assert.ok(promise instanceof Promise); // never a synchronous throw
    await assert.rejects(promise, (e) => e instanceof TypeError && e.code === 'ERR_INVALID_ARG_TYPE');
  }
  // Closing while work is queued: later work rejects with LDB_CLOSED.
  const pending = db.putAsync('before', 'close');
  db.close();
  await pending.catch((e) => assert.equal(e.code, 'LDB_CLOSED'));
  await rejectsCode(db.getAsync('before'), 'LDB_CLOSED');
});

test('the key and value are copied when the call is made', async (t) => {
  const db = openDb(t);
  const key = Buffer.from('key1');
  const value = Buffer.from('value1');
  const put = db.putAsync(key, value);
  key.write('key2');
  value.write('CHANGE');
  await put;
  assert.equal(db.get('key1').toString(), 'value1');
  assert.equal(db.get('key2'), undefined);
  const ops = [{ type: 'put', key: Buffer.from('b1'), value: Buffer.from('v1') }];
  const batch = db.batchAsync(ops);
  ops[0].key.write('b2');
  ops[0].value.write('XX');
  await batch;
  assert.equal(db.get('b1').toString(), 'v1');
  const lookup = Buffer.from('key1');
  const get = db.getAsync(lookup);
  lookup.write('nope');
  assert.equal((await get).toString(), 'value1');
});

test('the event loop keeps running while async work is in flight', async (t) => {
  const db = openDb(t, { sync: false, memtableSize: '64MiB' });
  // Several MiB of buffered writes make each fsync below take a while.
  const chunk = Buffer.alloc(64 * 1024, 1);
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 64; i++) db.put(`bulk${round}:${i}`, chunk);
    let ticks = 0;
    let settled = false;
    const tick = () => {
      if (settled) return;
      ticks++;
      setImmediate(tick);
    };
    setImmediate(tick);
    const work = Promise.all([db.syncAsync(), ...Array.from({ length: 8 }, (_, i) => db.putAsync(`s${i}`, chunk, { sync: true }))]);
    const returnedAt = ticks; // the calls returned at once, before any tick
    await work;
    settled = true;
    assert.equal(returnedAt, 0);
    assert.ok(ticks > 0, 'no event-loop turn happened during the work');
  }
});
