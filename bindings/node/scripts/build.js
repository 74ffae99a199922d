#!/usr/bin/env node
// Builds the native module (lightning.<platform>.node) for `npm install`.
//
// - In the source tree (Cargo.toml beside package.json): builds it with `napi build --release`
//   (@napi-rs/cli, a dev dependency), or with plain `cargo build --release` when the CLI is not
//   installed (`npm install --omit=dev`). Cargo rebuilds only what changed, so a stale module is
//   never used; without cargo, an existing module is kept with a warning.
// - In an installed package (from `npm pack` or the registry): the package ships the module
//   built for its platform, so nothing is built; a missing one is an error that says so.
//
// LIGHTNING_DB_SKIP_BUILD=1 skips everything.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const started = Date.now();

function platformName() {
  const { platform, arch } = process;
  if (platform === 'linux') {
    const report = process.report && process.report.getReport();
    const glibc = report && report.header && report.header.glibcVersionRuntime;
    return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`;
  }
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

const binary = path.join(root, `lightning.${platformName()}.node`);

function log(message) {
  console.log(`lightning-db: ${message}`);
}

function fail(message) {
  console.error(`lightning-db: ${message}`);
  process.exit(1);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  return result.status === 0;
}

function hasCargo() {
  const result = spawnSync('cargo', ['--version'], { stdio: 'ignore' });
  return !result.error && result.status === 0;
}

function buildWithNapiCli(cliPackage) {
  const cli = path.join(path.dirname(cliPackage), require(cliPackage).bin.napi);
  // The generated type definitions of the native classes are not the package's (index.d.ts is
  // written by hand): they go to native.d.ts, which is not shipped.
  return run(process.execPath, [
    cli, 'build', '--platform', '--release', '--no-js', '--dts', 'native.d.ts', '--no-dts-header',
  ]);
}

function buildWithCargo() {
  const result = spawnSync(
    'cargo',
    ['build', '--release', '-p', 'lightning-db-node', '--message-format=json-render-diagnostics'],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 28 },
  );
  if (result.error) throw result.error;
  if (result.status !== 0) return false;
  let library;
  for (const line of result.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const message = JSON.parse(line);
    if (message.reason === 'compiler-artifact' && message.target.name === 'lightning_node') {
      library = message.filenames.find((f) => /\.(so|dylib|dll)$/.test(f));
    }
  }
  if (!library) fail('cargo built no library for lightning-db-node');
  fs.copyFileSync(library, binary);
  return true;
}

function main() {
  if (process.env.LIGHTNING_DB_SKIP_BUILD) {
    log('LIGHTNING_DB_SKIP_BUILD is set: not building');
    return;
  }
  const inSourceTree = fs.existsSync(path.join(root, 'Cargo.toml'));
  if (!inSourceTree) {
    if (fs.existsSync(binary)) {
      log(`using the prebuilt ${path.basename(binary)}`);
      return;
    }
    fail(
      `this package has no native module for ${platformName()} (${path.basename(binary)}); ` +
        'build it from the source tree (bindings/node: npm install) on this platform',
    );
  }
  if (!hasCargo()) {
    if (fs.existsSync(binary)) {
      log(`cargo not found: keeping the existing ${path.basename(binary)}`);
      return;
    }
    fail('building the native module needs Rust (cargo): https://rustup.rs');
  }
  let cliPackage;
  try {
    cliPackage = require.resolve('@napi-rs/cli/package.json', { paths: [root] });
  } catch {
    cliPackage = undefined;
  }
  log(`building ${path.basename(binary)} with ${cliPackage ? 'napi build' : 'cargo build'} (release)`);
  const ok = cliPackage ? buildWithNapiCli(cliPackage) : buildWithCargo();
  if (!ok) fail('the native build failed');
  if (!fs.existsSync(binary)) fail(`the build made no ${path.basename(binary)}`);
  log(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main();
