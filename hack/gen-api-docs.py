#!/usr/bin/env python3
"""Generates docs/api.md, the API reference, from the CRDs in crds/.

For every kind: what it is for, its scope, short names and categories, its printer columns,
and every field of spec and status with its type, whether it is required, its default, its
validation (enum, pattern, length and item bounds, minimum and maximum, list types) and its
description; then the CEL rules (x-kubernetes-validations) with the message the API server
returns. The descriptions are the ones `kubectl explain` prints.

Usage: hack/gen-api-docs.py           rewrite docs/api.md
       hack/gen-api-docs.py --check   fail (and show the diff) when docs/api.md is not what
                                      the CRDs generate; `make lint` runs this
Also `make api-docs`.
"""
import difflib
import glob
import json
import os
import re
import sys

try:
    import yaml
except ImportError:  # pragma: no cover
    sys.exit("gen-api-docs: PyYAML is missing (run make deps)")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "docs", "api.md")
# Kinds in the order a reader meets them; any other kind follows, by name.
ORDER = ["SecurityGroupPosture", "VPCPosture", "CloudAccount", "PostureGuardrail"]


# ---------------------------------------------------------------- Markdown helpers

def code(s):
    """s as an inline code span usable inside a table cell."""
    s = str(s).replace("|", "\\|")
    fence = "``" if "`" in s else "`"
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return "%s%s%s%s%s" % (fence, pad, s, pad, fence)


def text(s):
    """A description as Markdown for a table cell: one line, Markdown specials escaped,
    `backquoted` parts kept as code."""
    s = " ".join(str(s).split())
    parts = s.split("`")
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 1 and i < len(parts) - 1:
            out.append(code(part))
        else:
            if i % 2 == 1:  # an unpaired backquote: keep it, escaped
                part = "`" + part
            part = re.sub(r"([\\*_\[\]|<>`])", r"\\\1", part)
            out.append(part)
    return "".join(out)


def value(v):
    """A default or enum value as code."""
    return code(v if isinstance(v, str) else json.dumps(v, separators=(", ", ": ")))


def anchor(title):
    """GitHub's heading anchor for a heading text."""
    a = re.sub(r"[^\w\- ]", "", title.strip().lower())
    return a.replace(" ", "-")


# ---------------------------------------------------------------- schema walking

def type_of(s):
    """The field's type as text: object, []string, map[string]string, integer (int64)."""
    t = s.get("type", "")
    if t == "array":
        items = s.get("items") or {}
        return "[]" + type_of(items)
    if t == "object" and isinstance(s.get("additionalProperties"), dict) and not s.get("properties"):
        return "map[string]" + type_of(s["additionalProperties"])
    if s.get("format"):
        return "%s (%s)" % (t, s["format"])
    return t or "any"


def bounds(s, unit, lo_key, hi_key):
    lo, hi = s.get(lo_key), s.get(hi_key)
    if lo is not None and hi is not None:
        return "%s to %s %s" % (lo, hi, unit) if lo != hi else "exactly %s %s" % (lo, unit)
    if lo is not None:
        return "at least %s %s" % (lo, unit)
    if hi is not None:
        return "at most %s %s" % (hi, unit)
    return None


def constraints(s):
    """The OpenAPI validation of one schema (not its CEL rules), as short phrases."""
    out = []
    if "enum" in s:
        out.append("one of " + ", ".join(value(v) for v in s["enum"]))
    if "pattern" in s:
        out.append("pattern " + code(s["pattern"]))
    for phrase in (bounds(s, "characters", "minLength", "maxLength"),
                   bounds(s, "items", "minItems", "maxItems"),
                   bounds(s, "entries", "minProperties", "maxProperties")):
        if phrase:
            out.append(phrase)
    lo, hi = s.get("minimum"), s.get("maximum")
    if lo is not None and hi is not None:
        out.append("%s to %s" % (lo, hi))
    elif lo is not None:
        out.append("minimum %s" % lo)
    elif hi is not None:
        out.append("maximum %s" % hi)
    lt = s.get("x-kubernetes-list-type")
    if lt == "map":
        keys = ", ".join(code(k) for k in s.get("x-kubernetes-list-map-keys", []))
        out.append("a list map keyed by " + keys + " (unique)")
    elif lt == "set":
        out.append("a set (unique items)")
    return out


