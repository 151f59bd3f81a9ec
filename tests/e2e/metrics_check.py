#!/usr/bin/env python3
"""Checks a /metrics answer with the Prometheus client's own text-format parser.

Reads the exposition from stdin and fails (exit 1, one line per problem) unless:
- prometheus_client.parser parses it (a malformed line raises);
- every family has a HELP and a TYPE line, each exactly once, and no sample is outside a
  declared family (the parser gives such samples a family of type "unknown");
- no series (sample name and label set) appears twice;
- every family named by --family is declared, and every family named by --sampled has at
  least one sample (for a histogram: its _count).

Usage: metrics_check.py [--family NAME]... [--sampled NAME]... < metrics.txt
NAME is the name as exposed (netposture_reconcile_total, process_open_fds, ...).
"""
import argparse
import collections
import re
import sys

from prometheus_client.parser import text_string_to_metric_families

SUFFIXES = ("", "_total", "_count", "_sum", "_bucket", "_created")


def comment_lines(text):
    """{("HELP"|"TYPE", name): count} of the text's comment lines."""
    seen = collections.Counter()
    for line in text.splitlines():
        m = re.match(r"# (HELP|TYPE) (\S+)", line)
        if m:
            seen[(m.group(1), m.group(2))] += 1
    return seen


def check(text, families, sampled):
    problems = []
    comments = comment_lines(text)
    for (kind, name), n in sorted(comments.items()):
        if n > 1:
            problems.append(f"{kind} of {name} appears {n} times")
    declared = {name for (kind, name) in comments if kind == "TYPE"}
    for name in sorted({name for (kind, name) in comments if kind == "HELP"} ^ declared):
        problems.append(f"{name}: HELP and TYPE do not come in pairs")
    series = collections.Counter()
    sample_names = set()
    for fam in text_string_to_metric_families(text):
        if fam.type == "unknown":
            problems.append(f"{fam.name}: samples without a TYPE line")
        if not fam.documentation:
            problems.append(f"{fam.name}: no HELP text")
        for s in fam.samples:
            series[(s.name, tuple(sorted(s.labels.items())))] += 1
            sample_names.add(s.name)
    for (name, labels), n in sorted(series.items()):
        if n > 1:
            problems.append(f"series {name}{dict(labels)} appears {n} times")
    for name in families:
        if name not in declared:
            problems.append(f"family {name} is not exported")
    for name in sampled:
        if not any(name + sfx in sample_names for sfx in SUFFIXES):
            problems.append(f"family {name} has no sample")
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--family", action="append", default=[])
    ap.add_argument("--sampled", action="append", default=[])
    a = ap.parse_args()
    text = sys.stdin.read()
    try:
        problems = check(text, a.family + a.sampled, a.sampled)
    except ValueError as e:
        problems = [f"the Prometheus parser refused the text: {e}"]
    for p in problems:
        print(f"metrics: {p}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
