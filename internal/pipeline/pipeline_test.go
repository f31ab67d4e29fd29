package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/host"
	"github.com/hoofbeat/hoofbeat/internal/openstack"
	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/run"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
	"github.com/hoofbeat/hoofbeat/internal/snapshot/topology"
)

// Recordings of the lab's hosts made with "hoofbeat host --record".
var recordings = filepath.Join("..", "host", "testdata", "hosts")

// connect logs in to the fake cloud as user.
func connect(t *testing.T, c *fakeos.Cloud, user string) *openstack.Client {
	t.Helper()
	cl, err := openstack.Connect(context.Background(), openstack.Options{Getenv: fakeos.Getenv(c.PasswordEnv(user))})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// replays reaches each host through a lab recording, HOST → scenario/host,
// and counts the releases.
type replays struct {
	dirs     map[string]string
	released int
	err      error // what release says
}

func (r *replays) reach(names []string, roles map[string][]string) ([]host.Target, func() error, error) {
	var ts []host.Target
	for _, n := range names {
		dir, ok := r.dirs[n]
		if !ok {
			return nil, nil, errors.New("no recording for " + n)
		}
		rp, err := run.LoadReplay(filepath.Join(recordings, dir))
		if err != nil {
			return nil, nil, err
		}
		ts = append(ts, host.Target{Name: n, Roles: roles[n], Runner: rp, Via: "replay"})
	}
	return ts, func() error { r.released++; return r.err }, nil
}

// fakeHosts are the fake cloud's compute and network hosts.
func fakeHosts(*snapshot.Snapshot) ([]string, map[string][]string) {
	return []string{fakeos.ComputeHost, fakeos.NetworkHost}, map[string][]string{
		fakeos.ComputeHost: {string(topology.RoleCompute)},
		fakeos.NetworkHost: {string(topology.RoleDHCP), string(topology.RoleL3)},
	}
}

func noHosts(*snapshot.Snapshot) ([]string, map[string][]string) { return nil, nil }

func removeICMP(w *fakeos.World) {
	sg := &w.SecurityGroups[0]
	sg.Rules = slices.DeleteFunc(sg.Rules, func(r fakeos.Rule) bool { return r.Protocol == "icmp" })
}

// ran lists every rule the result accounts for, whatever its outcome.
func ran(r rule.Result) []string {
	out := slices.Clone(r.Passed)
	for _, f := range r.Findings {
		out = append(out, f.Rule)
	}
	for _, s := range r.Skipped {
		out = append(out, s.Rule)
	}
	for _, s := range r.NotApplicable {
		out = append(out, s.Rule)
	}
	return out
}

func hasHostRule(r rule.Result) bool {
	return slices.ContainsFunc(ran(r), func(n string) bool { return strings.HasPrefix(n, "host/") })
}

func TestRun(t *testing.T) {
	tests := []struct {
		name   string
		world  func(*fakeos.World)
		user   string
		server string
		hosts  func(*replays) *HostCheck
		flows  []string // --check
		// want is a rule among the error findings ("": none at error).
		want string
		// hostRules says whether the host rules ran.
		hostRules bool
		check     func(t *testing.T, res *Result, r *replays)
	}{
		{name: "healthy", server: fakeos.ServerName},
		{name: "by ID", server: fakeos.ServerID},
		{name: "ICMP not admitted", world: removeICMP, server: fakeos.ServerID, want: "security-group/icmp-ingress-missing"},
		{name: "a flow question", server: fakeos.ServerName, flows: []string{"tcp/5432"}, want: "security-group/ingress-missing",
			check: func(t *testing.T, res *Result, _ *replays) {
				if res.Snapshot.RemoteGroupMembers == nil && res.Snapshot.Gap(snapshot.SourceRemoteGroups) == nil {
					t.Errorf("a flow question needs the remote groups: neither read nor a gap")
				}
			}},
		{name: "hosts from recordings", server: fakeos.ServerName, want: "host/tunnel-peer-blocked", hostRules: true,
			hosts: func(r *replays) *HostCheck {
				r.dirs = map[string]string{fakeos.ComputeHost: "vxlan-blocked/cmp1", fakeos.NetworkHost: "healthy/ctl"}
				return &HostCheck{Select: fakeHosts, Reach: r.reach}
			},
			check: func(t *testing.T, res *Result, r *replays) {
				if r.released != 1 {
					t.Errorf("released %d times, want 1", r.released)
				}
				var names []string
				for _, h := range res.Snapshot.Hosts {
					names = append(names, h.Name+" "+strings.Join(h.Roles, ","))
				}
				if want := []string{"compute1 compute", "network1 dhcp,l3"}; !slices.Equal(names, want) {
					t.Errorf("hosts %q, want %q", names, want)
				}
			}},
		{name: "no host known", server: fakeos.ServerName, hostRules: true,
			hosts: func(r *replays) *HostCheck { return &HostCheck{Select: noHosts, Reach: r.reach} },
			check: func(t *testing.T, res *Result, r *replays) {
				g := res.Snapshot.Gap(snapshot.SourceHosts)
				if g == nil || g.Kind != snapshot.GapError || g.Reason != "no host is known for the server" {
					t.Errorf("gap %+v", g)
				}
				if r.released != 0 {
					t.Errorf("released %d times, want 0", r.released)
				}
			}},
		{name: "no host known, agents hidden", user: fakeos.DemoUser, server: fakeos.ServerName, hostRules: true,
			hosts: func(r *replays) *HostCheck { return &HostCheck{Select: noHosts, Reach: r.reach} },
			check: func(t *testing.T, res *Result, _ *replays) {
				g := res.Snapshot.Gap(snapshot.SourceHosts)
				if g == nil || g.Kind != snapshot.GapForbidden || !strings.HasPrefix(g.Reason, "the agents and the server's host are not known: ") {
					t.Errorf("gap %+v", g)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := fakeos.Standard()
			if tt.world != nil {
				tt.world(w)
			}
			c := fakeos.Start(t, w)
			user := tt.user
			if user == "" {
				user = fakeos.AdminUser
			}
			flows, err := rule.ParseFlows(tt.flows, nil)
			if err != nil {
				t.Fatal(err)
			}
			r := &replays{}
			req := Request{Server: tt.server, From: connect(t, c, user), Flows: flows,
				Collect: openstack.CollectOptions{RemoteGroups: len(flows) > 0}}
			if tt.hosts != nil {
				req.Hosts = tt.hosts(r)
			}
			res, err := Run(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if res.Snapshot.Server == nil || res.Snapshot.Server.ID != fakeos.ServerID {
				t.Fatalf("server %+v", res.Snapshot.Server)
			}
			var errs []string
			for _, f := range res.Result.Findings {
				if f.Severity >= rule.Error {
					errs = append(errs, f.Rule)
				}
			}
			if tt.want == "" && len(errs) > 0 || tt.want != "" && !slices.Contains(errs, tt.want) {
				t.Errorf("error findings %q, want %q", errs, tt.want)
			}
			if hasHostRule(res.Result) != tt.hostRules {
				t.Errorf("host rules ran: %v, want %v", hasHostRule(res.Result), tt.hostRules)
			}
			if tt.check != nil {
				tt.check(t, res, r)
			}
		})
	}
}

// TestRunErrors: each stage's failure comes back as an *Error of that
// stage, keeping its own error for errors.As.
func TestRunErrors(t *testing.T) {
	c := fakeos.Start(t, fakeos.Standard())
	cl := connect(t, c, fakeos.AdminUser)
	reachErr := errors.New("--replay wants HOST=DIR")
	saveErr := errors.New("save recording: disk full")
	tests := []struct {
		name   string
		req    Request
		stage  Stage
		target any
	}{
		{name: "unknown server", req: Request{Server: "no-such-vm", From: cl}, stage: StageCollect, target: new(*openstack.Error)},
		{name: "a snapshot of another server", req: Request{Server: "vm9", From: Stored{Snapshot: &snapshot.Snapshot{Query: "vm1"}, Name: "vm1.json"}},
			stage: StageCollect, target: new(*MismatchError)},
		{name: "hosts not reached", req: Request{Server: fakeos.ServerID, From: cl, Hosts: &HostCheck{Select: fakeHosts,
			Reach: func([]string, map[string][]string) ([]host.Target, func() error, error) { return nil, nil, reachErr }}},
			stage: StageHosts},
		{name: "recording not saved", req: Request{Server: fakeos.ServerID, From: cl, Hosts: &HostCheck{Select: fakeHosts,
			Reach: (&replays{dirs: map[string]string{fakeos.ComputeHost: "healthy/cmp1", fakeos.NetworkHost: "healthy/ctl"}, err: saveErr}).reach}},
			stage: StageHosts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Run(context.Background(), tt.req)
			var pe *Error
			if !errors.As(err, &pe) || pe.Stage != tt.stage {
				t.Fatalf("error %v (%T), want a %s stage error", err, err, tt.stage)
			}
			if res != nil {
				t.Errorf("a result with the error: %+v", res)
			}
			if pe.Error() != pe.Err.Error() {
				t.Errorf("the stage error says %q, its cause %q", pe.Error(), pe.Err.Error())
			}
			if tt.target != nil && !errors.As(err, tt.target) {
				t.Errorf("%v is not a %T", err, tt.target)
			}
		})
	}
	var oe *openstack.Error
	if _, err := Run(context.Background(), tests[0].req); !errors.As(err, &oe) || oe.Kind != openstack.KindNotFound {
		t.Errorf("unknown server: %v", err)
	}
	if _, err := Run(context.Background(), tests[1].req); err == nil || err.Error() != "vm1.json holds server vm1, not vm9" {
		t.Errorf("mismatch: %v", err)
	}
}

// TestStored: a snapshot file gives the verdict the cloud gave, for its
// own server only; the host rules run when it carries its hosts.
func TestStored(t *testing.T) {
	w := fakeos.Standard()
	removeICMP(w)
	c := fakeos.Start(t, w)
	online, err := Run(context.Background(), Request{Server: fakeos.ServerName, From: connect(t, c, fakeos.AdminUser)})
	if err != nil {
		t.Fatal(err)
	}
	for _, server := range []string{"", fakeos.ServerName, fakeos.ServerID} {
		res, err := Run(context.Background(), Request{Server: server, From: Stored{Snapshot: online.Snapshot}})
		if err != nil {
			t.Fatalf("%q: %v", server, err)
		}
		if !slices.Equal(ran(res.Result), ran(online.Result)) || len(res.Result.Findings) != len(online.Result.Findings) {
			t.Errorf("%q: offline %v, online %v", server, ran(res.Result), ran(online.Result))
		}
	}

	f, err := os.Open(filepath.Join("..", "..", "examples", "snapshots", "vxlan-blocked.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	snap, err := snapshot.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Request{From: Stored{Snapshot: snap}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(res.Result.Findings, func(f rule.Finding) bool { return f.Rule == "host/tunnel-peer-blocked" }) {
		t.Errorf("the snapshot's hosts were not checked: %+v", res.Result.Findings)
	}
}

// TestRulesOptionsKept: excluding the host rules for a run without hosts
// does not write into the caller's options.
func TestRulesOptionsKept(t *testing.T) {
	c := fakeos.Start(t, fakeos.Standard())
	exclude := map[string]bool{"security-group/icmp-ingress-missing": true}
	res, err := Run(context.Background(), Request{Server: fakeos.ServerID, From: connect(t, c, fakeos.AdminUser), Rules: rule.Options{Exclude: exclude}})
	if err != nil {
		t.Fatal(err)
	}
	if len(exclude) != 1 {
		t.Errorf("the caller's exclusions changed: %v", exclude)
	}
	if slices.Contains(ran(res.Result), "security-group/icmp-ingress-missing") || hasHostRule(res.Result) {
		t.Errorf("excluded rules ran: %v", ran(res.Result))
	}
}

func TestCollectChecksHosts(t *testing.T) {
	c := fakeos.Start(t, fakeos.Standard())
	r := &replays{dirs: map[string]string{fakeos.ComputeHost: "healthy/cmp1", fakeos.NetworkHost: "healthy/ctl"}}
	snap, err := Collect(context.Background(), Request{Server: fakeos.ServerName, From: connect(t, c, fakeos.AdminUser),
		Collect: openstack.CollectOptions{RemoteGroups: true}, Hosts: &HostCheck{Select: fakeHosts, Reach: r.reach}})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Hosts) != 2 || snap.RemoteGroupMembers == nil || r.released != 1 {
		t.Errorf("hosts %d, remote groups %v, released %d", len(snap.Hosts), snap.RemoteGroupMembers, r.released)
	}
}

func TestCheckHosts(t *testing.T) {
	tests := []struct {
		name    string
		dirs    map[string]string
		names   []string
		want    string // the first finding's rule
		reached int
	}{
		{name: "serial proxy stopped", dirs: map[string]string{"ctl": "serialproxy-stopped/ctl"}, names: []string{"ctl"}, want: "host/serialproxy-not-running", reached: 1},
		{name: "tunnel blocked", dirs: map[string]string{"cmp1": "vxlan-blocked/cmp1", "ctl": "healthy/ctl"}, names: []string{"cmp1", "ctl"}, want: "host/tunnel-peer-blocked", reached: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &replays{dirs: tt.dirs}
			res, err := CheckHosts(context.Background(), HostsRequest{Names: tt.names, Reach: r.reach})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Result.Findings) == 0 || res.Result.Findings[0].Rule != tt.want {
				t.Errorf("findings %+v, want %s first", res.Result.Findings, tt.want)
			}
			for _, n := range ran(res.Result) {
				if !strings.HasPrefix(n, "host/") {
					t.Errorf("%s ran on hosts alone", n)
				}
			}
			reached := 0
			for _, h := range res.Snapshot.Hosts {
				if h.Unreachable == "" {
					reached++
				}
			}
			if reached != tt.reached || r.released != 1 || res.Snapshot.Server != nil {
				t.Errorf("reached %d, released %d, server %+v", reached, r.released, res.Snapshot.Server)
			}
		})
	}
}

