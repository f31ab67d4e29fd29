package host

import (
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/run"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// NamespaceReader lists the named network namespaces with their devices.
// Locally that is netlink (no process per namespace); remotely one batched
// command through the runner.
type NamespaceReader interface {
	Namespaces(ctx context.Context) ([]snapshot.Namespace, error)
}

// Options say what to read on a host.
type Options struct {
	// Roles are recorded in the snapshot (compute, dhcp, l3…).
	Roles []string
	// Via is recorded as how the host was reached (local, ssh).
	Via string
	// Namespaces reads the namespaces; nil runs NetnsScript through the runner.
	Namespaces NamespaceReader
	// NovaConf are the nova config files read first (default
	// /etc/nova/nova.conf); files named by nova-compute's --config-file
	// arguments are read after them.
	NovaConf []string
	// AuditLog is the audit log read for AVC denials.
	AuditLog string
	// Logs are the agent logs scanned; nil means AgentLogs.
	Logs []string
	// Probes are the active checks (--probe); nil runs none.
	Probes []ProbeTarget
	// OVN names the server's objects to read from the OVN databases when
	// they are on the host, and asks for the host's OVN chassis; nil reads
	// no OVN (the cloud does not run it).
	OVN *OVNQuery
	// Traces are packets to trace through Open vSwitch (read-only).
	Traces []TraceSpec
	// Parallel bounds the commands run at once on the host (default 4).
	Parallel int
	// CommandTimeout bounds each command (default run.DefaultTimeout).
	CommandTimeout time.Duration
}

// ProbeTarget is an address to ping and resolve from inside a namespace.
type ProbeTarget struct {
	Namespace string
	IP        string
}

// TraceSpec is a packet to trace through Open vSwitch towards a VIF with
// ofproto/trace, which sends nothing. It enters by FromPort (its sender is
// on this host), by the tunnel port to FromTunnel with VNI, or by the
// physical NIC of FromBridge (tagged VLAN when set: a VLAN network).
type TraceSpec struct {
	Label string
	// Port is the Neutron port the packet is for.
	Port string
	// Packet is the flow without in_port and tun_id
	// ("icmp,dl_src=…,dl_dst=…,nw_src=…,nw_dst=…,icmp_type=8,icmp_code=0").
	Packet     string
	FromPort   string
	FromTunnel string
	VNI        int
	FromBridge string
	VLAN       int
	// Skip says why the packet cannot be traced (it is then not run).
	Skip string
}

// DefaultAuditLog is where auditd writes.
const DefaultAuditLog = "/var/log/audit/audit.log"

// AuditTailLines bounds the audit log read.
const AuditTailLines = 20000

// Collect reads everything the host rules need from one host. It never
// fails: every part that could not be read carries its reason, and a host
// that could not be reached at all has Unreachable set.
func Collect(ctx context.Context, r run.Runner, name string, opt Options) snapshot.Host {
	h := snapshot.Host{Name: name, Roles: opt.Roles, Via: opt.Via}
	c := &collector{r: r, h: &h, opt: opt}
	// One cheap command first: a host that cannot be reached fails here
	// once, instead of once per command.
	if _, err := r.Run(ctx, run.Command{Argv: []string{"true"}}); run.KindOf(err) == run.KindUnreachable || run.KindOf(err) == run.KindTimeout {
		h.Unreachable = reason(err)
		return h
	}
	par := opt.Parallel
	if par <= 0 {
		par = 4
	}
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	do := func(f func(context.Context)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			f(ctx)
		}()
	}
	for _, p := range commands {
		do(func(ctx context.Context) { p.read(ctx, c) })
	}
	do(c.namespaces)
	do(c.ovs)
	if opt.OVN != nil {
		do(c.ovn) // the cloud runs ML2/OVN: other clouds' hosts are not asked
	}
	do(c.audit)
	do(c.logs)
	do(c.procsAndNova) // nova.conf after ps: the config files nova-compute was started with
	if len(opt.Probes) > 0 {
		h.Probed = true
		do(c.probes)
	}
	wg.Wait()
	return h
}

type collector struct {
	r   run.Runner
	opt Options
	mu  sync.Mutex
	h   *snapshot.Host
}

func (c *collector) set(f func(h *snapshot.Host)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(c.h)
}

