// hclrules parses Terraform HCL with HashiCorp's own parser (github.com/hashicorp/hcl/v2) and
// prints what the end-to-end tests compare: the security-group rules of
// aws_vpc_security_group_{ingress,egress}_rule resources, one "proto from-to peer" line each
// (ports "*" without from_port; the peer as written, or the reference's traversal), sorted, in
// the format of tests/e2e/lib.sh's rules helper. Exit 1 on a syntax error.
//
//	hclrules ingress|egress FILE   the rules of that direction
//	hclrules resources FILE        "type.name" of every resource block, sorted
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

var peerAttrs = []string{"cidr_ipv4", "cidr_ipv6", "prefix_list_id", "referenced_security_group_id"}

// text is an attribute's value as text: a literal string or number, or a reference's traversal.
func text(b *hclsyntax.Body, name string) (string, bool) {
	a, ok := b.Attributes[name]
	if !ok {
		return "", false
	}
	if v, d := a.Expr.Value(nil); !d.HasErrors() {
		switch v.Type() {
		case cty.String:
			return v.AsString(), true
		case cty.Number:
			return v.AsBigFloat().Text('f', -1), true
		}
		return v.GoString(), true
	}
	t, d := hcl.AbsTraversalForExpr(a.Expr)
	if d.HasErrors() {
		return "?", true
	}
	parts := []string{t.RootName()}
	for _, s := range t[1:] {
		if attr, ok := s.(hcl.TraverseAttr); ok {
			parts = append(parts, attr.Name)
		}
	}
	return strings.Join(parts, "."), true
}

func rule(b *hclsyntax.Body) string {
	proto, _ := text(b, "ip_protocol")
	ports := "*"
	if from, ok := text(b, "from_port"); ok {
		to, _ := text(b, "to_port")
		ports = from + "-" + to
	}
	peer := "?"
	for _, p := range peerAttrs {
		if v, ok := text(b, p); ok {
			peer = v
		}
	}
	return fmt.Sprintf("%s %s %s", proto, ports, peer)
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: hclrules ingress|egress|resources FILE")
		os.Exit(2)
	}
	what, path := os.Args[1], os.Args[2]
	file, diags := hclparse.NewParser().ParseHCLFile(path)
	if diags.HasErrors() {
		fmt.Fprintln(os.Stderr, diags.Error())
		os.Exit(1)
	}
	var out []string
	for _, b := range file.Body.(*hclsyntax.Body).Blocks {
		if b.Type != "resource" || len(b.Labels) != 2 {
			continue
		}
		switch {
		case what == "resources":
			out = append(out, b.Labels[0]+"."+b.Labels[1])
		case b.Labels[0] == "aws_vpc_security_group_"+what+"_rule":
			out = append(out, rule(b.Body))
		}
	}
	sort.Strings(out)
	for _, l := range out {
		fmt.Println(l)
	}
}
