package cli

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
)

// auditWorld is the standard world and a fleet of eight servers on four
// networks served by two routers; router-0 (networks 0 and 2) is down by
// its admin, and srv-5 is named by someone hostile.
func auditWorld() *fakeos.World {
	w := fakeos.Standard()
	fakeos.AddFleet(w, fakeos.Fleet{Servers: 8, Networks: 4, Routers: 2, Rules: 20})
	for i := range w.Routers {
		if w.Routers[i].Name == "router-0" {
			w.Routers[i].AdminDown = true
		}
	}
	for i := range w.Servers {
		if w.Servers[i].Name == "srv-5" {
			w.Servers[i].Name = "srv-5\x1b[31m<script>alert(1)</script>|*"
		}
	}
	return w
}

type auditJSON struct {
	Schema        string `json:"schema"`
	SchemaVersion int    `json:"schema_version"`
	Summary       struct {
		Servers    int `json:"servers"`
		WithErrors int `json:"with_errors"`
	} `json:"summary"`
	Rules []struct {
		Rule     string `json:"rule"`
		Severity string `json:"severity"`
		Servers  []struct {
			Name string `json:"name"`
		} `json:"servers"`
	} `json:"rules"`
	Servers []struct {
		Name     string            `json:"name"`
		Worst    *string           `json:"worst"`
		Hops     map[string]string `json:"hops"`
		Findings []struct {
			Rule string `json:"rule"`
		} `json:"findings"`
	} `json:"servers"`
	Skipped []struct {
		Rule, Reason string
		Servers      int `json:"servers"`
	} `json:"skipped"`
	Stats struct {
		Listings   int `json:"listings"`
		RoundTrips int `json:"round_trips"`
	} `json:"stats"`
}

