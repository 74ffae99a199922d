// Shared helpers of the test suite (not a test file itself).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, openSync, readSync, writeSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const require = createRequire(import.meta.url);
/** The package's CommonJS entry point, for child processes and workers. */
export const PACKAGE = fileURLToPath(new URL('../index.js', import.meta.url));
export const lightning = require(PACKAGE);
export const { open } = lightning;

export const PAGE = 4096;

/** A new temporary directory, removed after the test. */
export function tempDir(t) {
  const dir = mkdtempSync(join(tmpdir(), 'lightning-node-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A path for a new database (not created yet). */
export function dbPath(t) {
  return join(tempDir(t), 'db');
}

/** An open database, closed after the test. */
export function openDb(t, options) {
  const dir = mkdtempSync(join(tmpdir(), 'lightning-node-test-'));
  const db = open(join(dir, 'db'), options);
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return db;
}

/** Asserts that `fn` throws an Error with `code` (and a message); returns the error. */
export function throwsCode(fn, code) {
  let error;
  assert.throws(fn, (e) => {
    error = e;
    return e instanceof Error && e.code === code && typeof e.message === 'string' && e.message.length > 0;
  });
  return error;
}

/** Asserts that `promise` rejects with an Error with `code`; returns the error. */
export async function rejectsCode(promise, code) {
  let error;
  await assert.rejects(promise, (e) => {
    error = e;
    return e instanceof Error && e.code === code && e.message.length > 0;
  });
  return error;
}

/** Runs JavaScript (CommonJS) in a new Node process; `PACKAGE` is the package's path there. */
export function runNode(code, args = [], { timeout = 60_000, flags = [] } = {}) {
  const script = `const PACKAGE = ${JSON.stringify(PACKAGE)};\n${code}`;
  return spawnSync(process.execPath, [...flags, '-e', script, ...args], {
    encoding: 'utf8',
    timeout,
  });
}

/** Creates a database in `path` with `n` keys and closes it (merging everything into data.ldb). */
export function fillAndClose(path, { n = 300, ...options } = {}) {
  const value = Buffer.alloc(127, 'v');
  const contents = new Map();
  const db = open(path, { pageSize: PAGE, ...options });
  for (let i = 0; i < n; i++) {
    const key = `key${String(i).padStart(4, '0')}`;
    db.put(key, value);
    contents.set(key, value);
  }
  db.close();
  return contents;
}

/** The numbers of the leaf pages (page type 2 at byte 4) of the page file in `path`. */
export function leafPages(path) {
  const data = readFileSync(join(path, 'data.ldb'));
  const pages = [];
  for (let p = 2; p < data.length / PAGE; p++) if (data[p * PAGE + 4] === 2) pages.push(p);
  return pages;
}

/** Flips every bit of one byte of the page file in `path`. */
export function flipByte(path, offset) {
  const fd = openSync(join(path, 'data.ldb'), 'r+');
  try {
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, offset);
    byte[0] ^= 0xff;
    writeSync(fd, byte, 0, 1, offset);
  } finally {
    closeSync(fd);
  }
}

/** A small deterministic random number generator (mulberry32). */
export function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every [key, value] of an iterator, as strings (latin1, so any bytes round-trip). */
export function entries(iterator) {
  return [...iterator].map(([k, v]) => [k.toString('latin1'), v.toString('latin1')]);
}
