#!/usr/bin/env bash
# The chaos suite in one command: builds the test nodes and runs
# `chime-chaos` (three scheduler processes on one store, SIGKILLed and
# restarted at random, the store server restarted once; a checker accounts
# for every fire). Arguments go to chime-chaos, e.g.
#   scripts/chaos.sh --stores sqlite,redis,mongo --seconds 60 --jobs 100
# redis-server and mongod come from PATH, or CHIME_TEST_REDIS_SERVER and
# CHIME_TEST_MONGOD (scripts/test.sh sets the latter up).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p chime-tests --bins
target_dir="${CARGO_TARGET_DIR:-target}"
exec "$target_dir/debug/chime-chaos" "$@"
