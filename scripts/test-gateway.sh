#!/usr/bin/env bash
# Gateway stage: the stock Java, Python and Node.js drivers, and gocql,
# connect in secure-connect-bundle mode through the scbkit gateway to a real
# two-node Cassandra 5.0 cluster that this stage starts itself (it stops one
# of the nodes during the test, so it cannot use the shared clusters).
#
#   scripts/test-gateway.sh            build the driver programs, run the live test
#   scripts/test-gateway.sh --bench    also measure throughput direct vs through the gateway
#
# Installs what it needs (Maven dependencies, a Python venv and npm packages in
# .cache/gateway-it, all git-ignored) and fails loudly: nothing is skipped.
#
# Environment:
#   SCB_GATEWAY_BENCH=1   same as --bench
#   SCB_TEST_HEAP         heap per node (default 512M)
#   GO_TEST_FLAGS         extra go test flags (e.g. -v)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$SCB_ROOT"

[ "${1:-}" = --bench ] && export SCB_GATEWAY_BENCH=1

IT="$SCB_ROOT/drivers/gateway-it"
OUT="$SCB_CACHE/gateway-it"
mkdir -p "$OUT"

ensure_go
ensure_java17
ensure_maven
command -v python3 >/dev/null || ensure_apt python3 python3-venv
command -v node >/dev/null || ensure_apt nodejs npm
command -v npm >/dev/null || ensure_apt npm

t0=$(date +%s)
lib="$("$SCB_ROOT/scripts/fetch-cassandra.sh")"
[ -f "$(ls "$lib"/cassandra-all-*.jar 2>/dev/null | head -1)" ] || die "no cassandra-all jar in $lib"

log "gateway-it: Java driver program (Maven)"
mvn -q -B -f "$IT/java/pom.xml" -DskipTests package \
	dependency:build-classpath -Dmdep.outputFile="$OUT/java.classpath" -Dmdep.includeScope=runtime \
	>&2 || die "building the Java gateway program failed"
JAVA_CP="$IT/java/target/classes:$(cat "$OUT/java.classpath")"

log "gateway-it: Python cassandra-driver (venv in $OUT/venv)"
if [ ! -x "$OUT/venv/bin/python" ]; then
	python3 -m venv "$OUT/venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
fi
"$OUT/venv/bin/pip" install -q --disable-pip-version-check -r "$IT/python/requirements.txt" >&2 ||
	die "pip install of the Python driver failed"
"$OUT/venv/bin/python" -c 'import cassandra, sys; sys.stderr.write("cassandra-driver %s\n" % cassandra.__version__)'

log "gateway-it: Node.js cassandra-driver (npm)"
mkdir -p "$OUT/nodejs"
cp "$IT/nodejs/package.json" "$IT/nodejs/gateway-it.js" "$IT/nodejs/dns-hosts.js" "$OUT/nodejs/"
(cd "$OUT/nodejs" && npm install --no-audit --no-fund --silent >&2) || die "npm install of the Node.js driver failed"
log "gateway-it: drivers ready in $(($(date +%s) - t0)) s"

export SCB_GATEWAY_IT=1
export SCB_CASSANDRA_LIB="$lib"
export SCB_JAVA17="$JAVA17"
export SCB_GATEWAY_IT_JAVA_CP="$JAVA_CP"
export SCB_GATEWAY_IT_PYTHON="$OUT/venv/bin/python"
export SCB_GATEWAY_IT_PYTHON_DIR="$IT/python"
export SCB_GATEWAY_IT_NODE_SCRIPT="$OUT/nodejs/gateway-it.js"

# shellcheck disable=SC2086
go test -tags gatewayit -count=1 -timeout 25m -run 'TestLive' ${GO_TEST_FLAGS:--v} ./scb/gateway/
