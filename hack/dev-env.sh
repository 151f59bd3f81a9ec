#!/usr/bin/env bash
# The development and test environment made of real servers on 127.0.0.1:
# etcd + kube-apiserver (envtest's flag set, certificates from openssl, RBAC) and moto_server.
#   hack/dev-env.sh up       start everything on free ports, install crds/, write $DIR/env
#   hack/dev-env.sh up --with-node   the same, then a real node (hack/node.sh up: containerd and a
#                            kubelet running pods, kube-controller-manager)
#   hack/dev-env.sh down     stop every process it started (by recorded pid), the node first
#                            (hack/node.sh down restores the host); safe to repeat
#   hack/dev-env.sh status   say what is running
#   hack/dev-env.sh restart-apiserver   stop kube-apiserver and start it again, same flags and etcd
# DIR is $NP_DEV_ENV_DIR or .dev-env in the repo; logs go to $DIR/logs/.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${NP_DEV_ENV_DIR:-$repo/.dev-env}
case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac
pki="$dir/pki"
logs="$dir/logs"
pids="$dir/pids"
START_TIMEOUT=${NP_DEV_ENV_TIMEOUT:-90}

log() { echo "dev-env: $*" >&2; }
die() { echo "dev-env: ERROR: $*" >&2; exit 1; }

# shellcheck source=hack/lib.sh
. "$repo/hack/lib.sh"

