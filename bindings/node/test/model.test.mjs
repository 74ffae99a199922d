// Model test: random operations (puts, deletes, batches, transactions, reads, ranges with
// start/end/prefix/reverse, snapshots, reopening) against a Map; every read is compared.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { dbPath, open, random } from './helpers.mjs';

const ALPHABET = ['a', 'b', 'c', '\u0000', '\u00ff', 'ab'];

function run(t, seed, steps) {
  const rng = random(seed);
  const pick = (items) => items[Math.floor(rng() * items.length)];
  const randomKey = () => {
    let key = '';
    const length = Math.floor(rng() * 4);
    for (let i = 0; i < length; i++) key += pick(ALPHABET);
    return key;
  };
  const randomValue = () => {
    const r = rng();
    const length = r < 0.7 ? Math.floor(rng() * 40) : r < 0.95 ? Math.floor(rng() * 3000) : 20_000 + Math.floor(rng() * 50_000);
    return Buffer.alloc(length, Math.floor(rng() * 256)).toString('latin1');
  };
  const bytes = (s) => Buffer.from(s, 'latin1');
  const path = dbPath(t);
  let db = open(path, { sync: false, memtableSize: '64KiB' });
  const model = new Map();
  const sortedKeys = () => [...model.keys()].sort((a, b) => Buffer.compare(bytes(a), bytes(b)));
  const expectRange = (source, options, snapshotModel = model) => {
    const keys = [...snapshotModel.keys()].sort((a, b) => Buffer.compare(bytes(a), bytes(b)));
    let expected = keys.filter((k) => {
      const key = bytes(k);
      if (options.prefix !== undefined) return key.subarray(0, bytes(options.prefix).length).equals(bytes(options.prefix));
      if (options.start !== undefined && Buffer.compare(key, bytes(options.start)) < 0) return false;
      if (options.end !== undefined && Buffer.compare(key, bytes(options.end)) >= 0) return false;
      return true;
    });
    if (options.reverse) expected = expected.reverse();
    const asBytes = {};
    for (const name of ['start', 'end', 'prefix']) if (options[name] !== undefined) asBytes[name] = bytes(options[name]);
    if (options.reverse) asBytes.reverse = true;
    const got = [...source.range(asBytes)].map(([k, v]) => [k.toString('latin1'), v.toString('latin1')]);
    assert.deepEqual(
      got.map(([k]) => k),
      expected,
      `range ${JSON.stringify(options)}`,
    );
    for (const [k, v] of got) assert.equal(v, snapshotModel.get(k));
  };
  const randomRange = () => {
    const r = rng();
    if (r < 0.3) return { prefix: randomKey(), reverse: rng() < 0.5 };
    const options = { reverse: rng() < 0.5 };
    if (rng() < 0.6) options.start = randomKey();
    if (rng() < 0.6) options.end = randomKey();
    return options;
  };
  const kept = []; // values read earlier, checked again at the end
  for (let step = 0; step < steps; step++) {
    const r = rng();
    if (r < 0.3) {
      const [k, v] = [randomKey(), randomValue()];
      db.put(bytes(k), bytes(v));
      model.set(k, v);
    } else if (r < 0.4) {
      const k = randomKey();
      db.delete(bytes(k));
      model.delete(k);
    } else if (r < 0.5) {
      const ops = [];
      const n = Math.floor(rng() * 6);
      const after = new Map(model);
      for (let i = 0; i < n; i++) {
        const k = randomKey();
        if (rng() < 0.7) {
          const v = randomValue();
          ops.push({ type: 'put', key: bytes(k), value: bytes(v) });
          after.set(k, v);
        } else {
          ops.push({ type: 'del', key: bytes(k) });
          after.delete(k);
        }
      }
      db.batch(ops);
      model.clear();
      for (const [k, v] of after) model.set(k, v);
    } else if (r < 0.7) {
      const k = randomKey();
      const got = db.get(bytes(k));
      assert.equal(got === undefined ? undefined : got.toString('latin1'), model.get(k), `get ${JSON.stringify(k)}`);
      assert.equal(db.has(bytes(k)), model.has(k));
      if (got !== undefined && kept.length < 500) kept.push([got, got.toString('latin1')]);
    } else if (r < 0.85) {
      expectRange(db, randomRange());
    } else if (r < 0.92) {
      const snap = db.snapshot();
      const frozen = new Map(model);
      const k = randomKey();
      db.put(bytes(k), bytes('after the snapshot'));
      model.set(k, 'after the snapshot');
      expectRange(snap, randomRange(), frozen);
      const probe = randomKey();
      const got = snap.get(bytes(probe));
      assert.equal(got === undefined ? undefined : got.toString('latin1'), frozen.get(probe));
      snap.close();
    } else if (r < 0.98) {
      const writes = new Map(model);
      db.transaction((txn) => {
        for (let i = 0; i < 3; i++) {
          const k = randomKey();
          if (rng() < 0.7) {
            const v = randomValue();
            txn.put(bytes(k), bytes(v));
            writes.set(k, v);
          } else {
            txn.delete(bytes(k));
            writes.delete(k);
          }
        }
        expectRange(txn, randomRange(), writes);
      });
      model.clear();
      for (const [k, v] of writes) model.set(k, v);
    } else {
      db.close();
      db = open(path, { sync: false, memtableSize: '64KiB' });
    }
  }
  expectRange(db, {});
  assert.deepEqual(
    [...db.range()].map(([k]) => k.toString('latin1')),
    sortedKeys(),
  );
  for (const [buffer, text] of kept) assert.equal(buffer.toString('latin1'), text, 'a value read earlier changed');
  db.close();
}

for (const seed of [1, 2, 3, 4]) {
  test(`random operations match a Map (seed ${seed})`, (t) => run(t, seed, 1500));
}
