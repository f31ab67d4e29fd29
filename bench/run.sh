#!/usr/bin/env bash
# Runs hoofbeat's Go benchmarks with -benchmem and prints the figures.
#
#   bench/run.sh                      every benchmark of every package
#   BENCH=Collect bench/run.sh        those matching a pattern
#   PKGS=./internal/openstack/ COUNT=5 BENCHTIME=2s bench/run.sh
#
# The raw `go test` output is kept in bench/out/latest.txt (benchstat reads it).
set -uo pipefail
cd "$(dirname "$0")/.."

bench=${BENCH:-.}
pkgs=${PKGS:-./...}
count=${COUNT:-1}
benchtime=${BENCHTIME:-1s}
mkdir -p bench/out
out=bench/out/latest.txt

echo "# go test -run '^\$' -bench '$bench' -benchmem -count $count -benchtime $benchtime $pkgs"
# shellcheck disable=SC2086
go test -run '^$' -bench "$bench" -benchmem -count "$count" -benchtime "$benchtime" $pkgs 2>&1 | tee "$out"
status=${PIPESTATUS[0]}

echo
echo "# figures"
awk '
/^pkg: / { pkg = $2 }
/^Benchmark/ {
	line = sprintf("%-40s", $1)
	for (i = 3; i < NF; i += 2) line = line sprintf("  %14s %s", $i, $(i + 1))
	sub(/^github.com\/hoofbeat\/hoofbeat\//, "", pkg)
	print pkg ": " line
}' "$out"
exit "$status"
