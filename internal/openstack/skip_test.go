package openstack

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// skipReasons evaluates s and maps each whole-rule skip to its reason.
func skipReasons(s *snapshot.Snapshot) map[string]string {
	res := rule.Evaluate(&rule.Input{Snapshot: s}, rule.Options{})
	out := map[string]string{}
	for _, sk := range res.Skipped {
		if !sk.Partial {
			out[sk.Rule] = sk.Reason
		}
	}
	return out
}

// TestNonAdminSkipReasons: what a member cannot see is skipped with
// "needs admin: " said once, the collector's reason after it, exactly.
func TestNonAdminSkipReasons(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	s := collect(t, connect(t, fc, fakeos.DemoUser), fakeos.ServerID, CollectOptions{})
	got := skipReasons(s)
	for name, want := range map[string]string{
		"agent/l2-down":          "needs admin: agents are hidden",
		"agent/dhcp-not-hosting": "needs admin: agents are hidden",
		"router/not-scheduled":   "needs admin: agents are hidden",
	} {
		if got[name] != want {
			t.Errorf("%s skipped with %q, want %q", name, got[name], want)
		}
	}
	if len(got) == 0 {
		t.Fatal("nothing skipped")
	}
	for name, r := range got {
		if strings.Count(r, "needs admin") != 1 || !strings.HasPrefix(r, "needs admin: ") {
			t.Errorf("%s: reason %q", name, r)
		}
	}
}

// TestUnauthorizedMidWalk: a 401 after authentication (the token expired
// or was revoked, and renewing it did not help) is reported as that, not
// as "needs admin", and the sources after it are still asked for.
func TestUnauthorizedMidWalk(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	c := connect(t, fc, fakeos.AdminUser)
	fc.Inject(fakeos.Fault{Method: "GET", Path: "/networking/v2.0/agents", Status: http.StatusUnauthorized})
	s := collect(t, c, fakeos.ServerID, CollectOptions{})
	g := gap(t, s, snapshot.SourceAgents, "")
	want := "the token was rejected (expired or revoked): GET " + fc.URL() + "/networking/v2.0/agents: 401 "
	if g.Kind != snapshot.GapUnauthorized || g.Status != 401 || !strings.HasPrefix(g.Reason, want) {
		t.Errorf("gap = %+v\nwant kind unauthorized, reason starting %q", g, want)
	}
	// The hosting agents are not "needs admin" for an admin.
	if len(s.DHCPAgents) != 1 || len(s.L3Agents) != 1 {
		t.Errorf("hosting agents not read after the 401: %v %v; gaps %+v", s.DHCPAgents, s.L3Agents, s.Gaps)
	}
	got := skipReasons(s)
	if r := got["agent/l2-down"]; !strings.HasPrefix(r, "unauthorized: "+want) {
		t.Errorf("agent/l2-down skipped with %q", r)
	}
	for name, r := range got {
		if strings.Contains(r, "needs admin") {
			t.Errorf("%s: %q: an admin whose token was rejected is told they need admin", name, r)
		}
	}
}
