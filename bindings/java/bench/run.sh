#!/usr/bin/env bash
# Builds and runs the Java benchmark: Lightning DB, lmdbjava and rocksdbjni in one run.
#   bindings/java/bench/run.sh [--n 200000] [--dir DIR] [--write-seconds 10]
# Needs the library's jar: mvn -B -f bindings/java/pom.xml verify (or -DskipTests package).
set -euo pipefail
cd "$(dirname "$0")"
[ -f ../target/lightning-db-0.1.0.jar ] || { echo "build the jar first: mvn -B -f bindings/java/pom.xml -DskipTests package" >&2; exit 1; }
mvn -B -q -f pom.xml package
# lmdbjava reads direct buffers' addresses reflectively: it needs java.nio opened to it.
exec java -Xms1g -Xmx2g \
    --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
    -cp "target/classes:target/lib/*" io.lightningdb.bench.Bench "$@"
