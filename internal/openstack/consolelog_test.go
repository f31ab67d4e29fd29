package openstack

import (
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// TestCollectConsoleLength: the tail asked for is --console-lines long, and
// the request costs no round trip of its own, whichever way the server is
// found.
func TestCollectConsoleLength(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	c := connect(t, fc, fakeos.AdminUser)
	for _, q := range []string{fakeos.ServerID, "vm1"} {
		fc.ResetCounters()
		s := collect(t, c, q, CollectOptions{ConsoleLines: 3})
		cl := s.ConsoleLog
		if cl == nil || cl.Requested != 3 || len(cl.Lines) != 3 || cl.Lines[2] != "vm1 login:" {
			t.Errorf("%s: console log = %+v", q, cl)
		}
		if n := fc.Count("POST /compute/v2.1/servers/" + fakeos.ServerID + "/action"); n != 1 {
			t.Errorf("%s: %d console requests", q, n)
		}
	}
	fc.ResetCounters()
	s := collect(t, c, fakeos.ServerID, CollectOptions{ConsoleLines: -1})
	if s.ConsoleLog != nil || fc.Count("POST ") != 0 {
		t.Errorf("console read although not asked for: %+v", s.ConsoleLog)
	}
	if g := gap(t, s, snapshot.SourceConsoleLog, ""); g.Reason != "not read: --console-lines is 0" {
		t.Errorf("gap = %+v", g)
	}
	if s.Stats.Requests != 13 || s.Stats.RoundTrips != 3 {
		t.Errorf("without the console: %+v", s.Stats)
	}
}

// TestCollectConsoleRefused: when Nova has no console log to give, the
// reason is a gap and the rest of the collection goes on.
func TestCollectConsoleRefused(t *testing.T) {
	action := "/compute/v2.1/servers/" + fakeos.ServerID + "/action"
	cases := []struct {
		name   string
		world  func(w *fakeos.World)
		fault  *fakeos.Fault
		kind   snapshot.GapKind
		reason string
	}{
		{name: "shelved offloaded", world: func(w *fakeos.World) { w.Servers[0].Status, w.Servers[0].Host = "SHELVED_OFFLOADED", "" },
			kind: snapshot.GapNotFound, reason: "it is on no host (shelved or never scheduled) or in the middle of a task (Nova: Instance " + fakeos.ServerID + " is not ready)"},
		{name: "no console file", fault: &fakeos.Fault{Method: "POST", Path: action, Status: 404},
			kind: snapshot.GapNotFound, reason: "the hypervisor keeps no console log for this server"},
		{name: "driver without console logs", fault: &fakeos.Fault{Method: "POST", Path: action, Status: 501},
			kind: snapshot.GapUnsupported, reason: "the compute driver cannot return console logs"},
		{name: "policy", fault: &fakeos.Fault{Method: "POST", Path: action, Status: 403},
			kind: snapshot.GapForbidden, reason: "os_compute_api:os-console-output"},
		{name: "server error", fault: &fakeos.Fault{Method: "POST", Path: action, Status: 500},
			kind: snapshot.GapError, reason: ": 500"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := fakeos.Standard()
			if tc.world != nil {
				tc.world(w)
			}
			fc := fakeos.Start(t, w)
			if tc.fault != nil {
				fc.Inject(*tc.fault)
			}
			s := collect(t, connect(t, fc, fakeos.AdminUser), fakeos.ServerID, CollectOptions{})
			g := gap(t, s, snapshot.SourceConsoleLog, fakeos.ServerID)
			if g.Kind != tc.kind || !strings.Contains(g.Reason, tc.reason) || strings.Contains(g.Reason, "\n") {
				t.Errorf("gap = %+v", g)
			}
			if s.ConsoleLog != nil || len(s.Ports) != 1 || len(s.Routers) != 1 {
				t.Errorf("console %+v, ports %d, routers %d", s.ConsoleLog, len(s.Ports), len(s.Routers))
			}
			if n := fc.Count("POST " + action); n != 1 {
				t.Errorf("console requests = %d: the action is not retried", n)
			}
		})
	}
}

// TestCollectConsoleHostile: a huge, binary console log is bounded and
// marked, not an error.
func TestCollectConsoleHostile(t *testing.T) {
	w := fakeos.Standard()
	var b strings.Builder
	for i := 0; i < 20000; i++ {
		b.WriteString(strings.Repeat("\x00\x01\x02\x7f\x1b", 40))
		b.WriteString("\n")
	}
	w.Servers[0].ConsoleOutput = b.String()
	fc := fakeos.Start(t, w)
	s := collect(t, connect(t, fc, fakeos.AdminUser), fakeos.ServerID, CollectOptions{ConsoleLines: snapshot.MaxConsoleLines + 5})
	cl := s.ConsoleLog
	if cl == nil || !cl.Binary || len(cl.Lines) != snapshot.MaxConsoleLines || cl.Requested != snapshot.MaxConsoleLines {
		t.Fatalf("console log: binary %v, %d lines, requested %d", cl != nil && cl.Binary, len(cl.Lines), cl.Requested)
	}
	noGaps(t, s)
}
