package openstack

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// addressWorld is the standard world with what real Neutron adds: the
// floating IP's own port (device_owner network:floatingip, whose fixed IP
// is the floating address), a VIP port holding an address without any
// device, and an unassociated floating IP.
func addressWorld() *fakeos.World {
	w := fakeos.Standard()
	w.Ports = append(w.Ports,
		fakeos.Port{ID: "f7c1d2e3-0000-4000-8000-00000000f1f1", NetworkID: fakeos.PublicNetworkID, DeviceID: fakeos.FloatingIPID,
			DeviceOwner: "network:floatingip", Status: "N/A", MAC: "fa:16:3e:aa:bb:01",
			FixedIPs: []fakeos.FixedIP{{SubnetID: fakeos.PublicSubnetID, IP: fakeos.FloatingAddress}}},
		fakeos.Port{ID: "a1a1a1a1-0000-4000-8000-000000000a1a", Name: "vip", NetworkID: fakeos.NetworkID, ProjectID: fakeos.DemoProjectID,
			Status: "DOWN", MAC: "fa:16:3e:aa:bb:02", FixedIPs: []fakeos.FixedIP{{SubnetID: fakeos.SubnetID, IP: "10.0.0.50"}},
			SecurityGroups: []string{fakeos.DefaultSGID}},
	)
	w.FloatingIPs = append(w.FloatingIPs, fakeos.FloatingIP{ID: "b2b2b2b2-0000-4000-8000-000000000b2b", Address: "172.24.4.99",
		NetworkID: fakeos.PublicNetworkID, ProjectID: fakeos.DemoProjectID},
		// A load balancer's floating IP, on its VIP port.
		fakeos.FloatingIP{ID: "c3c3c3c3-0000-4000-8000-000000000c3c", Address: "172.24.4.77", NetworkID: fakeos.PublicNetworkID,
			ProjectID: fakeos.DemoProjectID, PortID: "a1a1a1a1-0000-4000-8000-000000000a1a", FixedIP: "10.0.0.50", RouterID: fakeos.RouterID})
	return w
}

// TestCollectByAddress: an address, a floating IP, a MAC or a port ID
// resolves to its port and its server, in the walk's rounds: an address,
// a floating IP or a MAC costs the round a name search does (4), a port
// ID one more (5); a port without a server is diagnosed alone (3 rounds,
// 4 by port ID).
func TestCollectByAddress(t *testing.T) {
	cases := []struct {
		query    string
		by       string
		portID   string
		server   bool
		rounds   int
		requests int // with the token; 0 to leave unchecked
	}{
		{fakeos.ServerIP, snapshot.TargetAddress, fakeos.PortID, true, 4, 16},
		{fakeos.FloatingAddress, snapshot.TargetFloatingIP, fakeos.PortID, true, 4, 16},
		{"FA:16:3E:5B:1C:2D", snapshot.TargetMAC, fakeos.PortID, true, 4, 15},
		{fakeos.PortID, snapshot.TargetPortID, fakeos.PortID, true, 5, 0},
		{"10.0.0.2", snapshot.TargetAddress, fakeos.DHCPPortID, false, 3, 0},
		{"10.0.0.1", snapshot.TargetAddress, fakeos.RouterPortID, false, 3, 0},
		{"10.0.0.50", snapshot.TargetAddress, "a1a1a1a1-0000-4000-8000-000000000a1a", false, 3, 0},
		{"172.24.4.77", snapshot.TargetFloatingIP, "a1a1a1a1-0000-4000-8000-000000000a1a", false, 4, 0},
		{fakeos.RouterPortID, snapshot.TargetPortID, fakeos.RouterPortID, false, 4, 0},
	}
	fc := fakeos.Start(t, addressWorld())
	c := connect(t, fc, fakeos.AdminUser)
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			fc.ResetCounters()
			s := collect(t, c, tc.query, CollectOptions{})
			if s.Target == nil || s.Target.By != tc.by || s.Target.PortID != tc.portID {
				t.Fatalf("target = %+v, want %s %s", s.Target, tc.by, tc.portID)
			}
			if s.Query != tc.query {
				t.Errorf("query = %q", s.Query)
			}
			if tc.server {
				if s.Server == nil || s.Server.ID != fakeos.ServerID || s.PortOnly() {
					t.Fatalf("server = %+v", s.Server)
				}
				if len(s.Ports) != 1 || s.Ports[0].ID != fakeos.PortID || len(s.FloatingIPs) != 1 || len(s.Routers) != 1 || s.ConsoleLog == nil {
					t.Errorf("the server's neighbourhood is not complete: %d ports, %d floating IPs, %d routers", len(s.Ports), len(s.FloatingIPs), len(s.Routers))
				}
			} else {
				if !s.PortOnly() || len(s.Ports) != 1 || s.Ports[0].ID != tc.portID {
					t.Fatalf("want the port alone, got server %+v, ports %+v", s.Server, s.Ports)
				}
				if len(s.Subnets) == 0 || len(s.Networks) == 0 || len(s.NetworkPorts) == 0 {
					t.Errorf("the port's neighbourhood was not read: %+v", s)
				}
				if fc.Count("GET /compute/v2.1/servers/detail") != 0 {
					t.Error("a port without a server was searched as a server name")
				}
			}
			if s.Stats.RoundTrips != tc.rounds {
				t.Errorf("round trips = %d, want %d", s.Stats.RoundTrips, tc.rounds)
			}
			if tc.requests != 0 && s.Stats.Requests != tc.requests {
				t.Errorf("requests = %d, want %d:\n%s", s.Stats.Requests, tc.requests, strings.Join(fc.RequestLog(), "\n"))
			}
			if len(s.Gaps) > 0 {
				t.Errorf("gaps: %+v", s.Gaps)
			}
		})
	}

	t.Run("filters", func(t *testing.T) {
		fc.ResetCounters()
		collect(t, c, fakeos.ServerIP, CollectOptions{})
		for _, want := range []string{"GET /networking/v2.0/ports?fixed_ips=ip_address%3D10.0.0.5", "GET /networking/v2.0/floatingips?floating_ip_address=10.0.0.5"} {
			if fc.Count(want) != 1 {
				t.Errorf("not asked once: %s in\n%s", want, strings.Join(fc.RequestLog(), "\n"))
			}
		}
	})
}

