#!/usr/bin/env bash
# The Python package's checks, as CI runs them:
#  - cargo clippy on the binding crate (lightning-db-python);
#  - a fresh virtualenv, and `pip install ./bindings/python[test]` into it (builds the abi3 wheel
#    with maturin; pytest, mypy and hypothesis come from PyPI); checks that the installed package
#    is the abi3 extension with its type stub and py.typed;
#  - the pytest suite (bindings/python/tests);
#  - mypy.stubtest: the stub lightning_db.pyi against the compiled module;
#  - mypy --strict over the tests and the quickstart, as a user of the stub;
#  - examples/python/quickstart.py, in a temporary directory and in a directory given, twice.
# Fails on the first failure. Run from anywhere. PYTHON chooses the interpreter (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-python3}

step() { echo; echo "== $*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

command -v cargo >/dev/null || fail "cargo is required (https://rustup.rs)"
command -v "$PYTHON" >/dev/null || fail "no Python interpreter ($PYTHON)"

step "cargo clippy -p lightning-db-python"
cargo clippy -p lightning-db-python --all-targets -- -D warnings

WORK=$(mktemp -d "${TMPDIR:-/tmp}/lightning-python-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
VENV="$WORK/venv"

step "virtualenv ($("$PYTHON" --version 2>&1))"
if ! "$PYTHON" -m venv "$VENV" 2>"$WORK/venv.err"; then
    # Debian's python3 keeps venv (ensurepip) in a package of its own.
    if command -v apt-get >/dev/null; then
        echo "python3 -m venv failed; trying apt-get install python3-venv"
        sudo=""
        [ "$(id -u)" = 0 ] || sudo="sudo -n"
        { $sudo apt-get update -qq && $sudo apt-get install -y -qq python3-venv; } >/dev/null 2>&1 || true
        rm -rf "$VENV"
    fi
    "$PYTHON" -m venv "$VENV" || { cat "$WORK/venv.err" >&2; fail "cannot create a virtualenv"; }
fi
PY="$VENV/bin/python"
"$PY" -m pip install --quiet --disable-pip-version-check --upgrade pip

step "pip install ./bindings/python[test]"
started=$SECONDS
"$PY" -m pip install --quiet --disable-pip-version-check "./bindings/python[test]"
echo "built and installed in $((SECONDS - started)) s"
# The package is the abi3 extension, with its type stub and the py.typed marker.
"$PY" - <<'EOF'
import importlib.metadata as md
import pathlib
import lightning_db

package = pathlib.Path(lightning_db.__file__).parent
names = sorted(p.name for p in package.iterdir())
print(f"lightning_db {lightning_db.__version__} in {package}: {names}")
for needed in ("__init__.pyi", "py.typed", "lightning_db.abi3.so"):
    assert needed in names, f"{needed} is not installed"
wheel = md.distribution("lightning-db").read_text("WHEEL") or ""
tags = [line.split(": ", 1)[1] for line in wheel.splitlines() if line.startswith("Tag: ")]
print("wheel tags:", tags)
assert tags and all("-abi3-" in t for t in tags), f"not an abi3 wheel: {tags}"
EOF

step "pytest"
started=$SECONDS
# From the work directory, so the tests import the installed package.
(cd "$WORK" && "$PY" -m pytest -q -c "$ROOT/bindings/python/pyproject.toml" \
    --rootdir "$ROOT/bindings/python" "$ROOT/bindings/python/tests")
echo "pytest took $((SECONDS - started)) s"

step "mypy.stubtest lightning_db"
(cd "$WORK" && "$PY" -m mypy.stubtest lightning_db \
    --allowlist "$ROOT/bindings/python/stubtest-allowlist.txt")

step "mypy --strict: the tests and the quickstart against the installed stub"
(cd "$WORK" && "$PY" -m mypy --strict --cache-dir "$WORK/mypy-cache" \
    "$ROOT/bindings/python/tests" "$ROOT/examples/python/quickstart.py")

step "examples/python/quickstart.py"
"$PY" examples/python/quickstart.py
"$PY" examples/python/quickstart.py "$WORK/quickstart-db" >/dev/null || fail "quickstart DIR"
"$PY" examples/python/quickstart.py "$WORK/quickstart-db" >/dev/null || fail "quickstart DIR, reopening"
[ -f "$WORK/quickstart-db/data.ldb" ] || fail "the quickstart made no database in the directory given"

echo
echo "python: all checks passed"
