package rule

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// BenchmarkConsoleRules evaluates the whole catalogue over each recorded
// console log tail (200 lines, diagnose's default): the console rules read
// the tail once between them, and most lines never reach a regexp.
func BenchmarkConsoleRules(b *testing.B) {
	files, err := filepath.Glob(filepath.Join("testdata", "console", "*.txt"))
	if err != nil || len(files) == 0 {
		b.Fatalf("no console fixtures: %v", err)
	}
	var logs []*snapshot.ConsoleLog
	lines := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		l := snapshot.NewConsoleLog(string(raw), 200)
		lines += len(l.Lines)
		logs = append(logs, l)
	}
	s := healthy()
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range logs {
			s.ConsoleLog = l
			Evaluate(&Input{Snapshot: s}, Options{})
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*lines), "ns/line")
}
