#!/usr/bin/env bash
# Builds Jaeger v2 (the all-in-one collector + query, github.com/jaegertracing/jaeger/cmd/jaeger)
# from the Go module proxy into ${SWITCHBOARD_CACHE:-~/.cache/switchboard}/bin/jaeger, for the
# end-to-end tracing tests (test/tracing) and the tracing benchmark (bench/tracing).
# Idempotent: skipped when the binary for this version is already there.
set -euo pipefail
version="${JAEGER_VERSION:-v1.76.0}"
cache="${SWITCHBOARD_CACHE:-$HOME/.cache/switchboard}"
bin="$cache/bin/jaeger"
stamp="$cache/bin/jaeger.version"
if [[ -x "$bin" && -f "$stamp" && "$(cat "$stamp")" == "$version" ]]; then exit 0; fi
log() { printf '[jaeger/build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
command -v go >/dev/null || { log "Go is required to build Jaeger and is not on PATH"; exit 1; }
mkdir -p "$cache/bin"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
go mod init switchboard.dev/jaeger-build >/dev/null 2>&1
export GOFLAGS=-mod=mod
log "go get github.com/jaegertracing/jaeger@$version"
go get "github.com/jaegertracing/jaeger/cmd/jaeger@$version" >/dev/null 2>&1
log "go build jaeger $version (several minutes on a small machine)"
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$tmp/jaeger" github.com/jaegertracing/jaeger/cmd/jaeger
mv "$tmp/jaeger" "$bin"
echo "$version" >"$stamp"
log "ready: $bin"
