#!/usr/bin/env bash
# A real kube-apiserver 1.20 (built from Debian's source package) plus etcd, on loopback, so that
# the simulator's contract tests can also run against the real thing.
#
#   scripts/kube-apiserver.sh install     install etcd/Go from Debian, build kube-apiserver once
#   scripts/kube-apiserver.sh start DIR   start etcd + kube-apiserver, write DIR/kubeconfig, wait
#   scripts/kube-apiserver.sh stop DIR    stop what `start DIR` started
#
# The binary is cached outside the repository in ${NODEMEND_CACHE:-$HOME/.cache/nodemend}.
# No kube-controller-manager runs: no service-account tokens (so the ServiceAccount admission
# plugin is off), no namespace cleanup, no node lifecycle, no disruption controller.
# Ports: NODEMEND_KUBE_PORT (default 26443), NODEMEND_ETCD_PORT (23791), NODEMEND_ETCD_PEER_PORT (23801).
set -euo pipefail

KUBE_VERSION_DEB="1.20.5+really1.20.2-1.1+deb12u1"
KUBE_TREE="kubernetes-1.20.2"
CACHE="${NODEMEND_CACHE:-$HOME/.cache/nodemend}"
BIN="$CACHE/bin/kube-apiserver-1.20.2"
KUBE_PORT="${NODEMEND_KUBE_PORT:-26443}"
ETCD_PORT="${NODEMEND_ETCD_PORT:-23791}"
ETCD_PEER_PORT="${NODEMEND_ETCD_PEER_PORT:-23801}"
TOKEN="nodemend-test-token"

log() { echo "kube-apiserver.sh: $*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

has_deb_src() {
    grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/
}

add_deb_src() {
    log "adding a deb-src source for bookworm"
    as_root tee /etc/apt/sources.list.d/nodemend-deb-src.sources >/dev/null <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
}

install() {
    has_deb_src || add_deb_src
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q etcd-server golang-go rsync openssl curl \
        golang-github-modern-go-reflect2-dev
    if [ -x "$BIN" ]; then
        log "already built: $BIN"
        return
    fi
    local src="$CACHE/src"
    mkdir -p "$src" "$CACHE/bin"
    (
        cd "$src"
        ls kubernetes_*.orig.tar.gz >/dev/null 2>&1 ||
            apt-get source --download-only "kubernetes=$KUBE_VERSION_DEB"
        rm -rf "$KUBE_TREE"
        tar xzf kubernetes_*.orig.tar.gz
        cd "$KUBE_TREE"
        # The vendored reflect2 1.0.1 predates Go 1.18: with Debian's Go 1.19 the server panics
        # decoding some map fields (any Pod create). Debian ships the fixed 1.0.2.
        rsync -a --delete /usr/share/gocode/src/github.com/modern-go/reflect2/ vendor/github.com/modern-go/reflect2/
        log "building cmd/kube-apiserver (about 7 minutes on 2 cores)"
        GOPROXY=off GOCACHE="$src/go-build" CGO_ENABLED=0 \
            make WHAT=cmd/kube-apiserver
        cp _output/bin/kube-apiserver "$BIN.tmp"
        mv "$BIN.tmp" "$BIN"
    )
    # The 1.8 GB tree and Go cache are only needed for the build.
    rm -rf "${src:?}/$KUBE_TREE" "${src:?}/go-build"
    log "built $BIN"
}

wait_ready() {
    local dir="$1" deadline=$((SECONDS + 90))
    until curl -skf -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$KUBE_PORT/readyz" >/dev/null; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "kube-apiserver not ready after 90 s; see $dir/kube-apiserver.log"
            return 1
        fi
        if ! kill -0 "$(cat "$dir/kube-apiserver.pid")" 2>/dev/null; then
            log "kube-apiserver exited; see $dir/kube-apiserver.log"
            tail -n 20 "$dir/kube-apiserver.log" >&2
            return 1
        fi
        sleep 0.5
    done
}

write_kubeconfig() {
    cat >"$1/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kube-apiserver-1.20
  cluster:
    server: https://127.0.0.1:$KUBE_PORT
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: $TOKEN
contexts:
- name: kube-apiserver-1.20
  context:
    cluster: kube-apiserver-1.20
    user: admin
    namespace: default
current-context: kube-apiserver-1.20
EOF
}

start() {
    local dir="${1:?usage: start DIR}"
    [ -x "$BIN" ] || { log "not built yet: run '$0 install' first"; exit 1; }
    mkdir -p "$dir/certs"
    dir="$(cd "$dir" && pwd)"
    [ -f "$dir/sa.key" ] || openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null
    openssl rsa -in "$dir/sa.key" -pubout -out "$dir/sa.pub" 2>/dev/null
    echo "$TOKEN,admin,admin,system:masters" >"$dir/tokens.csv"
    etcd --data-dir "$dir/etcd" \
        --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
        --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
        --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
        --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
        --initial-cluster "default=http://127.0.0.1:$ETCD_PEER_PORT" \
        >"$dir/etcd.log" 2>&1 &
    echo $! >"$dir/etcd.pid"
    "$BIN" --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
        --bind-address=127.0.0.1 --advertise-address=127.0.0.1 \
        --secure-port="$KUBE_PORT" --insecure-port=0 --cert-dir="$dir/certs" \
        --token-auth-file="$dir/tokens.csv" --authorization-mode=RBAC \
        --service-account-key-file="$dir/sa.pub" \
        --service-account-signing-key-file="$dir/sa.key" \
        --service-account-issuer=https://kubernetes.default.svc \
        --service-cluster-ip-range=10.96.0.0/16 --endpoint-reconciler-type=none \
        --disable-admission-plugins=ServiceAccount \
        >"$dir/kube-apiserver.log" 2>&1 &
    echo $! >"$dir/kube-apiserver.pid"
    write_kubeconfig "$dir"
    wait_ready "$dir"
    log "ready: KUBECONFIG=$dir/kubeconfig"
}

stop() {
    local dir="${1:?usage: stop DIR}" name pid
    for name in kube-apiserver etcd; do
        [ -f "$dir/$name.pid" ] || continue
        pid="$(cat "$dir/$name.pid")"
        if kill "$pid" 2>/dev/null; then
            for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        fi
        rm -f "$dir/$name.pid"
    done
    log "stopped ($dir)"
}

case "${1:-}" in
install) install ;;
start) start "${2:-}" ;;
stop) stop "${2:-}" ;;
*)
    echo "usage: $0 install | start DIR | stop DIR" >&2
    exit 2
    ;;
esac
