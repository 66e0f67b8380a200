#!/usr/bin/env bash
# Python loader stage (drivers/python): installs what it needs and runs the
# pytest suite, unit tests, the shared vectors (spec/vectors) and the
# integration tests against the shared Cassandra test cluster.
#
#   scripts/test-python.sh [PYTEST_ARGS...]
#
# Installs into a venv under .cache/python/venv (git-ignored): the scbkit
# package from drivers/python, pytest, cassandra-driver and cryptography.
# Builds the scb CLI into .cache/bin/scb (the tests make bundles with it).
#
# Environment:
#   SCB_TEST_STATE      state file of the shared cluster (scripts/test.sh sets
#                       it). Without it the integration tests fail under CI
#                       (CI set) and are skipped otherwise.
#   SCB_REQUIRE_GATEWAY=1  fail (instead of skip) when the CLI has no
#                       'scb gateway' command for the bundle-mode test.
#   PYTHON              interpreter for the venv (default python3; 3.9+).
# Fails loudly: any failure, and "no tests collected" (pytest exit 5), is a
# non-zero exit.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$SCB_ROOT"

PY="${PYTHON:-python3}"
command -v "$PY" >/dev/null || ensure_apt python3 python3-venv
VENV="$SCB_CACHE/python/venv"
if [ ! -x "$VENV/bin/python" ]; then
	log "python: creating $VENV"
	"$PY" -m venv "$VENV" || die "$PY -m venv failed (Debian: apt-get install python3-venv)"
fi
t0=$(date +%s)
# cassandra-driver ships binary wheels for CPython 3.9-3.12 on Linux; should
# pip ever fall back to the source distribution, skip its Cython build (it
# then installs in seconds instead of minutes, pure Python, same API).
export CASS_DRIVER_NO_CYTHON=1
"$VENV/bin/pip" install -q --disable-pip-version-check \
	"pytest>=7.3" "cassandra-driver>=3.28" "cryptography>=42" "setuptools>=61" wheel >&2 ||
	die "pip install of pytest, cassandra-driver and cryptography failed"
"$VENV/bin/pip" install -q --disable-pip-version-check --no-deps --force-reinstall --no-build-isolation ./drivers/python >&2 ||
	die "pip install of drivers/python failed"
rm -rf drivers/python/build drivers/python/src/*.egg-info
log "python: venv ready in $(($(date +%s) - t0)) s ($("$VENV/bin/python" -c 'import sys, cassandra, cryptography; print("Python %d.%d, cassandra-driver %s, cryptography %s" % (sys.version_info[:2] + (cassandra.__version__, cryptography.__version__)))'))"

ensure_go
mkdir -p "$SCB_CACHE/bin"
go build -o "$SCB_CACHE/bin/scb" ./cmd/scb
export SCB_BIN="$SCB_CACHE/bin/scb"

if [ -z "${SCB_TEST_STATE:-}" ]; then
	[ -n "${CI:-}" ] && die "SCB_TEST_STATE is not set: run this stage from scripts/test.sh (CI must not skip integration tests)"
	log "python: SCB_TEST_STATE is not set: integration tests will be skipped (run scripts/testcluster.sh start)"
fi

set +e
(cd drivers/python && "$VENV/bin/python" -m pytest -p no:cacheprovider -q -rs "$@")
rc=$?
set -e
[ "$rc" -eq 5 ] && die "pytest collected no tests"
[ "$rc" -eq 0 ] || die "python tests failed (pytest exit $rc)"
