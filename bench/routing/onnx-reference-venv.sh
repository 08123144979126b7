#!/usr/bin/env bash
# Creates the Python venv for bench/routing/onnx-reference.py (onnxruntime + tokenizers + numpy)
# under .local/ (git-ignored). Bench only: nothing at run time uses Python.
# usage: bash bench/routing/onnx-reference-venv.sh   -> prints the venv's python path
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.local/onnx-reference-venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check onnxruntime==1.31.0 tokenizers==0.23.3 numpy==2.4.6 >&2
fi
echo "$venv/bin/python"
