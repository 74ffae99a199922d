// index.d.ts is checked: a typed example (test/types/example.ts, and example.mts for the ES module
// entry point) compiles with `tsc --noEmit`, and what it marks with @ts-expect-error is rejected.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

import { require } from './helpers.mjs';

let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc');
} catch {
  tsc = undefined;
}

test('index.d.ts: the typed example compiles with tsc --noEmit', { skip: !tsc && 'typescript is not installed' }, () => {
  const project = fileURLToPath(new URL('./types/tsconfig.json', import.meta.url));
  const result = spawnSync(process.execPath, [tsc, '--noEmit', '-p', project], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
});
