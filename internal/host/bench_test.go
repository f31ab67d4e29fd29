package host

import (
	"context"
	"testing"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/run"
)

// BenchmarkHostFanout checks 50 hosts, each a replay of real lab output
// whose every command takes 20 ms (one slow host takes 100 ms): the whole
// run must take about the slowest host, not the sum. sum-ms/op is what a
// host-after-host run would take.
func BenchmarkHostFanout(b *testing.B) {
	const hosts = 50
	var slowest, sum time.Duration
	mk := func() []Target {
		ts := make([]Target, hosts)
		for i := range ts {
			r := allCommands(b)
			r.Delay = 20 * time.Millisecond
			if i == hosts-1 {
				r.Delay = 100 * time.Millisecond
			}
			ts[i] = Target{Name: r.Host(), Runner: r}
		}
		return ts
	}
	// The time of one host alone, for reference.
	for _, d := range []time.Duration{20 * time.Millisecond, 100 * time.Millisecond} {
		r := allCommands(b)
		r.Delay = d
		start := time.Now()
		Collect(context.Background(), r, "one", Options{})
		took := time.Since(start)
		if took > slowest {
			slowest = took
		}
		if d == 20*time.Millisecond {
			sum += took * (hosts - 1)
		} else {
			sum += took
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ts := mk()
		b.StartTimer()
		out := CheckAll(context.Background(), ts, Options{}, Fanout{Parallel: hosts})
		if len(out) != hosts {
			b.Fatal(len(out))
		}
	}
	b.ReportMetric(float64(slowest.Milliseconds()), "slowest-host-ms")
	b.ReportMetric(float64(sum.Milliseconds()), "sum-ms")
	b.ReportMetric(hosts, "hosts")
	_ = run.DefaultTimeout
}
