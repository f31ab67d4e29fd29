#!/usr/bin/env bash
# The Prometheus side of hoofbeat, checked with Prometheus's own promtool:
# the alerting rules (syntax and their unit tests) and the exposition the
# exporter and "hoofbeat host --output prometheus" really write
# (promtool check metrics, run by the Go tests when $PROMTOOL is set).
# Installs Debian's prometheus first if promtool is missing (as root).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v promtool >/dev/null || scripts/prometheus-tools.sh
promtool check rules deploy/prometheus/hoofbeat.rules.yml
promtool test rules deploy/prometheus/hoofbeat.rules.test.yml
PROMTOOL=$(command -v promtool) go test -count=1 -run 'Promtool|^TestMetrics$' ./internal/exporter/
