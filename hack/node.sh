#!/usr/bin/env bash
# A real Kubernetes node beside the dev environment (hack/dev-env.sh), so that manifests/ runs as
# pods: containerd + runc (Debian packages) and a kubelet, plus the kube-controller-manager
# controllers a Deployment needs (deployment, replicaset, endpointslice, garbage collector,
# kube-root-ca.crt publisher). Everything lives under $NP_DEV_ENV_DIR/node: containerd's root,
# state, socket and config, the kubelet's root dir, pod logs, CNI config and IPAM state.
#   hack/node.sh up           start the node (the dev env must be up); writes $DIR/node/env
#   hack/node.sh down         stop every process it started (by recorded pid), also half-started
#                             ones, and restore the host (below); safe to repeat
#   hack/node.sh status       say what is running
#   hack/node.sh host-state   print what a node changes on a host (mounts, root cgroups, iptables,
#                             links, sysctls, directories), to compare before up and after down
#
# Pods get their own network namespace on a bridge (CNI bridge + host-local from Debian's
# containernetworking-plugins, $NP_NODE_POD_CIDR, default 10.244.0.0/24; the bridge carries the
# node's InternalIP, the gateway .1). Every server stays bound to 127.0.0.1: iptables DNAT rules
# in the node's own chains take a pod's connection to the "kubernetes" Service (10.0.0.1:443, what
# kube-proxy would do) to the API server, the gateway's moto port to moto, and the API server's
# connection to the node's InternalIP (kubectl logs/exec) to the kubelet; route_localnet on the
# bridge lets these reach 127.0.0.1. The node's cgroups live under /netposture-node in every
# hierarchy (cgroupRoot), and the sandbox image is a static pause built here from the Kubernetes
# module's build/pause/linux/pause.c and imported into containerd (no registry is needed).
#
# What the node changes on the host, recorded before `up` and restored by `down`: the sysctls the
# kubelet sets (kernel.panic, kernel.panic_on_oops, vm.overcommit_memory) and net.ipv4.ip_forward
# (the bridge plugin); the bridge and its veths; the NP-NODE iptables chains; the cgroups; the
# kubelet's fixed paths (/var/lib/kubelet/device-plugins, /var/log/containers symlinks,
# /var/log/pods), containerd's shim socket directory (/run/containerd) and its CNI result cache
# (/var/lib/cni); the mounts under the node directory (the kubelet's rshared root dir, pod
# volumes, container root filesystems, network namespaces).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${NP_DEV_ENV_DIR:-$repo/.dev-env}
case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac
node="$dir/node"
pki="$dir/pki"
logs="$dir/logs"
pids="$node/pids"
NODE_NAME=netposture-node
BRIDGE=npnode0
CGROUP_ROOT=netposture-node
CHAIN=NP-NODE
POD_CIDR=${NP_NODE_POD_CIDR:-10.244.0.0/24}
SERVICE_IP=10.0.0.1 # the "kubernetes" Service's ClusterIP (hack/dev-env.sh: 10.0.0.0/24)
START_TIMEOUT=${NP_NODE_TIMEOUT:-180}
# The sysctls the kubelet (setupKernelTunables) and the bridge plugin (isGateway) write.
SYSCTLS=(kernel.panic kernel.panic_on_oops vm.overcommit_memory net.ipv4.ip_forward)
# Host paths the kubelet, containerd and its CNI library (its result cache) write whatever their
# configured directories are.
HOST_PATHS=(/var/lib/kubelet /var/log/pods /var/log/containers /run/containerd /run/netns /var/lib/cni)

log() { echo "node: $*" >&2; }
die() { echo "node: ERROR: $*" >&2; exit 1; }

# shellcheck source=hack/lib.sh
. "$repo/hack/lib.sh"

gateway() { # the pod CIDR's first address (the bridge's, the node's InternalIP)
    python3 -c 'import ipaddress,sys; print(next(ipaddress.ip_network(sys.argv[1]).hosts()))' "$POD_CIDR"
}

# The cgroup v1 hierarchies (and the v2 one, in hybrid mode) mounted on the host.
cgroup_mounts() {
    awk '$9 == "cgroup" || $9 == "cgroup2" {print $5}' /proc/self/mountinfo | sort -u
}