// TestCollectByAddressErrors: an ambiguous address lists the candidates;
// an unassociated floating IP and an address nobody has are not found;
// without port_details (before Rocky) the floating IP's port costs a round.
func TestCollectByAddressErrors(t *testing.T) {
	w := addressWorld()
	// The same address on another project's network (overlapping ranges).
	w.Networks = append(w.Networks, fakeos.Network{ID: "0e0e0e0e-0000-4000-8000-000000000e0e", Name: "other", ProjectID: fakeos.AdminProjectID})
	w.Subnets = append(w.Subnets, fakeos.Subnet{ID: "0f0f0f0f-0000-4000-8000-000000000f0f", NetworkID: "0e0e0e0e-0000-4000-8000-000000000e0e",
		ProjectID: fakeos.AdminProjectID, CIDR: "10.0.0.0/26", GatewayIP: "10.0.0.1"})
	w.Ports = append(w.Ports, fakeos.Port{ID: "0d0d0d0d-0000-4000-8000-000000000d0d", Name: "twin", NetworkID: "0e0e0e0e-0000-4000-8000-000000000e0e",
		ProjectID: fakeos.AdminProjectID, DeviceOwner: "compute:nova", DeviceID: "0c0c0c0c-0000-4000-8000-000000000c0c", MAC: "fa:16:3e:aa:bb:03",
		FixedIPs: []fakeos.FixedIP{{SubnetID: "0f0f0f0f-0000-4000-8000-000000000f0f", IP: fakeos.ServerIP}}})
	w.Disabled = map[string]bool{"fip-port-details": true}
	fc := fakeos.Start(t, w)
	admin := connect(t, fc, fakeos.AdminUser)

	_, err := admin.Collect(context.Background(), fakeos.ServerIP, CollectOptions{})
	e := wantError(t, err, KindAmbiguous, "2 ports or floating IPs match address 10.0.0.5")
	if len(e.Candidates) != 2 || !strings.Contains(e.Candidates[0]+e.Candidates[1], "twin") || !strings.Contains(e.Candidates[0]+e.Candidates[1], fakeos.PortID) {
		t.Errorf("candidates = %q", e.Candidates)
	}

	// A non-admin sees only its own project's port: no ambiguity.
	demo := connect(t, fc, fakeos.DemoUser)
	if s := collect(t, demo, fakeos.ServerIP, CollectOptions{}); s.Server == nil || s.Server.ID != fakeos.ServerID {
		t.Errorf("demo: server = %+v", s.Server)
	}

	_, err = admin.Collect(context.Background(), "172.24.4.99", CollectOptions{})
	wantError(t, err, KindNotFound, "floating IP 172.24.4.99", "associated with no port")
	_, err = admin.Collect(context.Background(), "192.0.2.77", CollectOptions{})
	wantError(t, err, KindNotFound, `no port or floating IP with address, nor server named, "192.0.2.77" in any project`)
	_, err = admin.Collect(context.Background(), "fa:16:3e:00:00:00", CollectOptions{})
	wantError(t, err, KindNotFound, `no port with MAC address, nor server named, "fa:16:3e:00:00:00"`)

	fc.ResetCounters()
	s := collect(t, admin, fakeos.FloatingAddress, CollectOptions{})
	if s.Server == nil || s.Server.ID != fakeos.ServerID || s.Stats.RoundTrips != 5 {
		t.Errorf("floating IP without port_details: server %+v, stats %+v", s.Server, s.Stats)
	}
	if fc.Count("GET /networking/v2.0/ports?id="+fakeos.PortID) != 1 {
		t.Errorf("the floating IP's port was not read by ID:\n%s", strings.Join(fc.RequestLog(), "\n"))
	}
}

// TestRecordedLabByAddress: on what the real lab answered (Neutron Zed,
// whose floating IPs carry port_details), vm1's fixed IP, its floating
// IP, its MAC and its port ID all lead to vm1 and the same verdict.
func TestRecordedLabByAddress(t *testing.T) {
	w, err := fakeos.LoadRecorded(filepath.Join("testdata", "lab", "icmp-ingress"))
	if err != nil {
		t.Fatal(err)
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
	want := collect(t, c, "vm1", CollectOptions{})
	p := want.Ports[0]
	for _, q := range []string{p.FixedIPs[0].IPAddress, want.FloatingIPs[0].FloatingIPAddress, p.MACAddress, p.ID} {
		s := collect(t, c, q, CollectOptions{})
		if s.Target == nil || s.Target.PortID != p.ID || s.Server == nil || s.Server.ID != want.Server.ID {
			t.Errorf("%s: target %+v, server %+v", q, s.Target, s.Server)
			continue
		}
		if got, exp := fmt.Sprint(len(s.SecurityGroups), len(s.Routers), len(s.NetworkPorts)), fmt.Sprint(len(want.SecurityGroups), len(want.Routers), len(want.NetworkPorts)); got != exp {
			t.Errorf("%s: neighbourhood %s, want %s", q, got, exp)
		}
	}
}
