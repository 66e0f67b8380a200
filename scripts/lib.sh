# shellcheck shell=bash
# Shared helpers for scripts/*.sh. Source it; do not run it.

# Repository root (the directory holding go.mod).
SCB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export SCB_ROOT

# Java 17 is the only JVM Cassandra 5.0 runs on here (Java 24+ cannot run it).
JAVA17_HOME="${JAVA17_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}"
JAVA17="$JAVA17_HOME/bin/java"

# Pinned Cassandra version and the cache of its jars (git-ignored).
CASSANDRA_VERSION="${CASSANDRA_VERSION:-5.0.8}"
SCB_CACHE="${SCB_CACHE:-$SCB_ROOT/.cache}"
CASSANDRA_LIB="$SCB_CACHE/cassandra/$CASSANDRA_VERSION/lib"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# ensure_apt PKG...: installs the Debian packages that are missing, and only
# those; apt-get update runs only when something must be installed.
ensure_apt() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
		die "missing packages: ${missing[*]} (install them with: sudo apt-get install -y ${missing[*]})"
	fi
	log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ensure_java17: Java 17 at $JAVA17, installed from Debian if missing.
ensure_java17() {
	if [ ! -x "$JAVA17" ]; then
		ensure_apt openjdk-17-jdk-headless
	fi
	[ -x "$JAVA17" ] || die "Java 17 not found at $JAVA17 (Debian: apt-get install openjdk-17-jdk-headless; or set JAVA17_HOME)"
	"$JAVA17" -version 2>&1 | grep -q 'version "17' || die "$JAVA17 is not Java 17: $("$JAVA17" -version 2>&1 | head -1)"
}

# ensure_maven: mvn on PATH, installed from Debian if missing.
ensure_maven() {
	command -v mvn >/dev/null || ensure_apt maven
	command -v mvn >/dev/null || die "mvn not found (Debian: apt-get install maven)"
}

# ensure_go: the go command.
ensure_go() {
	if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
		export PATH="$PATH:/usr/local/go/bin"
	fi
	command -v go >/dev/null || die "go not found on PATH (Go 1.26 is required; see go.mod)"
}
