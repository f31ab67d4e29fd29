package rule

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// consoleFixture reads testdata/console/NAME as Nova would return it (the
// default 200-line tail).
func consoleFixture(name string) *snapshot.ConsoleLog {
	b, err := os.ReadFile(filepath.Join("testdata", "console", name))
	if err != nil {
		panic(err)
	}
	return snapshot.NewConsoleLog(string(b), 200)
}

var consoleRules = []string{"instance/dhcp-failed", "instance/metadata-unreachable", "instance/cloud-init-failed", "instance/guest-network-config"}

// TestConsoleFixtures runs every console fixture through the console rules
// on the healthy baseline: what fires, at what severity, quoting what.
func TestConsoleFixtures(t *testing.T) {
	cases := []struct {
		file string
		// mutate fits the snapshot to what the guest was served (the lab
		// subnet's host route), when it matters.
		mutate func(s *snapshot.Snapshot)
		want   []expect
	}{
		{file: "cirros-0.6-ok.txt"},
		{file: "ubuntu-22.04-ok.txt"},
		{file: "debian-12-dhclient-ok.txt"},
		// Real captures: lab/guest-test.sh --record, healthy and with faults
		// injected through user-data or the kernel command line (hbg.fault=).
		{file: "lab-small-ok.txt", mutate: labHostRoute},
		{file: "lab-small-no-host-routes.txt", mutate: labHostRoute, want: []expect{
			{rule: "instance/guest-network-config", severity: Warning,
				summary:  []string{"lacks subnet private-subnet (10.0.0.0/24)'s host route 192.168.50.0/24 via 10.0.0.254: its traffic to 192.168.50.0/24 takes the default route instead"},
				evidence: []string{"ip-route:default via 10.0.0.1 dev eth0", "ip-route:10.0.0.0/24 dev eth0 scope link  src 10.0.0.12", "host_routes: 192.168.50.0/24 via 10.0.0.254, not among the guest's routes"},
				fix:      []string{"ip route add 192.168.50.0/24 via 10.0.0.254   # inside the guest"}},
		}},
		{file: "lab-small-no-metadata-route.txt", mutate: labHostRoute, want: []expect{
			// No route: the guest's own configuration explains the failure.
			{rule: "instance/metadata-unreachable", severity: Info, summary: []string{"(no answer)", "the guest confirms instance/guest-network-config"},
				evidence: []string{"failed 20/20: up", "failed to read iid from metadata. tried 20"}},
			{rule: "instance/guest-network-config", severity: Warning, summary: []string{"has no default route"},
				evidence: []string{"ip-route:10.0.0.0/24 dev eth0", "no default route among the guest's routes"}},
			{rule: "instance/guest-network-config", severity: Warning, summary: []string{"host route 192.168.50.0/24 via 10.0.0.254: it has no route to 192.168.50.0/24"},
				fix: []string{"ip route add 192.168.50.0/24 via 10.0.0.254"}},
		}},
		// The guest's firewall drops pings: nothing on the console.
		{file: "lab-small-firewall-icmp.txt", mutate: labHostRoute},
		// Its firewall (nftables, netdev ingress) drops the DHCP offers.
		{file: "lab-small-firewall-dhcp.txt", mutate: labHostRoute, want: []expect{
			{rule: "instance/dhcp-failed", severity: Error, summary: []string{"got no DHCP lease (udhcpc, cirros)"},
				evidence: []string{"udhcpc: no lease, failing", "WARN: /etc/rc3.d/S40-network failed"}},
			{rule: "instance/metadata-unreachable", severity: Info, summary: []string{"the guest confirms instance/dhcp-failed"}},
		}},
		// iptables' INPUT and OUTPUT drops cannot stop the first lease.
		{file: "lab-small-firewall-dhcp-input.txt", mutate: labHostRoute},
		{file: "lab-debian-12-ok.txt", mutate: labHostRoute},
		{file: "lab-debian-12-runcmd-failed.txt", mutate: labHostRoute, want: []expect{
			{rule: "instance/cloud-init-failed", severity: Warning,
				evidence: []string{"Failed to run module scripts-user", "Running module scripts-user (<module 'cloudinit.config.cc_scripts_user'"}},
		}},
		{file: "lab-small-interface-down.txt", want: []expect{
			{rule: "instance/guest-network-config", severity: Warning, summary: []string{"did not bring up eth0"},
				evidence: []string{"if-info: eth0,down,,,,"}, fix: []string{"ip link set eth0 up"}},
		}},
		{file: "lab-small-wrong-gateway.txt", want: []expect{
			{rule: "instance/guest-network-config", severity: Warning, summary: []string{"has no default route"},
				evidence: []string{"ip-route:10.0.0.12/30 dev eth0", "ip: RTNETLINK answers: Network is unreachable", "no default route among the guest's routes"},
				fix:      []string{"ip route replace default via 10.0.0.1 dev eth0"}},
		}},
		{file: "cirros-0.4-no-lease.txt", want: []expect{
			{rule: "instance/dhcp-failed", severity: Error, summary: []string{"got no DHCP lease (udhcpc, cirros)"},
				evidence: []string{"console line 17/60: No lease, failing", "console line 18/60: WARN: /etc/rc3.d/S40-network failed", "console line 53/60: if-info: eth0,up,,8,"},
				fix:      []string{"ip netns exec qdhcp-" + netPrivate + " tcpdump -lnei any port 67 or port 68   # on host ctl", "grep -i fa:16:3e:12:34:56 /var/lib/neutron/dhcp/" + netPrivate + "/host"}},
			{rule: "instance/metadata-unreachable", severity: Info, summary: []string{"the guest confirms instance/dhcp-failed"},
				evidence: []string{"failed 20/20: up 220.01. request failed", "failed to read iid from metadata. tried 20", "(16 more lines like these)"}},
		}},
		{file: "cirros-0.6-no-lease.txt", want: []expect{
			{rule: "instance/dhcp-failed", severity: Error, evidence: []string{"udhcpc: no lease, failing"}},
			{rule: "instance/metadata-unreachable", severity: Info},
		}},
		{file: "cirros-0.5-metadata-unreachable.txt", want: []expect{
			{rule: "instance/metadata-unreachable", severity: Warning, summary: []string{"(no answer)"},
				evidence: []string{"failed 20/20: up 233.05. request failed", "failed to read iid from metadata. tried 20"},
				fix:      []string{"openstack network agent list --agent-type metadata", "ip netns exec qrouter-" + router1 + " ss -ltnp"}},
		}},
		{file: "cirros-0.6-wrong-lease.txt", want: []expect{
			{rule: "instance/guest-network-config", severity: Warning, summary: []string{"has 192.168.1.57, not its port's 10.0.0.12"},
				evidence: []string{"udhcpc: lease of 192.168.1.57 obtained from 192.168.1.1", "another DHCP server on the network"},
				fix:      []string{"tcpdump", "IPADDR=10.0.0.12 NETMASK=255.255.255.0 GATEWAY=10.0.0.1"}},
		}},
		{file: "cirros-0.6-no-default-route.txt", want: []expect{
			{rule: "instance/guest-network-config", severity: Warning, summary: []string{"has no default route"},
				evidence: []string{"ip-route:10.0.0.0/24 dev eth0", "no default route among the guest's routes"},
				fix:      []string{"ip route replace default via 10.0.0.1 dev eth0"}},
		}},
		{file: "cirros-0.6-interface-down.txt", want: []expect{
			{rule: "instance/guest-network-config", severity: Warning, summary: []string{"did not bring up eth0"},
				evidence: []string{"if-info: eth0,down"}, fix: []string{"ip link set eth0 up"}},
		}},
		{file: "ubuntu-22.04-networkd-no-lease.txt", want: []expect{
			{rule: "instance/dhcp-failed", severity: Error, summary: []string{"(systemd-networkd, cloud-init)"},
				evidence: []string{"Timeout occurred while waiting for network connectivity", "[FAILED] Failed to start Wait for Network to be Configured.", "ci-info: |  ens3  | True | fe80::"}},
			{rule: "instance/metadata-unreachable", severity: Info, summary: []string{"(unreachable)"}, evidence: []string{"Used fallback datasource"}},
		}},
		{file: "ubuntu-22.04-metadata-timeout.txt", want: []expect{
			{rule: "instance/metadata-unreachable", severity: Warning, summary: []string{"(timed out)"},
				evidence: []string{"Connection to 169.254.169.254 timed out", "Giving up on md from"},
				fix:      []string{"iptables -t nat -S | grep 169.254.169.254"}},
		}},
		{file: "ubuntu-20.04-metadata-500.txt", want: []expect{
			{rule: "instance/metadata-unreachable", severity: Warning, summary: []string{"(HTTP 500)"},
				fix: []string{"metadata_proxy_shared_secret"}},
		}},
		{file: "ubuntu-22.04-cloud-init-traceback.txt", want: []expect{
			{rule: "instance/cloud-init-failed", severity: Warning, summary: []string{"crashed (a Python traceback)"},
				evidence: []string{"Running module write_files", "Traceback (most recent call last)", "PermissionError: [Errno 13] Permission denied", "Failed running /var/lib/cloud/instance/scripts/part-001 [1]"},
				fix:      []string{"cloud-init status --long"}},
		}},
		{file: "ubuntu-22.04-interface-down.txt", want: []expect{
			{rule: "instance/guest-network-config", severity: Warning, summary: []string{"did not bring up ens3"}, evidence: []string{"|  ens3  | False |"}},
		}},
		{file: "debian-10-dhclient-no-offers.txt", want: []expect{
			{rule: "instance/dhcp-failed", severity: Error, summary: []string{"(dhclient, cloud-init)"},
				evidence: []string{"No DHCPOFFERS received.", "No working leases in persistent database - sleeping."}},
			{rule: "instance/metadata-unreachable", severity: Info},
		}},
		{file: "centos-7-network-scripts-failed.txt", want: []expect{
			{rule: "instance/dhcp-failed", severity: Error, evidence: []string{"Determining IP information for eth0... failed."}},
		}},
		{file: "centos-7-device-not-present.txt", want: []expect{
			{rule: "instance/guest-network-config", severity: Warning, summary: []string{"configured for eth0, a device it does not have"},
				fix: []string{"70-persistent-net.rules", "ip -br link"}},
		}},
		{file: "rocky-9-networkmanager-dhcp-timeout.txt", want: []expect{
			{rule: "instance/dhcp-failed", severity: Error, summary: []string{"(NetworkManager, cloud-init)"},
				evidence: []string{"dhcp4 (eth0): request timed out", "Activation: failed for connection 'System eth0'"}},
			{rule: "instance/metadata-unreachable", severity: Info, summary: []string{"(unreachable)"}},
		}},
		{file: "fedora-39-cloud-init-failed.txt", want: []expect{
			{rule: "instance/cloud-init-failed", severity: Warning,
				evidence: []string{"json.decoder.JSONDecodeError", "Failed to start cloud-init.service - Cloud-init: Network Stage."}},
		}},
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "console", "*.txt"))
	if len(files) != len(cases) {
		t.Errorf("%d fixtures, %d cases: every fixture needs a case", len(files), len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			s := healthy()
			s.ConsoleLog = consoleFixture(tc.file)
			if tc.mutate != nil {
				tc.mutate(s)
			}
			res := Evaluate(&Input{Snapshot: s}, Options{})
			for _, w := range tc.want {
				if err := match(res, w); err != nil {
					t.Errorf("%v\nfindings:\n%s", err, dump(res))
				}
			}
			for _, name := range consoleRules {
				wanted := false
				for _, w := range tc.want {
					wanted = wanted || w.rule == name
				}
				for _, f := range res.Findings {
					if f.Rule == name && !wanted {
						t.Errorf("%s fired: %s\n%s", name, f.Summary, dump(res))
					}
				}
			}
			for _, sk := range res.Skipped {
				if strings.HasPrefix(sk.Rule, "instance/") {
					t.Errorf("skipped %s: %s", sk.Rule, sk.Reason)
				}
			}
		})
	}
}

