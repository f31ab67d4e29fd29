#!/usr/bin/env bash
# Runs every fuzz target of the module for a short, bounded time (FUZZTIME,
# default 10s each) so that CI exercises the parsers with generated input.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-10s}
n=0
while IFS=: read -r file target; do
	pkg=./$(dirname "$file")
	echo "fuzz $pkg $target ($fuzztime)"
	go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg"
	n=$((n + 1))
done < <(grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' internal | sed 's/func //' | sort)
echo "fuzzed $n targets"
