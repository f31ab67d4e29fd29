// Package host reads one Linux host: parsers for the tools' outputs (one
// per tool, each fuzzed), and the collector that fills a snapshot.Host
// through a run.Runner. Nothing here decides what is wrong: the rules do.
package host
