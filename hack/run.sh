#!/usr/bin/env bash
# `make run`: the embedded default. Starts the real servers (hack/dev-env.sh up), builds,
# creates the `default` CloudAccount pointing at the local AWS emulator, applies the sample
# postures, and runs the controller in the foreground with readable logs.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

hack/deps.sh
make -j"$(nproc 2>/dev/null || echo 2)" all
hack/dev-env.sh up
# shellcheck disable=SC1091
source "${NP_DEV_ENV_DIR:-$repo/.dev-env}/env"

kubectl apply -f manifests/samples/cloudaccount-default.yaml
kubectl apply -f manifests/samples/namespace-shop.yaml
kubectl apply -f manifests/samples/securitygroupposture-web.yaml

cat <<MSG

  netposture is running against a local kube-apiserver and AWS emulator. In another shell:

    source $NP_DEV_ENV_DIR/env
    kubectl get netposture -A
    aws ec2 describe-security-groups --filters Name=group-name,Values=shop-web

  Try drift:  aws ec2 authorize-security-group-ingress --group-id <id> --protocol tcp --port 22 --cidr 0.0.0.0/0
  Stop with Ctrl-C; stop the servers with: hack/dev-env.sh down

MSG
exec bin/netposture-controller --kubeconfig "$NP_CONTROLLER_KUBECONFIG" --log-format text \
    --resync-interval 30s --metrics-addr 127.0.0.1:8080 --health-addr 127.0.0.1:8081
