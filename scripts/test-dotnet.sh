#!/usr/bin/env bash
# .NET stage: compiles the C# loader (drivers/dotnet) with Mono's mcs and runs
# its self-contained test runner with mono: unit tests, hostile archives, the
# shared vector corpus (spec/vectors), and integration tests against the real
# test cluster (an SslStream mTLS handshake with the loader's certificates and
# pinned validation callback, then a CQL native-protocol round trip). The
# DataStax C# driver is not used: NuGet is not reachable from these machines.
#
#   scripts/test-dotnet.sh [FILTER]     FILTER: run only tests whose name contains it
#
# Environment:
#   SCB_TEST_STATE   state file of the running test cluster (set by
#                    scripts/test.sh). With CI set and no cluster the
#                    integration tests FAIL; without CI they are skipped.
#   CI               set in CI: nothing may be skipped for want of a cluster.
#
# Installs the Mono compiler and runtime from Debian when missing. The closing
# line is "dotnet: N passed, M failed"; the exit code is non-zero on failure.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$SCB_ROOT"

ensure_go
ensure_apt mono-mcs mono-runtime libmono-system4.0-cil libmono-system-core4.0-cil \
	libmono-system-numerics4.0-cil libmono-btls-interface4.0-cil
command -v mcs >/dev/null || die "mcs not found after installing mono-mcs"
command -v mono >/dev/null || die "mono not found after installing mono-runtime"

out="$SCB_CACHE/dotnet"
mkdir -p "$out" "$SCB_CACHE/bin"
go build -o "$SCB_CACHE/bin/scb-dotnet-it" ./cmd/scb || die "building the scb CLI failed"
export SCB_BIN="$SCB_CACHE/bin/scb-dotnet-it"
export SCB_REPO_ROOT="$SCB_ROOT"

src=(drivers/dotnet/src/ScbKit.Loader/*.cs)
log "dotnet: compiling the library ($(mcs --version))"
mcs -target:library -langversion:7 -warnaserror+ -nowarn:1591 -r:System.Numerics.dll \
	-doc:"$out/ScbKit.Loader.xml" -out:"$out/ScbKit.Loader.dll" "${src[@]}" ||
	die "compiling drivers/dotnet failed"
log "dotnet: compiling the tests"
mcs -target:exe -langversion:7 -warnaserror+ -nowarn:1591 -debug -r:System.Numerics.dll \
	-out:"$out/ScbKit.Loader.Tests.exe" "${src[@]}" drivers/dotnet/tests/*.cs ||
	die "compiling drivers/dotnet/tests failed"

if [ -z "${SCB_TEST_STATE:-}" ]; then
	if [ -n "${CI:-}" ]; then
		log "warning: SCB_TEST_STATE is not set; with CI set the integration tests will fail"
	else
		log "SCB_TEST_STATE is not set: integration tests will be skipped (run scripts/test.sh dotnet)"
	fi
fi
mono --debug "$out/ScbKit.Loader.Tests.exe" "$@"
