package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hoofbeat/hoofbeat/internal/exporter"
	"github.com/hoofbeat/hoofbeat/internal/host"
	"github.com/hoofbeat/hoofbeat/internal/pipeline"
	"github.com/hoofbeat/hoofbeat/internal/report"
	"github.com/hoofbeat/hoofbeat/internal/rule"
	hostrun "github.com/hoofbeat/hoofbeat/internal/run"
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
	fl.BoolVar(&f.SSH, "ssh", false, "reach hosts other than this machine over SSH, as your ssh does: through the system's OpenSSH client with your ssh_config (ProxyCommand, ProxyJump, certificates, ControlPath), never prompting, host keys always checked against known_hosts")
	fl.StringVar(&f.SSHUser, "ssh-user", "", "SSH user (default: ssh_config's, then $USER)")
	fl.IntVar(&f.SSHPort, "ssh-port", 0, "SSH port (default: ssh_config's, then 22)")
	fl.StringArrayVar(&f.Identities, "ssh-identity", nil, "private key file, tried after ssh-agent's keys (repeatable)")
	fl.StringArrayVar(&f.KnownHosts, "known-hosts", nil, "known_hosts file (repeatable; default ssh_config's, then ~/.ssh/known_hosts)")
	fl.BoolVar(&f.Probe, "probe", false, "also run the active probe: ping and ARP the server from inside its network's qdhcp namespace (ML2/OVN: the ovnmeta namespace on its host; off by default: hoofbeat only reads)")
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
			r, err := hostrun.NewSSHRunner(name, hostrun.SSHOptions{User: f.SSHUser, Port: f.SSHPort, IdentityFiles: f.Identities,
				KnownHosts: f.KnownHosts, Getenv: f.Getenv})
			if err != nil {
				t.Runner, t.Via = unreachable{name, err.Error()}, "none"
				break
			}
			t.Runner, t.Via = r, "ssh"
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
// --hosts. p shows how many are done (nil: nothing).
func (f *hostFlags) hostCheck(p *progress) *pipeline.HostCheck {
	if !f.Enabled {
		return nil
	}
	return &pipeline.HostCheck{Probe: f.Probe, Reach: f.reach, Fanout: f.fanout(p)}
}

func (f *hostFlags) fanout(p *progress) host.Fanout {
	return host.Fanout{Parallel: f.Parallel, Deadline: f.HostTimeout, Progress: p.report()}
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

// HostOptions holds "hoofbeat host"'s flags.
type HostOptions struct {
	IO     *IOStreams
	Hosts  []string
	Flags  hostFlags
	Output string
	// Textfile is --textfile: the node_exporter textfile directory.
	Textfile string
	// Config is --config: the configuration file.
	Config string
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

--output prometheus writes the findings as metrics; with --textfile DIR,
atomically into DIR/hoofbeat_host.prom for node_exporter's textfile
collector (a systemd timer per host: deploy/systemd/).

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
	cmd.Flags().StringVarP(&o.Output, "output", "o", "text", "output format: text, json or prometheus (node_exporter's text format)")
	cmd.Flags().StringVar(&o.Textfile, "textfile", "", "with --output prometheus: write `DIR`/"+exporter.TextfileName+" atomically, for node_exporter's textfile collector, instead of stdout")
	configFlag(cmd.Flags(), &o.Config)
	return cmd
}

func hostRun(cmd *cobra.Command, o *HostOptions) error {
	if o.Output != "text" && o.Output != "json" && o.Output != "prometheus" {
		return usageError("unknown output format %q (want text, json or prometheus)", o.Output)
	}
	if o.Textfile != "" && o.Output != "prometheus" {
		return usageError("--textfile writes metrics: it needs --output prometheus")
	}
	if o.Textfile != "" {
		if st, err := os.Stat(o.Textfile); err != nil || !st.IsDir() {
			return usageError("--textfile %s: not a directory", o.Textfile)
		}
	}
	start := time.Now()
	opt, err := ruleOptions(o.Config, nil, o.IO.Getenv)
	if err != nil {
		return err
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
	p := newProgress(o.IO, false)
	res, err := pipeline.CheckHosts(cmd.Context(), pipeline.HostsRequest{Names: names, Reach: reach, Fanout: o.Flags.fanout(p), Rules: opt})
	p.clear()
	if err != nil {
		return err
	}
	hosts := res.Snapshot.Hosts
	rep := &report.HostsReport{Tool: "hoofbeat " + version(), Probe: o.Flags.Probe, Hosts: hosts, Result: res.Result, CheckedAt: res.Snapshot.CollectedAt}
	switch {
	case o.Output == "prometheus":
		m := &exporter.HostChecks{Hosts: hosts, Result: res.Result, At: start, Duration: time.Since(start)}
		write := func(w io.Writer) error { return exporter.WriteHostMetrics(w, m) }
		if o.Textfile != "" {
			err = exporter.WriteTextfile(o.Textfile, exporter.TextfileName, write)
		} else {
			err = write(o.IO.Out)
		}
	case o.Output == "json":
		err = report.HostsJSON(o.IO.Out, rep)
	default:
		err = report.HostsText(o.IO.Out, rep, report.TextOptions{Color: o.IO.colour(), Width: o.IO.Width})
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
