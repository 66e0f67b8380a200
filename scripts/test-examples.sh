#!/usr/bin/env bash
# Stage script: proves the rendered driver configurations and the example
# programs against the shared test cluster, with the stock drivers.
#
#   SCB_TEST_STATE=.cache/testcluster/state.json scripts/test-examples.sh
#
# scripts/test.sh runs it as the "examples" stage (it exports SCB_TEST_STATE).
# It installs what it needs (Debian packages only when missing; PyPI and npm
# packages into .cache/examples; Maven artifacts into .cache/m2) and fails
# (exit 1) on any failure; nothing is skipped.
#
#  1. makes an scb CA directory from the test cluster's CA (root = issuer),
#     so that `scb generate` issues client certificates the node accepts;
#  2. generates bundles: all drivers (zip); --drivers java,python (checks
#     that only those configs and examples are inside); a legacy-3des one for
#     Mono; one from a foreign CA; two pointing at a loopback forwarder whose
#     address (127.0.0.3) is not in the server certificate, with and without
#     --insecure-skip-hostname-verification;
#  3. parse-back oracles: application.conf through the Java driver's own
#     DriverConfigLoader, INI/JSON/YAML/XML through Python's parsers, the
#     Node.js driver's consistency table, ScbBundle.cs under Mono,
#     scb_config.hpp compiled with g++ (scb/render/testdata/oracle.py);
#  4. runs the bundle's Java (Maven), Python, Node.js and Go examples:
#     connect over mTLS with a password, write and read a row; then cqlsh
#     with the bundle's cqlshrc reads the four rows back;
#  5. error paths: wrong password (exit 3), foreign CA (exit 4), host name
#     not in the certificate (exit 4), and the same with hostname
#     verification turned off (exit 0: the chain is still verified).
#
# Environment: SCB_TEST_STATE (required), SCB_CACHE (default .cache).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$SCB_ROOT"

[ -n "${SCB_TEST_STATE:-}" ] && [ -f "$SCB_TEST_STATE" ] ||
	die "SCB_TEST_STATE must name the test-cluster state file (run: scripts/test.sh examples)"

