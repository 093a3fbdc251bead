#!/usr/bin/env bash
# test-matrix.sh runs the whole test suite (unit, integration, CLI) once per
# PostgreSQL major version, against server binaries fetched once by
# scripts/pg-version.sh, and prints each version's result and wall time.
#
# Environment:
#   PG_MAJORS    the majors to run (default "12 13 14 15 16 17 18")
#   MATRIX_JOBS  versions run at a time (default 2: on 2 cores, measured
#                faster than one at a time; docs/versions.md)
#   MATRIX_RACE  "-race" to build the tests with the race detector (make
#                test already runs the default version with it)
#   MATRIX_LOGS  where each version's go test output goes (default: a new
#                directory under $TMPDIR, named in the summary)
set -uo pipefail
cd "$(dirname "$0")/.."

majors=${PG_MAJORS:-12 13 14 15 16 17 18}
jobs=${MATRIX_JOBS:-2}
race=${MATRIX_RACE:-}
# A fresh directory per run by default: two runs (two worktrees, two CI
# jobs) must not write each other's logs.
logs=${MATRIX_LOGS:-$(mktemp -d "${TMPDIR:-/tmp}/pgwiden-matrix-XXXXXX")}
go=${GO:-go}
mkdir -p "$logs"

# Fetch every version first, one at a time: a download failure stops the
# run before any test, and parallel runs never race on the cache.
declare -A bin
for m in $majors; do
	bin[$m]=$(bash scripts/pg-version.sh "$m") || { echo "test-matrix: PostgreSQL $m: no server binaries" >&2; exit 1; }
done

run_one() {
	local m=$1 start rc
	start=$(date +%s)
	PGWIDEN_PG_BIN=${bin[$m]} $go test $race -count=1 -timeout 20m ./... >"$logs/pg-$m.log" 2>&1
	rc=$?
	echo "$m $rc $(($(date +%s) - start))" >"$logs/pg-$m.result"
}

start=$(date +%s)
running=0
for m in $majors; do
	rm -f "$logs/pg-$m.result"
	run_one "$m" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

failed=
for m in $majors; do
	read -r _ rc secs <"$logs/pg-$m.result" || { rc=1 secs=?; }
	if [ "$rc" -eq 0 ]; then
		printf 'PostgreSQL %-3s ok    %4ss\n' "$m" "$secs"
	else
		printf 'PostgreSQL %-3s FAIL  %4ss  (%s)\n' "$m" "$secs" "$logs/pg-$m.log"
		grep -E '^(--- FAIL|FAIL|panic)' "$logs/pg-$m.log" | head -20 | sed 's/^/    /'
		failed="$failed $m"
	fi
done
echo "test-matrix: $(($(date +%s) - start))s for PostgreSQL $majors, $jobs at a time${race:+, $race} (logs: $logs)"
if [ -n "$failed" ]; then
	echo "test-matrix: failed on PostgreSQL$failed" >&2
	exit 1
fi
