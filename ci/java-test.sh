#!/usr/bin/env bash
# The Java package's checks, as CI runs them:
#  - cargo clippy on the JNI crate (lightning-db-java);
#  - `mvn -B -f bindings/java/pom.xml verify`: builds the JNI library with cargo, puts it in the
#    jar under native/<os>-<arch>/, compiles (javac -Xlint -Werror, doclint on the public API),
#    runs the JUnit 5 suite (API, every exception, threads, close/reuse, SIGKILL crash, loader);
#  - the jar holds the native library under its platform folder;
#  - examples/java/Quickstart.java compiled with plain javac and run with `java -cp JAR` and no
#    java.library.path, so the library is extracted from the jar (into a temporary directory and
#    into a directory chosen with -Dlightningdb.native.dir);
#  - the benchmark (bindings/java/bench) compiles, if its dependencies resolve (not run).
# Fails on the first failure. Run from anywhere. MVN chooses the Maven command (default mvn).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MVN=${MVN:-mvn}
START=$SECONDS

step() { echo; echo "== $* (at $((SECONDS - START)) s)"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

command -v cargo >/dev/null || fail "cargo is required (https://rustup.rs)"
command -v "$MVN" >/dev/null || fail "Maven is required ($MVN)"
command -v javac >/dev/null || fail "a JDK (17 or newer) is required"

step "cargo clippy -p lightning-db-java"
cargo clippy -p lightning-db-java --all-targets -- -D warnings

step "mvn verify (cargo build, javac, JUnit 5, jar)"
started=$SECONDS
"$MVN" -B -f bindings/java/pom.xml verify
echo "mvn verify took $((SECONDS - started)) s"

JAR=$(ls bindings/java/target/lightning-db-*.jar | grep -v -e sources -e javadoc | head -n 1)
[ -f "$JAR" ] || fail "no jar in bindings/java/target"

step "the jar holds the native library"
PLATFORM=$(java -XshowSettings:properties -version 2>&1 | awk -F' = ' '
    /os.name/ { os = tolower($2) } /os.arch/ { arch = $2 }
    END {
        if (os ~ /^linux/) os = "linux"; else if (os ~ /^mac/) os = "darwin"; else if (os ~ /^windows/) os = "windows"
        if (arch == "amd64") arch = "x86_64"; else if (arch == "arm64") arch = "aarch64"
        print os "-" arch }')
case "$PLATFORM" in
    darwin-*) LIB=liblightningdb_jni.dylib ;;
    windows-*) LIB=lightningdb_jni.dll ;;
    *) LIB=liblightningdb_jni.so ;;
esac
jar tf "$JAR" | grep -qx "native/$PLATFORM/$LIB" || { jar tf "$JAR"; fail "no native/$PLATFORM/$LIB in $JAR"; }
echo "$JAR: native/$PLATFORM/$LIB"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/lightning-java-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

step "examples/java/Quickstart.java against the jar"
javac -Xlint:all -Werror -cp "$JAR" -d "$WORK/classes" examples/java/Quickstart.java
# No java.library.path: the library comes out of the jar.
java -cp "$JAR:$WORK/classes" Quickstart | tee "$WORK/quickstart.out"
grep -q "visits = 42" "$WORK/quickstart.out" || fail "the quickstart's output is wrong"
java -Dlightningdb.native.dir="$WORK/native" -cp "$JAR:$WORK/classes" Quickstart "$WORK/qs-db" >/dev/null \
    || fail "quickstart DIR with lightningdb.native.dir"
java -Dlightningdb.native.dir="$WORK/native" -cp "$JAR:$WORK/classes" Quickstart "$WORK/qs-db" >/dev/null \
    || fail "quickstart DIR, reopening"
[ -f "$WORK/native/$LIB" ] || fail "the library was not extracted into lightningdb.native.dir"
[ -f "$WORK/qs-db/data.ldb" ] || fail "the quickstart made no database in the directory given"

if [ -f bindings/java/bench/pom.xml ]; then
    step "the benchmark compiles (not run)"
    "$MVN" -B -q -f bindings/java/bench/pom.xml -Dlightningdb.jar="$ROOT/$JAR" compile \
        || fail "the benchmark does not compile"
fi

echo
echo "java: all checks passed in $((SECONDS - START)) s"