// reason phrases a runner error for a "could not read" note.
func reason(err error) string {
	var e *run.Error
	if errors.As(err, &e) {
		switch e.Kind {
		case run.KindNotFound:
			return fmt.Sprintf("%s is not installed", e.Argv[0])
		case run.KindPermission:
			return fmt.Sprintf("%s: permission denied (run as root)", run.Quote(e.Argv))
		case run.KindTimeout:
			return fmt.Sprintf("%s timed out", run.Quote(e.Argv))
		case run.KindUnreachable:
			if e.Err != nil {
				return "unreachable: " + e.Err.Error()
			}
			return "unreachable"
		}
	}
	return err.Error()
}

func (c *collector) run(ctx context.Context, argv ...string) ([]byte, error) {
	res, err := c.r.Run(ctx, run.Command{Argv: argv, Timeout: c.opt.CommandTimeout})
	if err != nil {
		return res.Stdout, err
	}
	if res.Truncated {
		return res.Stdout, fmt.Errorf("%s: output larger than %d bytes, not read", run.Quote(argv), run.DefaultMaxOutput)
	}
	return res.Stdout, nil
}

// part is a piece of a host read by one command and one parser. into
// names the host's fields that take the value and, when it could not be
// read, the reason.
type part[T any] struct {
	argv  []string
	parse func([]byte) (T, error)
	into  func(h *snapshot.Host) (*T, *string)
}

func (p part[T]) read(ctx context.Context, c *collector) {
	out, err := c.run(ctx, p.argv...)
	var v T
	if err == nil {
		v, err = p.parse(out)
	}
	store(c, v, err, p.into)
}

// store sets v into the host, or the reason err gives.
func store[T any](c *collector, v T, err error, into func(h *snapshot.Host) (*T, *string)) {
	c.set(func(h *snapshot.Host) {
		val, why := into(h)
		if err != nil {
			*why = reason(err)
			return
		}
		*val = v
	})
}

// text keeps a command's output as it is: the rules parse it themselves.
func text(out []byte) (string, error) { return string(out), nil }

// commands are the parts read by one command each; parts of any type, so
// the table holds their read methods.
var commands = []interface {
	read(ctx context.Context, c *collector)
}{
	part[[]snapshot.Link]{[]string{"ip", "-d", "-json", "addr", "show"}, ParseIPAddr,
		func(h *snapshot.Host) (*[]snapshot.Link, *string) { return &h.Links, &h.LinksError }},
	part[[]snapshot.Route]{[]string{"ip", "-json", "route", "show"}, ParseIPRoute,
		func(h *snapshot.Host) (*[]snapshot.Route, *string) { return &h.Routes, &h.RoutesError }},
	part[[]snapshot.FDBEntry]{[]string{"bridge", "-json", "fdb", "show"}, ParseFDB,
		func(h *snapshot.Host) (*[]snapshot.FDBEntry, *string) { return &h.FDB, &h.FDBError }},
	part[string]{[]string{"iptables-save"}, text,
		func(h *snapshot.Host) (*string, *string) {
			return &h.Firewall.IPTablesSave, &h.Firewall.IPTablesSaveError
		}},
	part[string]{[]string{"nft", "-j", "list", "ruleset"}, text,
		func(h *snapshot.Host) (*string, *string) { return &h.Firewall.NFT, &h.Firewall.NFTError }},
	part[[]snapshot.Listener]{SSArgs, ParseSS,
		func(h *snapshot.Host) (*[]snapshot.Listener, *string) { return &h.Listeners, &h.ListenersError }},
	part[string]{[]string{"getenforce"}, ParseGetenforce,
		func(h *snapshot.Host) (*string, *string) { return &h.SELinux.Mode, &h.SELinux.ModeError }},
}

func (c *collector) namespaces(ctx context.Context) {
	var nss []snapshot.Namespace
	var err error
	if c.opt.Namespaces != nil {
		nss, err = c.opt.Namespaces.Namespaces(ctx)
	} else {
		var out []byte
		out, err = c.run(ctx, "sh", "-c", NetnsScript)
		if err == nil {
			nss, err = ParseNetnsBatch(out)
		}
	}
	sort.Slice(nss, func(i, j int) bool { return nss[i].Name < nss[j].Name })
	store(c, nss, err, func(h *snapshot.Host) (*[]snapshot.Namespace, *string) { return &h.Namespaces, &h.NamespacesError })
}

