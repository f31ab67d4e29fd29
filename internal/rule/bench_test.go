package rule

import (
	"fmt"
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

// BenchmarkEvaluateManyDHCPPorts evaluates the catalogue over the lab's
// snapshot with 20,000 more DHCP ports on the server's network and its
// host checked: the time per port must not grow with their number.
func BenchmarkEvaluateManyDHCPPorts(b *testing.B) {
	for _, n := range []int{2000, 20000} {
		s := labSnap("vm2")
		s.Hosts = []snapshot.Host{ctlFor("healthy")}
		net := s.Ports[0].NetworkID
		for i := range n {
			s.NetworkPorts = append(s.NetworkPorts, snapshot.Port{ID: fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i), NetworkID: net,
				DeviceOwner: snapshot.OwnerDHCP, Status: "ACTIVE"})
		}
		b.Run(fmt.Sprintf("ports=%d", n), func(b *testing.B) {
			for b.Loop() {
				Evaluate(&Input{Snapshot: s}, Options{})
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/port")
		})
	}
}
