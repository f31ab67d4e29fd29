package openstack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// record replays the GETs (and the console log action) a collection made
// against fc and writes their bodies, with the token response and an index.json, as a recording of a
// cloud would be laid out.
func record(t *testing.T, fc *fakeos.Cloud, requests []string, dir string) {
	t.Helper()
	var index []fakeos.Recording
	body := fmt.Sprintf(`{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"id": "default"}, "password": %q}}},
		"scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}`, fakeos.AdminPassword)
	resp, err := http.Post(fc.AuthURL()+"/auth/tokens", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	tok := resp.Header.Get("X-Subject-Token")
	save := func(method, path string, status int, r io.Reader) {
		name := fmt.Sprintf("%03d.json", len(index))
		b, _ := io.ReadAll(r)
		writeFile(t, dir, name, string(b))
		index = append(index, fakeos.Recording{Method: method, URL: "http://ctl.lab.invalid:8080" + path, Status: status, File: name})
	}
	save("POST", "/identity/v3/auth/tokens", resp.StatusCode, resp.Body)
	resp.Body.Close()
	for _, line := range requests {
		method, path, _ := strings.Cut(line, " ")
		var body io.Reader
		switch {
		case method == "GET":
		case method == "POST" && strings.HasSuffix(path, "/action"):
			body = strings.NewReader(`{"os-getConsoleOutput": {"length": 200}}`)
		default:
			continue
		}
		req, _ := http.NewRequest(method, fc.URL()+path, body)
		req.Header.Set("X-Auth-Token", tok)
		req.Header.Set("X-OpenStack-Nova-API-Version", "2.47")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		save(method, path, resp.StatusCode, resp.Body)
		resp.Body.Close()
	}
	b, _ := json.MarshalIndent(index, "", "  ")
	writeFile(t, dir, "index.json", string(b))
}

// forComparison strips what legitimately differs between two collections.
func forComparison(s *snapshot.Snapshot) snapshot.Snapshot {
	c := *s
	c.CollectedAt, c.Stats, c.Cloud, c.Query = time.Time{}, snapshot.Stats{}, snapshot.Cloud{}, ""
	return c
}

// TestCollectRecorded: a world loaded from recorded responses answers a
// collection with the same snapshot as the world they were recorded from.
func TestCollectRecorded(t *testing.T) {
	orig := fakeos.Start(t, fakeos.Standard())
	c := connect(t, orig, fakeos.AdminUser)
	orig.ResetCounters()
	want := collect(t, c, "vm1", CollectOptions{RemoteGroups: true})
	requests := orig.RequestLog()

	dir := t.TempDir()
	record(t, orig, requests, dir)
	w, err := fakeos.LoadRecorded(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Users) != 1 || w.Users[0].Name != "admin" || !slices.Contains(w.Users[0].Roles, "admin") || w.Region != "RegionOne" {
		t.Errorf("recorded users = %+v, region %q", w.Users, w.Region)
	}
	if !reflect.DeepEqual(w.DHCPHosting, map[string][]string{fakeos.NetworkID: {fakeos.AgentDHCP}}) ||
		!reflect.DeepEqual(w.L3Hosting, map[string][]fakeos.L3Host{fakeos.RouterID: {{AgentID: fakeos.AgentL3}}}) {
		t.Errorf("hosting = %v %v", w.DHCPHosting, w.L3Hosting)
	}
	replay := fakeos.Start(t, w)
	env := with(replay.PasswordEnv("admin"), "OS_PASSWORD", fakeos.RecordedPassword)
	rc, err := Connect(context.Background(), testOptions(env))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"vm1", fakeos.ServerID} {
		got := collect(t, rc, q, CollectOptions{RemoteGroups: true})
		if g, w := forComparison(got), forComparison(want); !reflect.DeepEqual(g, w) {
			gb, _ := json.MarshalIndent(g, "", " ")
			wb, _ := json.MarshalIndent(w, "", " ")
			t.Errorf("%s: replayed snapshot differs:\n%s\nwant\n%s", q, gb, wb)
		}
	}
}

