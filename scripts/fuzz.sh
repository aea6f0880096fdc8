#!/usr/bin/env bash
# fuzz.sh: builds every libFuzzer target (`*_fuzz`, clang only) in
# ${FUZZ_BUILD_DIR:-build-fuzz} and runs each for ${FUZZ_SECONDS:-30} seconds
# with AddressSanitizer and UndefinedBehaviorSanitizer, seeded from
# fuzz/seeds/<target>/ where that exists. A crash, leak or
# sanitizer report fails the run and leaves the input in that build folder.
# CI runs it with the default (short) time; longer soaks: FUZZ_SECONDS=3600.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${FUZZ_BUILD_DIR:-build-fuzz}
seconds=${FUZZ_SECONDS:-30}
if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ not found (scripts/install-deps.sh installs it)" >&2
  exit 1
fi
CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSPAMFORMER_CUDA=OFF -DSPAMFORMER_TESTS=OFF -DSPAMFORMER_BENCH=OFF >/dev/null
targets=$(cmake --build "$build" --target help | awk '/_fuzz$/ {print $2}' | sort -u)
[ -n "$targets" ] || { echo "fuzz: no *_fuzz targets" >&2; exit 1; }
# shellcheck disable=SC2086
cmake --build "$build" -j"$(nproc)" --target $targets
status=0
for t in $targets; do
  bin=$(find "$build" -type f -name "$t" -perm -u+x | head -n 1)
  work="$build/fuzz-$t"
  mkdir -p "$work/corpus"
  seeds="$PWD/fuzz/seeds/$t"; [ -d "$seeds" ] || seeds=""
  echo "fuzz: $t for ${seconds}s" >&2
  if ! (cd "$work" && "$OLDPWD/$bin" -max_total_time="$seconds" -rss_limit_mb=2048 \
        -timeout=10 -seed=1 -print_final_stats=1 -artifact_prefix=./ \
        corpus $seeds >"log.txt" 2>&1); then
    echo "fuzz: $t FAILED; see $work/log.txt" >&2
    tail -n 40 "$work/log.txt" >&2
    status=1
  else
    grep -E 'stat::number_of_executed_units|Done' "$work/log.txt" | tail -n 2 >&2 || true
  fi
done
exit $status
