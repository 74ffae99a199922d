#!/usr/bin/env bash
# Installs the C library of Lightning DB into PREFIX:
#   PREFIX/include/lightning.h
#   PREFIX/lib/liblightning.so, PREFIX/lib/liblightning.a
#   PREFIX/lib/pkgconfig/lightning.pc   (from ffi/lightning.pc.in)
# Usage: ci/install-c.sh PREFIX     (LIGHTNING_SKIP_BUILD=1: use the release build already there)
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 PREFIX" >&2
    exit 2
fi
mkdir -p "$1"
PREFIX=$(cd "$1" && pwd)
cd "$(dirname "$0")/.."

command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)" >&2; exit 1; }

# The version: ffi/Cargo.toml's own, or the workspace's if it inherits it (version.workspace).
toml_version() { # FILE SECTION: the version = "..." line of [SECTION]
    awk -v section="[$2]" '
        /^\[/ { in_section = ($0 == section) }
        in_section && /^version[ \t]*=[ \t]*"/ { sub(/^version[ \t]*=[ \t]*"/, ""); sub(/".*/, ""); print; exit }
    ' "$1"
}
VERSION=$(toml_version ffi/Cargo.toml package)
if [ -z "$VERSION" ]; then
    grep -Eq '^version(\.workspace[ \t]*=[ \t]*true|[ \t]*=[ \t]*\{[ \t]*workspace[ \t]*=[ \t]*true)' ffi/Cargo.toml ||
        { echo "cannot find the version in ffi/Cargo.toml" >&2; exit 1; }
    VERSION=$(toml_version Cargo.toml workspace.package)
fi
[ -n "$VERSION" ] || { echo "cannot find the workspace version in Cargo.toml" >&2; exit 1; }

if [ "${LIGHTNING_SKIP_BUILD:-0}" != 1 ]; then
    cargo build --release -p lightning-ffi
fi
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | grep -o '"target_directory":"[^"]*"' | cut -d'"' -f4)
LIB_DIR=${TARGET_DIR:-target}/release
for f in liblightning.so liblightning.a; do
    [ -f "$LIB_DIR/$f" ] || { echo "$LIB_DIR/$f is missing: build with cargo build --release -p lightning-ffi" >&2; exit 1; }
done

install -d "$PREFIX/include" "$PREFIX/lib/pkgconfig"
install -m 644 include/lightning.h "$PREFIX/include/lightning.h"
install -m 755 "$LIB_DIR/liblightning.so" "$PREFIX/lib/liblightning.so"
install -m 644 "$LIB_DIR/liblightning.a" "$PREFIX/lib/liblightning.a"
# '|' cannot be in PREFIX's sed replacement unescaped; escape \, & and | to be safe.
escaped_prefix=$(printf '%s' "$PREFIX" | sed 's/[\\&|]/\\&/g')
sed -e "s|@PREFIX@|$escaped_prefix|g" -e "s|@VERSION@|$VERSION|g" ffi/lightning.pc.in \
    > "$PREFIX/lib/pkgconfig/lightning.pc"
chmod 644 "$PREFIX/lib/pkgconfig/lightning.pc"

echo "installed lightning $VERSION into $PREFIX"
