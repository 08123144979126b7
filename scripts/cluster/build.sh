#!/usr/bin/env bash
# Builds kube-apiserver and etcd from the Go module proxy, once, into a cache outside the repo:
#   ${SWITCHBOARD_CACHE:-$HOME/.cache/switchboard}/bin/{kube-apiserver,etcd}
# A binary is rebuilt only when it is missing or `<binary> --version` does not report the
# pinned version. Building kube-apiserver takes a long time on 2 cores (see docs/cluster.md).
#
#   scripts/cluster/build.sh            build whatever is missing
#   scripts/cluster/build.sh --force    rebuild both
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.34.4}"   # k8s.io/kubernetes tag; staging modules are v0.<minor>.<patch>
ETCD_VERSION="${ETCD_VERSION:-v3.6.5}"  # what k8s 1.34 lists in build/dependencies.yaml
CACHE="${SWITCHBOARD_CACHE:-$HOME/.cache/switchboard}"
BIN="$CACHE/bin"
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

log() { printf '[cluster/build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

command -v go >/dev/null || { log "go is not on PATH; install Go >= 1.24 first"; exit 1; }
mkdir -p "$BIN"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

export CGO_ENABLED=0
export GOFLAGS=-mod=mod
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"

have_version() { # binary, expected substring of its --version output
  local out
  [[ -x "$1" ]] && out="$("$1" --version 2>/dev/null)" && [[ "$out" == *"$2"* ]]
}

build_apiserver() {
  local want="Kubernetes $K8S_VERSION"
  if [[ $FORCE == 0 ]] && have_version "$BIN/kube-apiserver" "$want"; then
    log "kube-apiserver $K8S_VERSION already in $BIN"; return
  fi
  local ver="${K8S_VERSION#v}" major minor patch staging
  IFS=. read -r major minor patch <<<"${ver%%-*}"
  staging="v0.$minor.$patch${ver#"${ver%%-*}"}"
  local tmp="$WORK/kube-apiserver"; mkdir -p "$tmp"
  log "resolving k8s.io/kubernetes@$K8S_VERSION (staging modules at $staging)"
  local modfile
  modfile="$(cd "$tmp" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
  [[ -f "$modfile" ]] || { log "could not download k8s.io/kubernetes@$K8S_VERSION"; exit 1; }
  {
    echo "module switchboard.local/build/kube-apiserver"
    echo
    echo "go 1.24.0"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "replace ("
    # every `k8s.io/xxx => ./staging/src/k8s.io/xxx` in kubernetes' go.mod becomes `k8s.io/xxx => k8s.io/xxx <staging>`
    sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\)[[:space:]]*=>[[:space:]]*\./staging/src/.*#\1#p' "$modfile" |
      while read -r m; do printf '\t%s => %s %s\n' "$m" "$m" "$staging"; done
    echo ")"
  } >"$tmp/go.mod"
  log "go.mod has $(grep -c '=>' "$tmp/go.mod") staging replace lines"
  # buildDate: the tag's time from the proxy's .info file, so rebuilds are reproducible
  local date; date="$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "${modfile%.mod}.info" 2>/dev/null || true)"
  [[ -n "$date" ]] || date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  local ld="-s -w" pkg key val
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    for kv in "gitVersion=$K8S_VERSION" "gitMajor=$major" "gitMinor=$minor" "gitTreeState=clean" "buildDate=$date"; do
      key="${kv%%=*}"; val="${kv#*=}"
      ld+=" -X '$pkg.$key=$val'"
    done
  done
  log "building kube-apiserver $K8S_VERSION (first time: about 5 min on 2 cores; then seconds from the Go build cache)"
  local t0=$SECONDS
  (cd "$tmp" && go build -trimpath -ldflags "$ld" -o "$BIN/kube-apiserver.new" k8s.io/kubernetes/cmd/kube-apiserver)
  mv -f "$BIN/kube-apiserver.new" "$BIN/kube-apiserver"
  have_version "$BIN/kube-apiserver" "$want" || { log "built kube-apiserver reports '$("$BIN/kube-apiserver" --version)', expected '$want'"; exit 1; }
  log "kube-apiserver built in $((SECONDS - t0)) s: $("$BIN/kube-apiserver" --version)"
}

build_etcd() {
  local want="etcd Version: ${ETCD_VERSION#v}"
  if [[ $FORCE == 0 ]] && have_version "$BIN/etcd" "$want"; then
    log "etcd $ETCD_VERSION already in $BIN"; return
  fi
  local tmp="$WORK/etcd"; mkdir -p "$tmp"
  printf 'module switchboard.local/build/etcd\n\ngo 1.24.0\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION" >"$tmp/go.mod"
  log "building etcd $ETCD_VERSION"
  local t0=$SECONDS
  # go.etcd.io/etcd/server/v3's root package is `package main` (a wrapper around etcdmain).
  (cd "$tmp" && go build -trimpath -ldflags "-s -w" -o "$BIN/etcd.new" go.etcd.io/etcd/server/v3)
  mv -f "$BIN/etcd.new" "$BIN/etcd"
  have_version "$BIN/etcd" "$want" || { log "built etcd reports '$("$BIN/etcd" --version | head -1)', expected '$want'"; exit 1; }
  log "etcd built in $((SECONDS - t0)) s: $("$BIN/etcd" --version | head -1)"
}

T0=$SECONDS
build_etcd
build_apiserver
log "done in $((SECONDS - T0)) s; binaries in $BIN"
