#!/usr/bin/env bash
# quickstart.sh: the README's first command. Installs what is needed, builds,
# makes the default model file if there is none, and runs the main job on the
# shipped defaults: classify a message (the files given as arguments, or the
# shipped example) and print one JSON line per message.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
cache=${SPAMFORMER_CACHE:-$HOME/.cache/spamformer}
model=${SPAMFORMER_MODEL:-$cache/spamformer-base.safetensors}
if [ ! -f "$model" ]; then
  echo "quickstart: no model file at $model; importing the base model" >&2
  dir=$(scripts/fetch_base_model.sh)
  build/spamformer import-hf "$dir" --out "$model" >/dev/null
fi
export SPAMFORMER_MODEL="$model"
if [ $# -eq 0 ]; then set -- config/examples/hello.eml; fi
build/spamformer classify "$@"