// labHostRoute gives the server's subnet the host route the lab's
// private-subnet has, and lab/guest-test.sh's dnsmasq sends.
func labHostRoute(s *snapshot.Snapshot) {
	s.Subnets[0].HostRoutes = []snapshot.HostRoute{{Destination: "192.168.50.0/24", NextHop: "10.0.0.254"}}
}

// TestConsoleHostRoutes: a subnet host route missing from the route table
// the console shows, in cirros' ip-route lines and cloud-init's table.
func TestConsoleHostRoutes(t *testing.T) {
	routes := func(rs ...snapshot.HostRoute) func(s *snapshot.Snapshot) {
		return func(s *snapshot.Snapshot) { s.Subnets[0].HostRoutes = rs }
	}
	lab := snapshot.HostRoute{Destination: "192.168.50.0/24", NextHop: "10.0.0.254"}
	cases := []struct {
		name, file string
		mutate     func(s *snapshot.Snapshot)
		want       *expect // nil: no host route finding
	}{
		{"not applied", "lab-small-no-host-routes.txt", routes(lab), &expect{rule: "instance/guest-network-config", severity: Warning,
			summary: []string{"lacks subnet private-subnet (10.0.0.0/24)'s host route 192.168.50.0/24 via 10.0.0.254"},
			fix:     []string{"ip route add 192.168.50.0/24 via 10.0.0.254", "rfc3442-classless-static-routes"}}},
		{"applied", "lab-small-ok.txt", routes(lab), nil},
		{"subnet without host routes", "lab-small-no-host-routes.txt", routes(), nil},
		// Neutron accepts a destination with host bits; the guest shows it masked.
		{"destination not masked", "lab-small-ok.txt", routes(snapshot.HostRoute{Destination: "192.168.50.7/24", NextHop: "10.0.0.254"}), nil},
		{"same destination, other next hop", "lab-small-ok.txt", routes(snapshot.HostRoute{Destination: "169.254.169.254/32", NextHop: "10.0.0.3"}), &expect{rule: "instance/guest-network-config", severity: Warning,
			summary:  []string{"host route 169.254.169.254/32 via 10.0.0.3: its route to 169.254.169.254/32 goes elsewhere"},
			evidence: []string{"ip-route:169.254.169.254 via 10.0.0.2 dev eth0"}}},
		// A default destination is the default-route check's, an IPv6 one
		// not in these tables.
		{"default and IPv6 destinations", "lab-small-no-host-routes.txt", routes(snapshot.HostRoute{Destination: "0.0.0.0/0", NextHop: "10.0.0.1"}, snapshot.HostRoute{Destination: "fd00::/64", NextHop: "fd00::1"}), nil},
		// cloud-init's Route IPv4 info table (the lab's Debian guest).
		// ISC dhclient applied option 121.
		{"cloud-init table, applied", "lab-debian-12-ok.txt", routes(lab, snapshot.HostRoute{Destination: "169.254.169.254/32", NextHop: "10.0.0.2"}), nil},
		// A route the subnet has and the guest was not served.
		{"cloud-init table, not applied", "lab-debian-12-ok.txt", routes(snapshot.HostRoute{Destination: "192.168.60.0/24", NextHop: "10.0.0.254"}), &expect{rule: "instance/guest-network-config", severity: Warning,
			summary:  []string{"host route 192.168.60.0/24 via 10.0.0.254: its traffic to 192.168.60.0/24 takes the default route instead"},
			evidence: []string{"|   0   |     0.0.0.0     |  10.0.0.1  |     0.0.0.0     |   enp0s1  |   UG  |", "|   3   |   192.168.50.0  | 10.0.0.254 |  255.255.255.0  |   enp0s1  |   UG  |"}}},
		{"cloud-init table, other next hop", "lab-debian-12-ok.txt", routes(snapshot.HostRoute{Destination: "192.168.50.0/24", NextHop: "10.0.0.253"}), &expect{rule: "instance/guest-network-config", severity: Warning,
			summary:  []string{"its route to 192.168.50.0/24 goes elsewhere"},
			evidence: []string{"|   3   |   192.168.50.0  | 10.0.0.254 |  255.255.255.0  |   enp0s1  |   UG  |"}}},
		// No route table on the console: nothing to compare with.
		{"no route table", "debian-12-dhclient-ok.txt", routes(lab), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := healthy()
			s.ConsoleLog = consoleFixture(tc.file)
			tc.mutate(s)
			res := Evaluate(&Input{Snapshot: s}, Options{})
			if tc.want != nil {
				if err := match(res, *tc.want); err != nil {
					t.Errorf("%v\n%s", err, dump(res))
				}
				return
			}
			for _, f := range res.Findings {
				if strings.Contains(f.Summary, "host route") {
					t.Errorf("%s fired: %s", f.Rule, f.Summary)
				}
			}
		})
	}
}

