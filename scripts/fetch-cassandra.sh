#!/usr/bin/env bash
# Resolves org.apache.cassandra:cassandra-all (CASSANDRA_VERSION, default
# pinned in scripts/lib.sh) and its runtime dependencies with Maven into
# .cache/cassandra/<version>/lib, and prints that directory. A complete cache
# (marker file present) is reused without touching the network.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dest="$(dirname "$CASSANDRA_LIB")"
marker="$dest/.complete"
if [ -f "$marker" ] && [ -d "$CASSANDRA_LIB" ]; then
	echo "$CASSANDRA_LIB"
	exit 0
fi

ensure_java17
ensure_maven

log "resolving cassandra-all $CASSANDRA_VERSION and its runtime dependencies (first run only)"
mkdir -p "$dest"
tmp="$(mktemp -d "$dest/.lib.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
if ! JAVA_HOME="$JAVA17_HOME" mvn -B -q \
	-f "$SCB_ROOT/internal/testcluster/maven/pom.xml" \
	-Dcassandra.version="$CASSANDRA_VERSION" \
	org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
	-DincludeScope=runtime -DoutputDirectory="$tmp/lib" >"$tmp/mvn.log" 2>&1; then
	cat "$tmp/mvn.log" >&2
	die "maven could not resolve cassandra-all $CASSANDRA_VERSION (log above)"
fi
[ -f "$tmp/lib/cassandra-all-$CASSANDRA_VERSION.jar" ] || die "maven finished but cassandra-all-$CASSANDRA_VERSION.jar is missing"
rm -rf "$CASSANDRA_LIB"
mv "$tmp/lib" "$CASSANDRA_LIB"
{
	echo "cassandra-all $CASSANDRA_VERSION"
	echo "fetched $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	(cd "$CASSANDRA_LIB" && ls)
} >"$marker"
log "cassandra $CASSANDRA_VERSION: $(ls "$CASSANDRA_LIB" | wc -l) jars, $(du -sh "$CASSANDRA_LIB" | cut -f1), $(($(date +%s) - start)) s"
echo "$CASSANDRA_LIB"
