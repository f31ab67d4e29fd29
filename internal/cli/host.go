package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hoofbeat/hoofbeat/internal/host"
	"github.com/hoofbeat/hoofbeat/internal/pipeline"
	"github.com/hoofbeat/hoofbeat/internal/rule"
	hostrun "github.com/hoofbeat/hoofbeat/internal/run"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
	"github.com/hoofbeat/hoofbeat/internal/visible"
)

// hostFlags say how to reach and check hosts; shared by "hoofbeat host"
// and "hoofbeat diagnose --hosts".
type hostFlags struct {
	Enabled     bool // diagnose --hosts
	SSH         bool
	SSHUser     string
	SSHPort     int
	Identities  []string
	KnownHosts  []string
	Probe       bool
	Parallel    int
	HostTimeout time.Duration
	Record      string
	Replay      []string // HOST=DIR, for tests and offline runs

	// Hostname names this machine; tests replace it.
	Hostname func() (string, error)
	// Getenv is the process environment (SSH_AUTH_SOCK, HOME).
	Getenv func(string) string
}

func (f *hostFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&f.SSH, "ssh", false, "reach hosts other than this machine over SSH (user, port, key and jump host from ~/.ssh/config; host keys verified against known_hosts)")
	fl.StringVar(&f.SSHUser, "ssh-user", "", "SSH user (default: ssh_config's, then $USER)")
	fl.IntVar(&f.SSHPort, "ssh-port", 0, "SSH port (default: ssh_config's, then 22)")
	fl.StringArrayVar(&f.Identities, "ssh-identity", nil, "private key file, tried after ssh-agent's keys (repeatable)")
	fl.StringArrayVar(&f.KnownHosts, "known-hosts", nil, "known_hosts file (repeatable; default ssh_config's, then ~/.ssh/known_hosts)")
	fl.BoolVar(&f.Probe, "probe", false, "also run the active probe: ping and ARP the server from inside its network's qdhcp namespace (off by default: hoofbeat only reads)")
	fl.IntVar(&f.Parallel, "parallel", 16, "hosts checked at once")
	fl.DurationVar(&f.HostTimeout, "host-timeout", 60*time.Second, "deadline for checking one host")
	fl.StringVar(&f.Record, "record", "", "write every host command's output under `DIR`/<host>/ (secrets masked, readable by you only), for tests and bug reports")
	fl.StringArrayVar(&f.Replay, "replay", nil, "answer a host's commands from a recording instead of running them: `HOST=DIR` (repeatable)")
	fl.MarkHidden("replay")
}

func (f *hostFlags) hostname() string {
	hn := os.Hostname
	if f.Hostname != nil {
		hn = f.Hostname
	}
	n, err := hn()
	if err != nil {
		return ""
	}
	return n
}

func (f *hostFlags) replays() (map[string]string, error) {
	out := map[string]string{}
	for _, r := range f.Replay {
		h, dir, ok := strings.Cut(r, "=")
		if !ok || h == "" || dir == "" {
			return nil, usageError("--replay wants HOST=DIR, got %q", r)
		}
		out[h] = dir
	}
	return out, nil
}

// targets builds a Target per host name; hosts that cannot be reached the
// way the flags say get a runner that explains why.
func (f *hostFlags) targets(names []string, roles map[string][]string) ([]host.Target, []*hostrun.Record, error) {
	replays, err := f.replays()
	if err != nil {
		return nil, nil, err
	}
	self := f.hostname()
	var ts []host.Target
	var recs []*hostrun.Record
	for _, name := range names {
		t := host.Target{Name: name, Roles: roles[name]}
		switch dir, ok := replays[name]; {
		case ok:
			r, err := hostrun.LoadReplay(dir)
			if err != nil {
				return nil, nil, usageError("--replay %s: %v", name, err)
			}
			t.Runner, t.Via = renamed{r, name}, "replay"
		case name == self || name == "localhost" || (name == "" && self != ""):
			if name == "" {
				t.Name = self
			}
			t.Runner, t.Via, t.Namespaces = &hostrun.Local{Name: t.Name}, "local", host.Netlink{}
		case f.SSH:
			t.Runner, t.Via = hostrun.NewSSH(name, hostrun.SSHOptions{User: f.SSHUser, Port: f.SSHPort, IdentityFiles: f.Identities,
				KnownHosts: f.KnownHosts, Getenv: f.Getenv}), "ssh"
		default:
			t.Runner, t.Via = unreachable{name, fmt.Sprintf("%s is not this machine (%s): add --ssh to check it over SSH, or run hoofbeat host there", name, self)}, "none"
		}
		if f.Record != "" {
			t.Namespaces = nil // the batched command, so that it is recorded too
			rec := &hostrun.Record{Runner: t.Runner, Redact: host.RedactRecorded}
			recs = append(recs, rec)
			t.Runner = rec
		}
		ts = append(ts, t)
	}
	return ts, recs, nil
}

