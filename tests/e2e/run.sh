#!/usr/bin/env bash
# Runs the end-to-end suite: brings up a fresh dev environment (real etcd, kube-apiserver and
# moto on 127.0.0.1), runs every test_* function of tests/e2e/test_*.sh in its own subshell,
# tears the environment down on exit (also on failure or interrupt), and prints
# `e2e: N passed, N failed`. Usage: tests/e2e/run.sh [file-or-function-filter]
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
filter=${1:-}
export E2E_REPO=$repo
# E2E_WORK_DIR lets two runs share a checkout (each brings up its own servers).
work="${E2E_WORK_DIR:-$repo/build/e2e}"
rm -rf "$work"
mkdir -p "$work"
export NP_DEV_ENV_DIR="$work/env"

cleanup() {
    local f
    shopt -s nullglob
    for f in "$work"/tests/*/pids/*; do
        kill -KILL "$(cat "$f")" 2>/dev/null || true
    done
    shopt -u nullglob
    "$repo/hack/dev-env.sh" down >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! "$repo/hack/dev-env.sh" up >"$work/dev-env.log" 2>&1; then
    cat "$work/dev-env.log" >&2
    echo "e2e: the dev environment did not start"
    echo "0 passed, 1 failed"
    exit 1
fi
# shellcheck disable=SC1091
source "$NP_DEV_ENV_DIR/env"

passed=0
failed=0
skipped=0
failed_names=()
for file in "$repo"/tests/e2e/test_*.sh; do
    fns=$(bash -c "source '$repo/tests/e2e/lib.sh'; source '$file'; declare -F" | awk '{print $3}' | grep '^test_' || true)
    for fn in $fns; do
        name="$(basename "$file" .sh):$fn"
        if [ -n "$filter" ] && [[ "$name" != *"$filter"* ]]; then
            continue
        fi
        tdir="$work/tests/$fn"
        mkdir -p "$tdir/pids"
        start=$(date +%s)
        (
            export E2E_TEST_DIR=$tdir
            E2E_NAMESPACES=()
            # shellcheck disable=SC1091
            source "$repo/tests/e2e/lib.sh"
            # shellcheck disable=SC1090
            source "$file"
            on_exit() {
                local rc=$?
                if [ -n "${E2E_CONTROLLER_PID:-}" ]; then
                    stop_controller KILL >/dev/null 2>&1 || true
                fi
                if [ $rc -ne 0 ]; then
                    dump_state
                fi
                exit $rc
            }
            trap on_exit EXIT
            set -eo pipefail
            "$fn"
        ) >"$tdir/output.log" 2>&1
        rc=$?
        for f in "$tdir"/pids/*; do
            [ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
        done
        took=$(( $(date +%s) - start ))
        # A test that cannot run on this machine (what it lacks is not installable) says so on a
        # line "SKIP: <what>" and passes; it is counted apart.
        if [ $rc -eq 0 ] && grep -q '^SKIP: ' "$tdir/output.log"; then
            skipped=$((skipped + 1))
            echo "SKIP $name: $(grep -m1 '^SKIP: ' "$tdir/output.log" | cut -c7-)"
        elif [ $rc -eq 0 ]; then
            passed=$((passed + 1))
            echo "PASS $name (${took}s)"
        else
            failed=$((failed + 1))
            failed_names+=("$name")
            echo "FAIL $name (${took}s)"
            sed 's/^/    | /' "$tdir/output.log" | tail -n 150
        fi
    done
done

if [ "$skipped" -gt 0 ]; then
    echo "e2e: $passed passed, $failed failed, $skipped skipped"
else
    echo "e2e: $passed passed, $failed failed"
fi
for n in "${failed_names[@]}"; do echo "  failed: $n"; done
[ "$failed" -eq 0 ]