// TestProbeTargets: the probe pings each IPv4 address of the server's
// ports from its network's DHCP namespace, on every DHCP agent's host.
func TestProbeTargets(t *testing.T) {
	s := &snapshot.Snapshot{
		Ports:      []snapshot.Port{{ID: "p", NetworkID: "n", FixedIPs: []snapshot.FixedIP{{IPAddress: "10.0.0.5"}, {IPAddress: "fd00::5"}}}},
		Agents:     []snapshot.Agent{{ID: "a1", Host: "net1"}, {ID: "a2", Host: "net2"}, {ID: "a3", Host: "net2"}},
		DHCPAgents: map[string][]string{"n": {"a1", "a2", "a3"}},
	}
	got := ProbeTargets(s)
	want := map[string][]host.ProbeTarget{
		"net1": {{Namespace: "qdhcp-n", IP: "10.0.0.5"}},
		"net2": {{Namespace: "qdhcp-n", IP: "10.0.0.5"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	names, roles := ServerHosts(s)
	if !slices.Equal(names, []string{"net1", "net2"}) || !slices.Equal(roles["net2"], []string{"dhcp"}) {
		t.Errorf("hosts %v, roles %v", names, roles)
	}

	// ML2/OVN: no DHCP agent, the network's metadata port: the server's own
	// host pings it from the metadata agent's namespace there.
	ovn := &snapshot.Snapshot{
		Server:       &snapshot.Server{ID: "s", Host: "cmp2"},
		Ports:        s.Ports,
		NetworkPorts: []snapshot.Port{{ID: "m", NetworkID: "n", DeviceOwner: "network:distributed"}},
	}
	want = map[string][]host.ProbeTarget{"cmp2": {{Namespace: "ovnmeta-n", IP: "10.0.0.5"}}}
	if got := ProbeTargets(ovn); !reflect.DeepEqual(got, want) {
		t.Errorf("OVN: got %v, want %v", got, want)
	}
	ovn.NetworkPorts = nil
	if got := ProbeTargets(ovn); len(got) != 0 {
		t.Errorf("neither DHCP agent nor metadata port: got %v", got)
	}
}
