#!/usr/bin/env bash
# The Node package's checks, as CI runs them:
#  - cargo clippy on the binding crate (lightning-db-node);
#  - `npm ci` in bindings/node (the lockfile's dev dependencies, then the package's install
#    script, which builds the native module with `napi build --release`);
#  - `npm test`: the node --test suite, including tsc --noEmit over the typed example;
#  - examples/node/quickstart.mjs, in a temporary directory and in a directory given, twice;
#  - `npm pack`, `npm install` of the tarball into an empty project, and the quickstart run
#    from there against the installed package (no cargo, no build).
# Fails on the first failure. Run from anywhere. Needs Node >= 18 with npm, and Rust.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PKG="$ROOT/bindings/node"

step() { echo; echo "== $*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }
timed() {
    local started=$SECONDS
    "$@"
    echo "($((SECONDS - started)) s)"
}

command -v cargo >/dev/null || fail "cargo is required (https://rustup.rs)"
command -v node >/dev/null || fail "node is required"
command -v npm >/dev/null || fail "npm is required"
echo "node $(node --version), npm $(npm --version), $(cargo --version)"

step "cargo clippy -p lightning-db-node"
timed cargo clippy -p lightning-db-node --all-targets -- -D warnings

WORK=$(mktemp -d "${TMPDIR:-/tmp}/lightning-node-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

step "npm ci (builds the native module)"
(cd "$PKG" && timed npm ci --no-audit --no-fund)
ls "$PKG"/lightning.*.node >/dev/null 2>&1 || fail "npm ci built no native module"

step "npm test"
(cd "$PKG" && timed npm test)

step "tsc --noEmit over the typed example"
(cd "$PKG" && timed npx --no-install tsc -p test/types/tsconfig.json)

step "examples/node/quickstart.mjs"
timed node examples/node/quickstart.mjs
node examples/node/quickstart.mjs "$WORK/quickstart-db" >/dev/null || fail "quickstart DIR"
node examples/node/quickstart.mjs "$WORK/quickstart-db" >/dev/null || fail "quickstart DIR, reopening"
[ -f "$WORK/quickstart-db/data.ldb" ] || fail "the quickstart made no database in the directory given"

step "npm pack, install the tarball, run the quickstart against it"
started=$SECONDS
(cd "$PKG" && npm pack --pack-destination "$WORK" --silent >"$WORK/pack.txt")
TARBALL="$WORK/$(tail -n 1 "$WORK/pack.txt")"
[ -f "$TARBALL" ] || fail "npm pack made no tarball"
tar -tzf "$TARBALL" | sort >"$WORK/contents.txt"
cat "$WORK/contents.txt"
for needed in package/index.js package/index.mjs package/index.d.ts package/package.json; do
    grep -qx "$needed" "$WORK/contents.txt" || fail "$needed is not in the package"
done
grep -q '^package/lightning\..*\.node$' "$WORK/contents.txt" || fail "the native module is not in the package"
if grep -qE '^package/(src/|test/|Cargo.toml)' "$WORK/contents.txt"; then
    fail "the package ships sources or tests"
fi
APP="$WORK/app"
mkdir -p "$APP"
(cd "$APP" && npm init -y >/dev/null && npm install --no-audit --no-fund "$TARBALL")
cp examples/node/quickstart.mjs "$APP/"
(cd "$APP" && node quickstart.mjs) || fail "the quickstart against the installed package"
(cd "$APP" && node -e "const db = require('lightning-db'); console.log('installed lightning-db', db.version, require.resolve('lightning-db'))")
(cd "$APP" && node --input-type=module -e "import { open } from 'lightning-db'; if (typeof open !== 'function') process.exit(1)")
echo "($((SECONDS - started)) s)"

echo
echo "node: all checks passed"