// TestConsoleCurrentBootOnly: a failure in an earlier boot of the tail,
// and a failure a later lease answers, are over.
func TestConsoleCurrentBootOnly(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", "console", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for name, out := range map[string]string{
		"reboot after a failed boot": read("cirros-0.6-no-lease.txt") + read("cirros-0.6-ok.txt"),
		"retry that got a lease": "Starting network: udhcpc: started, v1.36.1\nudhcpc: no lease, failing\n" +
			"udhcpc: started, v1.36.1\nudhcpc: lease of 10.0.0.12 obtained from 10.0.0.2, lease time 86400\n",
		"metadata slow, then there": "checking http://169.254.169.254/2009-04-04/instance-id\nfailed 1/20: up 2.10. request failed\nsuccessful after 2/20 tries: up 4.20. iid=i-0000000c\n",
		// eth0 got its lease; the wait-online timeout is another NIC's.
		"wait-online for a second NIC": "[    5.1] systemd-networkd[512]: ens3: DHCPv4 address 10.0.0.12/24, gateway 10.0.0.1 acquired from 10.0.0.2\n" +
			"[  125.1] systemd-networkd-wait-online[534]: Timeout occurred while waiting for network connectivity.\n",
		"docker0 in cloud-init's table": "ci-info: | docker0 | True | 172.17.0.1 | 255.255.0.0 | global | 02:42:ac:11:00:02 |\n" +
			"ci-info: |  ens3  | True | 10.0.0.12 | 255.255.255.0 | global | fa:16:3e:12:34:56 |\n",
		"the lab's fake driver": "FAKE CONSOLE OUTPUT\nANOTHER\nLAST LINE",
	} {
		t.Run(name, func(t *testing.T) {
			s := healthy()
			s.ConsoleLog = snapshot.NewConsoleLog(out, 200)
			res := Evaluate(&Input{Snapshot: s}, Options{})
			for _, f := range res.Findings {
				if strings.HasPrefix(f.Rule, "instance/") {
					t.Errorf("%s fired: %s", f.Rule, f.Summary)
				}
			}
		})
	}
}