# ------------------------------------------------------------------------------ host state

cmd_host_state() {
    echo "## mounts"
    awk '{print $5, $4, $9}' /proc/self/mountinfo | sort
    echo "## root cgroups"
    local m
    for m in $(cgroup_mounts); do
        find "$m" -mindepth 1 -maxdepth 1 -type d | sort
    done
    echo "## iptables"
    local t
    for t in filter nat mangle; do
        iptables -w -t "$t" -S 2>/dev/null | sed "s/^/$t: /"
    done
    echo "## links"
    ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
    echo "## sysctls"
    local s
    for s in "${SYSCTLS[@]}" net.ipv4.conf.all.route_localnet; do
        echo "$s = $(sysctl -n "$s")"
    done
    echo "## paths"
    local p
    for p in "${HOST_PATHS[@]}"; do
        if [ -e "$p" ]; then echo "$p: $(find "$p" -mindepth 1 -maxdepth 3 | wc -l) entries"; else echo "$p: absent"; fi
    done
}

# ------------------------------------------------------------------------------ up

no_other_node() {
    ! ip link show "$BRIDGE" >/dev/null 2>&1 && ! iptables -w -t nat -S "$CHAIN" >/dev/null 2>&1
}

need() { # need <command> <debian package>
    command -v "$1" >/dev/null || die "$1 is missing (Debian package $2; run make deps)"
}

gen_node_certs() {
    mkdir -p "$node/pki"
    local gw=$1 o=(-sha256) k="$node/pki"
    # The kubelet's client identity (the Node authorizer's system:node:<name> in system:nodes).
    openssl ecparam -name prime256v1 -genkey -noout -out "$k/kubelet.key" 2>/dev/null
    openssl req -new -key "$k/kubelet.key" -subj "/O=system:nodes/CN=system:node:$NODE_NAME" \
        -out "$k/kubelet.csr" 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n' >"$k/client.ext"
    openssl x509 -req -in "$k/kubelet.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
        -days 7 "${o[@]}" -extfile "$k/client.ext" -out "$k/kubelet.crt" 2>/dev/null
    # The kubelet's serving certificate, from the same static CA (the API server checks it).
    openssl ecparam -name prime256v1 -genkey -noout -out "$k/kubelet-serving.key" 2>/dev/null
    openssl req -new -key "$k/kubelet-serving.key" -subj "/CN=$NODE_NAME" -out "$k/kubelet-serving.csr" 2>/dev/null
    printf 'subjectAltName=IP:%s,IP:127.0.0.1,DNS:%s\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' \
        "$gw" "$NODE_NAME" >"$k/serving.ext"
    openssl x509 -req -in "$k/kubelet-serving.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
        -days 7 "${o[@]}" -extfile "$k/serving.ext" -out "$k/kubelet-serving.crt" 2>/dev/null
    chmod 600 "$k"/*.key
}

kubeconfig_for() { # kubeconfig_for <file> <cert> <key>
    cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: netposture-dev
  cluster: {server: $NP_KUBE_SERVER, certificate-authority: $pki/ca.crt}
users:
- name: node
  user: {client-certificate: $2, client-key: $3}
contexts:
- name: netposture-dev
  context: {cluster: netposture-dev, user: node}
current-context: netposture-dev
EOF
    chmod 600 "$1"
}

record_host() {
    local s p
    : >"$node/host.before"
    for s in "${SYSCTLS[@]}"; do
        echo "sysctl $s $(sysctl -n "$s")" >>"$node/host.before"
    done
    for p in "${HOST_PATHS[@]}"; do
        [ -e "$p" ] && echo "existed $p" >>"$node/host.before"
        if [ -d "$p" ]; then find "$p" -mindepth 1 -maxdepth 1 | sed 's/^/entry /' >>"$node/host.before"; fi
    done
    return 0
}

make_cgroups() {
    local m
    for m in $(cgroup_mounts); do
        [ -d "$m/$CGROUP_ROOT" ] && continue
        mkdir "$m/$CGROUP_ROOT"
        echo "$m/$CGROUP_ROOT" >>"$node/cgroups"
        if [ -f "$m/cpuset.cpus" ]; then
            cat "$m/cpuset.cpus" >"$m/$CGROUP_ROOT/cpuset.cpus"
            cat "$m/cpuset.mems" >"$m/$CGROUP_ROOT/cpuset.mems"
        fi
    done
}

setup_network() {
    local gw=$1 api_port=$2 moto_port=$3 kubelet_port=$4 prefix=${POD_CIDR#*/}
    ip link add "$BRIDGE" type bridge
    touch "$node/created-bridge"
    ip addr add "$gw/$prefix" dev "$BRIDGE"
    ip link set "$BRIDGE" up
    sysctl -qw "net.ipv4.conf.$BRIDGE.route_localnet=1"
    iptables -w -t nat -N "$CHAIN"
    touch "$node/created-chain"
    iptables -w -t nat -A "$CHAIN" -s "$POD_CIDR" -d "$SERVICE_IP/32" -p tcp --dport 443 \
        -j DNAT --to-destination "127.0.0.1:$api_port" -m comment --comment "kubernetes Service"
    iptables -w -t nat -A "$CHAIN" -s "$POD_CIDR" -d "$gw/32" -p tcp --dport "$moto_port" \
        -j DNAT --to-destination "127.0.0.1:$moto_port" -m comment --comment "moto"
    iptables -w -t nat -A "$CHAIN" -d "$gw/32" -p tcp --dport "$kubelet_port" \
        -j DNAT --to-destination "127.0.0.1:$kubelet_port" -m comment --comment "kubelet"
    iptables -w -t nat -I PREROUTING -i "$BRIDGE" -j "$CHAIN"
    iptables -w -t nat -I OUTPUT -d "$gw/32" -j "$CHAIN"
    mkdir -p "$node/cni/net.d" "$node/cni/ipam"
    cat >"$node/cni/net.d/10-netposture.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "netposture-node",
  "plugins": [{
    "type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false,
    "ipam": {"type": "host-local", "dataDir": "$node/cni/ipam",
             "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$gw"}]],
             "routes": [{"dst": "0.0.0.0/0"}]}
  }]
}
EOF
}

