#!/usr/bin/env python3
"""Fails on a YAML mapping that names a key twice (crds/, manifests/ and the given paths).

PyYAML and the API server keep the last value silently; kustomize refuses the file. A CRD
with two `description:` keys under one field once broke `kubectl apply -k manifests/`.
Usage: hack/check-yaml-keys.py [--self-test] [PATH...]
"""
import pathlib
import sys

import yaml


def _walk(node, out):
    """Collects the repeated keys of every mapping under node (scalar keys compared as text,
    so CloudFormation's !Ref and other local tags need no constructor)."""
    if isinstance(node, yaml.MappingNode):
        seen = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                line = key_node.start_mark.line + 1
                if key_node.value in seen:
                    out.append(f"line {line}: key {key_node.value!r} already at line "
                               f"{seen[key_node.value]}")
                else:
                    seen[key_node.value] = line
            _walk(value_node, out)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _walk(item, out)


def duplicates(text):
    out = []
    for doc in yaml.compose_all(text, Loader=yaml.SafeLoader):
        _walk(doc, out)
    return out


def self_test():
    assert duplicates("a: 1\nb: {c: 1, d: 2}\n---\na: 2\n") == []
    assert duplicates("a:\n  x: 1\n  x: 2\n") == ["line 3: key 'x' already at line 2"]


def main(argv):
    if argv[:1] == ["--self-test"]:
        self_test()
        print("check-yaml-keys: self-test ok")
        return 0
    root = pathlib.Path(__file__).resolve().parent.parent
    paths = [pathlib.Path(p) for p in argv] or [root / "crds", root / "manifests"]
    files = []
    for p in paths:
        files += sorted(p.rglob("*.yaml")) if p.is_dir() else [p]
    bad = 0
    for f in files:
        for d in duplicates(f.read_text()):
            print(f"{f.relative_to(root) if f.is_absolute() else f}: {d}")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
