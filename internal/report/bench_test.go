package report

import (
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// bigReport is the lab's healthy snapshot with n more DHCP ports on the
// server's network: the path view's dhcp hop lists every one of them.
func bigReport(tb testing.TB, n int) *Report {
	f, err := os.Open("../../examples/snapshots/healthy.json")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	s, err := snapshot.Read(f)
	if err != nil {
		tb.Fatal(err)
	}
	net := s.Ports[0].NetworkID
	for i := range n {
		s.NetworkPorts = append(s.NetworkPorts, snapshot.Port{
			ID:          fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i),
			NetworkID:   net,
			DeviceOwner: snapshot.OwnerDHCP,
			Status:      "ACTIVE",
			FixedIPs:    []snapshot.FixedIP{{IPAddress: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)}},
		})
	}
	res := rule.Evaluate(&rule.Input{Snapshot: s}, rule.Options{})
	return &Report{Snapshot: s, Result: res, Tool: "hoofbeat bench"}
}

// BenchmarkTextRender renders the text report of a snapshot with 20,000
// and 100,000 DHCP ports: the time per port must not grow with their
// number (rendering is linear in the snapshot's size).
func BenchmarkTextRender(b *testing.B) {
	for _, n := range benchPorts {
		r := bigReport(b, n)
		b.Run(fmt.Sprintf("ports=%d", n), func(b *testing.B) {
			for b.Loop() {
				if err := Text(io.Discard, r, TextOptions{Width: 100}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/port")
		})
	}
}

var benchPorts = []int{2000, 20000, 100000}
