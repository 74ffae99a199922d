// Crash test: a child process writes and prints an acknowledgement after each write returns; the
// parent kills it with SIGKILL at a random moment, several times over, and checks after each kill
// that every acknowledged write is there and that no batch or transaction is partly applied.
//
// The child's operations, numbered n = 0, 1, 2, ... across all children (each child starts past
// the last number of the one before, leaving room for the one in flight when it died):
// - `put n`: s<n> = singleValue(n), with sync: true;
// - `buffered n`: s<n> = singleValue(n), with sync: false (handed to the OS when it returns, so a
//   process crash cannot lose it);
// - `del n m`: deletes s<m>, an earlier put of the same child, with sync: true (the child prints
//   `will-del n m` first, since it may die during the delete);
// - `batch n`: puts b<n>-0 .. b<n>-<size(n)-1> and sets g0 .. g9 to n, atomically, sync;
// - `txn n`: a transaction (sync) that puts t<n>-0 .. t<n>-<size(n)-1> and sets h0 .. h4 to n;
// - `async n`: putAsync of s<n> with sync: true, acknowledged when the promise resolves.
// With a small memtable the children merge into the page file while they are killed, too.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { PACKAGE, dbPath, open, random } from './helpers.mjs';

const ROUNDS = 6;
const OPTIONS = { memtableSize: '64KiB' };

// (The child's code is kept in one function so it can be written as ordinary JavaScript.)
function child() {
  const fs = require('node:fs');
  const { open } = require(process.argv[1]);
  const path = process.argv[2];
  let n = Number(process.argv[3]);
  let seed = Number(process.argv[4]) >>> 0;
  const rng = () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pad = (i) => String(i).padStart(8, '0');
  const singleValue = (i) => `${i};`.repeat((i % 97) + 1);
  const size = (i) => (i % 7) + 2;
  const ack = (...words) => fs.writeSync(1, `${words.join(' ')}\n`); // one write of a whole line
  const db = open(path, { memtableSize: '64KiB' });
  ack('ready');
  const puts = [];
  const step = async () => {
    for (;;) {
      const r = rng();
      if (r < 0.25) {
        db.put(`s${pad(n)}`, singleValue(n), { sync: true });
        puts.push(n);
        ack('put', n);
      } else if (r < 0.35) {
        db.put(`s${pad(n)}`, singleValue(n), { sync: false });
        puts.push(n);
        ack('buffered', n);
      } else if (r < 0.4) {
        await db.putAsync(`s${pad(n)}`, singleValue(n), { sync: true });
        puts.push(n);
        ack('async', n);
      } else if (r < 0.5 && puts.length) {
        const m = puts.splice(Math.floor(rng() * puts.length), 1)[0];
        ack('will-del', n, m);
        db.delete(`s${pad(m)}`, { sync: true });
        ack('del', n, m);
      } else if (r < 0.8) {
        const ops = [];
        for (let i = 0; i < size(n); i++) ops.push({ type: 'put', key: `b${pad(n)}-${i}`, value: String(n).repeat(50) });
        for (let g = 0; g < 10; g++) ops.push({ type: 'put', key: `g${g}`, value: String(n) });
        db.batch(ops, { sync: true });
        ack('batch', n);
      } else {
        db.transaction(
          (txn) => {
            for (let i = 0; i < size(n); i++) txn.put(`t${pad(n)}-${i}`, String(n).repeat(50));
            for (let h = 0; h < 5; h++) txn.put(`h${h}`, String(n));
          },
          { sync: true },
        );
        ack('txn', n);
      }
      n++;
    }
  };
  step();
}

const pad = (i) => String(i).padStart(8, '0');
const singleValue = (i) => `${i};`.repeat((i % 97) + 1);
const size = (i) => (i % 7) + 2;