func TestAuditJSON(t *testing.T) {
	c := fakeos.Start(t, auditWorld())
	code, out, errOut := run(t, adminEnv(c), "audit", "--all-projects", "-o", "json")
	if code != ExitFindings {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	var d auditJSON
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if d.Schema != "hoofbeat.audit" || d.SchemaVersion != 1 || len(d.Servers) != 9 || d.Summary.Servers != 9 || d.Summary.WithErrors != 4 {
		t.Fatalf("schema %q v%d, %d servers", d.Schema, d.SchemaVersion, len(d.Servers))
	}
	if len(d.Rules) == 0 || d.Rules[0].Rule != "router/admin-down" || d.Rules[0].Severity != "error" || len(d.Rules[0].Servers) != 4 {
		t.Errorf("first rule %+v, want router/admin-down on 4 servers", d.Rules)
	}
	// Most severe first: the four servers behind router-0 lead.
	for i, s := range d.Servers {
		if bad := s.Worst != nil && *s.Worst == "error"; bad != (i < 4) {
			t.Errorf("server %d %s worst %v", i, s.Name, s.Worst)
		}
		if len(s.Hops) != 10 {
			t.Errorf("%s: hops %v", s.Name, s.Hops)
		}
	}
	if d.Servers[0].Hops["router"] != "problem" || d.Servers[8].Hops["router"] != "ok" {
		t.Errorf("router hops %q, %q", d.Servers[0].Hops["router"], d.Servers[8].Hops["router"])
	}
	if d.Stats.RoundTrips != 2 || d.Stats.Listings == 0 {
		t.Errorf("stats %+v", d.Stats)
	}
	console := false
	for _, sk := range d.Skipped {
		if sk.Rule == "instance/dhcp-failed" && sk.Servers == 9 && strings.Contains(sk.Reason, "not read by the audit") {
			console = true
		}
	}
	if !console {
		t.Errorf("the console rules are not skipped on every server with the audit's reason: %+v", d.Skipped)
	}
}

// TestAuditHTMLStripe: a router that is down shows as a stripe of error
// cells down its servers' router column, and hostile names stay text.
func TestAuditHTMLStripe(t *testing.T) {
	c := fakeos.Start(t, auditWorld())
	code, out, _ := run(t, adminEnv(c), "audit", "--all-projects", "-o", "html")
	if code != ExitFindings {
		t.Fatalf("exit %d", code)
	}
	rows := strings.Split(out, "<tr>")
	stripe := 0
	for _, r := range rows {
		cells := strings.Split(r, `<td class="cell `)
		if len(cells) == 11 && strings.HasPrefix(cells[7], "error") { // instance … dhcp, then router
			stripe++
		}
	}
	if stripe != 4 {
		t.Errorf("%d rows with the router cell in error, want 4:\n%s", stripe, out)
	}
	if strings.Contains(out, "<script>") || strings.Contains(out, "\x1b") {
		t.Errorf("a hostile name reached the page raw")
	}
}

func TestAuditTextAndMarkdown(t *testing.T) {
	c := fakeos.Start(t, auditWorld())
	code, out, _ := run(t, adminEnv(c), "audit", "--all-projects")
	if code != ExitFindings {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"BY RULE", "router/admin-down  4 servers", "BY SERVER", `srv-5\x1b[31m<script>`, "VERDICT  9 servers: 4 with errors"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("raw escape in the text")
	}
	if strings.Index(out, "BY RULE") > strings.Index(out, "BY SERVER") {
		t.Errorf("rules should come before servers")
	}
	code, out, _ = run(t, adminEnv(c), "audit", "--all-projects", "-o", "markdown")
	if code != ExitFindings || !strings.Contains(out, "## Findings by rule") || strings.Contains(out, "<script>") || strings.Contains(out, "\x1b") {
		t.Errorf("markdown exit %d:\n%s", code, out)
	}
}

func TestAuditHealthyAndFilters(t *testing.T) {
	c := fakeos.Start(t, fakeos.Standard())
	code, out, errOut := run(t, adminEnv(c), "audit", "--project", fakeos.DemoProjectID, "--name", "^vm", "--status", "active", "--host", fakeos.ComputeHost)
	if code != ExitOK || !strings.Contains(out, "VERDICT  1 server: 0 with errors") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = run(t, adminEnv(c), "audit", "--all-projects", "--host", "elsewhere")
	if code != ExitOK || !strings.Contains(out, "No server to audit.") {
		t.Errorf("exit %d\n%s", code, out)
	}
}

func TestAuditNonAdminSkips(t *testing.T) {
	c := fakeos.Start(t, fakeos.Standard())
	code, out, errOut := run(t, c.PasswordEnv(fakeos.DemoUser), "audit", "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	var d auditJSON
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	admin := false
	for _, sk := range d.Skipped {
		admin = admin || strings.HasPrefix(sk.Reason, "needs admin: ")
	}
	if !admin || len(d.Servers) != 1 {
		t.Errorf("%d servers, skips %+v", len(d.Servers), d.Skipped)
	}
	code, _, errOut = run(t, c.PasswordEnv(fakeos.DemoUser), "audit", "--all-projects")
	if code != ExitUnreachable || !strings.Contains(errOut, "list servers") {
		t.Errorf("a member's --all-projects: exit %d, %s", code, errOut)
	}
}

func TestAuditUsage(t *testing.T) {
	for _, args := range [][]string{
		{"audit", "--project", "x", "--all-projects"},
		{"audit", "--name", "("},
		{"audit", "--probe"},
		{"audit", "-o", "yaml"},
		{"audit", "vm1"},
	} {
		code, _, errOut := run(t, nil, args...)
		if code != ExitUsage || strings.Count(strings.TrimSpace(errOut), "\n") > 1 {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
	}
}

// TestAuditRequest: the scope and rule flags audit and exporter share
// become the request's inventory options, filter and rules.
func TestAuditRequest(t *testing.T) {
	none := func(string) string { return "" }
	req, err := auditRequest(auditScope{Project: "p1", Name: "^web-", Status: "ACTIVE", Host: "cmp1"},
		ruleFlags{Excludes: []string{"floating-ip/none"}}, none)
	if err != nil {
		t.Fatal(err)
	}
	if req.Inventory.Project != "p1" || req.Inventory.AllProjects || req.Filter.Status != "ACTIVE" || req.Filter.Host != "cmp1" ||
		req.Filter.Name == nil || !req.Filter.Name.MatchString("web-1") || req.Filter.Name.MatchString("db-1") || !req.Rules.Exclude["floating-ip/none"] {
		t.Errorf("request %+v", req)
	}
	if req, err := auditRequest(auditScope{AllProjects: true}, ruleFlags{}, none); err != nil || !req.Inventory.AllProjects || req.Filter.Name != nil {
		t.Errorf("--all-projects: %+v, %v", req, err)
	}
	for name, c := range map[string]struct {
		s    auditScope
		r    ruleFlags
		want string
	}{
		"exclusive":       {auditScope{Project: "p1", AllProjects: true}, ruleFlags{}, "exclusive"},
		"bad name":        {auditScope{Name: "("}, ruleFlags{}, "not a regular expression"},
		"unknown exclude": {auditScope{}, ruleFlags{Excludes: []string{"no/such"}}, "no rule named"},
	} {
		_, err := auditRequest(c.s, c.r, none)
		var ee *ExitError
		if !errors.As(err, &ee) || ee.Code != ExitUsage || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a usage error with %q", name, err, c.want)
		}
	}
}