// hostCheck is how the pipeline checks the server's hosts: nil without
// --hosts.
func (f *hostFlags) hostCheck() *pipeline.HostCheck {
	if !f.Enabled {
		return nil
	}
	hc := &pipeline.HostCheck{Select: serverHosts, Reach: f.reach, Fanout: f.fanout()}
	if f.Probe {
		hc.Probes = probeTargets
	}
	return hc
}

func (f *hostFlags) fanout() host.Fanout {
	return host.Fanout{Parallel: f.Parallel, Deadline: f.HostTimeout}
}

// reach is the pipeline's Reach: the targets the flags say, and, once they
// are checked, their runners closed and their recordings saved.
func (f *hostFlags) reach(names []string, roles map[string][]string) ([]host.Target, func() error, error) {
	ts, recs, err := f.targets(names, roles)
	if err != nil {
		return nil, nil, err
	}
	return ts, func() error { return f.release(ts, recs) }, nil
}

func (f *hostFlags) release(ts []host.Target, recs []*hostrun.Record) error {
	for _, t := range ts {
		if c, ok := t.Runner.(interface{ Close() error }); ok {
			c.Close()
		}
	}
	for _, rec := range recs {
		// The host name comes from the cloud: one safe path element.
		elem, err := hostrun.PathElem(rec.Host())
		if err != nil {
			return fmt.Errorf("save recording: %w", err)
		}
		if err := rec.Save(filepath.Join(f.Record, elem)); err != nil {
			return err
		}
	}
	return nil
}

// renamed reports a replay under the host name asked for.
type renamed struct {
	hostrun.Runner
	name string
}

func (r renamed) Host() string { return r.name }

// unreachable is the runner of a host the flags give no way to reach.
type unreachable struct{ name, why string }

func (u unreachable) Host() string { return u.name }
func (u unreachable) Run(_ context.Context, c hostrun.Command) (hostrun.Result, error) {
	return hostrun.Result{}, &hostrun.Error{Host: u.name, Argv: c.Argv, Kind: hostrun.KindUnreachable, Err: fmt.Errorf("%s", u.why)}
}

// serverHosts returns the hosts that matter for the server, with their
// roles: its compute host, the DHCP agents' hosts of its networks and the
// L3 agents' hosts of its routers.
func serverHosts(s *snapshot.Snapshot) ([]string, map[string][]string) {
	var names []string
	roles := map[string][]string{}
	add := func(name, role string) {
		if name == "" {
			return
		}
		if _, ok := roles[name]; !ok {
			names = append(names, name)
		}
		if !slices.Contains(roles[name], role) {
			roles[name] = append(roles[name], role)
		}
	}
	if s.Server != nil {
		add(s.Server.Host, rule.RoleCompute)
	}
	nets := map[string]bool{}
	for _, p := range s.Ports {
		nets[p.NetworkID] = true
		add(p.BindingHostID, rule.RoleCompute)
	}
	for net := range nets {
		for _, id := range s.DHCPAgents[net] {
			if a := s.Agent(id); a != nil {
				add(a.Host, rule.RoleDHCP)
			}
		}
	}
	for _, p := range s.NetworkPorts {
		if !slices.Contains(snapshot.RouterInterfaceOwners, p.DeviceOwner) {
			continue
		}
		for _, h := range s.L3Agents[p.DeviceID] {
			if a := s.Agent(h.AgentID); a != nil {
				add(a.Host, rule.RoleL3)
			}
		}
	}
	return names, roles
}

