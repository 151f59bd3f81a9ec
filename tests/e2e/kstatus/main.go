// kstatus-check prints what sigs.k8s.io/cli-utils' kstatus (the library Flux, kubectl's
// wait logic and Argo CD's kstatus-based tooling use) computes for every object of a Kubernetes
// List read from stdin (`kubectl get sgp -o json`): one line "<name> <status> <message>", the
// status Current, InProgress, Failed, Terminating or Unknown. Built by `make e2e-tools`; used by
// tests/e2e/test_gitops.sh.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

func main() {
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var list map[string]interface{}
	// Numbers as int64 where they are integers, as the API machinery decodes them.
	if err := utiljson.Unmarshal(data, &list); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	items, _ := list["items"].([]interface{})
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for _, it := range items {
		obj, ok := it.(map[string]interface{})
		if !ok {
			fmt.Fprintln(os.Stderr, "an item is not an object")
			os.Exit(2)
		}
		u := &unstructured.Unstructured{Object: obj}
		res, err := status.Compute(u)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Fprintf(out, "%s %s %s\n", u.GetName(), res.Status, res.Message)
	}
}
