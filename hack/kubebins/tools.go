//go:build tools

// Keeps the kube-apiserver and etcd requirements alive through `go mod tidy`.
package kubebins

import (
	_ "go.etcd.io/etcd/server/v3/etcdmain"
	_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
	_ "k8s.io/kubectl/pkg/cmd"
)
