#!/usr/bin/env bash
# The official test command (`make test`, .ci/run).
#
#   scripts/test.sh [STAGE...]     default: every stage in STAGES, in order
#
# 1. checks/installs what the suite needs (Go, Java 17, Maven; Debian
#    packages only when missing) and fetches the Cassandra jars (cached);
# 2. starts the shared Cassandra clusters once (scb-testcluster start);
# 3. exports SCB_TEST_STATE and runs each stage: a stage is a function
#    stage_<name>; later suites (java, python, nodejs, dotnet) add theirs and
#    append the name to STAGES;
# 4. always stops the clusters (trap), and exits non-zero if any stage failed.
#
# Environment:
#   SCB_TEST_TOPOLOGY  clusters to start (default "single,multi-dc": a
#                      one-node cluster plus a two-DC, two-node cluster)
#   SCB_TEST_HEAP      heap per node (default 512M)
#   SCB_TEST_KEEP=1    keep node directories after a failed start
#   SCB_TEST_CASSANDRA use this external cluster instead (see docs/testing.md)
#   GO_TEST_FLAGS      extra flags for go test (e.g. "-run TestX -v")
#   GO_TEST_PKGS       packages to test (default ./...)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$SCB_ROOT"

STAGES=(go gateway examples python nodejs java dotnet)

stage_go() {
	# -p 2: two cores; the shared nodes need some CPU too.
	# shellcheck disable=SC2086
	go test -count=1 -p 2 -timeout 20m ${GO_TEST_FLAGS:-} ${GO_TEST_PKGS:-./...}
}

stage_examples() { scripts/test-examples.sh; }
stage_gateway() { scripts/test-gateway.sh; }
stage_python() { scripts/test-python.sh; }
stage_java() { scripts/test-java.sh; }
stage_dotnet() { scripts/test-dotnet.sh; }
stage_nodejs() { scripts/test-nodejs.sh; }

TESTCLUSTER="$SCB_CACHE/bin/scb-testcluster"
# One state directory per run, named after this shell's pid, so that runs in
# the same tree never stop each other's clusters.
RUNS="$SCB_CACHE/testcluster"
STATE_DIR="$RUNS/run-$$"
STATE="$STATE_DIR/state.json"

stop_cluster() {
	if [ -f "$STATE" ]; then
		log "stopping test clusters"
		"$TESTCLUSTER" stop --state "$STATE" || log "warning: stopping the test clusters failed"
	fi
	rm -rf "$STATE_DIR"
}

# stop_stale stops the clusters of earlier runs whose script is gone (killed).
stop_stale() {
	local d pid
	for d in "$RUNS"/run-*; do
		[ -d "$d" ] || continue
		pid="${d##*/run-}"
		kill -0 "$pid" 2>/dev/null && continue
		if [ -f "$d/state.json" ]; then
			log "stopping clusters left by an earlier run ($d)"
			"$TESTCLUSTER" stop --state "$d/state.json" || log "warning: could not stop $d"
		fi
		rm -rf "$d"
	done
}

start_cluster() {
	ensure_java17
	local lib t0
	t0=$(date +%s)
	lib="$("$SCB_ROOT/scripts/fetch-cassandra.sh")"
	log "cassandra jars ready in $(($(date +%s) - t0)) s: $lib"
	mkdir -p "$SCB_CACHE/bin" "$STATE_DIR"
	go build -o "$TESTCLUSTER" ./internal/testcluster/cmd/scb-testcluster
	stop_stale
	trap stop_cluster EXIT
	trap 'exit 130' INT TERM
	t0=$(date +%s)
	local keep=()
	[ "${SCB_TEST_KEEP:-}" = 1 ] && keep=(--keep)
	log "starting test clusters (${SCB_TEST_TOPOLOGY:-single,multi-dc})"
	"$TESTCLUSTER" start --state "$STATE" --lib "$lib" \
		--topology "${SCB_TEST_TOPOLOGY:-single,multi-dc}" \
		--heap "${SCB_TEST_HEAP:-512M}" "${keep[@]}" >/dev/null
	log "test clusters ready in $(($(date +%s) - t0)) s"
	"$TESTCLUSTER" status --state "$STATE" >&2
	export SCB_TEST_STATE="$STATE"
}

main() {
	ensure_go
	local stages=("$@")
	[ ${#stages[@]} -eq 0 ] && stages=("${STAGES[@]}")
	local s
	for s in "${stages[@]}"; do
		declare -F "stage_$s" >/dev/null || die "unknown stage $s (have: ${STAGES[*]})"
	done

	if [ -n "${SCB_TEST_CASSANDRA:-}" ] && [ -z "${SCB_TEST_STATE:-}" ]; then
		log "using the external cluster $SCB_TEST_CASSANDRA"
	else
		unset SCB_TEST_CASSANDRA
		start_cluster
	fi

	# scb commands run by the suites keep their CAs and signing keys here,
	# never in the user's ~/.scb.
	export SCB_HOME="$SCB_CACHE/test-home"
	rm -rf "$SCB_HOME"

	local failed=() t0
	for s in "${stages[@]}"; do
		log "stage $s"
		t0=$(date +%s)
		if "stage_$s"; then
			log "stage $s passed in $(($(date +%s) - t0)) s"
		else
			log "stage $s FAILED in $(($(date +%s) - t0)) s"
			failed+=("$s")
		fi
	done
	if [ ${#failed[@]} -gt 0 ]; then
		die "failed stages: ${failed[*]}"
	fi
	log "all stages passed: ${stages[*]}"
}

main "$@"
