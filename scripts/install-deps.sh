#!/usr/bin/env bash
# install-deps.sh: installs the Debian 12 packages Spamformer needs to build,
# test and run. Idempotent; uses sudo when not run as root.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git ca-certificates
  python3 python3-pip unzip zstd
  libmimetic-dev libgumbo-dev libuchardet-dev libutf8proc-dev
  libopenblas-dev nlohmann-json3-dev libtomlplusplus-dev
  libsqlite3-dev sqlite3
  libgtest-dev libgmock-dev libbenchmark-dev
  libboost-dev spamc curl
  postfix swaks
  clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present" >&2
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Postfix (for tests/postfix_test.sh, which writes its own instance): install
# it unconfigured, without the interactive question.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
