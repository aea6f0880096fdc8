#!/usr/bin/env bash
# gpu_check.sh: runs the prebuilt CUDA tests, sanitizers and benchmarks on a GPU machine.
#
# Builds nothing. Two steps:
#   scripts/gpu_check.sh pack [BUILD_DIR] [CARRY_DIR]   (here, after building)
#       copies test_cuda_backend, test_cuda_int8, bench_cuda and spamformer (stripped) from
#       BUILD_DIR (default build-cuda) into CARRY_DIR (default .device-carry, git-ignored),
#       with the shared libraries they need that a bare CUDA machine lacks (OpenBLAS and
#       its Fortran runtime, mimetic, gumbo, uchardet, utf8proc, toml++, SQLite; xz-packed).
#   scripts/gpu_check.sh run [CARRY_DIR]                (on the GPU machine, repo root)
#       runs the steps named in GPU_CHECK_STEPS, in the order given (default: all of these):
#         fp32       test_cuda_backend (the fp32 backend against the CPU reference)
#         int8       test_cuda_int8 (the int8/fp8 backends; graphs, chunks, scales)
#         memcheck   compute-sanitizer memcheck on the small cases of both test binaries
#         racecheck  compute-sanitizer racecheck on the attention-heavy small cases
#         initcheck  compute-sanitizer initcheck on the small cases
#         bench      spamformer bench (all backends; exports model + ids for torch)
#         torch      bench/torch_reference.py on the exported model (same GPU, same run)
#         benchfp32  bench_cuda (the fp32 backend's own per-op benchmark)
#       Logs go to $OUT (or ./gpu-check-logs); a short summary comes last.
# The test binaries read fixtures from the absolute tests/data path they were built with
# (SF_TEST_DATA); when that is missing here, the source root it names is linked to this
# checkout.
# Environment: GPU_CHECK_STEPS, GPU_CHECK_TEST_TIMEOUT, GPU_CHECK_SANITIZER_TIMEOUT,
# GPU_CHECK_BENCH_BACKENDS, GPU_CHECK_BENCH_ARGS (extra spamformer bench options),
# GPU_CHECK_TORCH_ARGS,
# GPU_CHECK_BENCH_SECONDS (bench_cuda, per row).
# Exit status: 0 when every test and sanitizer step that ran reports no failure, 1 otherwise.
set -u -o pipefail

mode=${1:-run}
libs=(libopenblas.so.0 libgfortran.so.5 libquadmath.so.0 libmimetic.so.0 libgumbo.so.1
      libuchardet.so.0 libutf8proc.so.2 libtomlplusplus.so.3 libsqlite3.so.0)

