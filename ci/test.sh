#!/usr/bin/env bash
# Every test suite, as CI runs it. Installs what it needs; run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)"; exit 1; }
rustup component add rustfmt clippy >/dev/null 2>&1 || true

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --all-targets -- -D warnings

echo "== cargo test"
cargo test --all-targets
cargo test --doc

echo "== fuzzing entry points: clippy and the fuzz corpus replayed (stable; the c_abi corpus replays in cargo test above)"
cargo clippy -p lightning-db --features fuzzing --all-targets -- -D warnings
cargo test -p lightning-db --features fuzzing --test fuzz_corpus

echo "== corruption and fault suites in the release profile (no overflow checks: wrap-arounds show)"
cargo test --release -p lightning-db --test bad_input --test faults --test encryption

echo "== examples/rust/quickstart.rs (in a temporary directory, and twice in one given)"
cargo run -q -p lightning-db --example quickstart
QUICKSTART_DIR=$(mktemp -d "${TMPDIR:-/tmp}/lightning-rust-quickstart.XXXXXX")
cargo run -q -p lightning-db --example quickstart "$QUICKSTART_DIR/db" >/dev/null
cargo run -q -p lightning-db --example quickstart "$QUICKSTART_DIR/db" >/dev/null
rm -rf "$QUICKSTART_DIR"

echo "== C ABI: example, C and C++ tests under valgrind, static and pkg-config builds"
ci/c-test.sh

echo "== Python package: build in a virtualenv, pytest, stubtest, quickstart"
ci/python-test.sh

echo "== Node package: npm ci (builds the native module), node --test, tsc, quickstart, npm pack"
ci/node-test.sh

echo "== Java package: mvn verify (builds the JNI library into the jar, JUnit 5), quickstart, bench build"
ci/java-test.sh

echo "== bench builds"
cargo clippy --manifest-path bench/Cargo.toml --all-targets -- -D warnings

echo "== fuzz crate builds"
cargo clippy --manifest-path fuzz/Cargo.toml --all-targets -- -D warnings

echo "== fuzzing, 30 s per target (needs nightly; skipped without)"
ci/fuzz.sh 30