def element_constraints(s):
    """Constraints of an array's items or a map's values that have no row of their own."""
    out = []
    items = s.get("items")
    if isinstance(items, dict) and not items.get("properties"):
        c = constraints(items)
        if c:
            out.append("each item: " + ", ".join(c))
    extra = s.get("additionalProperties")
    if isinstance(extra, dict) and not extra.get("properties"):
        c = constraints(extra)
        if c:
            out.append("each value: " + ", ".join(c))
    return out


def rules_of(s):
    return s.get("x-kubernetes-validations") or []


def walk(s, path, required, rows, cel):
    """Appends a row per property under s and the CEL rules of s and below."""
    for r in rules_of(s):
        cel.append((path or "(the object)", r))
    for name, prop in (s.get("properties") or {}).items():
        p = "%s.%s" % (path, name) if path else name
        rows.append((p, prop, name in required))
        walk(prop, p, set(prop.get("required") or []), rows, cel)
    items = s.get("items")
    if isinstance(items, dict):
        walk(items, path + "[]", set(items.get("required") or []), rows, cel)
    extra = s.get("additionalProperties")
    if isinstance(extra, dict):
        walk(extra, path + "{}", set(extra.get("required") or []), rows, cel)


# ---------------------------------------------------------------- rendering

def first_sentence(s):
    s = " ".join(str(s).split())
    m = re.match(r"(.+?\.)(\s|$)", s)
    return m.group(1) if m else s


def render_kind(crd, out):
    spec = crd["spec"]
    names = spec["names"]
    kind = names["kind"]
    for version in spec["versions"]:
        schema = version["schema"]["openAPIV3Schema"]
        out.append("## %s" % kind)
        out.append("")
        facts = ["`%s/%s`" % (spec["group"], version["name"]),
                 "namespaced" if spec.get("scope") == "Namespaced" else "cluster-scoped"]
        if names.get("shortNames"):
            facts.append("short name%s %s" % ("s" if len(names["shortNames"]) > 1 else "",
                                               ", ".join(code(n) for n in names["shortNames"])))
        if names.get("categories"):
            facts.append("categor%s %s" % ("ies" if len(names["categories"]) > 1 else "y",
                                           ", ".join(code(c) for c in names["categories"])))
        if "status" in (version.get("subresources") or {}):
            facts.append("status subresource")
        out.append(", ".join(facts) + ".")
        out.append("")
        out.append(text(schema.get("description", "")))
        out.append("")
        cols = version.get("additionalPrinterColumns") or []
        if cols:
            out.append("### %s printer columns" % kind)
            out.append("")
            short = (names.get("shortNames") or [names["plural"]])[0]
            if any(c.get("priority", 0) > 0 for c in cols):
                out.append("`kubectl get %s` shows the columns marked always; `-o wide` adds the "
                           "others." % short)
            else:
                out.append("`kubectl get %s` shows these columns." % short)
            out.append("")
            out.append("| column | type | JSONPath | shown | description |")
            out.append("|---|---|---|---|---|")
            for c in cols:
                shown = "`-o wide`" if c.get("priority", 0) > 0 else "always"
                out.append("| %s | %s | %s | %s | %s |" % (
                    c["name"], c["type"], code(c["jsonPath"]), shown,
                    text(c.get("description", "creation time, as an age")
                         if c["name"] == "Age" else c.get("description", ""))))
            out.append("")
        rows, cel = [], []
        walk(schema, "", set(schema.get("required") or []), rows, cel)
        out.append("### %s fields" % kind)
        out.append("")
        out.append("| field | type | description |")
        out.append("|---|---|---|")
        for path, prop, req in rows:
            t = code(type_of(prop))
            if req:
                t += ", **required**"
            desc = prop.get("description", "")
            if path == "metadata" and not desc:
                desc = ("Standard Kubernetes object metadata (ObjectMeta): name, namespace, "
                        "labels, annotations, finalizers.")
            cell = [text(desc)]
            if "default" in prop:
                cell.append("Default: %s." % value(prop["default"]))
            c = constraints(prop) + element_constraints(prop)
            if c:
                cell.append("Validation: %s." % "; ".join(c))
            n = sum(1 for p, _ in cel if p in (path, path + "[]", path + "{}"))
            if n:
                cell.append("[CEL rules](#%s): %d." % (anchor("%s validation rules" % kind), n))
            out.append("| %s | %s | %s |" % (code(path), t, "<br>".join(cell)))
        out.append("")
        if cel:
            out.append("### %s validation rules" % kind)
            out.append("")
            out.append("CEL rules (`x-kubernetes-validations`) the API server evaluates at "
                       "admission; a rule that is false refuses the object with its message. "
                       "`self == oldSelf` makes a field immutable.")
            out.append("")
            out.append("| field | rule | message |")
            out.append("|---|---|---|")
            for path, r in cel:
                rule = " ".join(str(r["rule"]).split())
                if "message" in r:
                    msg = text(r["message"])
                elif "messageExpression" in r:
                    msg = "message expression " + code(" ".join(str(r["messageExpression"]).split()))
                else:
                    msg = "(the default: the rule failed)"
                extra = []
                if r.get("fieldPath"):
                    extra.append("reported at %s" % code(r["fieldPath"]))
                if r.get("reason"):
                    extra.append("reason %s" % code(r["reason"]))
                if extra:
                    msg += " (%s)" % ", ".join(extra)
                out.append("| %s | %s | %s |" % (code(path), code(rule), msg))
            out.append("")


