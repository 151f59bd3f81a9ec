#!/usr/bin/env bash
# `make test`: deps, build, lint, unit tests (Criterion, ASan+UBSan), a fuzz smoke (libFuzzer),
# end-to-end suite against real servers; prints one closing line `N passed, N failed` over all
# suites and exits non-zero on any failure.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
jobs=$(nproc 2>/dev/null || echo 2)

passed=0
failed=0
step() { echo; echo "==== $*"; }
count() { # count <passed> <failed>
    passed=$((passed + $1))
    failed=$((failed + $2))
}
finish() {
    echo
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
    exit $?
}

step "deps"
if ! hack/deps.sh; then
    echo "deps failed: cannot build or test"
    count 0 1
    finish
fi

step "build"
if ! make -j"$jobs" all unit-build e2e-tools; then
    echo "build failed"
    count 0 1
    finish
fi

step "lint"
if hack/lint.sh; then count 1 0; else echo "lint failed"; count 0 1; fi

step "unit tests (ASan+UBSan)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for t in build/san/unit-*; do
    [ -x "$t" ] || continue
    echo "== $t"
    out=$("$t" --jobs "$jobs" 2>&1)
    rc=$?
    printf '%s\n' "$out" | grep -Ev '^\[----\]|^\[PASS\]' | tail -n 60
    syn=$(printf '%s\n' "$out" | grep 'Synthesis:' | tail -n 1)
    p=$(printf '%s' "$syn" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
    f=$(printf '%s' "$syn" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
    c=$(printf '%s' "$syn" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
    if [ -z "$p" ]; then
        echo "$t produced no Criterion synthesis (rc=$rc)"
        count 0 1
        continue
    fi
    count "$p" $((f + c))
    if [ "$rc" -ne 0 ] && [ $((f + c)) -eq 0 ]; then
        echo "$t exited $rc (sanitizer or leak report?)"
        count 0 1
    elif printf '%s\n' "$out" | grep -qE 'ERROR: (Leak|Address)Sanitizer|runtime error:'; then
        # Criterion runs tests in worker processes: a sanitizer report there does not always
        # change the exit status, so the report itself fails the suite.
        echo "$t: sanitizer report in the output"
        count 0 1
    fi
done

# Each libFuzzer target (tests/fuzz/) for a short bounded run from its seed corpus, two at once;
# each target counts as one test. FUZZ_SMOKE_SECONDS sets the time per target.
fuzz_seconds=${FUZZ_SMOKE_SECONDS:-20}
step "fuzz smoke (libFuzzer, ASan+UBSan, ${fuzz_seconds} s per target)"
if ! make -j"$jobs" fuzz-build >build/fuzz-build.log 2>&1; then
    tail -n 30 build/fuzz-build.log
    echo "the fuzz targets did not build (build/fuzz-build.log)"
    count 0 1
else
    out=$(hack/fuzz.sh --seconds "$fuzz_seconds" --jobs 2 2>&1)
    printf '%s\n' "$out"
    line=$(printf '%s\n' "$out" | grep '^fuzz: [0-9]* passed, [0-9]* failed' | tail -n 1)
    if [ -z "$line" ]; then
        echo "the fuzz smoke did not report"
        count 0 1
    else
        p=$(printf '%s' "$line" | sed -n 's/^fuzz: \([0-9]*\) passed.*/\1/p')
        f=$(printf '%s' "$line" | sed -n 's/.*passed, \([0-9]*\) failed.*/\1/p')
        count "$p" "$f"
    fi
fi

step "end-to-end (kube-apiserver + etcd + moto)"
out_file=$(mktemp)
tests/e2e/run.sh 2>&1 | tee "$out_file"
line=$(grep '^e2e: [0-9]* passed, [0-9]* failed' "$out_file" | tail -n 1)
rm -f "$out_file"
if [ -z "$line" ]; then
    echo "the end-to-end suite did not report"
    count 0 1
else
    p=$(printf '%s' "$line" | sed -n 's/^e2e: \([0-9]*\) passed.*/\1/p')
    f=$(printf '%s' "$line" | sed -n 's/.*passed, \([0-9]*\) failed.*/\1/p')
    count "$p" "$f"
fi

finish