// flowBridges are the bridges whose flows are dumped: br-tun translates
// between VNIs and local VLANs, br-int's table 0 between provider and
// local VLANs.
var flowBridges = []string{"br-int", "br-tun"}

// ovs reads Open vSwitch: one ovs-vsctl for the tables, one dump-flows per
// bridge of flowBridges, one ofproto/trace per packet traced; none of it
// grows with the number of ports.
func (c *collector) ovs(ctx context.Context) {
	out, err := c.run(ctx, OVSArgs...)
	var o *snapshot.OVS
	if err == nil {
		o, err = ParseOVSBatch(out)
	}
	if err == nil {
		cookies := c.flows(ctx, o)
		c.traces(ctx, o, cookies)
	}
	store(c, o, err, func(h *snapshot.Host) (**snapshot.OVS, *string) { return &h.OVS, &h.OVSError })
}

// flows dumps the flows of flowBridges into o, and returns which bridge
// each agent cookie belongs to.
func (c *collector) flows(ctx context.Context, o *snapshot.OVS) map[string]string {
	cookies := map[string]string{}
	for _, br := range flowBridges {
		if !slices.ContainsFunc(o.Bridges, func(b snapshot.OVSBridge) bool { return b.Name == br }) {
			continue
		}
		fl := snapshot.OVSFlows{Bridge: br}
		out, err := c.run(ctx, DumpFlowsArgs(br)...)
		var flows []snapshot.OVSFlow
		if err == nil {
			flows, err = ParseDumpFlows(out)
		}
		if err != nil {
			fl.Error = reason(err)
		}
		for _, f := range flows {
			if f.Cookie != "" {
				cookies[f.Cookie] = br
			}
			if br == "br-tun" || f.Table == 0 {
				fl.Flows = append(fl.Flows, f)
			}
		}
		o.Flows = append(o.Flows, fl)
	}
	return cookies
}

// physicalPort is the first port of a bridge whose interface is a device
// of the host (type "" or "system"), not a patch or the bridge's own port.
func physicalPort(o *snapshot.OVS, bridge string) string {
	typ := map[string]string{}
	for _, i := range o.Interfaces {
		typ[i.Name] = i.Type
	}
	for _, b := range o.Bridges {
		if b.Name != bridge {
			continue
		}
		for _, p := range b.Ports {
			if t, ok := typ[p]; ok && (t == "" || t == "system") && p != bridge {
				return p
			}
		}
	}
	return ""
}

// traces runs the packets of Options.Traces through ofproto/trace.
func (c *collector) traces(ctx context.Context, o *snapshot.OVS, cookies map[string]string) {
	bridgeOf := map[string]string{}
	for _, b := range o.Bridges {
		for _, p := range b.Ports {
			bridgeOf[p] = b.Name
		}
	}
	for _, ts := range c.opt.Traces {
		t := snapshot.OVSTrace{Label: ts.Label, Port: ts.Port}
		var in string
		switch {
		case ts.Skip != "":
			t.Error = ts.Skip
		case ts.FromPort != "" && bridgeOf[ts.FromPort] != "":
			t.Bridge, in = bridgeOf[ts.FromPort], "in_port="+ts.FromPort
		case ts.FromPort != "":
			t.Error = fmt.Sprintf("no Open vSwitch port %s to trace from", ts.FromPort)
		case ts.FromBridge != "":
			if nic := physicalPort(o, ts.FromBridge); nic == "" {
				t.Error = fmt.Sprintf("no physical port on %s to trace from", ts.FromBridge)
			} else {
				t.Bridge, in = ts.FromBridge, "in_port="+nic
				if ts.VLAN > 0 {
					in += fmt.Sprintf(",dl_vlan=%d", ts.VLAN)
				}
			}
		default:
			for _, i := range o.Interfaces {
				if i.RemoteIP == ts.FromTunnel && ts.FromTunnel != "" && bridgeOf[i.Name] != "" {
					t.Bridge, in = bridgeOf[i.Name], fmt.Sprintf("in_port=%s,tun_id=0x%x", i.Name, ts.VNI)
					break
				}
			}
			if in == "" {
				t.Error = fmt.Sprintf("no tunnel port to %s to trace from", ts.FromTunnel)
			}
		}
		if in != "" {
			t.Flow = in + "," + ts.Packet
			out, err := c.run(ctx, TraceArgs(t.Bridge, t.Flow)...)
			if err == nil {
				var got snapshot.OVSTrace
				got, err = ParseTrace(out)
				t.Actions, t.Dropped, t.Drop, t.Steps = got.Actions, got.Dropped, got.Drop, got.Steps
			}
			if err != nil {
				t.Error = reason(err)
			}
			for i := range t.Steps {
				if br := cookies[t.Steps[i].Cookie]; br != "" {
					t.Steps[i].Bridge = br
				}
			}
			if t.Drop != nil && cookies[t.Drop.Cookie] != "" {
				t.Drop.Bridge = cookies[t.Drop.Cookie]
			}
		}
		o.Traces = append(o.Traces, t)
	}
}