// probeTargets are the server's fixed IPv4 addresses, pinged from the
// qdhcp namespace of their network on each DHCP agent's host.
func probeTargets(s *snapshot.Snapshot) map[string][]host.ProbeTarget {
	out := map[string][]host.ProbeTarget{}
	for _, p := range s.Ports {
		for _, id := range s.DHCPAgents[p.NetworkID] {
			a := s.Agent(id)
			if a == nil {
				continue
			}
			for _, f := range p.FixedIPs {
				if strings.Contains(f.IPAddress, ":") {
					continue
				}
				out[a.Host] = append(out[a.Host], host.ProbeTarget{Namespace: "qdhcp-" + p.NetworkID, IP: f.IPAddress})
			}
		}
	}
	return out
}

// HostOptions holds "hoofbeat host"'s flags.
type HostOptions struct {
	IO     *IOStreams
	Hosts  []string
	Flags  hostFlags
	Output string
}

// NewCmdHost builds "hoofbeat host [HOST...]".
func NewCmdHost(io *IOStreams) *cobra.Command {
	o := &HostOptions{IO: io}
	o.Flags.Getenv = io.Getenv
	cmd := &cobra.Command{
		Use:   "host [HOST...]",
		Short: "Check hosts on their own: firewall, tunnels, serial console, SELinux, agent logs",
		Long: `Check compute and network nodes directly: the tunnel peers admitted by the
firewall (evaluated as the kernel would), Open vSwitch and Linux bridge
state, nova.conf's [serial_console] and nova-serialproxy, SELinux denials
and known errors in the agents' logs.

Without HOST, check this machine. Name hosts with --ssh to check them over
SSH (agentless: user, port, keys and jump hosts as OpenSSH's config gives
them; host keys verified against known_hosts). Hosts are checked in
parallel, each within --host-timeout; one that cannot be reached is a
"could not check" note, not a failure of the run.

Checks that compare hosts with the API (namespaces, dnsmasq, bridges) need a
server: use "hoofbeat diagnose SERVER --hosts". Every command run is
read-only.

Exit status: 0 no error found, 1 at least one error finding, 2 usage
error, 3 no host could be reached.`,
		Example: `  hoofbeat host
  hoofbeat host --ssh cmp1 cmp2 net1
  hoofbeat host --ssh --ssh-user admin --output json cmp1`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Hosts = args
			return hostRun(cmd, o)
		},
	}
	o.Flags.register(cmd)
	cmd.Flags().StringVarP(&o.Output, "output", "o", "text", "output format: text or json")
	return cmd
}

func hostRun(cmd *cobra.Command, o *HostOptions) error {
	if o.Output != "text" && o.Output != "json" {
		return usageError("unknown output format %q (want text or json)", o.Output)
	}
	names := o.Hosts
	if len(names) == 0 {
		names = []string{""}
	}
	reach := func(names []string, roles map[string][]string) ([]host.Target, func() error, error) {
		ts, release, err := o.Flags.reach(names, roles)
		if err != nil || o.Flags.SSH {
			return ts, release, err
		}
		for _, t := range ts {
			if t.Via == "none" {
				return nil, nil, usageError("%s is not this machine (%s): add --ssh to check it over SSH", t.Name, o.Flags.hostname())
			}
		}
		return ts, release, nil
	}
	res, err := pipeline.CheckHosts(cmd.Context(), pipeline.HostsRequest{Names: names, Reach: reach, Fanout: o.Flags.fanout()})
	if err != nil {
		return err
	}
	hosts := res.Snapshot.Hosts
	rep := hostReport{Tool: "hoofbeat " + version(), Probe: o.Flags.Probe, Hosts: hosts, Result: res.Result}
	if o.Output == "json" {
		err = rep.json(o.IO.Out)
	} else {
		err = rep.text(o.IO.Out)
	}
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	reached := 0
	for _, h := range hosts {
		if h.Unreachable == "" {
			reached++
		}
	}
	if reached == 0 {
		return &ExitError{Code: ExitUnreachable, Err: fmt.Errorf("no host could be checked")}
	}
	if res.Result.Worst() >= rule.Error {
		return errFindings
	}
	return nil
}

// hostReport renders "hoofbeat host".
type hostReport struct {
	Tool   string
	Probe  bool
	Hosts  []snapshot.Host
	Result rule.Result
}

