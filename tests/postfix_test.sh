#!/usr/bin/env bash
# postfix_test.sh: end-to-end test of the milter adapter with a real Postfix
# (Debian package postfix) and swaks, on a model made from the committed tiny
# BERT fixture. Usage: postfix_test.sh SPAMFORMER WORKDIR SRCDIR
# Exit 77 (ctest: skipped) when postfix or swaks is not installed or the
# Postfix user does not exist.
#
# The test writes its own Postfix instance into WORKDIR (main.cf, master.cf,
# queue and data directories; loopback only; smtpd on a free port;
# smtpd_milters = inet:127.0.0.1:MILTERPORT; milter_default_action = accept;
# a virtual domain delivered to Maildirs under WORKDIR, so no system users),
# starts it with `postfix -c DIR start` (as root: Postfix's master needs it to
# bind and to switch to mail_owner), then checks: ham and spam delivered with
# the SpamAssassin-format headers (a forged X-Spam-Flag removed), 550 5.7.1
# for a message over milter.reject_threshold, and with the service stopped
# mail delivered without our headers (milter_default_action = accept).
set -u
bin=$1; work=$2; src=$3
for tool in postfix postconf swaks; do
  command -v $tool >/dev/null || { echo "skip: $tool not installed (scripts/install-deps.sh)"; exit 77; }
done
id postfix >/dev/null 2>&1 || { echo "skip: no postfix user"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "skip: starting a Postfix instance needs root"; exit 77; }

rm -rf "$work"; mkdir -p "$work"; chmod 755 "$work"
work=$(cd "$work" && pwd)
fails=0
check() {  # check NAME CONDITION-EXIT-STATUS
  if [ "$2" -eq 0 ]; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi
}
pid=""
pf=$work/postfix
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  postfix -c "$pf" stop >/dev/null 2>&1
  # `postfix stop` returns before the master has exited; give it a moment.
  sleep 0.5
}
trap cleanup EXIT

free_port() {  # a TCP port nothing listens on
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 30000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo $p; return; }
  done
  return 1
}

model=$work/tiny.safetensors
"$bin" import-hf "$src/tests/data/encoder/tiny_bert" --out "$model" --max-tokens 64 --tail-tokens 8 \
  >/dev/null 2>"$work/import.err" || { echo "FAIL import-hf"; cat "$work/import.err"; exit 1; }

# --- spamformer serve with the milter on a free port ---
start_serve() {  # start_serve LISTEN REJECT_THRESHOLD
  cat >"$work/serve.toml" <<EOF
[model]
path = "$model"
[server]
io_threads = 2
prep_threads = 1
feedback_db = "$work/feedback.sqlite"
shutdown_timeout_ms = 2000
[scheduler]
max_wait_us = 500
[verdict]
spam_threshold = $spam_threshold
suspect_threshold = $spam_threshold
[spamd]
listen = []
[http]
listen = []
[milter]
listen = ["inet:$1"]
socket = "unix:$work/milter.sock"
reject_threshold = $2
reject_text = "Spam refused by the test"
EOF
  # Empty the file here, synchronously: the background redirection truncates it
  # only once the child runs, and the wait below must not see the last run's lines.
  : >"$work/serve.out"
  "$bin" serve --config "$work/serve.toml" >"$work/serve.out" 2>>"$work/serve.err" &
  pid=$!
  for _ in $(seq 100); do grep -q "milter listening on unix" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
}
stop_serve() {
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  pid=""
}