func (c *collector) audit(ctx context.Context) {
	path := c.opt.AuditLog
	if path == "" {
		path = DefaultAuditLog
	}
	c.set(func(h *snapshot.Host) { h.SELinux.AuditLog = path })
	part[[]snapshot.AVC]{[]string{"tail", "-n", fmt.Sprint(AuditTailLines), "--", path}, ParseAudit,
		func(h *snapshot.Host) (*[]snapshot.AVC, *string) { return &h.SELinux.AVCs, &h.SELinux.AuditError }}.read(ctx, c)
}

func (c *collector) logs(ctx context.Context) {
	files := c.opt.Logs
	if files == nil {
		files = AgentLogs
	}
	var found, history []snapshot.LogLine
	var read, failed []string
	for _, f := range files {
		out, err := c.run(ctx, "tail", "-n", fmt.Sprint(LogTailLines), "--", f)
		if err != nil {
			if notFound(err) {
				continue // that agent does not run here
			}
			failed = append(failed, fmt.Sprintf("%s: %s", f, reason(err)))
			continue
		}
		read = append(read, f)
		errs, before := ScanLog(f, out)
		found, history = append(found, errs...), append(history, before...)
	}
	c.set(func(h *snapshot.Host) {
		h.LogErrors, h.LogErrorsBeforeStart, h.LogsRead = found, history, read
		h.LogsError = strings.Join(failed, "; ")
	})
}

func (c *collector) procsAndNova(ctx context.Context) {
	out, err := c.run(ctx, PSArgs...)
	var procs []snapshot.Process
	if err == nil {
		procs, err = ParsePS(out)
	}
	// All of them to find nova-compute; only the evidence into the host.
	store(c, EvidenceProcesses(procs), err, func(h *snapshot.Host) (*[]snapshot.Process, *string) { return &h.Processes, &h.ProcessesError })
	if runsLibvirt(procs) {
		out, err := c.run(ctx, "sh", "-c", DomainsScript)
		var doms []snapshot.Domain
		if err == nil {
			doms, err = ParseDomains(out)
		}
		store(c, doms, err, func(h *snapshot.Host) (*[]snapshot.Domain, *string) { return &h.Domains, &h.DomainsError })
	}
	files := c.opt.NovaConf
	if files == nil {
		files = []string{"/etc/nova/nova.conf"}
	}
	var failed []string
	files = append(files, c.novaConfigFiles(ctx, procs, &failed)...)
	contents := map[string][]byte{}
	var order []string
	for _, f := range files {
		if _, dup := contents[f]; dup {
			continue
		}
		b, err := c.run(ctx, run.Cat(f).Argv...)
		if err != nil {
			if notFound(err) && len(order) > 0 {
				continue // a file another nova-compute on this machine reads
			}
			failed = append(failed, fmt.Sprintf("%s: %s", f, reason(err)))
			continue
		}
		contents[f] = b
		order = append(order, f)
	}
	var nc *snapshot.NovaConf
	if len(order) > 0 {
		nc, err = ParseNovaConf(contents, order)
		if err != nil {
			failed = append(failed, err.Error())
		}
	}
	c.set(func(h *snapshot.Host) {
		h.NovaConf = nc
		h.NovaConfError = strings.Join(failed, "; ")
	})
}

