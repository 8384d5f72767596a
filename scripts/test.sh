#!/usr/bin/env bash
# Runs every check and test of the workspace: formatting, lints, the whole
# test suite (unit, integration, doc tests) and the docs build.
#
# The tests need a Redis server: this script starts its own `redis-server`
# on a free loopback port (installing Debian's package first when it is
# missing and we are root) and stops it at the end. It never touches a
# server it did not start.
#
# Usage: scripts/test.sh            (from anywhere inside the repository)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

servers_dir=$(mktemp -d "${TMPDIR:-/tmp}/chime-test-servers.XXXXXX")
cleanup() {
    if [ -f "$servers_dir/redis.pid" ]; then
        kill "$(cat "$servers_dir/redis.pid")" 2>/dev/null || true
    fi
    rm -rf "$servers_dir"
}
trap cleanup EXIT

free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
    else
        echo $((20000 + RANDOM % 20000))
    fi
}

ensure_package() { # command package
    if command -v "$1" >/dev/null 2>&1; then
        return
    fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        step "installing $2 (Debian package)"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
    else
        echo "scripts/test.sh: '$1' is missing; install it first (Debian/Ubuntu: sudo apt-get install $2)" >&2
        exit 1
    fi
}

start_redis() {
    ensure_package redis-server redis-server
    local port
    port=$(free_port)
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
        --daemonize yes --dir "$servers_dir" \
        --pidfile "$servers_dir/redis.pid" --logfile "$servers_dir/redis.log"
    for _ in $(seq 1 100); do
        if redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; then
            export CHIME_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
            echo "redis-server on 127.0.0.1:$port"
            return
        fi
        sleep 0.1
    done
    echo "scripts/test.sh: redis-server did not start; its log:" >&2
    cat "$servers_dir/redis.log" >&2 || true
    exit 1
}

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

step "starting test servers"
start_redis
export CHIME_REQUIRE_SERVERS=1

step "cargo test --workspace"
cargo test --workspace

step "cargo doc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

step "all checks passed"