# The sandbox ("pause") image: the Kubernetes module's pause.c, static, packed like hack/image.sh.
build_pause() {
    local k8s_version src w="$node/pause" tag
    k8s_version=$(awk '$1=="k8s.io/kubernetes"{print $2; exit}' "$repo/hack/kubebins/go.mod")
    src=$(cd "$repo/hack/kubebins" && GOFLAGS=-mod=readonly go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c
    [ -f "$src" ] || die "no $src"
    tag="$k8s_version"
    mkdir -p "$w/rootfs"
    gcc -Os -static -Wall -DVERSION="$tag-netposture" -o "$w/rootfs/pause" "$src"
    strip "$w/rootfs/pause"
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$w/rootfs" -cf "$w/rootfs.tar" .
    umoci init --layout "$w/oci" >/dev/null
    umoci new --image "$w/oci:$tag" >/dev/null
    umoci raw add-layer --image "$w/oci:$tag" "$w/rootfs.tar" >/dev/null
    umoci config --image "$w/oci:$tag" --config.user 65535:65535 --config.entrypoint /pause \
        --clear=config.cmd >/dev/null
    skopeo --insecure-policy copy --quiet "oci:$w/oci:$tag" "docker-archive:$w/pause.tar:localhost/netposture/pause:$tag"
    echo "localhost/netposture/pause:$tag"
}

containerd_config() {
    local pause=$1
    local runc_bin
    runc_bin=$(command -v runc)
    mkdir -p "$node/containerd"
    cat >"$node/containerd/config.toml" <<EOF
# hack/node.sh: containerd for the dev env's node, everything under $node.
version = 2
root = "$node/containerd/root"
state = "$node/containerd/state"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing"]

[grpc]
  address = "$node/containerd/containerd.sock"
[ttrpc]
  address = "$node/containerd/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause"
  # Without it runc fails ("can't get final child's PID from pipe"): the sandbox asks for a
  # negative oom_score_adj and this process lacks CAP_SYS_RESOURCE over it.
  restrict_oom_score_adj = true
  disable_apparmor = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "$runc_bin"
        Root = "$node/containerd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$node/cni/net.d"
    max_conf_num = 1
EOF
}

kubelet_config() {
    local port=$1 healthz_port=$2
    mkdir -p "$node/kubelet" "$node/pod-logs" "$node/volume-plugins"
    cat >"$node/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: $port
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $healthz_port
tlsCertFile: $node/pki/kubelet-serving.crt
tlsPrivateKeyFile: $node/pki/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $pki/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$node/containerd/containerd.sock
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP_ROOT
failSwapOn: false
failCgroupV1: false
makeIPTablesUtilChains: false
podLogsDir: $node/pod-logs
volumePluginDir: $node/volume-plugins
resolvConf: /etc/resolv.conf
maxPods: 16
syncFrequency: 10s
# A shared development machine: evict only when it is really full.
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
EOF
}

start_bg() { # start_bg <name> <command...>: runs it in the background, pid in $pids/<name>.pid
    local name=$1
    shift
    "$@" >>"$logs/$name.log" 2>&1 9<&- &
    echo $! >"$pids/$name.pid"
}

cmd_up() {
    [ -f "$dir/env" ] || die "the dev env is not up ($dir/env; run hack/dev-env.sh up)"
    # shellcheck disable=SC1091
    source "$dir/env"
    if [ -f "$node/env" ] && pid_alive "$pids/kubelet.pid"; then
        log "already up ($node/env)"
        return 0
    fi
    [ "$(id -u)" -eq 0 ] || die "a node needs root (containerd, runc, cgroups, network namespaces)"
    local m
    need containerd containerd; need ctr containerd; need runc runc; need iptables iptables
    need gcc gcc; need umoci umoci; need skopeo skopeo; need ip iproute2
    for m in bridge host-local loopback; do
        [ -x "/usr/lib/cni/$m" ] || die "/usr/lib/cni/$m is missing (Debian package containernetworking-plugins)"
    done
    [ -n "$(cgroup_mounts)" ] || die "no cgroup hierarchy is mounted"
    # One node per host: the kubelet's fixed paths (/var/lib/kubelet/device-plugins) and the
    # bridge cannot be shared. Another dev env's node (a test run beside this one) is waited for;
    # the lock (on a directory every node host has) makes the check and the bridge one step.
    exec 9</usr/lib/cni
    flock 9
    if ! no_other_node; then
        log "another node is up on this host (link $BRIDGE or iptables chain $CHAIN); waiting up to ${NP_NODE_WAIT:-900}s for it to go down"
        wait_until "${NP_NODE_WAIT:-900}" "the other node to go down" no_other_node \
            || die "another node is still up on this host (hack/node.sh down in its dev env)"
    fi
    local bin_dir
    bin_dir=$("$repo/hack/build-kube.sh" --with-node) || die "the kubelet and kube-controller-manager are not built"

    rm -rf "$node"
    mkdir -p "$node" "$pids" "$logs"
    # From here on a failure tears down what was set up.
    trap 'rc=$?; if [ $rc -ne 0 ]; then log "up failed; tearing down"; cmd_down || true; fi' EXIT
    record_host

    local gw api_port moto_port kubelet_port healthz_port
    gw=$(gateway)
    api_port=${NP_KUBE_SERVER##*:}
    moto_port=${AWS_ENDPOINT_URL##*:}
    kubelet_port=$(free_port)
    healthz_port=$(free_port)
    gen_node_certs "$gw"
    kubeconfig_for "$node/kubelet.kubeconfig" "$node/pki/kubelet.crt" "$node/pki/kubelet.key"
    make_cgroups
    setup_network "$gw" "$api_port" "$moto_port" "$kubelet_port"

    local pause
    pause=$(build_pause)
    containerd_config "$pause"
    log "starting containerd ($node/containerd/containerd.sock)"
    start_bg containerd containerd --config "$node/containerd/config.toml"
    local ctr=(ctr --address "$node/containerd/containerd.sock" -n k8s.io)
    wait_until "$START_TIMEOUT" "containerd" "${ctr[@]}" version \
        || { tail -20 "$logs/containerd.log" >&2; die "containerd did not start"; }
    "${ctr[@]}" images import --snapshotter overlayfs "$node/pause/pause.tar" >/dev/null \
        || die "ctr images import $node/pause/pause.tar failed"

    log "starting kube-controller-manager"
    start_bg kube-controller-manager "$bin_dir/kube-controller-manager" \
        --kubeconfig="$KUBECONFIG" --authentication-skip-lookup=true \
        --bind-address=127.0.0.1 --secure-port="$(free_port)" --leader-elect=false \
        --controllers=deployment-controller,replicaset-controller,endpointslice-controller,garbage-collector-controller,root-ca-certificate-publisher-controller \
        --root-ca-file="$pki/ca.crt" --cert-dir="$node/kcm-certs"

    kubelet_config "$kubelet_port" "$healthz_port"
    log "starting kubelet $NODE_NAME (InternalIP $gw, port 127.0.0.1:$kubelet_port)"
    start_bg kubelet "$bin_dir/kubelet" --config="$node/kubelet.yaml" \
        --kubeconfig="$node/kubelet.kubeconfig" --root-dir="$node/kubelet" \
        --hostname-override="$NODE_NAME" --node-ip="$gw" --v=1
    wait_until "$START_TIMEOUT" "kubelet /healthz" curl -fsS "http://127.0.0.1:$healthz_port/healthz" \
        || { tail -30 "$logs/kubelet.log" >&2; die "the kubelet did not become healthy"; }
    wait_until "$START_TIMEOUT" "node $NODE_NAME Ready" \
        kubectl wait --for=condition=Ready --timeout=2s "node/$NODE_NAME" \
        || { tail -30 "$logs/kubelet.log" >&2; die "node $NODE_NAME did not become Ready"; }

    cat >"$node/env" <<EOF
# The dev env's node (hack/node.sh): source after $dir/env.
export NP_NODE_NAME='$NODE_NAME'
export NP_NODE_GATEWAY='$gw'
export NP_NODE_POD_CIDR='$POD_CIDR'
export NP_NODE_CONTAINERD_ADDRESS='$node/containerd/containerd.sock'
export NP_NODE_AWS_ENDPOINT_URL='http://$gw:$moto_port'
export NP_NODE_KUBELET_LOG='$logs/kubelet.log'
EOF
    trap - EXIT
    exec 9<&-
    log "up: node $NODE_NAME Ready; source $node/env"
}

# The processes of the node's containers: every task in its cgroups (they are all ours).
cgroup_tasks() {
    local m
    for m in $(cgroup_mounts); do
        [ -d "$m/$CGROUP_ROOT" ] && find "$m/$CGROUP_ROOT" -name cgroup.procs -exec cat {} + 2>/dev/null
    done | sort -un
}

no_pods_on_node() {
    local out
    out=$(kubectl get pods -A --field-selector "spec.nodeName=$NODE_NAME" -o name) || return 1
    [ -z "$out" ]
}

cmd_down() {
    [ -d "$node" ] || return 0
    local rc=0 ctr=(ctr --address "$node/containerd/containerd.sock" -n k8s.io)
    # 1. The pods, through the kubelet (it stops the containers, unmounts their volumes and lets
    #    CNI remove their network): no controller recreates them once kube-controller-manager
    #    is stopped.
    stop_pid_file "$pids/kube-controller-manager.pid"
    if pid_alive "$pids/kubelet.pid" && [ -f "$dir/kubeconfig" ] \
        && KUBECONFIG="$dir/kubeconfig" kubectl get node "$NODE_NAME" >/dev/null 2>&1; then
        export KUBECONFIG="$dir/kubeconfig"
        kubectl delete pods -A --field-selector "spec.nodeName=$NODE_NAME" --grace-period=5 \
            --wait=false >/dev/null 2>&1 || true
        wait_until 60 "the pods on $NODE_NAME to be gone" no_pods_on_node || rc=1
        kubectl delete node "$NODE_NAME" --wait=false >/dev/null 2>&1 || true
        kubectl delete lease -n kube-node-lease "$NODE_NAME" >/dev/null 2>&1 || true
    fi
    stop_pid_file "$pids/kubelet.pid" 20
    # 2. Whatever still runs in containerd (a kubelet that died early): its sandboxes and
    #    containers, killed and removed while containerd is up.
    if pid_alive "$pids/containerd.pid"; then
        local id
        for id in $("${ctr[@]}" tasks ls -q 2>/dev/null); do
            "${ctr[@]}" tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
        done
        for id in $("${ctr[@]}" tasks ls -q 2>/dev/null); do
            "${ctr[@]}" tasks delete -f "$id" >/dev/null 2>&1 || true
        done
    fi
    stop_pid_file "$pids/containerd.pid" 20
    # 3. Processes left in the node's cgroups, and runc shims (they outlive containerd by design):
    #    each by pid, once it is known to be ours.
    local pid shim
    for pid in $(cgroup_tasks); do
        log "killing pid $pid left in the node's cgroups ($(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | cut -c1-80))"
        kill -KILL "$pid" 2>/dev/null || true
    done
    shopt -s nullglob
    for shim in "$node"/containerd/state/io.containerd.runtime.v2.task/*/*/shim.pid; do
        pid=$(cat "$shim")
        if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "containerd-shim.*$node"; then
            stop_pid "$pid" containerd-shim 5
        fi
    done
    shopt -u nullglob
    # 4. Mounts under the node directory, deepest first (volumes, root filesystems, network
    #    namespaces, the kubelet's rshared root dir).
    local mp
    while read -r mp; do
        umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || { log "cannot unmount $mp"; rc=1; }
    done < <(awk -v p="$node/" 'index($5, p) == 1 || $5 == substr(p, 1, length(p) - 1) {print $5}' /proc/self/mountinfo | sort -r)
    # 5. Network: the pods' veths (gone with their namespaces, unless a namespace was leaked),
    #    the bridge, the iptables chains.
    local link
    if [ -f "$node/created-bridge" ]; then
        for link in $(ip -o link show master "$BRIDGE" 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//'); do
            ip link del "$link" 2>/dev/null || true
        done
        ip link del "$BRIDGE" 2>/dev/null || true
    fi
    local gw
    gw=$(gateway)
    if [ -f "$node/created-chain" ]; then
        while iptables -w -t nat -D PREROUTING -i "$BRIDGE" -j "$CHAIN" 2>/dev/null; do :; done
        while iptables -w -t nat -D OUTPUT -d "$gw/32" -j "$CHAIN" 2>/dev/null; do :; done
        iptables -w -t nat -F "$CHAIN" 2>/dev/null || true
        iptables -w -t nat -X "$CHAIN" 2>/dev/null || true
    fi
    # 6. Cgroups, deepest first (empty now).
    local cg
    if [ -f "$node/cgroups" ]; then
        while read -r cg; do
            [ -d "$cg" ] || continue
            find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
            [ ! -d "$cg" ] || { log "cannot remove cgroup $cg"; rc=1; }
        done <"$node/cgroups"
    fi
    # 7. Sysctls and host paths as they were before `up`.
    if [ -f "$node/host.before" ]; then
        local kind a b
        while read -r kind a b; do
            [ "$kind" = sysctl ] || continue
            [ "$(sysctl -n "$a")" = "$b" ] || sysctl -qw "$a=$b" || { log "cannot restore $a=$b"; rc=1; }
        done <"$node/host.before"
        local p e
        for p in "${HOST_PATHS[@]}"; do
            [ -e "$p" ] || continue
            if ! grep -qxF "existed $p" "$node/host.before"; then
                rm -rf "$p"
                continue
            fi
            # A path that existed: remove only the entries the node added.
            while read -r e; do
                grep -qxF "entry $e" "$node/host.before" || rm -rf "$e"
            done < <(find "$p" -mindepth 1 -maxdepth 1)
        done
    fi
    rm -rf "$node"
    if [ $rc -eq 0 ]; then log "down: host restored"; else log "down: some things could not be restored (above)"; fi
    return $rc
}

cmd_status() {
    local f rc=0
    for f in containerd kube-controller-manager kubelet; do
        if pid_alive "$pids/$f.pid"; then
            echo "$f: running (pid $(cat "$pids/$f.pid"))"
        else
            echo "$f: stopped"
            rc=1
        fi
    done
    [ -f "$node/env" ] && echo "env: $node/env"
    return $rc
}

case "${1:-}" in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
host-state) cmd_host_state ;;
*) echo "usage: $0 up|down|status|host-state" >&2; exit 2 ;;
esac
