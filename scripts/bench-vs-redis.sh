#!/usr/bin/env bash
# Throughput comparison of ferrodis against the real redis-server with
# redis-benchmark. Builds ferrodis in release mode, starts both servers on
# free ports (127.0.0.1, no persistence) and runs, ALTERNATING between the two
# servers, `redis-benchmark -c 50 -n 200000 -r 100000 -t set,get,incr,mset`
# with pipeline depth 1 and 16. Prints requests/sec per test and pipeline
# depth (median over the rounds) and the ferrodis/redis ratio.
#
# Usage: scripts/bench-vs-redis.sh
# Env:   ROUNDS (default 2), REQUESTS (200000), CLIENTS (50), KEYSPACE (100000),
#        TESTS (set,get,incr,mset), PIPELINES ("1 16"),
#        SERVER_ARGS (more arguments for both servers, after the defaults, e.g.
#        "--appendonly yes --appendfsync always"),
#        FERRODIS_BIN (skip the build and benchmark this binary instead;
#        FERRODIS_BIN=$(command -v redis-server) checks the script itself)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

ROUNDS="${ROUNDS:-2}"
REQUESTS="${REQUESTS:-200000}"
CLIENTS="${CLIENTS:-50}"
KEYSPACE="${KEYSPACE:-100000}"
TESTS="${TESTS:-set,get,incr,mset}"
PIPELINES="${PIPELINES:-1 16}"
read -r -a SERVER_ARGS <<<"${SERVER_ARGS:-}"

for tool in redis-server redis-cli redis-benchmark; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "$tool not found: install redis-server and redis-tools (or run scripts/test.sh once)" >&2
        exit 1
    }
done

if [ -z "${FERRODIS_BIN:-}" ]; then
    echo "==> building ferrodis (release)"
    cargo build --release --bin ferrodis
    FERRODIS_BIN="${CARGO_TARGET_DIR:-target}/release/ferrodis"
fi
[ -x "$FERRODIS_BIN" ] || { echo "no binary at $FERRODIS_BIN" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/ferrodis-bench.XXXXXX")"
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Prints a port that was free a moment ago (bind 127.0.0.1:0, read, close).
free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
    else
        local p
        while :; do
            p=$((20000 + RANDOM % 40000))
            # A refused connection means nobody listens there.
            if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
                echo "$p"
                return
            fi
        done
    fi
}

# start_server NAME BINARY -> sets STARTED_PORT and appends the PID to PIDS.
start_server() {
    local name="$1" bin="$2" attempt port dir pid deadline
    for attempt in 1 2 3; do
        port="$(free_port)"
        dir="$WORK/$name-$attempt"
        mkdir -p "$dir"
        "$bin" --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
            "${SERVER_ARGS[@]}" >"$dir/server.log" 2>&1 &
        pid=$!
        deadline=$((SECONDS + 20))
        while [ "$SECONDS" -lt "$deadline" ] && kill -0 "$pid" 2>/dev/null; do
            if [ "$(redis-cli -h 127.0.0.1 -p "$port" PING 2>/dev/null)" = "PONG" ]; then
                PIDS+=("$pid")
                STARTED_PORT="$port"
                echo "==> $name: pid $pid, port $port"
                return 0
            fi
            sleep 0.05
        done
        echo "$name did not answer PING on port $port (attempt $attempt); log:" >&2
        cat "$dir/server.log" >&2 || true
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    echo "could not start $name" >&2
    exit 1
}

start_server ferrodis "$FERRODIS_BIN"
FERRODIS_PORT="$STARTED_PORT"
start_server redis redis-server
REDIS_PORT="$STARTED_PORT"

RESULTS="$WORK/results.txt" # lines: server<TAB>pipeline<TAB>test<TAB>rps
: >"$RESULTS"

bench() {
    local name="$1" port="$2" pipeline="$3"
    redis-cli -h 127.0.0.1 -p "$port" FLUSHALL >/dev/null
    echo "==> round $round: $name, -P $pipeline"
    redis-benchmark -h 127.0.0.1 -p "$port" -c "$CLIENTS" -n "$REQUESTS" -r "$KEYSPACE" \
        -t "$TESTS" -P "$pipeline" --csv |
        awk -F'","' -v s="$name" -v p="$pipeline" '
            NR > 1 && NF >= 2 { t = $1; gsub(/"/, "", t); r = $2; gsub(/"/, "", r);
                                printf "%s\t%s\t%s\t%s\n", s, p, t, r }' | tee -a "$RESULTS"
}

for round in $(seq 1 "$ROUNDS"); do
    for pipeline in $PIPELINES; do
        bench ferrodis "$FERRODIS_PORT" "$pipeline"
        bench redis "$REDIS_PORT" "$pipeline"
    done
done

# Median of the rounds per (server, pipeline, test), then the table.
echo
awk -F'\t' '
    function median(list,   n, a, i, j, t) {
        n = split(list, a, " ")
        for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
        return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    {
        key = $2 SUBSEP $3
        vals[$1, key] = vals[$1, key] " " ($4 + 0)
        if (!(key in seen)) { seen[key] = 1; order[++n] = key }
    }
    END {
        printf "%-22s %8s %14s %14s %8s\n", "test", "pipeline", "ferrodis rps", "redis rps", "ratio"
        for (i = 1; i <= n; i++) {
            split(order[i], k, SUBSEP)
            f = median(vals["ferrodis", order[i]]); r = median(vals["redis", order[i]])
            printf "%-22s %8s %14.0f %14.0f %8.2f\n", k[2], k[1], f, r, (r > 0 ? f / r : 0)
        }
    }' "$RESULTS"