if [[ $mode == pack ]]; then
  build=${2:-build-cuda}
  carry=${3:-.device-carry}
  mkdir -p "$carry" && rm -rf "${carry:?}/lib"  # unpacked only on the device
  for b in tests/test_cuda_backend tests/test_cuda_int8 kernels/bench_cuda spamformer; do
    strip -o "$carry/$(basename "$b")" "$build/$b" || exit 1
  done
  tmp=$(mktemp -d)
  for l in "${libs[@]}"; do
    path=$(ldd "$carry/spamformer" "$carry/test_cuda_backend" |
           awk -v l="$l" '$1 == l { print $3; exit }')
    [[ -n $path ]] || { echo "gpu_check: $l is not linked by the carried binaries"; exit 1; }
    cp -L "$path" "$tmp/$l"
  done
  tar -cJf "$carry/libs.tar.xz" -C "$tmp" "${libs[@]}" && rm -rf "$tmp"
  # The fixture path the binaries were built with (its source root gets linked on the device).
  LC_ALL=C grep -aoE '/[[:alnum:]_./-]*/tests/data' "$build/tests/test_cuda_int8" | head -1 \
    > "$carry/test_data_path"
  du -sh "$carry"/*
  exit 0
fi

[[ $mode == run ]] || { echo "usage: $0 pack [BUILD_DIR] [CARRY_DIR] | run [CARRY_DIR]"; exit 2; }
carry=$(realpath "${2:-.device-carry}")
out=${OUT:-$PWD/gpu-check-logs}
steps=${GPU_CHECK_STEPS:-fp32,int8,memcheck,racecheck,initcheck,bench,torch}
mkdir -p "$out" "$carry/lib"
tar -xJf "$carry/libs.tar.xz" -C "$carry/lib" || exit 1
export LD_LIBRARY_PATH="$carry/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

data=$(cat "$carry/test_data_path" 2>/dev/null)
if [[ -n $data && ! -d $data ]]; then
  root=${data%/tests/data}
  mkdir -p "$(dirname "$root")" && ln -sfn "$PWD" "$root"
fi

gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm \
  --format=csv,noheader | head -1)
echo "gpu: $gpu"
command -v compute-sanitizer > /dev/null ||
  export PATH="$PATH:/usr/local/cuda/bin:/usr/local/cuda/compute-sanitizer"
t_fp32=$carry/test_cuda_backend
t_int8=$carry/test_cuda_int8
# The sanitizers run the small cases (not the MiniLM-sized ones, which the plain runs cover).
small_fp32='-*MiniLm*'
small_int8='-*MiniLm*'
sanitize_timeout=${GPU_CHECK_SANITIZER_TIMEOUT:-150}
declare -A rc

step_fp32() {
  echo "== fp32 tests"
  timeout "${GPU_CHECK_TEST_TIMEOUT:-180}" "$t_fp32" > "$out/test_fp32.log" 2>&1
  rc[fp32]=$?
  grep -E 'FAILED|Failure' "$out/test_fp32.log" | head -20
}
step_int8() {
  echo "== int8 tests"
  timeout "${GPU_CHECK_TEST_TIMEOUT:-180}" "$t_int8" > "$out/test_int8.log" 2>&1
  rc[int8]=$?
  grep -E '^\[conformance\]|^\[cuda-|FAILED|Failure|Expected|Which is|actual' \
    "$out/test_int8.log" | grep -v 'listed below' | head -90
}

# Sanitizer logs of both binaries go into one file per tool.
step_memcheck() {
  echo "== memcheck"
  ( timeout "$sanitize_timeout" compute-sanitizer --tool memcheck --leak-check full \
      --error-exitcode 9 "$t_int8" --gtest_filter="$small_int8"; r1=$?
    timeout "$sanitize_timeout" compute-sanitizer --tool memcheck --leak-check full \
      --error-exitcode 9 "$t_fp32" --gtest_filter="$small_fp32"; r2=$?
    exit $(( r1 != 0 ? r1 : r2 )) ) > "$out/memcheck.log" 2>&1
  rc[memcheck]=$?
  grep -E 'ERROR SUMMARY|FAILED' "$out/memcheck.log" | head -6
}

# racecheck (shared-memory hazards) restricted to this project's kernels (all named
# *_kernel; the few cuBLAS kernels so named come along): instrumenting every cuBLAS kernel
# makes it too slow.
step_racecheck() {
  echo "== racecheck"
  filter_opt=--kernel-name
  compute-sanitizer --help 2>&1 | grep -q -- '--kernel-name ' || filter_opt=--kernel-regex
  ( timeout "$sanitize_timeout" compute-sanitizer --tool racecheck --error-exitcode 9 \
      "$filter_opt" kns=_kernel "$t_int8" \
      --gtest_filter='CudaInt8Test.EveryHeadDim*:CudaInt8Test.RepeatedCalls*'; r1=$?
    timeout "$sanitize_timeout" compute-sanitizer --tool racecheck --error-exitcode 9 \
      "$filter_opt" kns=_kernel "$t_fp32" \
      --gtest_filter='*EveryAttentionWidth*:*RepeatedCalls*'; r2=$?
    exit $(( r1 != 0 ? r1 : r2 )) ) > "$out/racecheck.log" 2>&1
  rc[racecheck]=$?
  grep -E 'SUMMARY|FAILED' "$out/racecheck.log" | head -6
}
step_initcheck() {
  echo "== initcheck"
  timeout "$sanitize_timeout" compute-sanitizer --tool initcheck --error-exitcode 9 \
    "$t_int8" --gtest_filter="$small_int8" > "$out/initcheck.log" 2>&1
  rc[initcheck]=$?
  grep -E 'SUMMARY|FAILED' "$out/initcheck.log" | head -4
}

step_bench() {
  echo "== spamformer bench"
  # shellcheck disable=SC2086
  timeout 300 "$carry/spamformer" bench --export /tmp/sf-bench \
    --backends "${GPU_CHECK_BENCH_BACKENDS:-cpu,cuda-fp32,cuda-int8,cuda-fp8,cuda-int8-fp32attn,cuda-int8-nograph,cuda-int8-chunk4096,cuda-int8-chunk16384}" \
    --profile cuda-int8,cuda-int8-chunk4096 --profile-shapes 256x1024,512x256 \
    ${GPU_CHECK_BENCH_ARGS:-} > "$out/bench.log" 2>&1
  rc[bench]=$?
}
step_torch() {
  echo "== torch reference"
  # shellcheck disable=SC2086
  PYTHONUNBUFFERED=1 timeout 330 python3 bench/torch_reference.py --dir /tmp/sf-bench \
    ${GPU_CHECK_TORCH_ARGS:-} > "$out/torch.log" 2>&1
  rc[torch]=$?
}
step_benchfp32() {
  "$carry/bench_cuda" --seconds "${GPU_CHECK_BENCH_SECONDS:-0.5}" > "$out/bench_cuda.log" 2>&1
  rc[benchfp32]=$?
}

IFS=, read -r -a order <<< "$steps"
for s in "${order[@]}"; do
  declare -F "step_$s" > /dev/null || { echo "gpu_check: unknown step '$s'"; exit 2; }
  "step_$s"
done

status() { case $1 in 0) echo ok ;; 124) echo "TIMED OUT" ;; *) echo "FAILED (rc $1)" ;; esac; }
echo
echo "== summary on $gpu"
for s in fp32 int8; do
  [[ -n ${rc[$s]+x} ]] || continue
  echo "tests $s: $(status "${rc[$s]}"); $(grep -E '^\[  (PASSED|FAILED|SKIPPED) +\] [0-9]+ tests?' \
    "$out/test_$s.log" | tr -s ' ' | paste -sd' ')"
done
for s in memcheck racecheck initcheck; do
  [[ -n ${rc[$s]+x} ]] || continue
  echo "$s: $(status "${rc[$s]}"); $(grep -hE 'ERROR SUMMARY|RACECHECK SUMMARY|^=+ .*SUMMARY' \
    "$out/$s.log" | tr -s ' ' | paste -sd';')"
done
if [[ -n ${rc[bench]+x} ]]; then
  echo "bench: $(status "${rc[bench]}")"
  grep -E 'skipped|FAILED' "$out/bench.log"
  sed -n '/^best msgs/,$p' "$out/bench.log"
fi
if [[ -n ${rc[torch]+x} ]]; then
  echo "torch: $(status "${rc[torch]}")"
  grep -E '^check:|^compiled' "$out/torch.log"
  sed -n '/^same run/,$p' "$out/torch.log"
  [[ ${rc[torch]} == 0 ]] || tail -5 "$out/torch.log"
fi
[[ -n ${rc[benchfp32]+x} ]] && tail -8 "$out/bench_cuda.log"
ok=0
for s in fp32 int8 memcheck racecheck initcheck; do
  [[ -z ${rc[$s]+x} || ${rc[$s]} == 0 ]] || ok=1
done
exit $ok
