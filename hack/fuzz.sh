#!/usr/bin/env bash
# Runs the libFuzzer targets built by `make fuzz-build` (build/fuzz/fuzz_*), each for a bounded
# time from its committed seed corpus (tests/fuzz/corpus/<target>/, read only: new inputs go to
# build/fuzz/run/<target>/), niced, J at once, stdin from /dev/null. Prints one line per target
# (seconds, executions, crashes) and a closing `fuzz: N passed, N failed`; exits 1 on any crash.
#   hack/fuzz.sh [--seconds S] [--jobs J] [target...]     (targets: fuzz_aws_xml, ...)
#   hack/fuzz.sh --minimize target...   merges build/fuzz/run/<t>/corpus into the seed corpus
# FUZZ_BIN_DIR (build/fuzz) and FUZZ_RUN_DIR (build/fuzz/run) move the binaries and the run output.
set -uo pipefail
cd "$(dirname "$0")/.."
bin_dir=${FUZZ_BIN_DIR:-build/fuzz}
run_dir=${FUZZ_RUN_DIR:-build/fuzz/run}

seconds=300
jobs=1
minimize=0
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --minimize) minimize=1; shift ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
    esac
done
if [ ${#targets[@]} -eq 0 ]; then
    for f in tests/fuzz/fuzz_*.c; do t=$(basename "$f" .c); targets+=("$t"); done
fi
for t in "${targets[@]}"; do
    [ -x "$bin_dir/$t" ] || { echo "fuzz: $bin_dir/$t is missing (make fuzz-build)"; exit 2; }
done

if [ "$minimize" -eq 1 ]; then
    # Keeps only inputs that add coverage: the seeds plus what a run found, merged (-merge=1).
    for t in "${targets[@]}"; do
        seeds=tests/fuzz/corpus/$t
        new=$(mktemp -d)
        "$bin_dir/$t" -merge=1 "$new" "$seeds" "$run_dir/$t/corpus" </dev/null \
            >"$run_dir/$t.merge.log" 2>&1 || { echo "fuzz: merge of $t failed"; exit 1; }
        rm -rf "$seeds" && mkdir -p "$seeds" && cp "$new"/* "$seeds"/ && rm -rf "$new"
        echo "fuzz: $t: $(ls "$seeds" | wc -l) seeds, $(du -sk "$seeds" | cut -f1) KiB"
    done
    exit 0
fi

# run_one <target>: one bounded run; the result goes to $run_dir/<target>.result
run_one() {
    local t=$1 dir=$run_dir/$1
    mkdir -p "$dir/corpus" "$dir/artifacts"
    rm -f "$dir"/artifacts/*
    local start end rc
    start=$(date +%s)
    nice -n 10 "$bin_dir/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$dir/artifacts/" \
        "$dir/corpus" "tests/fuzz/corpus/$t" </dev/null >"$dir.log" 2>&1
    rc=$?
    end=$(date +%s)
    local execs crashes
    execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$dir.log" | tail -n 1)
    crashes=$(find "$dir/artifacts" -type f | wc -l)
    [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ] && crashes=1 # died without an artifact
    printf '%s %s %s %s\n' "$rc" "$((end - start))" "${execs:-0}" "$crashes" >"$dir.result"
}

running=0
for t in "${targets[@]}"; do
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
    run_one "$t" &
    running=$((running + 1))
done
wait

passed=0
failed=0
for t in "${targets[@]}"; do
    dir=$run_dir/$t
    read -r rc secs execs crashes <"$dir.result"
    if [ "$rc" -eq 0 ] && [ "$crashes" -eq 0 ]; then
        echo "fuzz: $t: ok, $secs s, $execs executions, 0 crashes"
        passed=$((passed + 1))
    else
        echo "fuzz: $t: FAILED (exit $rc), $secs s, $execs executions, $crashes crash(es):"
        find "$dir/artifacts" -type f | sed 's/^/  input: /'
        grep -E 'ERROR: |runtime error|SUMMARY|^    #[0-9]' "$dir.log" | head -n 20 | sed 's/^/  /'
        echo "  log: $dir.log (reproduce: $bin_dir/$t <input>)"
        failed=$((failed + 1))
    fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
