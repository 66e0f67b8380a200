#!/usr/bin/env bash
# Starts, stops or checks a long-lived local test cluster for running tests by
# hand:
#
#   scripts/testcluster.sh start    # prints the export line to use
#   export SCB_TEST_STATE=$PWD/.cache/testcluster/dev-state.json
#   go test ./internal/testcluster/ -run TestX -v
#   scripts/testcluster.sh stop
#
# SCB_TEST_TOPOLOGY and SCB_TEST_HEAP work as in scripts/test.sh.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$SCB_ROOT"

TESTCLUSTER="$SCB_CACHE/bin/scb-testcluster"
STATE="$SCB_CACHE/testcluster/dev-state.json"

build() {
	ensure_go
	mkdir -p "$SCB_CACHE/bin" "$(dirname "$STATE")"
	go build -o "$TESTCLUSTER" ./internal/testcluster/cmd/scb-testcluster
}

case "${1:-}" in
start)
	build
	ensure_java17
	lib="$("$SCB_ROOT/scripts/fetch-cassandra.sh")"
	"$TESTCLUSTER" start --state "$STATE" --lib "$lib" \
		--topology "${SCB_TEST_TOPOLOGY:-single,multi-dc}" --heap "${SCB_TEST_HEAP:-512M}" >/dev/null
	"$TESTCLUSTER" status --state "$STATE"
	echo "export SCB_TEST_STATE=$STATE"
	;;
stop)
	build
	"$TESTCLUSTER" stop --state "$STATE"
	;;
status)
	build
	"$TESTCLUSTER" status --state "$STATE"
	;;
*)
	echo "usage: scripts/testcluster.sh start|stop|status" >&2
	exit 2
	;;
esac