# The tiny model scores the spam message below p=0.980 and hello.eml (ham)
# p=0.931 (Subject and body; the Received header does not count): the spam
# threshold sits between them.
spam_threshold=${SF_POSTFIX_SPAM_THRESHOLD:-0.96}
start_serve 127.0.0.1:0 0
mport=$(sed -n 's/^spamformer serve: milter listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/serve.out")
[ -n "$mport" ]; check "serve prints the milter's TCP address" $?
grep -qx "spamformer serve: milter listening on unix:$work/milter.sock" "$work/serve.out"
check "serve prints the milter's Unix socket" $?
[ -n "$mport" ] || { cat "$work/serve.err"; exit 1; }

# --- the Postfix instance ---
sport=$(free_port) || { echo "FAIL no free port"; exit 1; }
mkdir -p "$pf" "$work/queue" "$work/data" "$work/mail"
chown postfix:postfix "$work/data" "$work/mail"
uid=$(id -u postfix); gid=$(id -g postfix)
printf 'bob@test.example test.example/bob/\ncarol@test.example test.example/carol/\n' >"$pf/vmailbox"
cat >"$pf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $work/queue
data_directory = $work/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.test.example
mydomain = test.example
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost =
local_transport = error:no local delivery in this test
virtual_mailbox_domains = test.example
virtual_mailbox_base = $work/mail
virtual_mailbox_maps = texthash:$pf/vmailbox
virtual_uid_maps = static:$uid
virtual_gid_maps = static:$gid
maillog_file_prefixes = $work
maillog_file = $work/maillog
smtputf8_enable = no
biff = no
smtpd_milters = inet:127.0.0.1:$mport
non_smtpd_milters =
milter_protocol = 6
milter_default_action = accept
milter_connect_timeout = 5s
milter_command_timeout = 30s
milter_content_timeout = 60s
EOF
cat >"$pf/master.cf" <<EOF
127.0.0.1:$sport inet n - n - - smtpd
pickup    unix n - n 60 1 pickup
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
local     unix - n n - - local
virtual   unix - n n - - virtual
lmtp      unix - - n - - lmtp
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
if ! postfix -c "$pf" start >"$work/postfix-start.log" 2>&1; then
  echo "FAIL postfix -c $pf start"; cat "$work/postfix-start.log"; exit 1
fi
up=1
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$sport") 2>/dev/null && { up=0; break; }; sleep 0.1; done
check "postfix listens on 127.0.0.1:$sport" $up
[ $up -eq 0 ] || { cat "$work/postfix-start.log" "$work/maillog" 2>/dev/null | tail -30; exit 1; }

send() {  # send TO DATAFILE -> swaks transcript in $work/swaks.out, status in $?
  swaks --server 127.0.0.1 --port "$sport" --from alice@example.org --to "$1" \
    --helo client.test --data "@$2" >"$work/swaks.out" 2>&1
}
delivered() {  # delivered USER MESSAGE-ID: prints the Maildir file holding it
  local f
  for _ in $(seq 150); do
    f=$(grep -l -s -F "$2" "$work/mail/test.example/$1/new/"* 2>/dev/null | head -n 1)
    [ -n "$f" ] && { echo "$f"; return 0; }
    sleep 0.1
  done
  return 1
}
header() { sed -n '/^$/q;p' "$1"; }  # the header section of a delivered file

printf 'Message-ID: <spam-1@test.example>\r\nSubject: meeting tomorrow\r\nX-Spam-Flag: NO\r\n\r\nlet us discuss the quarterly report\r\n' >"$work/spam.eml"
cp "$src/config/examples/hello.eml" "$work/ham.eml"
hamid=$(sed -n 's/^Message-I[dD]: *\(.*\)$/\1/p' "$work/ham.eml" | head -n 1 | tr -d '\r')

send bob@test.example "$work/ham.eml"; check "swaks sends ham (exit $?)" $?
f=$(delivered bob "$hamid"); check "ham delivered to bob's Maildir" $?
if [ -n "$f" ]; then
  header "$f" >"$work/ham.headers"
  grep -q '^X-Spam-Status: No, score=[0-9.]* required=9.6 tests=SPAMFORMER_P[0-9]* autolearn=no version=spamformer-' "$work/ham.headers" \
    && grep -q '^X-Spamformer: p=0\.[0-9]* rule=default-ham model=tiny' "$work/ham.headers" \
    && grep -q '^X-Spam-Score: ' "$work/ham.headers" && ! grep -q '^X-Spam-Flag' "$work/ham.headers"
  r=$?; check "ham: X-Spam-Status No, X-Spamformer rule=default-ham, no X-Spam-Flag" $r
  [ $r -eq 0 ] || cat "$work/ham.headers"
fi

send bob@test.example "$work/spam.eml"; check "swaks sends spam" $?
f=$(delivered bob '<spam-1@test.example>'); check "spam delivered to bob's Maildir" $?
if [ -n "$f" ]; then
  header "$f" >"$work/spam.headers"
  [ "$(grep -c '^X-Spam-Flag:' "$work/spam.headers")" -eq 1 ] && grep -qx 'X-Spam-Flag: YES' "$work/spam.headers" \
    && grep -q '^X-Spam-Status: Yes, score=9\.8 required=9\.6 tests=SPAMFORMER_P95 ' "$work/spam.headers" \
    && grep -q '^X-Spam-Level: \*\*\*\*\*\*\*\*\*$' "$work/spam.headers" \
    && grep -q '^X-Spamformer: p=0\.980 rule=default-spam model=tiny' "$work/spam.headers"
  r=$?; check "spam: X-Spam-Flag YES (forged NO removed), Status Yes, Level, X-Spamformer" $r
  [ $r -eq 0 ] || cat "$work/spam.headers"
fi

# --- reject above milter.reject_threshold: same port, restarted service ---
stop_serve
start_serve "127.0.0.1:$mport" "$spam_threshold"
grep -q "milter listening on 127.0.0.1:$mport" "$work/serve.out"; check "serve restarts with reject_threshold" $?
send carol@test.example "$work/spam.eml"; st=$?
grep -q '<\*\* *550 5\.7\.1 Spam refused by the test' "$work/swaks.out"
r=$?; check "spam over reject_threshold: 550 5.7.1 with the configured text (swaks exit $st)" $r
[ $r -eq 0 ] || tail -15 "$work/swaks.out"
send carol@test.example "$work/ham.eml"
f=$(delivered carol "$hamid"); r=$?
[ $r -eq 0 ] && grep -q '^X-Spam-Status: No' "$f"; check "ham under reject_threshold still delivered" $?
sleep 0.5
[ -z "$(grep -l -s -F '<spam-1@test.example>' "$work/mail/test.example/carol/new/"* 2>/dev/null)" ]
check "the rejected spam was not delivered" $?

# --- the service down: milter_default_action = accept ---
stop_serve
printf 'Message-ID: <down-1@test.example>\r\nSubject: while down\r\nX-Spam-Flag: NO\r\n\r\nhello\r\n' >"$work/down.eml"
send bob@test.example "$work/down.eml"; check "swaks sends while the service is down" $?
f=$(delivered bob '<down-1@test.example>'); r=$?
check "service down: mail delivered (milter_default_action = accept)" $r
if [ $r -eq 0 ]; then
  ! header "$f" | grep -q -e '^X-Spamformer' -e '^X-Spam-Status' && header "$f" | grep -qx 'X-Spam-Flag: NO'
  check "service down: no headers of ours, the message untouched" $?
fi

if [ $fails -ne 0 ]; then
  echo "--- serve.err"; tail -20 "$work/serve.err"
  echo "--- maillog"; tail -30 "$work/maillog" 2>/dev/null
fi
echo "$fails failure(s)"
[ $fails -eq 0 ]
