#!/usr/bin/env python3
"""Checks that the CRDs in crds/ explain themselves (run by `make lint`).

Every CRD's schema is walked: the root, and every property at any depth (through
`properties`, array `items` and map `additionalProperties`), must carry a description of at
least MIN_WORDS words, so `kubectl explain <kind>.<field>` never prints an empty
DESCRIPTION and a new field cannot land undocumented. Array items and map values are
described by their property. The one exception is the root `metadata`: the API server
forbids anything but its type there and publishes ObjectMeta's own description for it. The
CRD conventions of DESIGN 1 are checked too: the
`netposture` category, a short name, and printer columns that include Ready, Reason and Age.

Usage: hack/check-crd-descriptions.py [CRD files...]   (default: crds/netposture.dev_*.yaml)
       hack/check-crd-descriptions.py --self-test       (the checker catches what it must)
Exit status 1 with one line per problem.
"""
import glob
import os
import sys

try:
    import yaml
except ImportError:  # pragma: no cover
    sys.exit("check-crd-descriptions: PyYAML is missing (run make deps)")

MIN_WORDS = 3
# Properties the API server describes itself (a CRD may not: "must not specify anything other
# than name and generateName" for metadata).
SERVER_DESCRIBED = {"metadata"}
REQUIRED_COLUMNS = ("Ready", "Reason", "Age")


def words(text):
    return len(str(text).split())


def walk(schema, path, problems):
    """Appends a problem for every property under schema (at path) without a description."""
    if not isinstance(schema, dict):
        return
    for name, prop in sorted((schema.get("properties") or {}).items()):
        p = "%s.%s" % (path, name) if path else name
        desc = prop.get("description") if isinstance(prop, dict) else None
        if not path and name in SERVER_DESCRIBED:
            if desc or (isinstance(prop, dict) and set(prop) - {"type"}):
                problems.append("%s: only {type: object} is allowed here (the API server "
                                "describes it)" % p)
            continue
        if not desc or not str(desc).strip():
            problems.append("%s: no description" % p)
        elif words(desc) < MIN_WORDS:
            problems.append("%s: description %r is shorter than %d words" % (p, desc, MIN_WORDS))
        walk(prop, p, problems)
    items = schema.get("items")
    if isinstance(items, dict):
        walk(items, path + "[]", problems)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        walk(extra, path + "{}", problems)


def check_crd(crd):
    """The problems of one CRD object, each prefixed with its kind."""
    problems = []
    names = crd.get("spec", {}).get("names", {})
    kind = names.get("kind", "?")
    if "netposture" not in (names.get("categories") or []):
        problems.append("names.categories does not include netposture")
    if not names.get("shortNames"):
        problems.append("names.shortNames is empty")
    for version in crd.get("spec", {}).get("versions", []):
        v = version.get("name", "?")
        schema = (version.get("schema") or {}).get("openAPIV3Schema") or {}
        if words(schema.get("description", "")) < MIN_WORDS:
            problems.append("%s: the kind has no description" % v)
        found = []
        walk(schema, "", found)
        problems += ["%s: %s" % (v, p) for p in found]
        columns = [c.get("name") for c in version.get("additionalPrinterColumns") or []]
        for want in REQUIRED_COLUMNS:
            if want not in columns:
                problems.append("%s: no %s printer column" % (v, want))
    return ["%s: %s" % (kind, p) for p in problems]


def check_files(files):
    problems = []
    for f in files:
        with open(f) as fh:
            for doc in yaml.safe_load_all(fh):
                if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                    problems += ["%s: %s" % (os.path.relpath(f), p) for p in check_crd(doc)]
    return problems


SELF_TEST_CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
spec:
  names: {kind: Widget, shortNames: [w], categories: [netposture]}
  versions:
  - name: v1
    additionalPrinterColumns: [{name: Ready}, {name: Age}]
    schema:
      openAPIV3Schema:
        type: object
        description: A widget for the self test.
        properties:
          metadata: {type: object, description: The widget metadata.}
          spec:
            type: object
            description: The desired widget state.
            properties:
              size: {type: integer}
              color: {type: string, description: Red.}
              parts:
                type: array
                description: The parts of the widget.
                items:
                  type: object
                  properties:
                    name: {type: string}
              labels:
                type: object
                description: Labels of the widget.
                additionalProperties:
                  type: object
                  properties:
                    value: {type: string, description: "  "}
"""


def self_test():
    got = sorted(check_crd(yaml.safe_load(SELF_TEST_CRD)))
    want = sorted([
        "Widget: v1: spec.size: no description",
        "Widget: v1: spec.color: description 'Red.' is shorter than 3 words",
        "Widget: v1: spec.parts[].name: no description",
        "Widget: v1: spec.labels{}.value: no description",
        "Widget: v1: no Reason printer column",
        "Widget: v1: metadata: only {type: object} is allowed here (the API server describes it)",
    ])
    if got != want:
        print("check-crd-descriptions: self test failed")
        print("  got:  %s" % got)
        print("  want: %s" % want)
        return 1
    print("check-crd-descriptions: self test ok")
    return 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    files = argv[1:] or sorted(glob.glob(os.path.join(repo, "crds", "netposture.dev_*.yaml")))
    if not files:
        print("check-crd-descriptions: no CRD files found")
        return 1
    problems = check_files(files)
    for p in problems:
        print("check-crd-descriptions: %s" % p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