/** Runs a child from number `start`, kills it `killAfter` ms after it is ready; returns its lines. */
async function runChild(path, start, seed, killAfter) {
  const proc = spawn(process.execPath, ['-e', `(${child.toString()})()`, PACKAGE, path, String(start), String(seed)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => (err += d));
  const exited = new Promise((resolve) => proc.on('close', (code, signal) => resolve({ code, signal })));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the child did not start: ${err}`)), 30_000);
    proc.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.on('close', () => reject(new Error(`the child exited early: ${err}`)));
  });
  await new Promise((resolve) => setTimeout(resolve, killAfter));
  proc.kill('SIGKILL');
  const { signal } = await exited;
  assert.equal(signal, 'SIGKILL', `the child exited by itself: ${err}`);
  // A line cut short by the kill acknowledges nothing.
  const lines = out.split('\n');
  lines.pop();
  assert.equal(lines[0], 'ready', err);
  return lines.slice(1);
}

function newHistory() {
  return {
    present: new Map(), // acknowledged, not deleted since
    deleted: new Set(), // acknowledged deletes
    maybeDeleted: new Set(), // a delete began, not acknowledged
    inFlight: new Set(), // numbers that may or may not have happened
    lastBatch: -1,
    lastTxn: -1,
  };
}

/** Adds the acknowledgements to `history`; returns the last number acknowledged. */
function record(history, lines) {
  let last = -1;
  for (const line of lines) {
    const [kind, ...args] = line.split(' ');
    const n = Number(args[0]);
    last = n;
    history.inFlight.delete(n);
    if (kind === 'put' || kind === 'buffered' || kind === 'async') {
      history.present.set(`s${pad(n)}`, singleValue(n));
    } else if (kind === 'will-del') {
      history.maybeDeleted.add(`s${pad(Number(args[1]))}`);
      history.inFlight.add(n);
    } else if (kind === 'del') {
      const key = `s${pad(Number(args[1]))}`;
      history.maybeDeleted.delete(key);
      history.present.delete(key);
      history.deleted.add(key);
    } else if (kind === 'batch') {
      history.lastBatch = n;
      for (let i = 0; i < size(n); i++) history.present.set(`b${pad(n)}-${i}`, String(n).repeat(50));
    } else if (kind === 'txn') {
      history.lastTxn = n;
      for (let i = 0; i < size(n); i++) history.present.set(`t${pad(n)}-${i}`, String(n).repeat(50));
    } else {
      throw new Error(`unexpected line ${JSON.stringify(line)}`);
    }
  }
  return last;
}

const numberOf = (key) => Number(key.slice(1).split('-')[0]);
const expectedValue = (key) => (key[0] === 's' ? singleValue(numberOf(key)) : String(numberOf(key)).repeat(50));

/** Checks the database against `history`, then settles what was in flight as found. */
function check(path, history) {
  const db = open(path, OPTIONS);
  let contents;
  try {
    contents = new Map([...db.range()].map(([k, v]) => [k.toString(), v.toString()]));
    db.verify();
  } finally {
    db.close();
  }
  const problems = [];
  for (const [key, value] of history.present) {
    if (history.maybeDeleted.has(key) && !contents.has(key)) continue;
    if (contents.get(key) !== value) problems.push(`acknowledged ${key} is ${contents.get(key)?.slice(0, 20)}`);
  }
  for (const key of history.deleted) if (contents.has(key)) problems.push(`deleted ${key} is back`);
  const groups = new Map();
  for (const [key, value] of contents) {
    if (key[0] === 'g' || key[0] === 'h') continue;
    if (value !== expectedValue(key)) problems.push(`${key} has a wrong value ${value.slice(0, 20)}`);
    if (!history.present.has(key) && !history.inFlight.has(numberOf(key))) problems.push(`unacknowledged ${key} is there`);
    if (key[0] === 'b' || key[0] === 't') {
      const group = key.split('-')[0];
      groups.set(group, (groups.get(group) ?? 0) + 1);
    }
  }
  for (const [group, count] of groups) {
    if (count !== size(numberOf(group))) problems.push(`${group} is partial: ${count} of ${size(numberOf(group))} keys`);
  }
  for (const [prefix, count, last] of [
    ['g', 10, history.lastBatch],
    ['h', 5, history.lastTxn],
  ]) {
    const values = new Set(Array.from({ length: count }, (_, i) => contents.get(`${prefix}${i}`)));
    if (values.size !== 1) {
      problems.push(`${prefix} keys differ: ${[...values]}`);
      continue;
    }
    const found = [...values][0];
    if (last >= 0 && (found === undefined || Number(found) < last)) problems.push(`${prefix} keys are ${found}, older than ${last}`);
  }
  assert.deepEqual(problems.slice(0, 20), []);
  // What was in flight is settled now: it must stay as found.
  for (const [key, value] of contents) {
    if ('sbt'.includes(key[0]) && !history.present.has(key)) history.present.set(key, value);
  }
  for (const key of history.maybeDeleted) {
    if (!contents.has(key)) {
      history.present.delete(key);
      history.deleted.add(key);
    }
  }
  history.maybeDeleted.clear();
  history.inFlight.clear();
  if (contents.has('g0')) history.lastBatch = Number(contents.get('g0'));
  if (contents.has('h0')) history.lastTxn = Number(contents.get('h0'));
}

test('SIGKILL loses no acknowledged write and leaves no batch or transaction partial', { skip: process.platform === 'win32' }, async (t) => {
  const path = dbPath(t);
  const seed = Math.floor(Math.random() * 2 ** 30);
  const rng = random(seed);
  const history = newHistory();
  let start = 0;
  let acknowledged = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const lines = await runChild(path, start, Math.floor(rng() * 2 ** 30), 50 + rng() * 400);
    const last = record(history, lines);
    acknowledged += lines.length;
    const inFlight = (last >= 0 ? last : start - 1) + 1;
    history.inFlight.add(inFlight);
    try {
      check(path, history);
    } catch (e) {
      e.message = `seed ${seed}, round ${round}: ${e.message}`;
      throw e;
    }
    start = inFlight + 1;
  }
  t.diagnostic(`${acknowledged} acknowledged operations in ${ROUNDS} rounds (seed ${seed})`);
  assert.ok(acknowledged > ROUNDS * 5, `the children wrote too little to tell anything (${acknowledged})`);
  assert.ok(existsSync(join(path, 'data.ldb')));
});
