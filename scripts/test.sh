#!/usr/bin/env bash
# test.sh: the README's second command. Installs what the tests need, builds
# with warnings as errors, fetches the base model for the tests that check the
# real weights (they report themselves skipped without it), runs every test,
# then a short run of every fuzzer (FUZZ_SECONDS each, default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh -DSPAMFORMER_WERROR=ON
if dir=$(scripts/fetch_base_model.sh); then
  export SPAMFORMER_BASE_MODEL_DIR="$dir"
else
  echo "test: could not fetch the base model; real-weight tests will be skipped" >&2
fi
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j"$(nproc)" --timeout 600
FUZZ_SECONDS=${FUZZ_SECONDS:-20} scripts/fuzz.sh
