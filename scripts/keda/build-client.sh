#!/usr/bin/env bash
# Builds test/keda/go-client (a tiny program around KEDA's own generated Go client for
# externalscaler.proto) into ${SWITCHBOARD_CACHE:-~/.cache/switchboard}/keda/kedaclient.
# The generated package is copied from the Go module github.com/kedacore/keda/v2 in the module
# cache (scripts/keda/ensure.sh downloads it); grpc and protobuf come from the Go module proxy.
# Idempotent: rebuilds only when main.go changed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
version="${KEDA_VERSION:-v2.18.3}"
cache="${SWITCHBOARD_CACHE:-$HOME/.cache/switchboard}/keda"
bin="$cache/kedaclient"
src="$root/test/keda/go-client/main.go"
stamp="$cache/kedaclient.sha256"
sum="$(cat "$src" "$0" | sha256sum | cut -d' ' -f1)-$version"
if [[ -x "$bin" && -f "$stamp" && "$(cat "$stamp")" == "$sum" ]]; then exit 0; fi
log() { printf '[keda/build-client %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
command -v go >/dev/null || { log "Go is required and is not on PATH"; exit 1; }
"$here/ensure.sh"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && go mod init keda-fetch >/dev/null 2>&1)
dir="$(cd "$tmp" && go mod download -json "github.com/kedacore/keda/v2@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
work="$tmp/kedaclient"
mkdir -p "$work/externalscaler"
cp "$src" "$work/main.go"
cp "$dir"/pkg/scalers/externalscaler/externalscaler.pb.go "$dir"/pkg/scalers/externalscaler/externalscaler_grpc.pb.go "$work/externalscaler/"
chmod -R u+w "$work"
cd "$work"
go mod init switchboard.dev/kedaclient >/dev/null 2>&1
# The versions KEDA itself builds with (its go.mod), so the generated code matches.
go get google.golang.org/grpc@v1.76.0 google.golang.org/protobuf@v1.36.10 >/dev/null 2>&1
go mod tidy >/dev/null 2>&1
log "go build kedaclient (KEDA $version generated client)"
CGO_ENABLED=0 go build -o "$bin" .
echo "$sum" >"$stamp"
log "ready: $bin"
