#!/usr/bin/env bash
# The C ABI's tests, as CI runs them: builds liblightning once, then
#  - checks that the C test suite calls every function of include/lightning.h, and that the
#    shared library exports nothing but ldb_* symbols;
#  - builds and runs examples/c/quickstart.c linked dynamically and statically;
#  - runs ffi/tests/c/test_lightning.c under valgrind against the shared library (ASan if valgrind
#    cannot be had), and once more linked statically;
#  - builds and runs the C++ translation unit ffi/tests/c/header_compiles.cpp;
#  - installs into a temporary prefix (ci/install-c.sh) and builds the quickstart with pkg-config.
# Fails on the first failure. Run from anywhere. CC / CXX choose the compilers.
set -euo pipefail
cd "$(dirname "$0")/.."

CC=${CC:-cc}
CXX=${CXX:-c++}
CFLAGS=(-std=c11 -Wall -Wextra -Werror -g -O1 -Iinclude)
CXXFLAGS=(-std=c++17 -Wall -Wextra -Werror -g -O1 -Iinclude)
# What the static library needs besides libc (rustc --print native-static-libs).
STATIC_LIBS=(-lgcc_s -lutil -lrt -lpthread -lm -ldl)

step() { echo; echo "== $*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }
# Whether program $1 loads a shared library whose path contains $2. (No `ldd | grep -q`: with
# pipefail, grep quitting early can fail the pipeline.)
loads() { local libs; libs=$(ldd "$1") && [[ "$libs" == *"$2"* ]]; }

command -v cargo >/dev/null || fail "cargo is required (https://rustup.rs)"
command -v "$CC" >/dev/null || fail "no C compiler ($CC)"
command -v "$CXX" >/dev/null || fail "no C++ compiler ($CXX)"

step "cargo build --release -p lightning-ffi"
cargo build --release -p lightning-ffi
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | grep -o '"target_directory":"[^"]*"' | cut -d'"' -f4)
LIB_DIR=$(cd "${TARGET_DIR:-target}/release" && pwd)
[ -f "$LIB_DIR/liblightning.so" ] && [ -f "$LIB_DIR/liblightning.a" ] ||
    fail "no liblightning.so / liblightning.a in $LIB_DIR"
DYNAMIC=(-L"$LIB_DIR" -llightning -Wl,-rpath,"$LIB_DIR")
STATIC=("$LIB_DIR/liblightning.a" "${STATIC_LIBS[@]}")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/lightning-c-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
started=$SECONDS

step "every function in include/lightning.h is called by the C test suite"
functions=$(sed -nE 's/^[^/ #].*[ *](ldb_[a-z0-9_]+)\(.*/\1/p' include/lightning.h | sort -u)
[ "$(echo "$functions" | wc -l)" -ge 50 ] || fail "found too few functions in the header: $functions"
missing=""
for f in $functions; do
    grep -Eq "\\b$f\\(" ffi/tests/c/test_lightning.c || missing="$missing $f"
done
[ -z "$missing" ] || fail "not called by ffi/tests/c/test_lightning.c:$missing"
echo "all $(echo "$functions" | wc -l) functions"

step "liblightning.so exports only ldb_* symbols"
others=$(nm -D --defined-only "$LIB_DIR/liblightning.so" | awk '{print $3}' | grep -v '^ldb_' || true)
[ -z "$others" ] || fail "exported symbols without the ldb_ prefix: $others"
echo "ok: $(nm -D --defined-only "$LIB_DIR/liblightning.so" | grep -c ' ldb_') ldb_* symbols"

step "quickstart, linked dynamically"
"$CC" "${CFLAGS[@]}" examples/c/quickstart.c "${DYNAMIC[@]}" -o "$WORK/quickstart"
loads "$WORK/quickstart" liblightning.so || fail "quickstart is not linked to liblightning.so"
"$WORK/quickstart" || fail "quickstart (dynamic)" # in a temporary directory of its own
"$WORK/quickstart" "$WORK/quickstart-db" >/dev/null || fail "quickstart DIR"
"$WORK/quickstart" "$WORK/quickstart-db" >/dev/null || fail "quickstart DIR, reopening"
[ -f "$WORK/quickstart-db/data.ldb" ] || fail "quickstart made no database in the directory given"

step "quickstart, linked statically"
"$CC" "${CFLAGS[@]}" examples/c/quickstart.c "${STATIC[@]}" -o "$WORK/quickstart-static"
if loads "$WORK/quickstart-static" liblightning; then
    fail "quickstart-static depends on a shared liblightning"
fi
"$WORK/quickstart-static" >/dev/null || fail "quickstart (static)"
echo "ok"