gen_certs() {
    mkdir -p "$pki"
    local o=(-sha256)
    openssl ecparam -name prime256v1 -genkey -noout -out "$pki/ca.key" 2>/dev/null
    openssl req -x509 -new -key "$pki/ca.key" -subj "/CN=netposture-dev-ca" -days 7 "${o[@]}" \
        -out "$pki/ca.crt" 2>/dev/null
    # API server serving certificate.
    openssl ecparam -name prime256v1 -genkey -noout -out "$pki/apiserver.key" 2>/dev/null
    openssl req -new -key "$pki/apiserver.key" -subj "/CN=kube-apiserver" -out "$pki/apiserver.csr" 2>/dev/null
    # 10.0.0.1 is the ClusterIP of the "kubernetes" Service (the first address of
    # --service-cluster-ip-range), the address pods reach the API server at (hack/node.sh).
    printf 'subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' \
        >"$pki/apiserver.ext"
    openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
        -days 7 "${o[@]}" -extfile "$pki/apiserver.ext" -out "$pki/apiserver.crt" 2>/dev/null
    # Admin client certificate (system:masters), a least-privilege identity for the controller,
    # and the API server's identity towards kubelets (kubectl logs/exec on hack/node.sh's node).
    local user
    for user in admin:system:masters controller:netposture kubelet-client:system:masters; do
        local cn=${user%%:*} org=${user#*:}
        openssl ecparam -name prime256v1 -genkey -noout -out "$pki/$cn.key" 2>/dev/null
        openssl req -new -key "$pki/$cn.key" -subj "/O=$org/CN=$cn" -out "$pki/$cn.csr" 2>/dev/null
        printf 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n' >"$pki/client.ext"
        openssl x509 -req -in "$pki/$cn.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
            -days 7 "${o[@]}" -extfile "$pki/client.ext" -out "$pki/$cn.crt" 2>/dev/null
    done
    # A static bearer token for the same controller identity (user "controller", group
    # "netposture"), for clients that authenticate with a token (the exec-plugin tests).
    head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$pki/controller.token"
    printf '%s,controller,controller,netposture\n' "$(cat "$pki/controller.token")" >"$pki/tokens.csv"
    # Service-account signing key pair.
    openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
    openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
    chmod 600 "$pki"/*.key "$pki/controller.token" "$pki/tokens.csv"
}

write_kubeconfig() {
    local file=$1 user=$2 server=$3
    cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: netposture-dev
  cluster:
    server: $server
    certificate-authority: $pki/ca.crt
users:
- name: $user
  user:
    client-certificate: $pki/$user.crt
    client-key: $pki/$user.key
contexts:
- name: netposture-dev
  context: {cluster: netposture-dev, user: $user}
current-context: netposture-dev
EOF
}

cmd_up() {
    if pid_alive "$pids/kube-apiserver.pid" && [ -f "$dir/env" ]; then
        log "already up ($dir/env)"
        return 0
    fi
    cmd_down >/dev/null 2>&1 || true
    local bin_dir
    bin_dir=$("$repo/hack/build-kube.sh") || die "kube-apiserver/etcd are not built (run make deps)"
    mkdir -p "$dir" "$logs" "$pids"
    rm -rf "$dir/etcd-data" "$pki"
    gen_certs

    local etcd_port etcd_peer api_port moto_port
    etcd_port=$(free_port); etcd_peer=$(free_port); api_port=$(free_port); moto_port=$(free_port)

    log "starting etcd on 127.0.0.1:$etcd_port"
    "$bin_dir/etcd" --name np-dev --data-dir "$dir/etcd-data" \
        --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
        --listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
        --initial-cluster "np-dev=http://127.0.0.1:$etcd_peer" --unsafe-no-fsync \
        --listen-metrics-urls "" --log-level warn >"$logs/etcd.log" 2>&1 &
    echo $! >"$pids/etcd.pid"

    log "starting moto on 127.0.0.1:$moto_port"
    # NP_MOTO_SERVER: a script run instead of `python3 -m moto.server`, with its arguments
    # (the benchmark's bench/moto_indexed_tags.py)
    local moto_cmd=(python3 -m moto.server)
    [ -z "${NP_MOTO_SERVER:-}" ] || moto_cmd=(python3 "$NP_MOTO_SERVER")
    MOTO_EC2_LOAD_DEFAULT_AMIS=false "${moto_cmd[@]}" -H 127.0.0.1 -p "$moto_port" \
        >"$logs/moto.log" 2>&1 &
    echo $! >"$pids/moto.pid"

    wait_until "$START_TIMEOUT" "etcd health" curl -fsS "http://127.0.0.1:$etcd_port/health" \
        || { tail -20 "$logs/etcd.log" >&2; die "etcd did not become healthy"; }

    # kube-apiserver derives its advertise address from the default route; without one, give
    # a documentation-range address it will never contact (endpoint reconciliation is off).
    local advertise=()
    if ! awk 'NR>1 && $2=="00000000" {found=1} END {exit !found}' /proc/net/route 2>/dev/null; then
        advertise=(--advertise-address=192.0.2.1)
    fi
    # An audit log of the writes to netposture objects and Events (who wrote which status: the
    # sharding tests read it by user agent), and of every request a service account makes (only
    # the controller runs as one here: tests/e2e/test_install.sh checks what its RBAC is used for).
    cat >"$dir/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived, ResponseStarted]
rules:
- level: Metadata
  userGroups: ["system:serviceaccounts"]
- level: Metadata
  verbs: [create, update, patch, delete]
  resources:
  - group: netposture.dev
  - group: ""
    resources: [events]
  - group: events.k8s.io
    resources: [events]
- level: None
EOF
    log "starting kube-apiserver on 127.0.0.1:$api_port"
    # The command line is kept (one argument a line) so restart-apiserver reuses it.
    printf '%s\n' "$bin_dir/kube-apiserver" \
        --etcd-servers="http://127.0.0.1:$etcd_port" \
        --bind-address=127.0.0.1 --secure-port="$api_port" \
        --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
        --client-ca-file="$pki/ca.crt" --token-auth-file="$pki/tokens.csv" \
        --service-account-issuer="https://127.0.0.1:$api_port/" \
        --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
        --service-cluster-ip-range=10.0.0.0/24 \
        --authorization-mode=Node,RBAC \
        --kubelet-client-certificate="$pki/kubelet-client.crt" --kubelet-client-key="$pki/kubelet-client.key" \
        --kubelet-certificate-authority="$pki/ca.crt" --kubelet-preferred-address-types=InternalIP \
        --allow-privileged=true \
        --endpoint-reconciler-type=none \
        --audit-policy-file="$dir/audit-policy.yaml" --audit-log-path="$logs/audit.log" \
        --audit-log-format=json --audit-log-mode=blocking \
        "${advertise[@]}" >"$dir/kube-apiserver.args"
    start_apiserver

    local server="https://127.0.0.1:$api_port"
    write_kubeconfig "$dir/kubeconfig" admin "$server"
    write_kubeconfig "$dir/controller.kubeconfig" controller "$server"
    chmod 600 "$dir/kubeconfig" "$dir/controller.kubeconfig"

    wait_until "$START_TIMEOUT" "kube-apiserver /readyz" \
        curl -fsS --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" "$server/readyz" \
        || { tail -30 "$logs/kube-apiserver.log" >&2; die "kube-apiserver did not become ready"; }
    wait_until "$START_TIMEOUT" "moto" curl -fsS "http://127.0.0.1:$moto_port/moto-api/data.json" \
        || { tail -20 "$logs/moto.log" >&2; die "moto did not start"; }

    cat >"$dir/env" <<EOF
# netposture dev environment: source this file.
export NP_DEV_ENV_DIR='$dir'
export PATH='$bin_dir':"\$PATH"
export KUBECONFIG='$dir/kubeconfig'
export NP_CONTROLLER_KUBECONFIG='$dir/controller.kubeconfig'
export NP_CONTROLLER_TOKEN_FILE='$pki/controller.token'
export NP_KUBE_SERVER='$server'
export NP_ETCD_URL='http://127.0.0.1:$etcd_port'
export NP_AUDIT_LOG='$logs/audit.log'
export AWS_ENDPOINT_URL='http://127.0.0.1:$moto_port'
export AWS_ACCESS_KEY_ID='testing'
export AWS_SECRET_ACCESS_KEY='testing'
export AWS_REGION='us-east-1'
export AWS_DEFAULT_REGION='us-east-1'
export AWS_EC2_METADATA_DISABLED='true'
export AWS_PAGER=''
EOF
    # shellcheck disable=SC1091
    source "$dir/env"
    install_crds
    log "up: source $dir/env"
}

start_apiserver() {
    local -a argv
    mapfile -t argv <"$dir/kube-apiserver.args"
    "${argv[@]}" >>"$logs/kube-apiserver.log" 2>&1 &
    echo $! >"$pids/kube-apiserver.pid"
}

# Stops kube-apiserver and starts it again with the same flags and etcd, then waits for /readyz.
cmd_restart_apiserver() {
    [ -f "$dir/kube-apiserver.args" ] || die "not up ($dir)"
    stop_pid_file "$pids/kube-apiserver.pid"
    start_apiserver
    local server
    server=$(sed -n 's/.*--secure-port=//p' "$dir/kube-apiserver.args")
    wait_until "$START_TIMEOUT" "kube-apiserver /readyz" \
        curl -fsS --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
        "https://127.0.0.1:$server/readyz" || die "kube-apiserver did not become ready again"
    log "kube-apiserver restarted (pid $(cat "$pids/kube-apiserver.pid"))"
}

install_crds() {
    shopt -s nullglob
    local files=("$repo"/crds/netposture.dev_*.yaml)
    shopt -u nullglob
    [ ${#files[@]} -gt 0 ] || return 0
    local f
    for f in "${files[@]}"; do
        kubectl apply --server-side --force-conflicts --field-manager=netposture-dev-env -f "$f" >/dev/null || die "kubectl apply -f $f failed"
    done
    for f in "${files[@]}"; do
        local name
        name=$(kubectl get -f "$f" -o name) || die "cannot read back $f"
        kubectl wait --for=condition=Established --timeout="${START_TIMEOUT}s" "$name" >/dev/null \
            || die "$name did not become Established"
    done
    # The controller's own least-privilege identity (user "controller"), bound to the same
    # ClusterRole and Role that manifests/ grants the in-cluster service account.
    kubectl apply -f "$repo/manifests/base/namespace.yaml" >/dev/null
    kubectl apply -f "$repo/manifests/rbac/clusterrole.yaml" -f "$repo/manifests/rbac/role.yaml" >/dev/null
    kubectl create clusterrolebinding netposture-dev-controller --clusterrole=netposture-controller \
        --user=controller --dry-run=client -o yaml | kubectl apply -f - >/dev/null
    kubectl create rolebinding netposture-dev-controller -n netposture-system --role=netposture-controller \
        --user=controller --dry-run=client -o yaml | kubectl apply -f - >/dev/null
}

cmd_down() {
    local f
    # The node first: its pods, kubelet and containerd, and what they changed on the host.
    if [ -d "$dir/node" ]; then
        "$repo/hack/node.sh" down || log "hack/node.sh down failed (see above)"
    fi
    for f in kube-apiserver moto etcd; do
        stop_pid_file "$pids/$f.pid"
    done
    shopt -s nullglob
    for f in "$pids"/*.pid; do stop_pid_file "$f"; done
    shopt -u nullglob
    rm -rf "$dir/etcd-data" "$dir/env" "$dir/kube-apiserver.args"
}

cmd_status() {
    local f rc=0
    for f in etcd kube-apiserver moto; do
        if pid_alive "$pids/$f.pid"; then
            echo "$f: running (pid $(cat "$pids/$f.pid"))"
        else
            echo "$f: stopped"
            rc=1
        fi
    done
    [ -f "$dir/env" ] && echo "env: $dir/env"
    return $rc
}

case "${1:-}" in
up)
    case "${2:-}" in
    "") cmd_up ;;
    --with-node) cmd_up && "$repo/hack/node.sh" up ;;
    *) die "usage: $0 up [--with-node]" ;;
    esac
    ;;
down) cmd_down ;;
status) cmd_status ;;
restart-apiserver) cmd_restart_apiserver ;;
*) echo "usage: $0 up [--with-node]|down|status|restart-apiserver" >&2; exit 2 ;;
esac
