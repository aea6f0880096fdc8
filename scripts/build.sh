#!/usr/bin/env bash
# build.sh: configures and builds Spamformer into ${BUILD_DIR:-build}.
# Extra arguments go to cmake's configure step (e.g. -DSPAMFORMER_CUDA=OFF).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE:-RelWithDebInfo} "$@"
cmake --build "$build" -j"$(nproc)"
