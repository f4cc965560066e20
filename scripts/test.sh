#!/usr/bin/env bash
#
# Every test of ttai, from a fresh Debian 12 machine: installs what is
# missing, builds, runs the C unit tests of shared/, then the suites
# under t/ with prove, and ends with the counts.
#
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: scripts/test.sh [prove arguments...]

Installs the needed Debian packages (scripts/bootstrap), builds the
module and the CLI, installs the pinned Node packages of the MCP tests
when needed (scripts/npm-setup), runs the unit tests, then the suites
under t/.
The suites run four at a time (each has its own nginx, server root and
ports, and most of their time is spent waiting); TTAI_TEST_JOBS=1 runs
them one after another.
Arguments are passed to prove instead of "-r t/", for example:

  scripts/test.sh t/001-health.t
  TEST_NGINX_USE_VALGRIND=1 scripts/test.sh t/001-health.t

Environment: TTAI_TEST_JOBS (default 4); see t/lib/Ttai/Test.pm for
TEST_NGINX_BINARY, TEST_NGINX_PORT, TEST_NGINX_USE_VALGRIND,
TEST_NGINX_LOG_LEVEL, TEST_NGINX_VERBOSE.
USAGE
}

case "${1:-}" in
    -h|--help) usage; exit 0 ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

scripts/bootstrap

echo "== build"
make --no-print-directory all

echo "== node packages"
scripts/npm-setup

echo "== unit tests"
unit_out=$(mktemp)
trap 'rm -f "$unit_out" "$prove_out"' EXIT
unit_rc=0
make --no-print-directory unit 2>&1 | tee "$unit_out" || unit_rc=$?

echo "== suites"
# The server roots of the last run: like Test::Nginx, the runner stops at
# anything in one that it did not make, and older runs kept state there.
rm -rf t/servroot
prove_out=$(mktemp)
prove_rc=0
if [ $# -eq 0 ]; then
    set -- -j "${TTAI_TEST_JOBS:-4}" -r t/
fi
prove "$@" 2>&1 | tee "$prove_out" || prove_rc=$?

unit_passed=$(sed -n 's/^unit: \([0-9]*\) passed.*/\1/p' "$unit_out" | tail -n 1)
unit_failed=$(sed -n 's/^unit: [0-9]* passed, \([0-9]*\) failed.*/\1/p' "$unit_out" | tail -n 1)
suite_total=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' "$prove_out" | tail -n 1)
suite_failed=$(sed -n 's/.*Tests: [0-9]* Failed: \([0-9]*\)).*/\1/p' "$prove_out" \
               | awk '{ s += $1 } END { print s + 0 }')

passed=$(( ${unit_passed:-0} + ${suite_total:-0} - suite_failed ))
failed=$(( ${unit_failed:-0} + suite_failed ))
if [ "$prove_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1    # a suite died before it could count
fi
if [ "$unit_rc" -ne 0 ] && [ "${unit_failed:-0}" -eq 0 ]; then
    failed=$((failed + 1))
fi

echo
echo "ttai: $passed passed, $failed failed"

[ "$unit_rc" -eq 0 ] && [ "$prove_rc" -eq 0 ]
