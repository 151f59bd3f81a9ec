#!/usr/bin/env python3
"""Helpers of tests/e2e/test_docs.sh: the documentation checked against the real API server.

  doc_check.py examples OUTDIR NAMESPACE SUFFIX
      Extracts every netposture object (apiVersion netposture.dev/...) from the ```yaml
      snippets of README.md and docs/*.md and from the files of manifests/samples/ and
      manifests/guardrails/, one file per object: OUTDIR/NNN.yaml, and OUTDIR/index with a line
      "NNN<TAB>file:line<TAB>Kind/name" each. Snippets without apiVersion and kind (fragments
      such as a lone `spec:`) are skipped. So that the objects can be applied next to what
      other tests made, namespaced objects are put in NAMESPACE and cluster-scoped ones get
      "-SUFFIX" appended to their name. A snippet that names netposture.dev but does not parse
      as YAML is an error.
  doc_check.py explain
      Runs `kubectl explain` on every kind and every field of crds/ and prints those whose
      DESCRIPTION is empty (exit 1 when any).
  doc_check.py openapi < /openapi/v3/apis/netposture.dev/v1alpha1
      Prints every property of the published schemas (what kubectl explain reads) without a
      description (exit 1 when any).
"""
import glob
import json
import os
import re
import subprocess
import sys

import yaml

REPO = os.environ.get("E2E_REPO") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
GROUP = "netposture.dev"


def crds():
    out = []
    for f in sorted(glob.glob(os.path.join(REPO, "crds", "netposture.dev_*.yaml"))):
        with open(f) as fh:
            out += [d for d in yaml.safe_load_all(fh)
                    if isinstance(d, dict) and d.get("kind") == "CustomResourceDefinition"]
    return out


# ---------------------------------------------------------------- examples

FENCE = re.compile(r"^(\s*)```+\s*(\w*)\s*$")


def yaml_snippets(path):
    """(first line number, text) of every ```yaml / ```yml block of a Markdown file."""
    with open(path) as fh:
        lines = fh.read().split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        lang, indent = m.group(2).lower(), len(m.group(1))
        body, j = [], i + 1
        while j < len(lines) and not re.match(r"^\s*```+\s*$", lines[j]):
            body.append(lines[j][indent:] if lines[j][:indent].strip() == "" else lines[j])
            j += 1
        if lang in ("yaml", "yml"):
            yield i + 2, "\n".join(body)
        i = j + 1


def sources():
    """(file, first line, YAML text) of every snippet and manifest to check."""
    docs = [os.path.join(REPO, "README.md")] + sorted(glob.glob(os.path.join(REPO, "docs", "*.md")))
    for f in docs:
        for line, body in yaml_snippets(f):
            yield f, line, body
    for pattern in ("manifests/samples/*.yaml", "manifests/guardrails/*.yaml"):
        for f in sorted(glob.glob(os.path.join(REPO, pattern))):
            with open(f) as fh:
                yield f, 1, fh.read()


def examples(outdir, namespace, suffix):
    scopes = {c["spec"]["names"]["kind"]: c["spec"]["scope"] for c in crds()}
    os.makedirs(outdir, exist_ok=True)
    n, errors, index = 0, [], []
    for f, line, body in sources():
        rel = os.path.relpath(f, REPO)
        try:
            docs = list(yaml.safe_load_all(body))
        except yaml.YAMLError as e:
            if "apiVersion: " + GROUP in body:
                errors.append("%s:%d: a netposture snippet that is not YAML: %s" % (rel, line, e))
            continue
        for d in docs:
            if not isinstance(d, dict) or not str(d.get("apiVersion", "")).startswith(GROUP + "/"):
                continue
            if "kind" not in d:
                continue
            kind = d["kind"]
            meta = d.setdefault("metadata", {}) or {}
            d["metadata"] = meta
            name = meta.get("name", "")
            if scopes.get(kind) == "Namespaced":
                meta["namespace"] = namespace
            else:
                meta["name"] = "%s-%s" % (name, suffix) if name else suffix
            n += 1
            key = "%03d" % n
            with open(os.path.join(outdir, key + ".yaml"), "w") as out:
                yaml.safe_dump(d, out, sort_keys=False)
            index.append("%s\t%s:%d\t%s/%s" % (key, rel, line, kind, name))
    with open(os.path.join(outdir, "index"), "w") as out:
        out.write("\n".join(index) + ("\n" if index else ""))
    for e in errors:
        print(e)
    print("%d netposture objects in the docs and manifests" % n)
    return 1 if errors else 0


# ---------------------------------------------------------------- explain

def field_paths(schema, path):
    """Every field path under schema as kubectl explain takes it (lists are transparent)."""
    for name, prop in (schema.get("properties") or {}).items():
        p = path + [name]
        yield p
        yield from field_paths(prop, p)
    items = schema.get("items")
    if isinstance(items, dict):
        yield from field_paths(items, path)


def description_of(explain_output):
    """The text after DESCRIPTION: up to the next section."""
    lines = explain_output.split("\n")
    out, inside = [], False
    for line in lines:
        if line.startswith("DESCRIPTION:"):
            inside = True
            rest = line[len("DESCRIPTION:"):].strip()
            if rest:
                out.append(rest)
            continue
        if inside:
            if re.match(r"^[A-Z]+:", line):
                break
            out.append(line.strip())
    text = " ".join(x for x in out if x)
    return "" if text == "<empty>" else text  # what kubectl prints for no description


def explain():
    missing, checked = [], 0
    for c in crds():
        plural = c["spec"]["names"]["plural"]
        for v in c["spec"]["versions"]:
            schema = v["schema"]["openAPIV3Schema"]
            targets = [[]] + list(field_paths(schema, []))
            for p in targets:
                resource = ".".join([plural] + p)
                r = subprocess.run(["kubectl", "explain", resource,
                                    "--api-version=%s/%s" % (GROUP, v["name"])],
                                   capture_output=True, text=True)
                checked += 1
                if r.returncode != 0:
                    missing.append("%s: kubectl explain failed: %s" % (resource, r.stderr.strip()))
                elif not description_of(r.stdout):
                    missing.append("%s: empty DESCRIPTION" % resource)
    for m in missing:
        print(m)
    print("kubectl explain: %d kinds and fields, %d without a description" % (checked, len(missing)))
    return 1 if missing or checked == 0 else 0


# ---------------------------------------------------------------- openapi

def openapi():
    doc = json.load(sys.stdin)
    schemas = doc.get("components", {}).get("schemas", {})
    missing, kinds = [], 0

    def walk(s, path):
        for name, prop in (s.get("properties") or {}).items():
            p = "%s.%s" % (path, name)
            if not str(prop.get("description", "")).strip():
                missing.append(p)
            walk(prop, p)
        if isinstance(s.get("items"), dict):
            walk(s["items"], path + "[]")

    for name, s in sorted(schemas.items()):
        if not name.startswith("dev.netposture.") or name.endswith("List"):
            continue
        kinds += 1
        if not str(s.get("description", "")).strip():
            missing.append(name)
        walk(s, name)
    for m in missing:
        print("no description: %s" % m)
    print("published schemas: %d kinds, %d properties without a description" % (kinds, len(missing)))
    return 1 if missing or kinds == 0 else 0


def main(argv):
    if len(argv) == 5 and argv[1] == "examples":
        return examples(argv[2], argv[3], argv[4])
    if argv[1:] == ["explain"]:
        return explain()
    if argv[1:] == ["openapi"]:
        return openapi()
    print(__doc__.strip())
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
