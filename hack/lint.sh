#!/usr/bin/env bash
# `make lint`: clang-format check, banned functions, file headers, module layering, cppcheck,
# CRD descriptions and conventions, docs/api.md in sync with the CRDs, no YAML key twice.
set -uo pipefail
cd "$(dirname "$0")/.."
rc=0
files=$(hack/c-files.sh)

if command -v clang-format >/dev/null; then
    bad=$(for f in $files; do [ -f "$f" ] && ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1 && echo "$f"; done)
    if [ -n "$bad" ]; then
        echo "lint: not clang-formatted (run make format):"; echo "$bad" | sed 's/^/  /'; rc=1
    fi
else
    echo "lint: clang-format missing (run make deps)"; rc=1
fi

# Unbounded or thread-unsafe libc calls (docs/architecture.md, "Conventions").
banned=$(for f in $files; do [ -f "$f" ] && grep -nE '\b(sprintf|vsprintf|strcpy|strcat|atoi|atol|gmtime|localtime|strtok)[[:space:]]*\(' "$f" | sed "s|^|$f:|"; done)
if [ -n "$banned" ]; then
    echo "lint: banned functions (use the bounded or _r forms):"; echo "$banned" | sed 's/^/  /'; rc=1
fi

# Every C file opens with a comment saying what it is for.
for f in $files; do
    [ -f "$f" ] || continue
    head -n 1 "$f" | grep -q '^/\*' || { echo "lint: $f does not open with a /* */ comment"; rc=1; }
done

# C++-style comments are not used.
cpp=$(for f in $files; do [ -f "$f" ] && grep -nE '^[[:space:]]*//' "$f" | sed "s|^|$f:|"; done)
if [ -n "$cpp" ]; then echo "lint: // comments (use /* */):"; echo "$cpp" | head -20 | sed 's/^/  /'; rc=1; fi

hack/check-layering.sh || rc=1

# Every CRD field has a description (kubectl explain), and docs/api.md is what crds/ generate
# (a CRD change without `make api-docs` fails here).
if python3 -c 'import yaml' 2>/dev/null; then
    hack/check-crd-descriptions.py --self-test >/dev/null || { echo "lint: hack/check-crd-descriptions.py --self-test failed"; rc=1; }
    hack/check-crd-descriptions.py || { echo "lint: CRD fields without descriptions (see above)"; rc=1; }
    hack/gen-api-docs.py --check || rc=1
    # A key written twice in one mapping (kustomize refuses it; others keep the last silently).
    hack/check-yaml-keys.py --self-test >/dev/null || { echo "lint: hack/check-yaml-keys.py --self-test failed"; rc=1; }
    hack/check-yaml-keys.py || { echo "lint: YAML keys written twice (see above)"; rc=1; }
else
    echo "lint: python3 with PyYAML missing (run make deps)"; rc=1
fi

if command -v cppcheck >/dev/null; then
    if ! cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability \
        --inline-suppr --suppress=missingIncludeSystem -Ipkg pkg cmd 2>&1; then
        echo "lint: cppcheck found problems"; rc=1
    fi
else
    echo "lint: cppcheck missing (run make deps)"; rc=1
fi
[ $rc -eq 0 ] && echo "lint: ok"
exit $rc
