#!/usr/bin/env bash
# Installs moto's S3-compatible server (PyPI `moto[server]`) into a virtualenv under
# ${SWITCHBOARD_CACHE:-~/.cache/switchboard}/moto, for the tests that read router artifacts from
# s3:// URIs (test/support/s3.ts starts it). Idempotent: skipped when this version is installed.
set -euo pipefail
version="${MOTO_VERSION:-5.2.5}"
cache="${SWITCHBOARD_CACHE:-$HOME/.cache/switchboard}"
venv="$cache/moto"
stamp="$venv/moto.version"
if [[ -x "$venv/bin/moto_server" && -f "$stamp" && "$(cat "$stamp")" == "$version" ]]; then exit 0; fi
log() { printf '[s3/install-moto %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
command -v python3 >/dev/null || { log "python3 is required for moto and is not on PATH"; exit 1; }
rm -rf "$venv"
python3 -m venv "$venv"
log "pip install moto[server]==$version"
"$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$version"
echo "$version" >"$stamp"
log "ready: $venv/bin/moto_server"
