#!/usr/bin/env bash
# Java stage: builds and tests the Java loader (drivers/java) with Maven on
# JDK 17: unit tests, hostile archives, the shared vector corpus
# (spec/vectors), and integration tests with the stock DataStax Java driver
# against the real test cluster (direct mTLS) and, when this scb build has
# the gateway command, through `scb gateway` (bundle mode).
#
#   scripts/test-java.sh
#
# Environment:
#   SCB_TEST_STATE   state file of the running test cluster (set by
#                    scripts/test.sh). With CI set and no cluster the
#                    integration tests FAIL; without CI they are skipped.
#   CI               set in CI: nothing may be skipped for want of a cluster.
#   MAVEN_FLAGS      extra Maven flags (e.g. "-Dtest=VectorsTest").
#
# Installs what it needs: Java 17 and Maven from Debian when missing, Maven
# dependencies into .cache/m2 (git-ignored; later runs resolve nothing new).
# Fails loudly; exits non-zero when any test fails.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$SCB_ROOT"

ensure_go
ensure_java17
ensure_maven

mkdir -p "$SCB_CACHE/bin" "$SCB_CACHE/m2"
# The scb CLI the tests use to generate bundles from the cluster CA.
go build -o "$SCB_CACHE/bin/scb-java-it" ./cmd/scb || die "building the scb CLI failed"
export SCB_BIN="$SCB_CACHE/bin/scb-java-it"
export SCB_REPO_ROOT="$SCB_ROOT"

if [ -z "${SCB_TEST_STATE:-}" ]; then
	if [ -n "${CI:-}" ]; then
		log "warning: SCB_TEST_STATE is not set; with CI set the integration tests will fail"
	else
		log "SCB_TEST_STATE is not set: integration tests will be skipped (run scripts/test.sh java)"
	fi
fi

# shellcheck disable=SC2086
JAVA_HOME="$JAVA17_HOME" mvn -B --no-transfer-progress \
	-Dmaven.repo.local="$SCB_CACHE/m2" \
	-f "$SCB_ROOT/drivers/java/pom.xml" ${MAVEN_FLAGS:-} test
