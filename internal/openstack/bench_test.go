package openstack

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// largeProject is the project size of the benchmark: the walk must cost the
// same in it as in the standard world.
var largeProject = fakeos.Filler{Ports: 10000, Networks: 2000, Routers: 1000, Rules: 5000}

// cost is what one diagnosis of vm1 costs, measured at the fake.
type cost struct {
	requests, roundTrips int
	bytes                int64
}

// diagnose connects as admin and collects vm1 once.
func diagnose(ctx context.Context, fc *fakeos.Cloud, env map[string]string) (cost, error) {
	return diagnoseWith(ctx, fc, env, CollectOptions{})
}

func diagnoseWith(ctx context.Context, fc *fakeos.Cloud, env map[string]string, o CollectOptions) (cost, error) {
	return diagnoseQuery(ctx, fc, env, fakeos.ServerID, o)
}

// diagnoseQuery collects vm1 named by query (its ID, name, address…).
func diagnoseQuery(ctx context.Context, fc *fakeos.Cloud, env map[string]string, query string, o CollectOptions) (cost, error) {
	fc.ResetCounters()
	c, err := Connect(ctx, Options{Getenv: fakeos.Getenv(env)})
	if err != nil {
		return cost{}, err
	}
	s, err := c.Collect(ctx, query, o)
	if err != nil {
		return cost{}, err
	}
	gaps := len(s.Gaps)
	if o.ConsoleLines < 0 && s.Gap(snapshot.SourceConsoleLog) != nil {
		gaps-- // not asked for
	}
	if gaps > 0 || s.Server == nil || len(s.Ports) != 1 || len(s.Routers) != 1 {
		return cost{}, errString("incomplete snapshot")
	}
	return cost{requests: c.Requests(), roundTrips: s.Stats.RoundTrips, bytes: fc.BytesServed()}, nil
}

func worldOf(f fakeos.Filler) *fakeos.World {
	w := fakeos.Standard()
	fakeos.AddFiller(w, f)
	return w
}

// TestCollectDoesNotScale: in a project with 10,000 ports, 2,000 networks
// and subnets, 1,000 routers and 5,000 rules, diagnosing vm1 makes the same
// requests, in the same round trips, and reads the same amount of JSON as
// in a project holding vm1 alone.
func TestCollectDoesNotScale(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a large world")
	}
	ctx := context.Background()
	small := fakeos.Start(t, fakeos.Standard())
	want, err := diagnose(ctx, small, small.PasswordEnv(fakeos.AdminUser))
	if err != nil {
		t.Fatal(err)
	}
	large := fakeos.Start(t, worldOf(largeProject))
	got, err := diagnose(ctx, large, large.PasswordEnv(fakeos.AdminUser))
	if err != nil {
		t.Fatal(err)
	}
	if got.requests != want.requests || got.roundTrips != want.roundTrips {
		t.Errorf("large project: %d requests in %d round trips, standard: %d in %d", got.requests, got.roundTrips, want.requests, want.roundTrips)
	}
	// Token and catalog IDs are random but of fixed length: the bytes match.
	if got.bytes != want.bytes {
		t.Errorf("large project: %d response bytes, standard: %d", got.bytes, want.bytes)
	}
	if got.requests > 14 || got.roundTrips > 4 {
		t.Errorf("over budget: %d requests, %d round trips", got.requests, got.roundTrips)
	}
}

// BenchmarkCollect diagnoses vm1 (authentication included) against a fake
// that adds 5 ms to every answer, in a large project: "walk" is the API walk
// alone (--console-lines 0), "console-log" adds the guest's console tail.
func BenchmarkCollect(b *testing.B) {
	b.Run("walk", func(b *testing.B) { benchCollect(b, CollectOptions{ConsoleLines: -1}) })
	b.Run("console-log", func(b *testing.B) { benchCollect(b, CollectOptions{}) })
}

