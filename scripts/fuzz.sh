#!/usr/bin/env bash
# Runs every fuzz target of the module for a bounded number of executions
# (FUZZEXECS each, default 50000) so that CI exercises the parsers with
# generated input. CI's budget is shared with three lab flavours: 100000
# took 514 s for 28 targets there; longer fuzzing is for FUZZEXECS=… by hand.
#
# A count, not a duration: with -fuzztime=10s, Go (1.26 included) can fail a
# target with a bare "context deadline exceeded" when the deadline catches a
# worker mid-call (golang/go#75804), which would turn CI red at random. A
# count never arms that deadline. Minimizing a new input is bounded by a
# count too, so a slow target cannot stall the run.
set -euo pipefail
cd "$(dirname "$0")/.."
execs=${FUZZEXECS:-50000}
minimize=${FUZZMINIMIZE:-500}
# Slow targets get a fraction of the count: FuzzRenderers runs a whole
# diagnosis and every renderer per execution, FuzzWord a shell parser,
# FuzzConsoleRules every console rule over a whole log, FuzzLogs and
# FuzzFirewallRules their rules over whole logs and rule sets (each 44-59 s
# at 100000, FuzzConsoleRules already at a quarter).
declare -A divide=([FuzzRenderers]=50 [FuzzWord]=10 [FuzzConsoleRules]=4 [FuzzLogs]=4 [FuzzFirewallRules]=4)
n=0
while IFS=: read -r file target; do
	pkg=./$(dirname "$file")
	count=$((execs / ${divide[$target]:-1}))
	echo "fuzz $pkg $target (${count} executions)"
	start=$SECONDS
	go test -run='^$' -fuzz="^${target}\$" -fuzztime="${count}x" \
		-fuzzminimizetime="${minimize}x" -timeout=10m "$pkg"
	echo "fuzz $target: $((SECONDS - start)) s"
	n=$((n + 1))
done < <(grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' internal | sed 's/func //' | sort)
echo "fuzzed $n targets"