step "C test suite (shared library)"
"$CC" "${CFLAGS[@]}" ffi/tests/c/test_lightning.c "${DYNAMIC[@]}" -pthread -o "$WORK/test_lightning"
if ! command -v valgrind >/dev/null && command -v apt-get >/dev/null; then
    echo "valgrind is missing; trying apt-get install valgrind"
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo -n"
    { $sudo apt-get update -qq && $sudo apt-get install -y -qq valgrind; } >/dev/null 2>&1 || true
fi
if command -v valgrind >/dev/null; then
    # Rust's std keeps some memory until exit (thread-locals, the merge thread's stack): only
    # definite and indirect leaks are errors.
    log="$WORK/valgrind.log"
    status=0
    valgrind --error-exitcode=101 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --show-leak-kinds=definite,indirect --log-file="$log" "$WORK/test_lightning" || status=$?
    grep -E "ERROR SUMMARY|definitely lost|indirectly lost" "$log" | sed 's/^==[0-9]*== */valgrind: /'
    if [ "$status" -eq 101 ]; then
        cat "$log" >&2
        fail "valgrind found errors or leaks"
    fi
    [ "$status" -eq 0 ] || fail "the C test suite failed under valgrind (exit $status)"
else
    echo "valgrind is not available: running the suite with AddressSanitizer on the C side instead"
    "$CC" "${CFLAGS[@]}" -fsanitize=address -fno-omit-frame-pointer ffi/tests/c/test_lightning.c \
        "${DYNAMIC[@]}" -pthread -o "$WORK/test_lightning-asan"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 "$WORK/test_lightning-asan" ||
        fail "the C test suite failed under AddressSanitizer"
fi

step "C test suite (static library)"
"$CC" "${CFLAGS[@]}" ffi/tests/c/test_lightning.c "${STATIC[@]}" -pthread -o "$WORK/test_lightning-static"
"$WORK/test_lightning-static" >"$WORK/static.out" ||
    { cat "$WORK/static.out"; fail "the C test suite failed, linked statically"; }
tail -n 1 "$WORK/static.out"

step "C++: the header compiles (-std=c++17 -Wall -Wextra -Werror) and links"
"$CXX" "${CXXFLAGS[@]}" ffi/tests/c/header_compiles.cpp "${DYNAMIC[@]}" -o "$WORK/header_compiles"
"$WORK/header_compiles" || fail "header_compiles"

step "install into a temporary prefix; build the quickstart with pkg-config"
LIGHTNING_SKIP_BUILD=1 ci/install-c.sh "$WORK/prefix"
PREFIX=$(cd "$WORK/prefix" && pwd)
cmp include/lightning.h "$PREFIX/include/lightning.h" || fail "installed header differs"
for f in lib/liblightning.so lib/liblightning.a lib/pkgconfig/lightning.pc; do
    [ -f "$PREFIX/$f" ] || fail "$PREFIX/$f was not installed"
done
if command -v pkg-config >/dev/null; then
    export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
    pkg-config --exists --print-errors lightning || fail "pkg-config cannot use lightning.pc"
    cflags=$(pkg-config --cflags lightning)
    libs=$(pkg-config --libs lightning)
    echo "pkg-config: $cflags $libs (version $(pkg-config --modversion lightning))"
    # No -Iinclude here: the header must come from the prefix.
    # shellcheck disable=SC2086 # word splitting of the pkg-config flags is intended
    "$CC" -std=c11 -Wall -Wextra -Werror examples/c/quickstart.c $cflags $libs \
        -Wl,-rpath,"$PREFIX/lib" -o "$WORK/quickstart-pc"
    loads "$WORK/quickstart-pc" "$PREFIX/lib/liblightning.so" ||
        fail "quickstart-pc does not load the installed liblightning.so"
    first_line=$("$WORK/quickstart-pc" | head -n 1)
    echo "$first_line"
    case "$first_line" in
    "Lightning DB $(pkg-config --modversion lightning) "*) ;;
    *) fail "lightning.pc's version is not what ldb_version() reports" ;;
    esac
    # The static library with the private libraries pkg-config names.
    # shellcheck disable=SC2046
    "$CC" -std=c11 -Wall -Wextra -Werror examples/c/quickstart.c $cflags "$PREFIX/lib/liblightning.a" \
        $(pkg-config --libs-only-other --libs-only-l --static lightning | sed 's/-llightning//') \
        -o "$WORK/quickstart-pc-static"
    "$WORK/quickstart-pc-static" >/dev/null || fail "quickstart built with pkg-config --static"
else
    echo "pkg-config is not installed: skipping the pkg-config build"
fi

echo
echo "C ABI tests passed in $((SECONDS - started))s after the build"