def load_crds():
    crds = []
    for f in sorted(glob.glob(os.path.join(REPO, "crds", "netposture.dev_*.yaml"))):
        with open(f) as fh:
            for doc in yaml.safe_load_all(fh):
                if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                    crds.append((os.path.relpath(f, REPO), doc))

    def key(item):
        kind = item[1]["spec"]["names"]["kind"]
        return (ORDER.index(kind) if kind in ORDER else len(ORDER), kind)
    return sorted(crds, key=key)


def generate():
    crds = load_crds()
    groups = sorted({c["spec"]["group"] for _, c in crds})
    versions = sorted({v["name"] for _, c in crds for v in c["spec"]["versions"]})
    out = [
        "<!-- Generated by hack/gen-api-docs.py from crds/; do not edit. `make api-docs` "
        "regenerates it and `make lint` fails when it is out of date. -->",
        "",
        "# API reference: %s" % ", ".join("%s/%s" % (g, v) for g in groups for v in versions),
        "",
        "Every kind, printer column and field of the CustomResourceDefinitions in "
        "[`crds/`](../crds/), with its type, default, validation and description (the "
        "description is also what `kubectl explain` prints, e.g. "
        "`kubectl explain sgp.spec.remediation`). How the controller uses them, the conditions "
        "and their reasons, Events and metrics are explained in the [README](../README.md).",
        "",
        "Field paths use `[]` for the items of a list and `{}` for the values of a map. "
        "All kinds are in the category `netposture`: `kubectl get netposture -A` lists them "
        "all.",
        "",
        "| kind | scope | short names | what it is |",
        "|---|---|---|---|",
    ]
    for f, crd in crds:
        names = crd["spec"]["names"]
        desc = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].get("description", "")
        out.append("| [%s](#%s) | %s | %s | %s |" % (
            names["kind"], anchor(names["kind"]), crd["spec"].get("scope", ""),
            ", ".join(code(n) for n in names.get("shortNames") or []) or "none",
            text(first_sentence(desc))))
    out.append("")
    for f, crd in crds:
        render_kind(crd, out)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def main(argv):
    want = generate()
    rel = os.path.relpath(OUT, REPO)
    if argv[1:] == ["--check"]:
        try:
            with open(OUT) as fh:
                have = fh.read()
        except FileNotFoundError:
            have = ""
        if have == want:
            return 0
        print("gen-api-docs: %s is not what the CRDs generate; run `make api-docs` "
              "(hack/gen-api-docs.py) and commit it:" % rel)
        diff = difflib.unified_diff(have.splitlines(), want.splitlines(), rel + " (committed)",
                                    rel + " (generated)", lineterm="", n=1)
        for i, line in enumerate(diff):
            if i >= 40:
                print("  ...")
                break
            print("  " + line)
        return 1
    if argv[1:]:
        print(__doc__.strip())
        return 2
    with open(OUT, "w") as fh:
        fh.write(want)
    print("gen-api-docs: wrote %s" % rel)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
