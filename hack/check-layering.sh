#!/usr/bin/env bash
# Keeps the module arrows one-way (docs/architecture.md, "Modules"):
#   core    -> (libc, json-c only)
#   posture -> core                    (pure: no libcurl/OpenSSL/libyaml/libwebsockets/expat)
#   kube    -> core                    (never aws, posture, controller)
#   aws     -> core                    (never kube, posture, controller)
#   http    -> core
#   observe -> core, aws, posture      (AWS readings as pkg/posture diffs them)
#   controller -> core, kube, aws, posture, observe, http
#   cli     -> core, kube, aws, posture, observe (netposturectl's logic)
#   cmd/    -> anything (it only wires)
set -uo pipefail
cd "$(dirname "$0")/.."
rc=0
check() { # check <module> <allowed project modules regex> <forbidden system headers regex>
    local mod=$1 allowed=$2 forbidden=$3 f line inc top
    local re='^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]([^>"]*)[>"]'
    # Each file once (tracked or new), and only its #include lines (no process per line).
    for f in $({ git ls-files "pkg/$mod/*.c" "pkg/$mod/*.h" 2>/dev/null; ls pkg/"$mod"/*.[ch] pkg/"$mod"/private/*.[ch] 2>/dev/null; } | sort -u); do
        [ -f "$f" ] || continue
        while IFS= read -r line; do
            [[ "$line" =~ $re ]] || continue
            inc=${BASH_REMATCH[1]}
            top=${inc%%/*}
            case "$top" in
            core|kube|aws|posture|controller|http|cli)
                if [ "$inc" != "${inc#*/}" ] && ! [[ "$top" =~ ^($allowed)$ ]]; then
                    echo "layering: $f includes $inc ($mod may not depend on $top)"
                    rc=1
                fi
                # A module's private headers are for its own files only.
                if [ "$top" != "$mod" ] && [[ "$inc" == */private/* ]]; then
                    echo "layering: $f includes $inc (another module's private header)"
                    rc=1
                fi ;;
            esac
            if [ -n "$forbidden" ] && [[ "$inc" =~ $forbidden ]]; then
                echo "layering: $f includes $inc ($mod must not use it)"
                rc=1
            fi
        done < <(grep -E '^[[:space:]]*#[[:space:]]*include' "$f")
    done
}
check core 'core' '^(curl/|openssl/|yaml\.h|libwebsockets\.h|expat\.h)'
check posture 'core|posture' '^(curl/|openssl/|yaml\.h|libwebsockets\.h|expat\.h|pthread\.h|unistd\.h|time\.h|fcntl\.h)'
# posture is pure: no I/O, no clock (snprintf is allowed; stdio streams are not).
if grep -nE '\b(fopen|fprintf|printf|puts|fputs|fwrite|fread|open|read|write|time|clock_gettime|getenv|rand)[[:space:]]*\(' pkg/posture/*.c pkg/posture/*.h 2>/dev/null; then
    echo "layering: pkg/posture must stay pure (no I/O, clock, environment or randomness)"
    rc=1
fi
check kube 'core|kube' '^(expat\.h)'
check aws 'core|aws' '^(yaml\.h)'
check http 'core|http' ''
check observe 'core|aws|posture|observe' '^(yaml\.h|libwebsockets\.h)'
check controller 'core|kube|aws|posture|observe|http|controller' ''
check cli 'core|kube|aws|posture|observe|cli' ''
[ $rc -eq 0 ] && echo "layering: ok"
exit $rc
