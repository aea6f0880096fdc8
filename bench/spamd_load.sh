#!/usr/bin/env bash
# spamd_load.sh: starts `spamformer serve` on loopback with MODEL, drives its
# spamd interface with bench_spamd at several concurrencies, then with the real
# spamc binary (one process per message, P at once), and prints one JSON line
# per run. Usage: spamd_load.sh BUILD_DIR MODEL [MESSAGES] [SPAMC_MESSAGES]
set -eu
build=$1; model=$2; n=${3:-2000}; n_spamc=${4:-300}
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT
bin=$(find "$build" -name spamformer -type f -perm -u+x | head -n 1)
bench=$(find "$build" -name bench_spamd -type f -perm -u+x | head -n 1)
cat >"$work/c.toml" <<EOT
[model]
path = "$model"
[server]
log_scans = false
feedback_db = "$work/fb.sqlite"
[spamd]
listen = ["127.0.0.1:0"]
max_connections = 4096
[http]
listen = ["127.0.0.1:0"]
EOT
"$bin" serve --config "$work/c.toml" >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 300); do grep -q "http listening" "$work/out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/.*spamd listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/out")
hport=$(sed -n 's/.*http listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/out")
for _ in $(seq 600); do curl -sf "http://127.0.0.1:$hport/readyz" >/dev/null && break; sleep 0.1; done
msgs=("$src/config/examples/hello.eml")
for i in 1 2 3; do
  printf 'From: Prize Desk <win%s@prize.example>\nSubject: You have won %s\n\nClaim your prize now at http://prize.example/claim?id=%s before it expires.\n' $i $i $i >"$work/m$i.eml"
  msgs+=("$work/m$i.eml")
done
for c in 1 8 32 128; do "$bench" --port "$port" --concurrency $c --messages "$n" "${msgs[@]}"; done
if command -v spamc >/dev/null; then
  t0=$(date +%s.%N)
  seq "$n_spamc" | xargs -P 16 -I{} sh -c "spamc -c -p $port < ${msgs[0]} >/dev/null || true"
  t1=$(date +%s.%N)
  echo "{\"client\":\"spamc -c\",\"processes_at_once\":16,\"messages\":$n_spamc,\"messages_per_s\":$(echo "$n_spamc / ($t1 - $t0)" | bc -l | cut -c1-7)}"
fi
curl -s "http://127.0.0.1:$hport/metrics" | grep -E '^spamformer_batch_size_(sum|count) |^spamformer_backend_info'
