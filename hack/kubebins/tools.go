//go:build tools

// Keeps the kube-apiserver, kubectl, etcd, kubelet and kube-controller-manager requirements alive
// through `go mod tidy` (hack/build-kube.sh builds them).
package kubebins

import (
	_ "go.etcd.io/etcd/server/v3/etcdmain"
	_ "k8s.io/kubectl/pkg/cmd"
	_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	_ "k8s.io/kubernetes/cmd/kubelet/app"
)