// hostNotes lists the parts of a host that could not be read.
func hostNotes(h snapshot.Host) []string {
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

func (r hostReport) text(w io.Writer) error {
	var b strings.Builder
	b.WriteString("HOSTS\n")
	for _, h := range r.Hosts {
		fmt.Fprintf(&b, "  %s\n", hostLine(h))
		for _, n := range hostNotes(h) {
			fmt.Fprintf(&b, "      could not read %s\n", n)
		}
	}
	if r.Probe {
		b.WriteString("  active probe: on\n")
	} else {
		b.WriteString("  active probe: off (hoofbeat only read; --probe pings a server from its DHCP namespace, with diagnose SERVER --hosts)\n")
	}
	b.WriteString("\nFINDINGS\n")
	if len(r.Result.Findings) == 0 {
		b.WriteString("  none\n")
	}
	for _, f := range r.Result.Findings {
		fmt.Fprintf(&b, "  %s  %s\n    %s\n", f.Severity, f.Rule, f.Summary)
		for _, e := range f.Evidence {
			fmt.Fprintf(&b, "      - %s\n", e)
		}
		for _, c := range f.Remediation {
			fmt.Fprintf(&b, "      $ %s\n", c)
		}
	}
	if len(r.Result.Skipped) > 0 {
		b.WriteString("\nSKIPPED\n")
		for _, s := range r.Result.Skipped {
			part := ""
			if s.Partial {
				part = " (in part)"
			}
			fmt.Fprintf(&b, "  %s%s: %s\n", s.Rule, part, s.Reason)
		}
	}
	errs, warns := 0, 0
	for _, f := range r.Result.Findings {
		switch f.Severity {
		case rule.Error:
			errs++
		case rule.Warning:
			warns++
		}
	}
	fmt.Fprintf(&b, "\n%d checks: %d passed, %d with findings, %d skipped.\n", len(r.Result.Passed)+len(r.Result.Skipped)+countRules(r.Result.Findings), len(r.Result.Passed), countRules(r.Result.Findings), len(r.Result.Skipped))
	switch {
	case errs+warns == 0:
		b.WriteString("VERDICT  No problem found on the hosts checked.\n")
	default:
		fmt.Fprintf(&b, "VERDICT  %d error(s), %d warning(s): most likely cause: %s\n", errs, warns, r.Result.Findings[0].Summary)
	}
	// Host names, log lines and reasons are the hosts' words: shown with
	// their control characters escaped (the report has no colour here).
	_, err := io.WriteString(w, visible.Lines(b.String()))
	return err
}

func countRules(fs []rule.Finding) int {
	seen := map[string]bool{}
	for _, f := range fs {
		seen[f.Rule] = true
	}
	return len(seen)
}

type hostJSON struct {
	Name        string   `json:"name"`
	Via         string   `json:"via"`
	Roles       []string `json:"roles"`
	Unreachable string   `json:"unreachable"`
	Notes       []string `json:"could_not_read"`
	Namespaces  int      `json:"namespaces"`
	Processes   int      `json:"processes"`
}

func (r hostReport) json(w io.Writer) error {
	doc := struct {
		SchemaVersion int            `json:"schema_version"`
		Tool          string         `json:"tool"`
		Probe         bool           `json:"probe"`
		Hosts         []hostJSON     `json:"hosts"`
		Findings      []rule.Finding `json:"findings"`
		Skipped       []rule.Skip    `json:"skipped"`
		Passed        []string       `json:"passed"`
	}{SchemaVersion: 1, Tool: r.Tool, Probe: r.Probe, Hosts: []hostJSON{}, Findings: r.Result.Findings, Skipped: r.Result.Skipped, Passed: r.Result.Passed}
	for _, h := range r.Hosts {
		notes := hostNotes(h)
		if notes == nil {
			notes = []string{}
		}
		roles := h.Roles
		if roles == nil {
			roles = []string{}
		}
		doc.Hosts = append(doc.Hosts, hostJSON{Name: h.Name, Via: h.Via, Roles: roles, Unreachable: h.Unreachable, Notes: notes,
			Namespaces: len(h.Namespaces), Processes: len(h.Processes)})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
