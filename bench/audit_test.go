// Package bench holds the benchmarks that span packages: the audit of a
// large cloud against the fake OpenStack (bench/run.sh, make bench).
package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/openstack"
	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
	"github.com/hoofbeat/hoofbeat/internal/pipeline"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// largeCloud is the cloud: 10,000 servers, 100,000 ports, 20,000
// networks and subnets, 5,000 routers, 50,000 security-group rules.
var largeCloud = fakeos.Fleet{Servers: 10000, Ports: 100000, Networks: 20000, Routers: 5000, Rules: 50000}

// scaled is the large cloud shrunk to n servers, every count in proportion.
func scaled(n int) fakeos.Fleet {
	f := largeCloud
	k := func(x int) int { return x * n / largeCloud.Servers }
	return fakeos.Fleet{Servers: n, Ports: k(f.Ports), Networks: k(f.Networks), Routers: k(f.Routers), Rules: k(f.Rules)}
}

var worlds sync.Map // servers → *fakeos.World

func world(n int) *fakeos.World {
	if w, ok := worlds.Load(n); ok {
		return w.(*fakeos.World)
	}
	w := fakeos.Standard()
	fakeos.AddFleet(w, scaled(n))
	worlds.Store(n, w)
	return w
}

// criticalPath counts the requests made one after the other: the
// authentication's, then in each round its longest listing's pages.
func criticalPath(log []string) int {
	auth := 0
	pages := map[string]int{}
	for _, l := range log {
		path, query, _ := strings.Cut(strings.TrimPrefix(l, "GET "), "?")
		if strings.HasPrefix(l, "POST ") || strings.Contains(path, "/identity") {
			auth++
			continue
		}
		q, _ := url.ParseQuery(query)
		q.Del("marker")
		pages[path+"?"+q.Encode()]++
	}
	round := [2]int{}
	for k, n := range pages {
		r := 0
		// Round 2 asks the agents what they host, and the availability.
		if strings.Contains(k, "/agents/") || strings.Contains(k, "network-ip-availabilities") {
			r = 1
		}
		round[r] = max(round[r], n)
	}
	return auth + round[0] + round[1]
}

func peakRSSMiB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024 // KiB on Linux
}

// fakeEnv names the variable that makes the test binary serve the large
// cloud instead of testing (see TestMain).
const fakeEnv = "HOOFBEAT_BENCH_FAKE_CLOUD"

func TestMain(m *testing.M) {
	if os.Getenv(fakeEnv) != "" {
		serveFake()
		return
	}
	os.Exit(m.Run())
}

// serveFake serves the cloud of $HOOFBEAT_BENCH_FAKE_CLOUD servers, with 5 ms added to every answer and
// lists paged by 1,000 (Nova's default max_limit), until stdin closes. It
// writes the admin's OS_* environment as one JSON line, then its request
// counters as one JSON line per line read on stdin.
func serveFake() {
	n, _ := strconv.Atoi(os.Getenv(fakeEnv))
	c := fakeos.New(world(n))
	defer c.Close()
	c.SetPageCap(1000)
	c.SetLatency(5 * time.Millisecond)
	enc := json.NewEncoder(os.Stdout)
	_ = enc.Encode(c.PasswordEnv(fakeos.AdminUser))
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch in.Text() {
		case "reset":
			c.ResetCounters()
			_ = enc.Encode(nil)
		case "log":
			_ = enc.Encode(c.RequestLog())
		}
	}
}

// remoteFake is the large cloud served by a child process, so that the
// benchmark's peak RSS and CPU are the audit's own, not the fake's.
type remoteFake struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *json.Decoder
	env map[string]string
}

func startFake(b *testing.B, servers int) *remoteFake {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fakeEnv+"="+strconv.Itoa(servers))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	f := &remoteFake{cmd: cmd, in: in, out: json.NewDecoder(out)}
	if err := f.out.Decode(&f.env); err != nil {
		b.Fatalf("fake cloud: %v", err)
	}
	return f
}

func (f *remoteFake) ask(what string, into any) {
	fmt.Fprintln(f.in, what)
	_ = f.out.Decode(into)
}

func (f *remoteFake) stop() {
	f.in.Close()
	_ = f.cmd.Wait()
}

// BenchmarkAudit audits the large cloud, authentication included, served
// by a child process with 5 ms added to every answer, lists paged by
// 1,000. Peak RSS is this process's: the audit's alone.
func BenchmarkAudit(b *testing.B) {
	f := startFake(b, largeCloud.Servers)
	defer f.stop()
	var requests, listings, rounds, critical int
	var servers, errs int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f.ask("reset", nil)
		cl, err := openstack.Connect(context.Background(), openstack.Options{Getenv: fakeos.Getenv(f.env)})
		if err != nil {
			b.Fatal(err)
		}
		res, err := pipeline.Audit(context.Background(), pipeline.AuditRequest{From: cl, Inventory: openstack.InventoryOptions{AllProjects: true}})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Gaps) > 0 {
			b.Fatalf("gaps: %+v", res.Gaps)
		}
		b.StopTimer()
		var log []string
		f.ask("log", &log)
		b.StartTimer()
		requests += len(log)
		listings += res.Stats.Listings
		rounds += res.Stats.RoundTrips
		critical += criticalPath(log)
		servers = len(res.Servers)
		errs = 0
		for _, s := range res.Servers {
			if s.Snapshot.Gap(snapshot.SourceConsoleLog) == nil {
				b.Fatal("the console log was read")
			}
			if s.Result.Worst() >= 3 {
				errs++
			}
		}
	}
	b.StopTimer()
	if servers != largeCloud.Servers+1 {
		b.Fatalf("%d servers audited", servers)
	}
	n := float64(b.N)
	b.ReportMetric(float64(requests)/n, "requests/op")
	b.ReportMetric(float64(listings)/n, "listings/op")
	b.ReportMetric(float64(rounds)/n, "rounds/op")
	b.ReportMetric(float64(critical)/n, "critical-path-requests/op")
	b.ReportMetric(peakRSSMiB(), "peak-RSS-MiB")
	b.ReportMetric(float64(errs), "servers-in-error")
}

// BenchmarkEvaluate cuts each server out of the inventory and runs the
// rules over it, for clouds of 1,000 and 10,000 servers (the rest in
// proportion): the time per server must not grow with the cloud. The
// fake serves from a child process, so only the inventory lives here.
func BenchmarkEvaluate(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("servers=%d", n), func(b *testing.B) {
			f := startFake(b, n)
			cl, err := openstack.Connect(context.Background(), openstack.Options{Getenv: fakeos.Getenv(f.env)})
			if err != nil {
				b.Fatal(err)
			}
			inv, err := cl.Inventory(context.Background(), openstack.InventoryOptions{AllProjects: true})
			f.stop()
			if err != nil {
				b.Fatal(err)
			}
			req := pipeline.AuditRequest{}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				snaps := make([]*snapshot.Snapshot, len(inv.Servers))
				for j := range inv.Servers {
					snaps[j] = inv.Snapshot(j)
				}
				pipeline.EvaluateAll(snaps, req)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(inv.Servers)), "ns/server")
		})
	}
}
