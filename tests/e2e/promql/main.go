// promql checks the PromQL of netposture's monitoring manifests with Prometheus's own parser
// and lists the metric names they use, for the e2e test that compares them with what the
// controller exports.
//
// Usage: promql FILE...   (YAML, possibly multi-document, or JSON)
//
// Every string under an "expr" key anywhere in a file is an expression (PrometheusRule rules,
// Grafana panel targets). Each must parse; every PrometheusRule rule must have an alert or a
// record name and an expression; a file without any expression is an error. On success it
// prints the metric names the expressions select, one per line, sorted; else the problems on
// stderr and exit status 1.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

// documents decodes a file: one JSON document, or every document of a YAML stream.
func documents(path string) ([]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(path, ".json") {
		var doc any
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, err
		}
		return []any{doc}, nil
	}
	var docs []any
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, doc)
	}
}

// expressions collects every string under an "expr" key, with where it was found.
func expressions(node any, where string, out map[string]string) {
	switch n := node.(type) {
	case map[string]any:
		for k, v := range n {
			if s, ok := v.(string); ok && k == "expr" {
				out[where+"."+k] = s
				continue
			}
			expressions(v, where+"."+k, out)
		}
	case []any:
		for i, v := range n {
			expressions(v, fmt.Sprintf("%s[%d]", where, i), out)
		}
	}
}

// ruleProblems names PrometheusRule rules without an alert/record name or an expression.
func ruleProblems(doc any, path string) []string {
	m, _ := doc.(map[string]any)
	if m == nil || m["kind"] != "PrometheusRule" {
		return nil
	}
	var problems []string
	spec, _ := m["spec"].(map[string]any)
	groups, _ := spec["groups"].([]any)
	if len(groups) == 0 {
		problems = append(problems, path+": a PrometheusRule without groups")
	}
	for gi, g := range groups {
		group, _ := g.(map[string]any)
		rules, _ := group["rules"].([]any)
		for ri, r := range rules {
			rule, _ := r.(map[string]any)
			_, alert := rule["alert"].(string)
			_, record := rule["record"].(string)
			expr, _ := rule["expr"].(string)
			if (!alert && !record) || expr == "" {
				problems = append(problems,
					fmt.Sprintf("%s: groups[%d].rules[%d] needs alert or record, and expr", path, gi, ri))
			}
		}
	}
	return problems
}

// metricNames adds the metric names an expression selects.
func metricNames(expr parser.Expr, names map[string]bool) {
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		vs, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		if vs.Name != "" {
			names[vs.Name] = true
		}
		for _, m := range vs.LabelMatchers {
			if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
				names[m.Value] = true
			}
		}
		return nil
	})
}

// check parses every expression of one file; returns its problems.
func check(p parser.Parser, path string, names map[string]bool) []string {
	docs, err := documents(path)
	if err != nil {
		return []string{path + ": " + err.Error()}
	}
	exprs := map[string]string{}
	var problems []string
	for i, doc := range docs {
		expressions(doc, fmt.Sprintf("doc%d", i), exprs)
		problems = append(problems, ruleProblems(doc, path)...)
	}
	if len(exprs) == 0 {
		problems = append(problems, path+": no expressions")
	}
	for where, text := range exprs {
		expr, err := p.ParseExpr(text)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %s: %q: %v", path, where, text, err))
			continue
		}
		metricNames(expr, names)
	}
	return problems
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: promql FILE...")
		os.Exit(2)
	}
	p := parser.NewParser(parser.Options{})
	names := map[string]bool{}
	var problems []string
	for _, path := range os.Args[1:] {
		problems = append(problems, check(p, path, names)...)
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		for _, pr := range problems {
			fmt.Fprintln(os.Stderr, pr)
		}
		os.Exit(1)
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		fmt.Println(n)
	}
}