// TestConsoleUnreadable: a console log that is missing, empty or binary, or
// a server that does not run, skips the console rules with the reason.
func TestConsoleUnreadable(t *testing.T) {
	binary := snapshot.NewConsoleLog(strings.Repeat(strings.Repeat("\x00\xff\x01", 20)+"\n", 30), 200)
	cases := []struct {
		name   string
		mutate func(s *snapshot.Snapshot)
		reason string
	}{
		{"old snapshot", func(s *snapshot.Snapshot) { s.ConsoleLog = nil }, "the snapshot holds no console log"},
		{"empty", func(s *snapshot.Snapshot) { s.ConsoleLog = snapshot.NewConsoleLog("\n\n", 200) }, "console=ttyS0"},
		{"binary", func(s *snapshot.Snapshot) { s.ConsoleLog = binary }, "not text (30 of its 30 lines"},
		{"shut off", func(s *snapshot.Snapshot) { s.Server.Status = "SHUTOFF" }, "server vm1 is SHUTOFF: its console log is not from a running guest"},
		{"refused by nova", func(s *snapshot.Snapshot) {
			s.ConsoleLog = nil
			s.Gaps = append(s.Gaps, snapshot.Gap{Source: snapshot.SourceConsoleLog, Kind: snapshot.GapUnsupported, Reason: "the compute driver cannot return console logs", Status: 501})
		}, "could not read console-log: the compute driver cannot return console logs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := healthy()
			tc.mutate(s)
			res := Evaluate(&Input{Snapshot: s}, Options{})
			for _, name := range consoleRules {
				found := false
				for _, sk := range res.Skipped {
					if sk.Rule == name && strings.Contains(sk.Reason, tc.reason) {
						found = true
					}
				}
				if !found {
					t.Errorf("%s not skipped with %q: %+v", name, tc.reason, res.Skipped)
				}
				for _, p := range res.Passed {
					if p == name {
						t.Errorf("%s passed", name)
					}
				}
			}
		})
	}
}

