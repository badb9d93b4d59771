#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this script).
#
# It installs the client programs the end-to-end tests drive (psql from
# postgresql-client, kcat) from Debian's packages when they are missing, then
# runs go vet and every test, including the ksqlDB conformance run over
# ../shared/qtt (or $SLUICE_QTT_DIR), which prints its score.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v psql >/dev/null 2>&1 || need+=(postgresql-client)
command -v kcat >/dev/null 2>&1 || need+=(kcat)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]} (needed by the client tests)"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

# The client tests must not skip in CI: the binaries are there now.
export SLUICE_REQUIRE_CLIENTS=1

echo "== go vet"
go vet ./...
echo "== go test"
# The conformance test writes its score lines here (go test hides the
# output of passing packages).
score=$(mktemp)
export SLUICE_QTT_SCORE_FILE="$score"
set +e
go test -count=1 -timeout 25m ./...
status=$?
set -e
echo "== score"
if [ -s "$score" ]; then cat "$score"; else echo "conformance: no score was written (did tests/qtt run?)"; fi
rm -f "$score"
exit "$status"
