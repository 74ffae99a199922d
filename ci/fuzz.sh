#!/usr/bin/env bash
# Coverage-guided fuzzing of every target in fuzz/ (cargo-fuzz, libFuzzer + AddressSanitizer) for
# SECONDS each (default 30), two at a time. Needs a nightly toolchain: without one it says so and
# exits 0. Fails if any target crashes; the crashing input is left in fuzz/artifacts/<target>/.
# Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${1:-30}
TARGETS="c_abi page open_page_file wal_segment options meta_page batch_payload"

if ! rustup toolchain list 2>/dev/null | grep -q nightly; then
  echo "fuzz: no nightly toolchain (rustup toolchain install nightly); skipping the fuzz run"
  exit 0
fi
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

echo "== cargo fuzz build (nightly, release, AddressSanitizer)"
cargo +nightly fuzz build

# New inputs go to a scratch corpus (seeded with the committed one), not into fuzz/corpus.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/lightning-fuzz.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

max_len() {
  case $1 in
    page | open_page_file) echo 33000 ;;
    meta_page) echo 140000 ;;
    *) echo 4096 ;;
  esac
}

run_target() {
  local t=$1
  mkdir -p "$WORK/corpus/$t" "fuzz/artifacts/$t"
  cp fuzz/corpus/"$t"/* "$WORK/corpus/$t/" 2>/dev/null || true
  if cargo +nightly fuzz run "$t" "$WORK/corpus/$t" -- \
    -max_total_time="$SECONDS_PER_TARGET" -max_len="$(max_len "$t")" -print_final_stats=1 \
    -artifact_prefix="fuzz/artifacts/$t/" >"$WORK/$t.log" 2>&1; then
    echo "$t ok" >"$WORK/$t.status"
  else
    echo "$t FAILED" >"$WORK/$t.status"
  fi
}

echo "== fuzzing each target for ${SECONDS_PER_TARGET}s, two at a time"
set -- $TARGETS
while [ $# -gt 0 ]; do
  run_target "$1" &
  first=$!
  if [ $# -gt 1 ]; then
    run_target "$2" &
    second=$!
    wait "$first" "$second"
    shift 2
  else
    wait "$first"
    shift
  fi
done

failed=0
printf '%-16s %-7s %12s %8s %8s %s\n' target status execs exec/s cov ft
for t in $TARGETS; do
  status=$(cut -d' ' -f2 "$WORK/$t.status")
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$WORK/$t.log" | grep -o '[0-9]*$' || echo '?')
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$WORK/$t.log" | grep -o '[0-9]*$' || echo '?')
  last=$(grep -E '^#[0-9]+' "$WORK/$t.log" | tail -1)
  cov=$(echo "$last" | grep -o 'cov: [0-9]*' | grep -o '[0-9]*' || echo '?')
  ft=$(echo "$last" | grep -o 'ft: [0-9]*' | grep -o '[0-9]*' || echo '?')
  printf '%-16s %-7s %12s %8s %8s %s\n' "$t" "$status" "$execs" "$rate" "$cov" "$ft"
  if [ "$status" != ok ]; then
    failed=1
    echo "---- $t: the end of its log (crash input in fuzz/artifacts/$t/)"
    tail -60 "$WORK/$t.log"
  fi
done
exit $failed
