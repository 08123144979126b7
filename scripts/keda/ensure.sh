#!/usr/bin/env bash
# Idempotent: fetches KEDA's real CRDs and external-scaler proto from the Go module
# github.com/kedacore/keda/v2 (Go module proxy, `go mod download`) into
# ${SWITCHBOARD_CACHE:-~/.cache/switchboard}/keda/<version>/ and points keda/current at it.
# Used by test/keda (ScaledObject validation against KEDA's own schema). Fast when present.
set -euo pipefail
version="${KEDA_VERSION:-v2.18.3}"
cache="${SWITCHBOARD_CACHE:-$HOME/.cache/switchboard}/keda"
dest="$cache/$version"
log() { printf '[keda/ensure %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [[ -f "$dest/keda.sh_scaledobjects.yaml" && -f "$dest/externalscaler.proto" ]]; then
  ln -sfn "$version" "$cache/current"
  exit 0
fi
command -v go >/dev/null || { log "Go is required to download github.com/kedacore/keda/v2 and is not on PATH"; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && go mod init keda-fetch >/dev/null 2>&1)
log "go mod download github.com/kedacore/keda/v2@$version"
dir="$(cd "$tmp" && go mod download -json "github.com/kedacore/keda/v2@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[[ -n "$dir" && -d "$dir" ]] || { log "module directory not found after download"; exit 1; }
mkdir -p "$dest"
cp "$dir"/config/crd/bases/*.yaml "$dest/"
cp "$dir/pkg/scalers/externalscaler/externalscaler.proto" "$dest/"
cp "$dir/LICENSE" "$dest/LICENSE"
chmod -R u+w "$dest"
ln -sfn "$version" "$cache/current"
log "ready: $dest"