EX_CACHE="$SCB_CACHE/examples"
M2="$SCB_CACHE/m2"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/scb-examples.XXXXXX")"
# Signing keys and anything else scb keeps stay inside this run.
export SCB_HOME="$WORK/home"
FWD_PID=""
cleanup() {
	[ -n "$FWD_PID" ] && kill "$FWD_PID" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

FAILED=()
fail() { log "FAIL: $*"; FAILED+=("$*"); }

# timed NAME CMD...: runs CMD, logs its duration, records a failure.
timed() {
	local name=$1 t0 rc
	shift
	t0=$(date +%s)
	set +e
	"$@"
	rc=$?
	set -e
	log "$name: exit $rc in $(($(date +%s) - t0)) s"
	[ $rc -eq 0 ] || fail "$name (exit $rc)"
	return 0
}

# expect NAME CODE CMD...: CMD must exit with CODE; its output is shown on a mismatch.
expect() {
	local name=$1 want=$2 rc
	shift 2
	set +e
	timeout 300 bash -c '"$@"' bash "$@" >"$WORK/out.txt" 2>&1
	rc=$?
	set -e
	if [ $rc -eq "$want" ]; then
		log "$name: exit $rc as expected ($(grep -m1 -E 'read back|failed|TLS|authentication' "$WORK/out.txt" | cut -c1-160))"
	else
		tail -n 30 "$WORK/out.txt" >&2
		fail "$name: exit $rc, want $want"
	fi
}

# --- tools -------------------------------------------------------------------
ensure_go
ensure_java17
ensure_maven
command -v node >/dev/null && command -v npm >/dev/null || ensure_apt nodejs npm
command -v g++ >/dev/null || ensure_apt g++
ensure_apt mono-mcs mono-runtime libmono-system-runtime-serialization4.0-cil libmono-system-core4.0-cil
python3 -c 'import venv' 2>/dev/null || ensure_apt python3-venv

# --- the cluster -------------------------------------------------------------
read -r CA_DIR DB_USER DB_PASS NODE_ADDR NODE_PORT NODE_DC < <(python3 - "$SCB_TEST_STATE" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
n = s["clusters"][0]["nodes"][0]
if not s.get("ca_dir"):
    sys.exit("the test-cluster state has no ca_dir (an scb/ca directory); restart the cluster with scripts/test.sh")
print(s["ca_dir"], s["username"], s["password"], n["address"], n["native_port"], n["dc"] or "datacenter1")
EOF
)
log "cluster node $NODE_ADDR:$NODE_PORT ($NODE_DC)"

# The cluster's CA is an scb/ca directory: bundles come straight from it.
CADIR="$CA_DIR"

go build -o "$WORK/scb" ./cmd/scb
SCB="$WORK/scb"
gen() { # gen OUT [flags...]
	local out=$1
	shift
	"$SCB" generate --cluster scbtest --client examples --environment testing --dir "$CADIR" \
		--datacenter "$NODE_DC" --validity 1d --out "$out" --force "$@" >/dev/null
}
unzip_to() { python3 -m zipfile -e "$1" "$2"; }

# --- bundles -----------------------------------------------------------------
B="$WORK/bundle"
gen "$WORK/bundle.zip" --contact-point "$NODE_ADDR:$NODE_PORT"
unzip_to "$WORK/bundle.zip" "$B"
gen "$WORK/subset.zip" --contact-point "$NODE_ADDR:$NODE_PORT" --drivers java,python
gen "$WORK/legacy" --format dir --contact-point "$NODE_ADDR:$NODE_PORT" --pkcs12-cipher legacy-3des
"$SCB" generate --cluster scbtest --client examples --environment testing --dir "$WORK/foreign-ca" \
	--datacenter "$NODE_DC" --contact-point "$NODE_ADDR:$NODE_PORT" --format dir --out "$WORK/wrongca" >/dev/null 2>&1

# A loopback forwarder on 127.0.0.3 (not in the server certificate) to the node.
cat >"$WORK/fwd.py" <<'EOF'
import socket, sys, threading
dst = (sys.argv[1], int(sys.argv[2]))
ls = socket.socket(); ls.bind(("127.0.0.3", 0)); ls.listen(64)
open(sys.argv[3], "w").write(str(ls.getsockname()[1]))
def pipe(a, b):
    try:
        while (d := a.recv(65536)):
            b.sendall(d)
    except OSError:
        pass
    finally:
        a.close(); b.close()
while True:
    c, _ = ls.accept()
    u = socket.create_connection(dst)
    for x, y in ((c, u), (u, c)):
        threading.Thread(target=pipe, args=(x, y), daemon=True).start()
EOF
python3 "$WORK/fwd.py" "$NODE_ADDR" "$NODE_PORT" "$WORK/fwd.port" &
FWD_PID=$!
for _ in $(seq 50); do [ -s "$WORK/fwd.port" ] && break; sleep 0.1; done
FWD_PORT=$(cat "$WORK/fwd.port")
gen "$WORK/mismatch" --format dir --contact-point "127.0.0.3:$FWD_PORT"
gen "$WORK/insecure" --format dir --contact-point "127.0.0.3:$FWD_PORT" --insecure-skip-hostname-verification 2>/dev/null

# --drivers java,python: only those configurations and examples.
got=$(python3 - "$WORK/subset.zip" <<'EOF'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
d = sorted({n.split("/")[2 if n.startswith("config/driver-configs/") else 1] for n in names
            if n.startswith("config/driver-configs/") or n.startswith("examples/")})
print(",".join(d))
EOF
)
[ "$got" = "java,python" ] && log "--drivers java,python: bundle holds $got" || fail "--drivers java,python: bundle holds $got"

# --- installs (cached) -------------------------------------------------------
mkdir -p "$EX_CACHE" "$M2"
install_python() {
	[ -x "$EX_CACHE/venv/bin/python" ] || python3 -m venv "$EX_CACHE/venv"
	CASS_DRIVER_NO_CYTHON=1 "$EX_CACHE/venv/bin/pip" install -q --disable-pip-version-check \
		-r "$B/examples/python/requirements.txt" cqlsh==6.2.2 PyYAML==6.0.4
}
install_node() {
	mkdir -p "$EX_CACHE/node"
	cp "$B/examples/nodejs/package.json" "$EX_CACHE/node/"
	(cd "$EX_CACHE/node" && npm install --no-audit --no-fund --silent)
}
MVN=(mvn -q -B -Dmaven.repo.local="$M2")
build_java() {
	cp -r "$B/examples/java" "$WORK/javaex"
	(cd "$WORK/javaex" && "${MVN[@]}" compile dependency:build-classpath -Dmdep.outputFile=cp.txt)
}
build_java_check() {
	cp -r scb/render/testdata/java-check "$WORK/java-check"
	(cd "$WORK/java-check" && "${MVN[@]}" compile dependency:build-classpath -Dmdep.outputFile=cp.txt)
}
build_go() {
	cp -r "$B/examples/go" "$WORK/goex"
	(cd "$WORK/goex" && GOFLAGS=-mod=mod go mod tidy && go build -o example .)
}
build_dotnet() {
	mkdir -p "$WORK/dotnet"
	mcs -r:System.Runtime.Serialization.dll -r:System.Core.dll -out:"$WORK/dotnet/bundlecheck.exe" \
		"$B/examples/dotnet/ScbBundle.cs" "$B/examples/dotnet/BundleCheck.cs"
}
build_cpp() { g++ -std=c++17 -Wall -Wextra -Werror -o "$WORK/config_check" "$B/examples/cpp/config_check.cpp"; }
timed "install python cassandra-driver + cqlsh" install_python
timed "install node cassandra-driver" install_node
timed "build java example (maven)" build_java
timed "build java config check (maven)" build_java_check
timed "build go example" build_go
timed "compile C# bundle reader (mcs)" build_dotnet
timed "compile C++ config reader (g++)" build_cpp
[ ${#FAILED[@]} -eq 0 ] || die "setup failed: ${FAILED[*]}"
PY="$EX_CACHE/venv/bin/python"

# --- parse-back oracles ------------------------------------------------------
java -cp "$WORK/java-check/target/classes:$(cat "$WORK/java-check/cp.txt")" scbkit.check.ConfigCheck \
	"$B/config/driver-configs/java/application.conf" "$B" >"$WORK/java-check.txt" 2>/dev/null ||
	fail "java config check"
(cd "$EX_CACHE/node" && node -e "process.stdout.write(JSON.stringify(require('cassandra-driver').types.consistencies))") >"$WORK/node-consistencies.json"
mono "$WORK/dotnet/bundlecheck.exe" "$WORK/legacy" >"$WORK/dotnet.txt" || fail "C# bundle reader (Mono) on the legacy-3des bundle"
"$WORK/config_check" "$B" >"$WORK/cpp.txt" || fail "C++ config reader"
timed "parse-back oracle" "$PY" scb/render/testdata/oracle.py "$B" --java "$WORK/java-check.txt" \
	--node-consistencies "$WORK/node-consistencies.json" --dotnet "$WORK/dotnet.txt" --cpp "$WORK/cpp.txt"
# Mono cannot read the default AES-256 cert.pfx: the reader must say so (exit 2).
expect "C# reader on the AES-256 cert.pfx under Mono" 2 mono "$WORK/dotnet/bundlecheck.exe" "$B"
grep -q "legacy-3des" "$WORK/out.txt" || fail "C# reader: no legacy-3des hint"

# --- live runs ---------------------------------------------------------------
export SCB_KEYSPACE=scb_examples
JAVA_CP="$WORK/javaex/target/classes:$(cat "$WORK/javaex/cp.txt")"
run_java() { java -cp "$JAVA_CP" scbkit.example.Main "$1"; }
run_python() { "$PY" "$B/examples/python/example.py" "$1"; }
run_node() { NODE_PATH="$EX_CACHE/node/node_modules" node "$B/examples/nodejs/example.js" "$1"; }
run_go() { "$WORK/goex/example" "$1"; }
export -f run_java run_python run_node run_go
export JAVA_CP PY B EX_CACHE WORK

export SCB_USERNAME="$DB_USER" SCB_PASSWORD="$DB_PASS"
# The README's command, from the bundle's own copy of the Java example.
expect "java example via mvn exec:java (zip)" 0 bash -c "cd '$WORK/javaex' && ${MVN[*]} exec:java -Dexec.args='$WORK/bundle.zip'"
expect "python example (zip)" 0 run_python "$WORK/bundle.zip"
expect "node example" 0 run_node "$B"
expect "go example" 0 run_go "$B"
expect "cqlsh with the bundle's cqlshrc" 0 bash -c "cd '$B' && '$EX_CACHE/venv/bin/cqlsh' --cqlshrc ./cqlshrc -u '$DB_USER' -p '$DB_PASS' -e 'SELECT driver, message FROM scb_examples.messages'"
for d in java python nodejs go; do
	grep -q "^ *$d |" "$WORK/out.txt" || fail "cqlsh did not read the row written by the $d example"
done

for lang in java python node go; do
	expect "$lang: foreign CA -> TLS failure" 4 "run_$lang" "$WORK/wrongca"
	expect "$lang: host name not in certificate -> TLS failure" 4 "run_$lang" "$WORK/mismatch"
	expect "$lang: hostname verification off (tests only) -> connects" 0 "run_$lang" "$WORK/insecure"
done
export SCB_PASSWORD="wrong-$DB_PASS"
for lang in java python node go; do
	expect "$lang: wrong password -> authentication failure" 3 "run_$lang" "$B"
done

if [ ${#FAILED[@]} -gt 0 ]; then
	printf '  - %s\n' "${FAILED[@]}" >&2
	die "examples stage: ${#FAILED[@]} failure(s)"
fi
log "examples stage: all checks passed"
