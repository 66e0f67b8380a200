#!/usr/bin/env bash
# Node.js loader stage (drivers/nodejs): installs the test dependency
# (cassandra-driver, npm ci into drivers/nodejs/node_modules, git-ignored)
# and runs `node --test`: unit tests, the shared vectors (spec/vectors) and
# the integration tests against the shared Cassandra test cluster. The
# loader itself has no dependencies.
#
#   scripts/test-nodejs.sh [TEST_FILE...]     default: drivers/nodejs/test/*.test.js
#
# Environment:
#   SCB_TEST_STATE      state file of the shared cluster (scripts/test.sh sets
#                       it). Without it the integration tests fail under CI
#                       (CI set) and are skipped otherwise.
#   SCB_REQUIRE_GATEWAY=1  fail (instead of skip) when the CLI has no
#                       'scb gateway' command for the bundle-mode test.
# Fails loudly: any failure, and a run with no tests, is a non-zero exit.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$SCB_ROOT"

command -v node >/dev/null || ensure_apt nodejs npm
command -v npm >/dev/null || ensure_apt npm
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 18 ] || die "Node.js 18 or later is required (have $(node --version))"

t0=$(date +%s)
(cd drivers/nodejs && npm ci --no-audit --no-fund --silent >&2) || die "npm ci in drivers/nodejs failed"
log "nodejs: node $(node --version), cassandra-driver $(node -p 'require("./drivers/nodejs/node_modules/cassandra-driver/package.json").version') ready in $(($(date +%s) - t0)) s"

ensure_go
mkdir -p "$SCB_CACHE/bin"
go build -o "$SCB_CACHE/bin/scb" ./cmd/scb
export SCB_BIN="$SCB_CACHE/bin/scb"

if [ -z "${SCB_TEST_STATE:-}" ]; then
	[ -n "${CI:-}" ] && die "SCB_TEST_STATE is not set: run this stage from scripts/test.sh (CI must not skip integration tests)"
	log "nodejs: SCB_TEST_STATE is not set: integration tests will be skipped (run scripts/testcluster.sh start)"
fi

files=("$@")
if [ ${#files[@]} -eq 0 ]; then
	files=(drivers/nodejs/test/*.test.js)
fi
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
set +e
node --test "${files[@]}" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
set -e
[ "$rc" -eq 0 ] || die "node tests failed (exit $rc)"
pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$out" | tail -1)
[ -n "$pass" ] && [ "$pass" -gt 0 ] || die "node --test ran no tests"