// notFound reports a file that does not exist (cat or tail said so).
func notFound(err error) bool {
	var e *run.Error
	return errors.As(err, &e) && e.Kind == run.KindExit && strings.Contains(e.Stderr, "No such file")
}

// novaServiceUsers are the accounts whose nova-compute is believed about
// its --config-file arguments: hoofbeat reads those files as root, so a
// process anyone can start (exec -a 'nova-compute --config-file
// /root/.ssh/id_rsa' sleep 999) must not name them.
var novaServiceUsers = map[string]bool{"root": true, "nova": true}

// python matches the interpreters that run nova's console scripts, by the
// executable's last element (/usr/bin/python3.11, platform-python3.6).
var python = regexp.MustCompile(`^(?:python|pypy|platform-python)[0-9.]*$`)

// ExeArgs is the command that names a process's executable as the kernel
// sees it: exec -a and setproctitle change the command line, not this.
func ExeArgs(pid int) []string { return []string{"readlink", fmt.Sprintf("/proc/%d/exe", pid)} }

// novaConfigFiles returns the --config-file arguments of the nova-compute
// processes, in order: nova reads them after nova.conf when it is given
// several. (A machine running several hosts in containers shows them all.)
// Only processes of novaServiceUsers whose executable really is
// nova-compute (or the Python running its script) count, and only
// absolute, clean paths; a check that could not be made is noted in failed.
func (c *collector) novaConfigFiles(ctx context.Context, procs []snapshot.Process, failed *[]string) []string {
	var out []string
	for _, p := range procs {
		f := strings.Fields(p.Args)
		script := novaComputeScript(f)
		if script < 0 || !novaServiceUsers[p.User] {
			continue
		}
		b, err := c.run(ctx, ExeArgs(p.PID)...)
		if err != nil {
			*failed = append(*failed, fmt.Sprintf("config files of nova-compute (pid %d) not read: its executable could not be checked: %s", p.PID, reason(err)))
			continue
		}
		// A binary replaced by an upgrade while it runs reads "… (deleted)".
		exe := path.Base(strings.TrimSuffix(strings.TrimSpace(string(b)), " (deleted)"))
		if exe != "nova-compute" && !(script > 0 && python.MatchString(exe)) {
			continue // an impostor: the command line says nova-compute, the kernel does not
		}
		for i := script + 1; i < len(f); i++ {
			var file string
			switch {
			case f[i] == "--config-file" && i+1 < len(f):
				file = f[i+1]
				i++
			case strings.HasPrefix(f[i], "--config-file="):
				file = strings.TrimPrefix(f[i], "--config-file=")
			default:
				continue
			}
			if path.IsAbs(file) && path.Clean(file) == file {
				out = append(out, file)
			}
		}
	}
	return out
}

// novaComputeScript returns the index of nova-compute in a command line: 0
// when it is the program, the index of the script when an interpreter runs
// it (options before the script skipped), -1 when the command line is not
// nova-compute's.
func novaComputeScript(f []string) int {
	if len(f) == 0 {
		return -1
	}
	if path.Base(f[0]) == "nova-compute" {
		return 0
	}
	if !python.MatchString(path.Base(f[0])) {
		return -1
	}
	for i := 1; i < len(f); i++ {
		if strings.HasPrefix(f[i], "-") {
			continue
		}
		if path.Base(f[i]) == "nova-compute" {
			return i
		}
		return -1
	}
	return -1
}

func (c *collector) probes(ctx context.Context) {
	var ps []snapshot.Probe
	for _, t := range c.opt.Probes {
		p := snapshot.Probe{Namespace: t.Namespace, Target: t.IP}
		out, err := c.run(ctx, "ip", "netns", "exec", t.Namespace, "ping", "-c", "2", "-W", "1", "-q", t.IP)
		p.Output = lastLines(string(out), 2)
		switch {
		case err == nil:
			p.Ping = true
		case run.KindOf(err) != run.KindExit:
			p.Error = reason(err)
		}
		if out, err := c.run(ctx, "ip", "-json", "-n", t.Namespace, "neigh", "show", "to", t.IP); err == nil {
			p.ARP = ParseNeighMAC(out)
		}
		ps = append(ps, p)
	}
	c.set(func(h *snapshot.Host) { h.Probes = ps })
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
