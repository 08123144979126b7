#!/usr/bin/env bash
# Creates the Python venv for bench/routing/sklearn-reference.py (scikit-learn, LightGBM, numpy) under
# .local/ (git-ignored). Bench only: nothing at run time uses Python.
# usage: bash scripts/bench/sklearn-venv.sh   -> prints the venv's python path
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.local/sklearn-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import sklearn, lightgbm' 2>/dev/null ||
  "$venv/bin/pip" install --quiet --disable-pip-version-check scikit-learn==1.7.2 numpy==2.3.5 lightgbm==4.7.0 >&2
echo "$venv/bin/python"