// TestConsoleConfirmsCause: when the API shows why the guest has no lease,
// the console is a confirmation (info) and the cause ranks first.
func TestConsoleConfirmsCause(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(s *snapshot.Snapshot)
		cause  string
	}{
		{"DHCP disabled", func(s *snapshot.Snapshot) { s.Subnets[0].EnableDHCP = false }, "subnet/dhcp-disabled"},
		{"DHCP agent dead", func(s *snapshot.Snapshot) { agent(s, agentDHCP).Alive = false }, "agent/dhcp-down"},
		{"no DHCP port", func(s *snapshot.Snapshot) { dropNetworkPort(s, portDHCP) }, "network/no-dhcp-port"},
		{"port admin-down", func(s *snapshot.Snapshot) { vmPort(s).AdminStateUp = false; vmPort(s).Status = "DOWN" }, "port/admin-down"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := healthy()
			s.ConsoleLog = consoleFixture("debian-10-dhclient-no-offers.txt")
			tc.mutate(s)
			res := Evaluate(&Input{Snapshot: s}, Options{})
			if err := match(res, expect{rule: "instance/dhcp-failed", severity: Info, summary: []string{"the guest confirms " + tc.cause},
				evidence: []string{"explained by " + tc.cause}, fix: []string{"hoofbeat explain " + tc.cause}}); err != nil {
				t.Errorf("%v\n%s", err, dump(res))
			}
			if len(res.Findings) == 0 || res.Findings[0].Rule != tc.cause {
				t.Errorf("want %s first\n%s", tc.cause, dump(res))
			}
		})
	}
	// Egress rules removed: metadata times out, the cause is the groups.
	s := healthy()
	s.ConsoleLog = consoleFixture("ubuntu-22.04-metadata-timeout.txt")
	for _, id := range []string{sgDefault, sgLab} {
		dropRules(group(s, id), func(r snapshot.SecurityGroupRule) bool { return r.Direction != "egress" })
	}
	res := Evaluate(&Input{Snapshot: s}, Options{})
	if err := match(res, expect{rule: "instance/metadata-unreachable", severity: Info, summary: []string{"the guest confirms security-group/egress-missing"}}); err != nil {
		t.Errorf("%v\n%s", err, dump(res))
	}
	// A subnet without gateway explains the missing default route.
	s = healthy()
	s.ConsoleLog = consoleFixture("cirros-0.6-no-default-route.txt")
	s.Subnets[0].GatewayIP = ""
	res = Evaluate(&Input{Snapshot: s}, Options{})
	if err := match(res, expect{rule: "instance/guest-network-config", severity: Info, summary: []string{"the guest confirms subnet/no-gateway"}}); err != nil {
		t.Errorf("%v\n%s", err, dump(res))
	}
}

// FuzzConsoleRules: no console log, however odd, panics a rule.
func FuzzConsoleRules(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "console", "*.txt"))
	for _, file := range files {
		b, _ := os.ReadFile(file)
		f.Add(string(b))
	}
	f.Add("ci-info: | | | | | | |\nci-info: |  |\nif-info: ,up,,\nip-route:\n")
	f.Fuzz(func(t *testing.T, out string) {
		s := healthy()
		s.ConsoleLog = snapshot.NewConsoleLog(out, 200)
		res := Evaluate(&Input{Snapshot: s}, Options{})
		for _, fd := range res.Findings {
			if fd.Summary == "" || len(fd.Evidence) == 0 {
				t.Fatalf("incomplete finding %+v", fd)
			}
		}
	})
}
