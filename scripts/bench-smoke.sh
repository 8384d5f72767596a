#!/usr/bin/env bash
# Runs every benchmark workload (chime-bench w1 … w6, and the floors) at a
# tiny size, so the harness never rots. The full sizes and their results are in BENCHMARKS.md.
#
# Redis and MongoDB are measured when CHIME_TEST_REDIS_URL /
# CHIME_TEST_MONGO_URL name a server (as scripts/test.sh sets them);
# otherwise W5/W6 report them as skipped. A MongoDB URL with `replicaSet=`
# is initiated as a single-member set first (idempotent).
#
# Exits non-zero when a workload fails (an error, or a failed correctness
# check: wrong cron fire times, jobs that did not run, …) and when W6
# reports duplicate runs. Takes well under a minute after the build.
#
# Usage: scripts/bench-smoke.sh      (from anywhere inside the repository)
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build -q -p chime-bench
bin="${CARGO_TARGET_DIR:-target}/debug/chime-bench"

run() {
    printf '\n==> chime-bench %s\n' "$*"
    local line status=0
    line=$("$bin" "$@") || status=$?
    printf '%s\n' "$line"
    if [ "$status" -ne 0 ]; then
        echo "scripts/bench-smoke.sh: chime-bench $1 failed (exit status $status)" >&2
        exit 1
    fi
    last_line=$line
}

if [ -n "${CHIME_TEST_MONGO_URL:-}" ]; then
    "$bin" mongo-init --url "$CHIME_TEST_MONGO_URL"
fi

started=$SECONDS
run w1 --ops 2000 --rounds 1
run w2 --jobs 500 --delay 1.5
run w3 --jobs 50 --seconds 3
run w4 --jobs 20000 --idle-seconds 1
run w4-floor --jobs 20000 --rounds 1
run w5 --jobs 2000 --due 100 --rounds 1
if [ -n "${CHIME_TEST_REDIS_URL:-}" ]; then
    run w5-redis-floor --jobs 2000 --claimed 100 --rounds 1
fi
if [ -n "${CHIME_TEST_MONGO_URL:-}" ]; then
    run w5-mongo-floor --jobs 2000 --claimed 100 --rounds 1
fi
run w6 --jobs 50 --seconds 3 --lead 2
if printf '%s' "$last_line" | grep -oE '"duplicates": ?[0-9]+' | grep -qvE ': ?0$'; then
    echo "scripts/bench-smoke.sh: W6 reports duplicate runs" >&2
    exit 1
fi
printf '\nbench smoke: every workload ran (%ss)\n' "$((SECONDS - started))"