// TestRecordedLab collects every server of every scenario recorded from the
// lab (testdata/lab/<scenario>/index.json), as the recorded user. The
// healthy scenario must decode whole: no error, no gap.
func TestRecordedLab(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join("testdata", "lab", "*", "index.json"))
	if len(dirs) == 0 {
		t.Skip("no lab recordings in testdata/lab yet")
	}
	for _, idx := range dirs {
		dir := filepath.Dir(idx)
		scenario := filepath.Base(dir)
		t.Run(scenario, func(t *testing.T) {
			w, err := fakeos.LoadRecorded(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(w.Users) == 0 {
				t.Fatal("the recording holds no token")
			}
			user := w.Users[0]
			for _, u := range w.Users {
				if slices.Contains(u.Roles, "admin") {
					user = u
				}
			}
			fc := fakeos.Start(t, w)
			env := with(fc.PasswordEnv(user.Name), "OS_PASSWORD", fakeos.RecordedPassword, "OS_REGION_NAME", "")
			c, err := Connect(context.Background(), testOptions(env))
			if err != nil {
				t.Fatal(err)
			}
			servers := w.Raw["servers"]
			if len(servers) == 0 {
				t.Fatal("the recording holds no server")
			}
			for _, srv := range servers {
				id := fmt.Sprint(srv["id"])
				s, err := c.Collect(context.Background(), id, CollectOptions{})
				if err != nil {
					t.Errorf("collect %s: %v", id, err)
					continue
				}
				if s.Server.ID != id || s.Server.Name != srv["name"] || s.Server.Status == "" {
					t.Errorf("server = %+v", s.Server)
				}
				for _, p := range s.Ports {
					if p.ID == "" || p.NetworkID == "" || s.Network(p.NetworkID) == nil && s.Gap(snapshot.SourceNetworks) == nil {
						t.Errorf("port %+v: network not collected", p)
					}
				}
				if scenario == "healthy" && len(s.Gaps) > 0 {
					t.Errorf("%s: gaps in the healthy lab: %+v", id, s.Gaps)
				}
			}
		})
	}
}

// TestRecordedLabVerdicts runs the rules over what the real lab answered in
// each API-level fault: the fake serves the recordings, and the verdict must
// be the one the e2e suite gets from the live lab.
func TestRecordedLabVerdicts(t *testing.T) {
	cases := []struct{ scenario, server, first string }{
		{"healthy", "vm1", ""},
		{"icmp-ingress", "vm1", "security-group/icmp-ingress-missing"},
		{"egress", "vm1", "security-group/egress-missing"},
		{"router-interface", "vm1", "router/missing"},
		{"router-gateway", "vm1", "router/no-gateway"},
		{"dhcp-disabled", "vm1", "subnet/dhcp-disabled"},
		{"dhcp-agent-stopped", "vm1", "agent/dhcp-down"},
		{"port-admin-down", "vm1", "port/admin-down"},
		{"server-error", "vm-broken", "instance/not-active"},
	}
	for _, tc := range cases {
		t.Run(tc.scenario, func(t *testing.T) {
			w, err := fakeos.LoadRecorded(filepath.Join("testdata", "lab", tc.scenario))
			if err != nil {
				t.Fatal(err)
			}
			var id string
			for _, srv := range w.Raw["servers"] {
				if srv["name"] == tc.server {
					id = fmt.Sprint(srv["id"])
				}
			}
			if id == "" {
				t.Fatalf("the recording holds no server %s", tc.server)
			}
			var admin string
			for _, u := range w.Users {
				if slices.Contains(u.Roles, "admin") {
					admin = u.Name
				}
			}
			fc := fakeos.Start(t, w)
			env := with(fc.PasswordEnv(admin), "OS_PASSWORD", fakeos.RecordedPassword, "OS_REGION_NAME", "")
			c, err := Connect(context.Background(), testOptions(env))
			if err != nil {
				t.Fatal(err)
			}
			s, err := c.Collect(context.Background(), id, CollectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			res := rule.Evaluate(&rule.Input{Snapshot: s}, rule.Options{})
			switch {
			case tc.first == "" && res.Worst() >= rule.Warning:
				t.Errorf("healthy lab: %+v", res.Findings)
			case tc.first != "" && (len(res.Findings) == 0 || res.Findings[0].Rule != tc.first || res.Findings[0].Severity < rule.Warning):
				t.Errorf("first finding is not %s at warning or error: %+v", tc.first, res.Findings)
			}
		})
	}
}