// BenchmarkCollectByQuery diagnoses vm1 in the large project named each
// way an operator may name it: the server's ID and name, and its port's
// fixed address, floating IP, MAC and ID.
func BenchmarkCollectByQuery(b *testing.B) {
	for _, q := range []struct{ name, query string }{
		{"server-id", fakeos.ServerID}, {"name", fakeos.ServerName}, {"address", fakeos.ServerIP},
		{"floating-ip", fakeos.FloatingAddress}, {"mac", "fa:16:3e:5b:1c:2d"}, {"port-id", fakeos.PortID},
	} {
		b.Run(q.name, func(b *testing.B) { benchCollectQuery(b, q.query, CollectOptions{}) })
	}
}

func benchCollect(b *testing.B, o CollectOptions) { benchCollectQuery(b, fakeos.ServerID, o) }

func benchCollectQuery(b *testing.B, query string, o CollectOptions) {
	ctx := context.Background()
	ref := fakeos.New(fakeos.Standard())
	defer ref.Close()
	want, err := diagnoseQuery(ctx, ref, ref.PasswordEnv(fakeos.AdminUser), query, o)
	if err != nil {
		b.Fatal(err)
	}

	fc := fakeos.New(worldOf(largeProject))
	defer fc.Close()
	fc.SetLatency(5 * time.Millisecond)
	env := fc.PasswordEnv(fakeos.AdminUser)

	var total cost
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		got, err := diagnoseQuery(ctx, fc, env, query, o)
		if err != nil {
			b.Fatal(err)
		}
		if got != want {
			b.Fatalf("the walk depends on the project's size: %+v in the large project, %+v in the standard one", got, want)
		}
		total.requests += got.requests
		total.roundTrips += got.roundTrips
		total.bytes += got.bytes
	}
	b.StopTimer()
	b.ReportMetric(float64(total.requests)/float64(b.N), "requests/op")
	b.ReportMetric(float64(total.roundTrips)/float64(b.N), "roundtrips/op")
	b.ReportMetric(float64(total.bytes)/float64(b.N), "respbytes/op")
}

// BenchmarkTokenCache is a repeated diagnosis of vm1 in the large project
// (5 ms per answer): "cold" authenticates every time (an empty cache),
// "warm" finds the token in the cache and makes no identity request.
func BenchmarkTokenCache(b *testing.B) {
	fc := fakeos.New(worldOf(largeProject))
	defer fc.Close()
	fc.SetLatency(5 * time.Millisecond)
	env := fc.PasswordEnv(fakeos.AdminUser)
	for _, warm := range []bool{false, true} {
		name := map[bool]string{false: "cold", true: "warm"}[warm]
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			dir := filepath.Join(b.TempDir(), "cache")
			var requests int
			for i := 0; i < b.N; i++ {
				if !warm {
					b.StopTimer()
					if err := os.RemoveAll(dir); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				} else if i == 0 {
					b.StopTimer()
					if _, err := Connect(ctx, Options{Getenv: fakeos.Getenv(env), TokenCache: dir}); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				c, err := Connect(ctx, Options{Getenv: fakeos.Getenv(env), TokenCache: dir})
				if err != nil {
					b.Fatal(err)
				}
				s, err := c.Collect(ctx, fakeos.ServerID, CollectOptions{})
				if err != nil || len(s.Gaps) > 0 {
					b.Fatalf("collect: %v %+v", err, s.Gaps)
				}
				requests += s.Stats.Requests
			}
			b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
		})
	}
}

// BenchmarkCollectAgain is a round of diagnose --watch: vm1 collected
// again by the client the first round connected (5 ms per answer, large
// project): the walk alone, no authentication.
func BenchmarkCollectAgain(b *testing.B) {
	ctx := context.Background()
	fc := fakeos.New(worldOf(largeProject))
	defer fc.Close()
	fc.SetLatency(5 * time.Millisecond)
	c, err := Connect(ctx, Options{Getenv: fakeos.Getenv(fc.PasswordEnv(fakeos.AdminUser))})
	if err != nil {
		b.Fatal(err)
	}
	var requests, rounds int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		before := c.Requests()
		s, err := c.Collect(ctx, fakeos.ServerID, CollectOptions{})
		if err != nil || len(s.Gaps) > 0 {
			b.Fatalf("collect: %v %+v", err, s.Gaps)
		}
		requests += c.Requests() - before
		rounds += s.Stats.RoundTrips
	}
	b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
	b.ReportMetric(float64(rounds)/float64(b.N), "roundtrips/op")
}
