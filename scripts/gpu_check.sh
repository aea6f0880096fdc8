#!/usr/bin/env bash
# gpu_check.sh: runs the prebuilt CUDA backend test and benchmark on a GPU machine.
#
# Builds nothing. Two steps:
#   scripts/gpu_check.sh pack [BUILD_DIR] [CARRY_DIR]   (here, after building)
#       copies test_cuda_backend and bench_cuda from BUILD_DIR (default build-cuda) into
#       CARRY_DIR (default .device-carry, git-ignored), with the shared libraries they
#       need that a bare CUDA machine lacks (OpenBLAS and its Fortran runtime, xz-packed).
#   scripts/gpu_check.sh run [CARRY_DIR]                (on the GPU machine, repo root)
#       runs the test binary, then compute-sanitizer memcheck, racecheck and initcheck on
#       its small cases, then bench_cuda; logs go to $OUT (or ./gpu-check-logs), and a
#       short summary (test counts, sanitizer error counts, the bench tables) comes last.
# The test binary reads its fixtures from the absolute tests/data path it was built with
# (SF_TEST_DATA); when that is missing here, the source root it names is linked to this
# checkout.
# Environment: GPU_CHECK_TEST_TIMEOUT, GPU_CHECK_MEMCHECK_TIMEOUT,
# GPU_CHECK_RACECHECK_TIMEOUT, GPU_CHECK_BENCH_SECONDS (per row of the table).
# Exit status: 0 when the tests and the three sanitizers report no failure, 1 otherwise.
set -u -o pipefail

mode=${1:-run}
libs=(libopenblas.so.0 libgfortran.so.5 libquadmath.so.0)

if [[ $mode == pack ]]; then
  build=${2:-build-cuda}
  carry=${3:-.device-carry}
  mkdir -p "$carry" && rm -rf "${carry:?}/lib"  # unpacked only on the device
  cp "$build/tests/test_cuda_backend" "$carry/" || exit 1
  cp "$build/kernels/bench_cuda" "$carry/" && strip "$carry/bench_cuda" || exit 1
  tmp=$(mktemp -d)
  for l in "${libs[@]}"; do
    path=$(ldd "$carry/test_cuda_backend" | awk -v l="$l" '$1 == l { print $3 }')
    [[ -n $path ]] || { echo "gpu_check: $l is not linked by test_cuda_backend"; exit 1; }
    cp -L "$path" "$tmp/$l"
  done
  tar -cJf "$carry/libs.tar.xz" -C "$tmp" "${libs[@]}" && rm -rf "$tmp"
  # The fixture path the binary was built with (its source root gets linked on the device).
  grep -aoE '/[[:alnum:]_./-]*/tests/data' "$carry/test_cuda_backend" | head -1 \
    > "$carry/test_data_path"
  du -sh "$carry"/*
  exit 0
fi

[[ $mode == run ]] || { echo "usage: $0 pack [BUILD_DIR] [CARRY_DIR] | run [CARRY_DIR]"; exit 2; }
carry=$(realpath "${2:-.device-carry}")
out=${OUT:-$PWD/gpu-check-logs}
mkdir -p "$out" "$carry/lib"
tar -xJf "$carry/libs.tar.xz" -C "$carry/lib" || exit 1
export LD_LIBRARY_PATH="$carry/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

data=$(cat "$carry/test_data_path" 2>/dev/null)
if [[ -n $data && ! -d $data ]]; then
  root=${data%/tests/data}
  mkdir -p "$(dirname "$root")" && ln -sfn "$PWD" "$root"
fi

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm \
  --format=csv,noheader | tee "$out/gpu.txt"
command -v compute-sanitizer > /dev/null ||
  export PATH="$PATH:/usr/local/cuda/bin:/usr/local/cuda/compute-sanitizer"
test=$carry/test_cuda_backend
small='-*MiniLm*'  # the sanitizers run everything but the MiniLM-sized cases

echo "== tests"
timeout "${GPU_CHECK_TEST_TIMEOUT:-180}" "$test" > "$out/test.log" 2>&1
test_rc=$?
grep -E '^\[conformance\]|^\[cuda\]|FAILED|Failure|^\[  (PASSED|SKIPPED) ' "$out/test.log" \
  | grep -vE 'listed below|^\[  SKIPPED \] [[:alnum:]_.]+$' | head -80

echo "== memcheck"
timeout "${GPU_CHECK_MEMCHECK_TIMEOUT:-150}" compute-sanitizer --tool memcheck \
  --leak-check full --error-exitcode 9 "$test" --gtest_filter="$small" > "$out/memcheck.log" 2>&1
mem_rc=$?
tail -3 "$out/memcheck.log"

# racecheck (shared-memory hazards) on one call per attention width, restricted to this
# project's kernels (all named *_kernel; the few cuBLAS kernels so named come along):
# instrumenting every cuBLAS kernel makes it too slow. initcheck (reads of memory nothing
# wrote) must see every kernel's writes, so it runs unfiltered on the small cases.
help=$(compute-sanitizer --help 2>&1)
filter_opt=--kernel-name
grep -q -- '--kernel-name ' <<< "$help" || filter_opt=--kernel-regex
echo "== racecheck"
timeout "${GPU_CHECK_RACECHECK_TIMEOUT:-120}" compute-sanitizer --tool racecheck \
  --error-exitcode 9 "$filter_opt" kns=_kernel "$test" \
  --gtest_filter='*EveryAttentionWidth*:*RepeatedCalls*' > "$out/racecheck.log" 2>&1
race_rc=$?
grep -E 'SUMMARY|OK \]|FAILED' "$out/racecheck.log" | tail -5
echo "== initcheck"
timeout "${GPU_CHECK_MEMCHECK_TIMEOUT:-150}" compute-sanitizer --tool initcheck \
  --error-exitcode 9 "$test" --gtest_filter="$small" > "$out/initcheck.log" 2>&1
init_rc=$?
tail -3 "$out/initcheck.log"

echo "== bench"
"$carry/bench_cuda" --seconds "${GPU_CHECK_BENCH_SECONDS:-0.5}" > "$out/bench.log" 2>&1
bench_rc=$?

status() { case $1 in 0) echo ok ;; 124) echo "TIMED OUT" ;; *) echo "FAILED (rc $1)" ;; esac; }
echo
echo "== summary on $(head -1 "$out/gpu.txt")"
echo "tests:     $(status $test_rc); $(grep -E '^\[  (PASSED|FAILED|SKIPPED) +\] [0-9]+ tests?' \
  "$out/test.log" | tr -s ' ' | paste -sd' ')"
echo "memcheck:  $(status $mem_rc); $(grep -h 'ERROR SUMMARY' "$out/memcheck.log" | tail -1)"
echo "racecheck: $(status $race_rc); $(grep -h 'SUMMARY' "$out/racecheck.log" | tail -1)"
echo "initcheck: $(status $init_rc); $(grep -h 'SUMMARY' "$out/initcheck.log" | tail -1)"
echo "bench:     $(status $bench_rc)"
cat "$out/bench.log"
[[ $test_rc == 0 && $mem_rc == 0 && $race_rc == 0 && $init_rc == 0 ]]
