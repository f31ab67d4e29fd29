package cli

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
)

// healAfterFirstRound mends the ICMP rule once the first round has read
// the routers (its last round trip).
func healAfterFirstRound(c *fakeos.Cloud) {
	go func() {
		for c.Count("GET /networking/v2.0/routers?") == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		c.Update(func(w *fakeos.World) { w.SecurityGroups = fakeos.Standard().SecurityGroups })
	}()
}

// TestWatchUntilHealthy: the first round prints the report; the second,
// after the fix, only what changed; --until-healthy then exits 0. The
// second round reuses the connection: the walk's 12 requests, no
// authentication.
func TestWatchUntilHealthy(t *testing.T) {
	w := fakeos.Standard()
	removeICMP(w)
	c := fakeos.Start(t, w)
	c.ResetCounters()
	healAfterFirstRound(c)
	code, out, errOut := run(t, adminEnv(c), "diagnose", fakeos.ServerID, "--watch=1s", "--until-healthy", "--console-lines", "0")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	first, rest, ok := strings.Cut(out, "\nROUND 2  ")
	if !ok {
		t.Fatalf("no second round:\n%s", out)
	}
	if !strings.Contains(first, "FINDINGS") || !strings.Contains(first, "security-group/icmp-ingress-missing") {
		t.Errorf("the first round is not the full report:\n%s", first)
	}
	for _, want := range []string{
		"PATH  hops whose state changed",
		"security-groups  problem → ok",
		"rule added: ingress IPv4 icmp from 0.0.0.0/0",
		"- ERROR    security-group/icmp-ingress-missing",
		"VERDICT  No problem found",
	} {
		if !strings.Contains(rest, want) {
			t.Errorf("round 2 lacks %q:\n%s", want, rest)
		}
	}
	if strings.Contains(rest, "FINDINGS  most likely") || strings.Contains(rest, "\nROUND 3") {
		t.Errorf("round 2 is more than the changes:\n%s", rest)
	}
	if n := c.Count("POST /identity"); n != 1 {
		t.Errorf("%d authentications", n)
	}
	// 1 token + 12 for the first round, 12 for the second (no console).
	if n := c.Requests(); n != 25 {
		t.Errorf("%d requests, want 25:\n%s", n, strings.Join(c.RequestLog(), "\n"))
	}
}

// TestWatchHealthyStopsAtOnce: --until-healthy on a healthy server is one
// plain diagnosis.
func TestWatchHealthyStopsAtOnce(t *testing.T) {
	c := fakeos.Start(t, fakeos.Standard())
	code, out, _ := run(t, adminEnv(c), "diagnose", "vm1", "--until-healthy")
	if code != ExitOK || strings.Contains(out, "ROUND") || !strings.Contains(out, "No problem found") {
		t.Errorf("exit %d\n%s", code, out)
	}
}

// TestWatchInterrupted: --watch runs until Ctrl-C, then exits 130 at once;
// a round in which nothing changed prints nothing.
func TestWatchInterrupted(t *testing.T) {
	c := fakeos.Start(t, fakeos.Standard())
	io, _, out, errOut := Test()
	env := adminEnv(c)
	io.Getenv = func(k string) string { return env[k] }
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	interrupted := make(chan time.Time, 1)
	go func() {
		// After the second round's walk.
		for c.Count("GET /networking/v2.0/routers?") < 2 {
			time.Sleep(5 * time.Millisecond)
		}
		interrupted <- time.Now()
		cancel(Interrupted{Signal: os.Interrupt})
	}()
	code := Main(ctx, []string{"diagnose", "vm1", "--watch=1s"}, io)
	stopped := <-interrupted
	if code != 130 || time.Since(stopped) > time.Second {
		t.Errorf("exit %d, %s after the interrupt\n%s", code, time.Since(stopped), errOut)
	}
	if strings.Contains(out.String(), "ROUND") {
		t.Errorf("a round without change printed:\n%s", out)
	}
}

func TestWatchUsage(t *testing.T) {
	for _, args := range [][]string{
		{"diagnose", "vm1", "--watch=10ms"},
		{"diagnose", "vm1", "--watch", "-o", "json"},
		{"diagnose", "--from", examplePath("healthy"), "--until-healthy"},
	} {
		code, _, errOut := run(t, nil, args...)
		if code != ExitUsage || !strings.Contains(errOut, "--watch") {
			t.Errorf("%v: exit %d %s", args, code, errOut)
		}
	}
}
