#!/usr/bin/env bash
# Runs N `mcpwire serve --http` instances behind HAProxy (round-robin, no stickiness), sharing
# one Redis and one requestState key, all on loopback, until Ctrl-C. See deploy/README.md.
#
# Usage: deploy/run.sh [INSTANCES]          (default 3)
# Environment:
#   MCPWIRE        the mcpwire binary (default: `mcpwire` on PATH)
#   SERVER         the command of one instance instead of `$MCPWIRE serve`, e.g.
#                  "target/debug/examples/interop_peer --era both"; it is given
#                  `--http 127.0.0.1:PORT` (and the shared options) after its own arguments
#   SHARED         0 for a server without `--redis` and `--request-state-key-file`
#   BALANCER_PORT  where HAProxy listens (default 8080): http://localhost:8080/mcp
#   FIRST_PORT     the first instance's port; the others follow (default 8001)
#   REDIS_PORT     Redis's port (default 6390)
set -euo pipefail

instances=${1:-3}
mcpwire=${MCPWIRE:-mcpwire}
read -ra server <<<"${SERVER:-$mcpwire serve}"
shared=${SHARED:-1}
balancer_port=${BALANCER_PORT:-8080}
first_port=${FIRST_PORT:-8001}
redis_port=${REDIS_PORT:-6390}
here=$(cd "$(dirname "$0")" && pwd)

case $instances in
'' | *[!0-9]*) echo "run.sh: INSTANCES must be a number, not '$instances'" >&2; exit 2 ;;
esac
for command in "${server[0]}" redis-server haproxy; do
    command -v "$command" >/dev/null || {
        echo "run.sh: $command is not installed (apt-get install redis-server haproxy; mcpwire from cargo build -p mcpwire-cli)" >&2
        exit 1
    }
done

# A private directory for Redis's files, the key and the balancer's configuration.
work=$(mktemp -d)
chmod 700 "$work"
pids=()
stop() {
    # Only the processes this script started, by their PIDs, the balancer first.
    for ((index = ${#pids[@]} - 1; index >= 0; index--)); do
        kill "${pids[index]}" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap stop EXIT
trap 'exit 130' INT TERM

# Waits (at most 10 seconds) until something listens on 127.0.0.1:$1.
wait_for_port() {
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "run.sh: nothing listens on 127.0.0.1:$1 after 10 seconds" >&2
    exit 1
}

# One Redis, without persistence: it holds what the instances share while they run.
mkdir "$work/redis"
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize no --dir "$work/redis" --loglevel warning &
pids+=($!)
wait_for_port "$redis_port"

# The requestState key: 32 random bytes as 64 hex digits, the same file for every instance.
umask 077
od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$work/request-state.key"

: >"$work/servers"
for ((index = 1; index <= instances; index++)); do
    port=$((first_port + index - 1))
    options=(--http "127.0.0.1:$port")
    if [ "$shared" != 0 ]; then
        options+=(--redis "redis://127.0.0.1:$redis_port")
        options+=(--request-state-key-file "$work/request-state.key")
    fi
    "${server[@]}" "${options[@]}" &
    pids+=($!)
    echo "    server mcpwire$index 127.0.0.1:$port check" >>"$work/servers"
done
for ((index = 1; index <= instances; index++)); do
    wait_for_port $((first_port + index - 1))
done

sed -e "s/@BIND@/127.0.0.1:$balancer_port/" \
    -e "/^@SERVERS@\$/r $work/servers" -e "/^@SERVERS@\$/d" \
    "$here/haproxy.cfg.in" >"$work/haproxy.cfg"
haproxy -c -q -f "$work/haproxy.cfg"
haproxy -f "$work/haproxy.cfg" -db &
pids+=($!)
wait_for_port "$balancer_port"

echo "run.sh: $instances instances behind http://localhost:$balancer_port/mcp; stop with Ctrl-C" >&2
# Until any of them exits (or Ctrl-C); then everything stops.
wait -n "${pids[@]}"
