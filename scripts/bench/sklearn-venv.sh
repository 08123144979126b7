#!/usr/bin/env bash
# Creates the Python venv for bench/routing/sklearn-reference.py (scikit-learn + numpy) under
# .local/ (git-ignored). Bench only: nothing at run time uses Python.
# usage: bash scripts/bench/sklearn-venv.sh   -> prints the venv's python path
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.local/sklearn-venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check scikit-learn==1.7.2 numpy==2.3.5 >&2
fi
echo "$venv/bin/python"
