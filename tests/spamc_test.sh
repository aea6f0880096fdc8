#!/usr/bin/env bash
# spamc_test.sh: end-to-end test of `spamformer serve` with the real spamc
# client (Debian package spamc) and curl, on a model made from the committed
# tiny BERT fixture. Usage: spamc_test.sh SPAMFORMER WORKDIR SRCDIR
# Exit 77 (ctest: skipped) when spamc or curl is not installed.
#
# The tiny model scores the two test messages p=0.995 ("spam") and p=0.931
# (config/examples/hello.eml, "ham"); the test config puts the spam
# threshold at 0.99 and the suspect threshold at 0.97 between them.
set -u
bin=$1; work=$2; src=$3
for tool in spamc curl sqlite3; do
  command -v $tool >/dev/null || { echo "skip: $tool not installed (scripts/install-deps.sh)"; exit 77; }
done
rm -rf "$work"; mkdir -p "$work"
fails=0
check() {  # check NAME CONDITION-EXIT-STATUS
  if [ "$2" -eq 0 ]; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi
}
pid=""
cleanup() { [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; }
trap cleanup EXIT

model=$work/tiny.safetensors
"$bin" import-hf "$src/tests/data/encoder/tiny_bert" --out "$model" --max-tokens 64 --tail-tokens 8 \
  >/dev/null 2>"$work/import.err" || { echo "FAIL import-hf"; cat "$work/import.err"; exit 1; }

spam=$work/spam.eml
ham=$src/config/examples/hello.eml
printf 'Message-ID: <spam-1@test.example>\nSubject: meeting tomorrow\nX-Spam-Flag: NO\n\nlet us discuss the quarterly report\n' >"$spam"

cat >"$work/serve.toml" <<EOF
[model]
path = "$model"
[server]
io_threads = 2
prep_threads = 1
feedback_db = "$work/feedback.sqlite"
shutdown_timeout_ms = 5000
[scheduler]
max_wait_us = 500
[verdict]
spam_threshold = 0.99
suspect_threshold = 0.97
[spamd]
listen = ["127.0.0.1:0"]
socket = "$work/spamd.sock"
max_message_bytes = 65536
[http]
listen = ["127.0.0.1:0"]
EOF

"$bin" serve --config "$work/serve.toml" >"$work/serve.out" 2>"$work/serve.err" &
pid=$!
for _ in $(seq 100); do grep -q "http listening" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/^spamformer serve: spamd listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/serve.out")
hport=$(sed -n 's/^spamformer serve: http listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/serve.out")
[ -n "$port" ] && [ -n "$hport" ]; check "serve prints its listening addresses" $?
grep -qx "spamformer serve: spamd listening on unix:$work/spamd.sock" "$work/serve.out"
check "serve prints the Unix socket" $?
ready=1
for _ in $(seq 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$hport/readyz")" = 200 ] && { ready=0; break; }
  sleep 0.1
done
check "readyz turns 200 once the model is loaded" $ready

sc="spamc -d 127.0.0.1 -p $port"
# -c: score/threshold and exit status 1 for spam, 0 for ham.
out=$($sc -c <"$spam"); st=$?
[ $st -eq 1 ] && [ "$out" = "9.9/9.9" ]; check "spamc -c spam: 9.9/9.9, exit 1 (got '$out', $st)" $?
out=$($sc -c <"$ham"); st=$?
[ $st -eq 0 ] && [ "$out" = "9.3/9.9" ]; check "spamc -c ham: 9.3/9.9, exit 0 (got '$out', $st)" $?

# Plain filtering: our headers replace the forged one, exactly.
$sc <"$spam" >"$work/spam.out"; st=$?
printf '%s\n' 'Message-ID: <spam-1@test.example>' 'Subject: meeting tomorrow' 'X-Spam-Flag: YES' \
  'X-Spam-Score: 9.9' 'X-Spam-Level: *********' \
  "X-Spam-Status: Yes, score=9.9 required=9.9 tests=SPAMFORMER_P95 autolearn=no version=spamformer-$("$bin" version | sed -n 's/^spamformer \([0-9.]*\).*/\1/p')" \
  'X-Spamformer: p=0.995 rule=default-spam model=tiny' '' 'let us discuss the quarterly report' \
  >"$work/spam.expected"
[ $st -eq 0 ] && cmp -s "$work/spam.out" "$work/spam.expected"
r=$?; check "spamc filters spam: exact headers, forged X-Spam-Flag gone, exit 0" $r
[ $r -eq 0 ] || diff "$work/spam.expected" "$work/spam.out"
$sc <"$ham" >"$work/ham.out"
grep -qx 'X-Spam-Status: No, score=9.3 required=9.9 tests=SPAMFORMER_P90 autolearn=no version=spamformer-.*' "$work/ham.out" \
  && ! grep -q '^X-Spam-Flag' "$work/ham.out" && grep -qx 'X-Spamformer: p=0.931 rule=default-ham model=tiny' "$work/ham.out"
check "spamc filters ham: X-Spam-Status No, no X-Spam-Flag" $?
# -E: filtered output and exit status by verdict.
$sc -E <"$spam" >/dev/null; [ $? -eq 1 ]; check "spamc -E spam exits 1" $?
$sc -E <"$ham" >/dev/null; [ $? -eq 0 ]; check "spamc -E ham exits 0" $?
# -R: report; -y: symbols.
$sc -R <"$spam" >"$work/report.out"
head -1 "$work/report.out" | grep -qx "9.9/9.9" && grep -q " 9.9 SPAMFORMER_P95 " "$work/report.out"
check "spamc -R prints score line and report" $?
[ "$($sc -y <"$spam")" = "SPAMFORMER_P95" ]; check "spamc -y prints the symbol" $?
[ -z "$($sc -r <"$ham")" ]; check "spamc -r (REPORT_IFSPAM) prints nothing for ham" $?
$sc --headers <"$spam" | cmp -s - "$work/spam.expected"; check "spamc --headers (HEADERS) gives the same message" $?
[ "$(spamc -U "$work/spamd.sock" -c <"$spam")" = "9.9/9.9" ]; check "spamc -U (Unix socket)" $?
$sc -K | grep -q "^SPAMD/1.5 0"; check "spamc -K (PING)" $?

# TELL: -L spam / -L ham are stored in the feedback table by Message-ID hash.
$sc -L spam <"$spam" | grep -q "successfully"; check "spamc -L spam is learned" $?
$sc -L ham -u alice <"$ham" | grep -q "successfully"; check "spamc -L ham is learned" $?
rows=$(sqlite3 "$work/feedback.sqlite" "select source || ' ' || label || ' ' || user from feedback order by id")
[ "$rows" = "spamc spam $(id -un)
spamc ham alice" ]; check "feedback rows stored (got: $(echo $rows))" $?

# A message over spamd.max_message_bytes: refused with EX_DATAERR; spamc's
# safe fallback passes it on unchanged, with -x it fails (exit 74).
{ printf 'Subject: big\n\n'; head -c 100000 /dev/zero | tr '\0' 'a'; } >"$work/big.eml"
$sc -s 1000000 <"$work/big.eml" | cmp -s - "$work/big.eml"; check "oversized message passes unchanged" $?
$sc -x -s 1000000 <"$work/big.eml" >/dev/null; [ $? -eq 74 ]; check "oversized message with -x: exit 74" $?
grep -q '"limit":"spamd.max_message_bytes"' "$work/serve.err"; check "the size limit hit is logged" $?

# HTTP on the same daemon.
j=$(curl -s --data-binary @"$spam" "http://127.0.0.1:$hport/v1/scan?rcpt=bob%40example.org")
echo "$j" | grep -q '"verdict":"spam"' && echo "$j" | grep -q '"probability":0.995' \
  && echo "$j" | grep -q '"actions":\["move Junk"\]'
check "POST /v1/scan answers the verdict" $?
m=$(curl -s "http://127.0.0.1:$hport/metrics")
echo "$m" | grep -q 'spamformer_requests_total{interface="spamd",outcome="spam"} [1-9]' \
  && echo "$m" | grep -q 'spamformer_backend_info{backend="cpu-fp32"'
check "GET /metrics counts spamd requests and names the backend" $?

# Logs are JSON lines without message content.
! grep -v '^{.*}$' "$work/serve.err" | grep -q . ; check "every log line is a JSON object" $?
! grep -q "quarterly" "$work/serve.err"; check "no message content in the logs" $?

# SIGHUP: new thresholds apply without a restart (ham p=0.931 >= 0.90 is now spam).
sed -i 's/^spam_threshold = 0.99/spam_threshold = 0.90/; s/^suspect_threshold = 0.97/suspect_threshold = 0.5/' "$work/serve.toml"
kill -HUP $pid
for _ in $(seq 50); do grep -q '"event":"reloaded"' "$work/serve.err" && break; sleep 0.1; done
out=$($sc -c <"$ham"); st=$?
[ $st -eq 1 ] && [ "$out" = "9.3/9.0" ]; check "SIGHUP reloads the thresholds (got '$out', $st)" $?

# SIGTERM: exits 0 and removes its socket.
kill -TERM $pid
st=124
for _ in $(seq 100); do kill -0 $pid 2>/dev/null || { wait $pid; st=$?; break; }; sleep 0.1; done
[ $st -eq 0 ]; check "SIGTERM: clean exit 0 (got $st)" $?
pid=""
[ ! -e "$work/spamd.sock" ]; check "the Unix socket is removed" $?
grep -q '"event":"stopped"' "$work/serve.err"; check "shutdown is logged" $?

# The server down: spamc's own fail behaviour. Safe fallback passes the
# message unchanged with exit 0 (-c prints 0/0, exit 0); -x exits 69
# (EX_UNAVAILABLE) so the MTA can retry.
out=$($sc <"$spam" 2>/dev/null); st=$?
[ $st -eq 0 ] && [ "$out" = "$(cat "$spam")" ]; check "server down: message passes unchanged" $?
out=$($sc -c <"$spam" 2>/dev/null); st=$?
[ $st -eq 0 ] && [ "$out" = "0/0" ]; check "server down: -c prints 0/0, exit 0" $?
$sc -x <"$spam" >/dev/null 2>&1; st=$?
[ $st -eq 69 ]; check "server down: -x exits 69 (got $st)" $?

# Start-up errors: a bad config key and a missing model exit 1 naming the problem.
printf '[spamd]\nlisten = ["nonsense"]\n' >"$work/bad.toml"
"$bin" serve --config "$work/bad.toml" >/dev/null 2>"$work/bad.err"; st=$?
[ $st -eq 1 ] && grep -q "spamd.listen" "$work/bad.err"; check "bad listen address: exit 1 naming the key" $?
"$bin" serve --config "$work/serve.toml" --model "$work/none.safetensors" >/dev/null 2>"$work/nomodel.err"; st=$?
[ $st -eq 1 ] && grep -q "not found" "$work/nomodel.err"; check "missing model: exit 1" $?
"$bin" serve --help | grep -q "usage: spamformer serve"; check "serve --help" $?

echo "$fails failure(s)"
[ $fails -eq 0 ]
