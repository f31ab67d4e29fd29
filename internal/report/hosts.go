package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// HostsReport is what "hoofbeat host" renders: hosts checked on their own,
// without a server.
type HostsReport struct {
	Hosts     []snapshot.Host
	Result    rule.Result
	CheckedAt time.Time
	// Probe says whether the active probe ran.
	Probe bool
	Tool  string
}

// hostsView is the report's view of hosts alone: no path, the hosts'
// verdict.
func hostsView(r *HostsReport) *view {
	s := &snapshot.Snapshot{CollectedAt: r.CheckedAt, Hosts: r.Hosts}
	v := buildWith(&Report{Snapshot: s, Result: r.Result, Tool: r.Tool}, hopOf)
	v.Path = nil
	v.Verdict = hostsVerdict(v)
	return v
}

func hostsVerdict(v *view) string {
	if v.Cause != "" {
		return causeVerdict(v)
	}
	if n := v.skippedRules(); n > 0 {
		return fmt.Sprintf("No problem found on the hosts checked, but %s could not run in full (see SKIPPED).", plural(n, "check", "checks"))
	}
	return "No problem found on the hosts checked."
}

// HostsText writes the hosts report for a terminal: the hosts and what
// could not be read on them, then findings, skipped checks and the verdict
// as diagnose writes them.
func HostsText(w io.Writer, r *HostsReport, o TextOptions) error {
	v := visibleView(hostsView(r))
	hosts := v.Hosts
	t := &textWriter{color: o.Color, width: o.Width}
	if l := v.checkedLine(); l != "" {
		t.para(t.paint(styleBold, "Checked")+"  ", 9, l)
	}
	t.heading("HOSTS", "checked on their own")
	for _, h := range hosts {
		t.para("  ", 4, hostLine(h))
		for _, n := range HostNotes(h) {
			t.para("      ", 6, t.paint(styleDim, "could not read "+n))
		}
	}
	if r.Probe {
		t.line("  active probe: on")
	} else {
		t.para("  ", 4, "active probe: off (hoofbeat only read; --probe pings a server from its DHCP namespace, with diagnose SERVER --hosts)")
	}
	t.findings(v)
	t.skipped(v)
	t.notApplicable(v)
	t.verdict(v)
	_, err := w.Write(t.buf.Bytes())
	return err
}

// HostsJSON writes the hosts report as the diagnose document
// (docs/output-json.md) with no server and no path, and the hosts.
func HostsJSON(w io.Writer, r *HostsReport) error {
	v := hostsView(r)
	d := toJSON(v)
	probe := r.Probe
	d.Probe = &probe
	return writeDoc(w, d)
}

type jsonHost struct {
	Name        string   `json:"name"`
	Via         string   `json:"via"`
	Roles       []string `json:"roles"`
	Unreachable string   `json:"unreachable"`
	Notes       []string `json:"could_not_read"`
	Namespaces  int      `json:"namespaces"`
	Processes   int      `json:"processes"`
}

func jsonHosts(hs []snapshot.Host) []jsonHost {
	out := []jsonHost{}
	for _, h := range hs {
		out = append(out, jsonHost{Name: h.Name, Via: h.Via, Roles: nonNil(h.Roles), Unreachable: h.Unreachable,
			Notes: nonNil(HostNotes(h)), Namespaces: len(h.Namespaces), Processes: len(h.Processes)})
	}
	return out
}

// HostNotes lists the parts of a host that could not be read.
func HostNotes(h snapshot.Host) []string {
	var out []string
	add := func(what, why string) {
		if why != "" {
			out = append(out, what+": "+why)
		}
	}
	add("devices", h.LinksError)
	add("routes", h.RoutesError)
	add("namespaces", h.NamespacesError)
	add("bridge fdb", h.FDBError)
	add("processes", h.ProcessesError)
	add("listening sockets", h.ListenersError)
	add("iptables", h.Firewall.IPTablesSaveError)
	add("nftables", h.Firewall.NFTError)
	add("Open vSwitch", h.OVSError)
	add("nova.conf", h.NovaConfError)
	add("SELinux mode", h.SELinux.ModeError)
	add("audit log", h.SELinux.AuditError)
	add("agent logs", h.LogsError)
	return out
}

func hostLine(h snapshot.Host) string {
	s := fmt.Sprintf("%s (%s", h.Name, h.Via)
	if len(h.Roles) > 0 {
		s += "; " + strings.Join(h.Roles, ", ")
	}
	s += ")"
	if h.Unreachable != "" {
		return s + ": could not check: " + h.Unreachable
	}
	return s + fmt.Sprintf(": %d devices, %d namespaces, %d processes, %d listening sockets", len(h.Links), len(h.Namespaces), len(h.Processes), len(h.Listeners))
}
