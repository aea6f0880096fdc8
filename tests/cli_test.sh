#!/usr/bin/env bash
# cli_test.sh: end-to-end checks of the `spamformer` command on a model made
# from the committed tiny BERT fixture. Usage: cli_test.sh SPAMFORMER WORKDIR SRCDIR
set -u
bin=$1; work=$2; src=$3
mkdir -p "$work"
fails=0
check() {  # check NAME CONDITION-EXIT-STATUS
  if [ "$2" -eq 0 ]; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi
}

model=$work/tiny.safetensors
"$bin" import-hf "$src/tests/data/encoder/tiny_bert" --out "$model" --max-tokens 64 --tail-tokens 8 \
  >"$work/import.out" 2>"$work/import.err"
check "import-hf writes the model file" $?
grep -qx "$model" "$work/import.out"; check "import-hf prints the file it wrote" $?

# classify a file and stdin: one JSON line each with the documented fields.
out=$("$bin" classify --model "$model" "$src/config/examples/hello.eml" 2>"$work/classify.err")
check "classify exits 0" $?
echo "$out" | grep -Eq '^\{.*"file":"[^"]*hello\.eml".*\}$'; check "classify names the file" $?
echo "$out" | grep -Eq '"probability":(0(\.[0-9]+)?|1(\.0+)?|[0-9.]+e-[0-9]+)[,}]'; check "classify gives a probability in [0,1]" $?
echo "$out" | grep -Eq '"tokens":[0-9]+'; check "classify gives the token count" $?
echo "$out" | grep -Eq '"flags":\['; check "classify lists flags" $?
# The fixture's checkpoint carries a classifier head, so no untrained-head note.
! grep -q "head" "$work/classify.err" && ! echo "$out" | grep -q '"head"'
check "no untrained-head note when the checkpoint has a head" $?
p_file=$(echo "$out" | grep -Eo '"probability":[^,}]+')
p_stdin=$("$bin" classify --model "$model" - <"$src/config/examples/hello.eml" 2>/dev/null | grep -Eo '"probability":[^,}]+')
[ -n "$p_file" ] && [ "$p_file" = "$p_stdin" ]; check "stdin and file give the same probability" $?

# A missing file: an error line, exit status 1, the other file still scored.
out=$("$bin" classify --model "$model" /nonexistent.eml "$src/config/examples/hello.eml" 2>/dev/null)
status=$?
[ $status -eq 1 ]; check "missing file makes exit status 1" $?
echo "$out" | grep -q '"error"'; check "missing file gets an error line" $?
echo "$out" | grep -q '"probability"'; check "the other file is still scored" $?

# Empty and garbage input are scored, not refused.
printf '' | "$bin" classify --model "$model" - 2>/dev/null | grep -q '"probability"'; check "empty message is scored" $?
head -c 3000 /dev/urandom | "$bin" classify --model "$model" - 2>/dev/null | grep -q '"probability"'; check "binary garbage is scored" $?

# Missing model: a clear message and status 1.
"$bin" classify --model "$work/none.safetensors" "$src/config/examples/hello.eml" >/dev/null 2>"$work/nomodel.err"
[ $? -eq 1 ] && grep -q "not found" "$work/nomodel.err"; check "missing model file is a clear error" $?

# eval on a manifest the test writes.
mkdir -p "$work/corpus"
for i in 1 2 3; do
  printf 'From: a%s@example.org\nSubject: meeting notes %s\n\nsee you at the meeting\n' $i $i >"$work/corpus/ham$i"
  printf 'From: win%s@prize.example\nSubject: WIN A PRIZE NOW %s\n\nclick here to claim\n' $i $i >"$work/corpus/spam$i"
done
{ printf 'path\tlabel\tsplit\tsource\n'
  for i in 1 2 3; do printf 'ham%s\tham\ttest\tt\nspam%s\tspam\ttest\tt\n' $i $i; done
  printf 'missing\tham\ttest\tt\n'
} >"$work/corpus/manifest.tsv"
"$bin" eval --model "$model" --manifest "$work/corpus/manifest.tsv" --json "$work/eval.json" \
  >"$work/eval.out" 2>"$work/eval.err"
[ $? -eq 1 ]; check "eval reports unreadable messages with status 1" $?
grep -q '"messages": 7' "$work/eval.json"; check "eval counts every listed message" $?
grep -q '"unreadable": 1' "$work/eval.json"; check "eval counts the unreadable one" $?
grep -q '"auc"' "$work/eval.json"; check "eval reports AUC" $?
grep -Eq '^t +6 +3 +3 ' "$work/eval.out"; check "eval table has the source row" $?
grep -q "prepared 7/7" "$work/eval.err"; check "eval shows progress" $?

# Usage errors exit 2; every subcommand has --help.
"$bin" classify --bogus >/dev/null 2>&1; [ $? -eq 2 ]; check "unknown option exits 2" $?
"$bin" frobnicate >/dev/null 2>&1; [ $? -eq 2 ]; check "unknown command exits 2" $?
for c in classify eval import-hf version rules; do
  "$bin" $c --help | grep -q "usage: spamformer $c"; check "$c --help" $?
done
"$bin" version --json | grep -q '"version"'; check "version --json" $?

# The real base model has no head: zero head, p = 0.5 exactly, and the output says so.
if [ -n "${SPAMFORMER_BASE_MODEL_DIR:-}" ] && [ -f "$SPAMFORMER_BASE_MODEL_DIR/config.json" ]; then
  "$bin" import-hf "$SPAMFORMER_BASE_MODEL_DIR" --out "$work/base.safetensors" >/dev/null 2>&1
  check "import-hf of the base model" $?
  out=$("$bin" classify --model "$work/base.safetensors" "$src/config/examples/hello.eml" 2>"$work/base.err")
  echo "$out" | grep -q '"head":"untrained"'; check "untrained head is named in the JSON" $?
  echo "$out" | grep -q '"probability":0.5[,}]'; check "untrained (zero) head gives exactly 0.5" $?
  grep -q "untrained" "$work/base.err"; check "untrained head is noted on stderr" $?
else
  echo "skip base-model checks (SPAMFORMER_BASE_MODEL_DIR not set)"
fi

echo "$fails failure(s)"
[ $fails -eq 0 ]
