# Shell helpers shared by hack/dev-env.sh, hack/node.sh and bench/run.sh (sourced; each defines
# log() first).
# shellcheck shell=bash

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_until <timeout-seconds> <what> <command...>: polls the command every 200 ms.
wait_until() {
    local timeout=$1 what=$2
    shift 2
    local deadline=$(($(date +%s) + timeout))
    until "$@" >/dev/null 2>&1; do
        if [ "$(date +%s)" -ge "$deadline" ]; then
            log "timed out after ${timeout}s waiting for $what"
            return 1
        fi
        sleep 0.2
    done
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pid <pid> <name> [grace-seconds]: SIGTERM, then SIGKILL after the grace period (10 s).
stop_pid() {
    local pid=$1 name=$2 grace=${3:-10}
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 $((grace * 10))); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name (pid $pid) ignored SIGTERM; killing"
        kill -KILL "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    log "stopped $name (pid $pid)"
}

# stop_pid_file <file> [grace-seconds]: stop_pid of the pid the file records, then remove it.
stop_pid_file() {
    local f=$1 grace=${2:-10}
    [ -f "$f" ] || return 0
    stop_pid "$(cat "$f")" "$(basename "$f" .pid)" "$grace"
    rm -f "$f"
}
