#!/usr/bin/env python3
"""Runs Argo CD health scripts (manifests/argocd) with a real Lua 5.1 interpreter, as Argo CD's
gopher-lua runs them: the object as the global `obj`, the script's returned table read back.

  argocd_health.py check DIR      every <DIR>/**/health_test.yaml (Argo CD's own layout:
                                  tests[].inputPath, tests[].healthStatus.{status,message});
                                  prints one line per test and `N passed, N failed`
  argocd_health.py eval LUA       a Kubernetes List (JSON) on stdin: "<name> <status> <message>"
                                  per item
"""
import json
import pathlib
import subprocess
import sys

import yaml

LUA = "lua5.1"
RUNNER = r"""
local f = assert(loadfile(arg[1]))
local hs = f()
io.write(tostring(hs.status), "\t", tostring(hs.message or ""), "\n")
"""


def lua_literal(v):
    """A Python value (from JSON or YAML) as a Lua expression."""
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + "".join(c if c.isalnum() or c in " ._-/:,;()[]=+*@" else "\\%03d" % ord(c)
                             for c in v.encode("utf-8").decode("latin-1")) + '"'
    if isinstance(v, list):
        return "{" + ", ".join(lua_literal(x) for x in v) + "}"
    if isinstance(v, dict):
        return "{" + ", ".join("[%s] = %s" % (lua_literal(str(k)), lua_literal(x))
                               for k, x in v.items()) + "}"
    raise TypeError("cannot express %r in Lua" % (v,))


def health(script, obj):
    """(status, message) the script computes for obj."""
    prog = "obj = " + lua_literal(obj) + "\n" + RUNNER
    p = subprocess.run([LUA, "-", str(script)], input=prog, capture_output=True, text=True,
                       encoding="latin-1")
    if p.returncode != 0:
        raise RuntimeError("%s failed: %s" % (script, p.stderr.strip()))
    status, _, message = p.stdout.rstrip("\n").partition("\t")
    return status, message


def check(root):
    passed = failed = 0
    for test_file in sorted(pathlib.Path(root).rglob("health_test.yaml")):
        script = test_file.parent / "health.lua"
        for t in yaml.safe_load(test_file.read_text())["tests"]:
            obj = yaml.safe_load((test_file.parent / t["inputPath"]).read_text())
            want = t["healthStatus"]
            got = health(script, obj)
            ok = got == (want["status"], want.get("message", ""))
            print("%s %s/%s: %s %r" % ("ok  " if ok else "FAIL", test_file.parent.name,
                                       t["inputPath"], got[0], got[1]))
            if not ok:
                print("      want %s %r" % (want["status"], want.get("message", "")))
            passed, failed = passed + ok, failed + (not ok)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


def evaluate(script):
    for item in json.load(sys.stdin)["items"]:
        status, message = health(script, item)
        print(item["metadata"]["name"], status, message)
    return 0


def main(argv):
    if len(argv) == 2 and argv[0] == "check":
        return check(argv[1])
    if len(argv) == 2 and argv[0] == "eval":
        return evaluate(argv[1])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
