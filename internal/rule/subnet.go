package rule

import (
	"fmt"
	"math/big"
	"net/netip"
	"slices"

	"github.com/hoofbeat/hoofbeat/internal/shell"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// serverSubnets returns the subnets of the server's fixed IPs with the first
// port on each; subnets missing from the snapshot are reported unchecked.
func serverSubnets(in *Input) (subnets []*snapshot.Subnet, ports []*snapshot.Port) {
	s := in.Snapshot
	seen := map[string]bool{}
	for i := range s.Ports {
		p := &s.Ports[i]
		for _, f := range p.FixedIPs {
			if seen[f.SubnetID] {
				continue
			}
			seen[f.SubnetID] = true
			sn := s.Subnet(f.SubnetID)
			if sn == nil {
				in.uncheck("subnet %s of %s is not in the snapshot", f.SubnetID, portLabel(p))
				continue
			}
			subnets = append(subnets, sn)
			ports = append(ports, p)
		}
	}
	return subnets, ports
}

var subnetDHCPDisabled = &Rule{
	Name:     "subnet/dhcp-disabled",
	Severity: Warning,
	Title:    "DHCP is disabled on the server's subnet",
	Doc: `With enable_dhcp=False Neutron runs no DHCP server (and, for IPv6, sends no
router advertisements) on the subnet. Most images (cirros, cloud images with
cloud-init's default fallback) configure their interface by DHCP, so the guest
comes up without an address, and it cannot answer. It works only if the
address is configured another way: cloud-init network configuration from a
config drive, or a static configuration inside the image. hoofbeat cannot see
which the guest does, hence a warning: the console log (instance/dhcp-failed)
tells.

hoofbeat reads enable_dhcp of every subnet the server has a fixed IP on.`,
	Fix:   "openstack subnet set --dhcp SUBNET, then let the guest renew its lease (reboot it).",
	Needs: []string{snapshot.SourcePorts, snapshot.SourceSubnets},
	Hop:   HopDHCP,
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		subnets, ports := serverSubnets(in)
		var out []Finding
		for i, sn := range subnets {
			if sn.EnableDHCP {
				continue
			}
			p := ports[i]
			out = append(out, Finding{
				Subject: Subject{Kind: "subnet", ID: sn.ID, Name: sn.Name},
				Summary: fmt.Sprintf("DHCP is disabled on subnet %s of %s: the guest gets no lease unless it is configured statically or by a config drive", subnetLabel(sn), portLabel(p)),
				Evidence: []string{
					"enable_dhcp: false",
					fmt.Sprintf("port %s fixed IP on it: %s", p.ID, fixedIPOn(p, sn.ID)),
				},
				Remediation: append(cmds(cmd("openstack", "subnet", "set", "--dhcp", sn.ID)),
					rebootServer(s, "the guest asks for a lease again")...),
				Verify: append(cmds(cmd("openstack", "port", "list", "--network", sn.NetworkID, "--device-owner", "network:dhcp")),
					consoleLease(s)...),
			})
		}
		return out
	},
}

func fixedIPOn(p *snapshot.Port, subnetID string) string {
	for _, f := range p.FixedIPs {
		if f.SubnetID == subnetID {
			return f.IPAddress
		}
	}
	return "none"
}

var subnetNoGateway = &Rule{
	Name:     "subnet/no-gateway",
	Severity: Error,
	Title:    "The server's subnet has no gateway",
	Doc: `A subnet whose gateway_ip is null hands out no default route: the guest
reaches its own subnet and nothing beyond it, and replies to anyone outside
(the operator, a floating IP's clients) have nowhere to go. A router cannot be
attached by subnet either ("router add subnet" needs the gateway IP).

hoofbeat reads gateway_ip of every subnet the server has a fixed IP on. A
default route pushed by host_routes (destination 0.0.0.0/0 or ::/0) counts as
a gateway. When another of the server's subnets of the same IP version has a
gateway, a gateway-less subnet is likely a deliberate internal network, and
the finding is a warning.`,
	Fix:   "openstack subnet set --gateway IP SUBNET (usually the first address of the CIDR), then attach the router and renew the guest's lease.",
	Needs: []string{snapshot.SourcePorts, snapshot.SourceSubnets},
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		subnets, ports := serverSubnets(in)
		hasGW := map[int]bool{}
		for _, sn := range subnets {
			if sn.GatewayIP != "" || defaultHostRoute(sn) != nil {
				hasGW[sn.IPVersion] = true
			}
		}
		var out []Finding
		for i, sn := range subnets {
			if sn.GatewayIP != "" || defaultHostRoute(sn) != nil {
				continue
			}
			p := ports[i]
			f := Finding{
				Subject: Subject{Kind: "subnet", ID: sn.ID, Name: sn.Name},
				Summary: fmt.Sprintf("subnet %s of %s has no gateway: the guest has no default route", subnetLabel(sn), portLabel(p)),
				Evidence: []string{
					"gateway_ip: null",
					fmt.Sprintf("host_routes: %d, none to the default destination", len(sn.HostRoutes)),
				},
			}
			if hasGW[sn.IPVersion] {
				f.Severity = Warning
				f.Evidence = append(f.Evidence, fmt.Sprintf("another subnet of the server (IPv%d) has a gateway: this one may be internal on purpose", sn.IPVersion))
			}
			gw, why := proposeGateway(in, sn)
			if gw != "" {
				f.Remediation = cmds(cmd("openstack", "subnet", "set", "--gateway", gw, sn.ID).Comment(why))
			} else {
				f.Remediation = cmds(cmd("openstack", "subnet", "set", "--gateway", "GATEWAY_IP", sn.ID).Comment("pick a free address of " + sn.CIDR))
			}
			f.Remediation = append(f.Remediation, cmd("openstack", "server", "reboot", s.Server.ID).Comment("the guest learns the route from DHCP"))
			f.Verify = cmds(cmd("openstack", "subnet", "show", sn.ID, "-c", "gateway_ip"))
			out = append(out, f)
		}
		return out
	},
}

// defaultHostRoute returns the subnet's host route to the default
// destination, or nil.
func defaultHostRoute(sn *snapshot.Subnet) *snapshot.HostRoute {
	for i, r := range sn.HostRoutes {
		if p, err := netip.ParsePrefix(r.Destination); err == nil && p.Bits() == 0 {
			return &sn.HostRoutes[i]
		}
	}
	return nil
}

// proposeGateway suggests a gateway address: a router interface's address on
// the subnet, else the CIDR's first host address.
func proposeGateway(in *Input, sn *snapshot.Subnet) (ip, note string) {
	for _, p := range in.View().Ports {
		for _, l := range p.On(sn.ID) {
			return l.Address, "the address of router interface " + shortID(l.Port.ID)
		}
	}
	pfx, err := netip.ParsePrefix(sn.CIDR)
	if err != nil {
		return "", ""
	}
	first := pfx.Masked().Addr().Next()
	if !first.IsValid() || !pfx.Contains(first) {
		return "", ""
	}
	note = "the first address of " + sn.CIDR
	if inPools(sn, first) {
		note += "; it lies in an allocation pool: check no port holds it (openstack port list --fixed-ip ip-address=" + first.String() + ")"
	}
	return first.String(), note
}

func inPools(sn *snapshot.Subnet, a netip.Addr) bool {
	return poolSet(sn).containsPrefix(netip.PrefixFrom(a, a.BitLen()))
}

// poolSet returns a subnet's allocation pools as an address set.
func poolSet(sn *snapshot.Subnet) ipSet {
	var s ipSet
	for _, p := range sn.AllocationPools {
		a, err1 := netip.ParseAddr(p.Start)
		b, err2 := netip.ParseAddr(p.End)
		if err1 != nil || err2 != nil || a.BitLen() != b.BitLen() || b.Less(a) {
			continue
		}
		s.rs = append(s.rs, ipRange{a, b})
	}
	s.normalise()
	return s
}

// subnetUsage returns a subnet's used and total IPs from the IP
// availability the collector fetched.
func subnetUsage(s *snapshot.Snapshot, subnetID string) (used, total string, ok bool) {
	for _, n := range s.IPAvailability {
		for _, sa := range n.Subnets {
			if sa.SubnetID == subnetID {
				return sa.UsedIPs.String(), sa.TotalIPs.String(), true
			}
		}
	}
	return "", "", false
}

// exhausted reports used ≥ total (both may exceed 64 bits for IPv6).
func exhausted(used, total string) bool {
	u, ok1 := new(big.Int).SetString(used, 10)
	t, ok2 := new(big.Int).SetString(total, 10)
	return ok1 && ok2 && u.Cmp(t) >= 0
}

var subnetPoolExhausted = &Rule{
	Name:     "subnet/pool-exhausted",
	Severity: Error,
	Title:    "The subnet has no free address",
	Doc: `When every address of a subnet's allocation pools is taken, Neutron cannot
give a port an IP (IpAddressGenerationFailure): a new server's port comes up
without one, and a DHCP agent cannot create its port either.

hoofbeat reads Neutron's network IP availability (admin-only by default) for
the server's networks and reports a subnet whose used_ips reach its total_ips.
The collector fetches it only when one of the server's ports lacks a fixed
IP, which is when exhaustion matters to this server; the rule is skipped when
the fetch failed. It is an error when a port of the server on that network has
no address, a warning otherwise.`,
	Fix:   "Free addresses (delete unused ports), widen the allocation pool within the CIDR, or add a subnet to the network.",
	Needs: []string{snapshot.SourcePorts, snapshot.SourceIPAvailability},
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		nets := serverNetworkIDs(s)
		var out []Finding
		for _, na := range s.IPAvailability {
			if !slices.Contains(nets, na.NetworkID) {
				continue
			}
			for _, sa := range na.Subnets {
				used, total := sa.UsedIPs.String(), sa.TotalIPs.String()
				if !exhausted(used, total) {
					continue
				}
				f := Finding{
					Subject: Subject{Kind: "subnet", ID: sa.SubnetID},
					Summary: fmt.Sprintf("subnet %s (%s) on network %s has no free address: %s of %s used", shortID(sa.SubnetID), sa.CIDR, netLabel(s, na.NetworkID), used, total),
					Evidence: []string{
						"used_ips: " + used,
						"total_ips: " + total,
					},
					Severity: Warning,
				}
				sn := s.Subnet(sa.SubnetID)
				if sn != nil {
					f.Subject.Name = sn.Name
					for _, p := range sn.AllocationPools {
						f.Evidence = append(f.Evidence, fmt.Sprintf("allocation_pool: %s-%s", p.Start, p.End))
					}
				}
				for i := range s.Ports {
					if p := &s.Ports[i]; p.NetworkID == na.NetworkID && len(p.FixedIPs) == 0 {
						f.Severity = Error
						f.Evidence = append(f.Evidence, fmt.Sprintf("%s of the server has no fixed IP", portLabel(p)))
					}
				}
				f.Remediation = cmds(cmd("openstack", "port", "list", "--network", na.NetworkID, "--long").Comment("find ports nobody uses (no device_owner, status DOWN) and delete them"))
				if sn != nil {
					if start, end, ok := freeRange(s, sn); ok {
						f.Remediation = append(f.Remediation, cmd("openstack", "subnet", "set", "--allocation-pool", fmt.Sprintf("start=%s,end=%s", start, end), sn.ID).Comment("adds a pool from the unused part of "+sn.CIDR))
					}
				}
				f.Remediation = append(f.Remediation, cmd("openstack", "subnet", "create", "--network", na.NetworkID, "--subnet-range", "CIDR", netLabel(s, na.NetworkID)+"-2").Comment("or add a subnet; choose the CIDR"))
				f.Verify = cmds(cmd("openstack", "ip", "availability", "show", na.NetworkID))
				out = append(out, f)
			}
		}
		return out
	},
}

// freeRange proposes the largest range of the subnet's CIDR outside its
// pools, its gateway, and (IPv4) its network and broadcast addresses.
func freeRange(s *snapshot.Snapshot, sn *snapshot.Subnet) (start, end string, ok bool) {
	pfx, err := netip.ParsePrefix(sn.CIDR)
	if err != nil {
		return "", "", false
	}
	pfx = pfx.Masked()
	free := newIPSet(pfx).minus(poolSet(sn))
	var taken []netip.Prefix
	host := func(a netip.Addr) netip.Prefix { return netip.PrefixFrom(a, a.BitLen()) }
	if gw, err := netip.ParseAddr(sn.GatewayIP); err == nil {
		taken = append(taken, host(gw))
	}
	r := prefixRange(pfx)
	if pfx.Addr().Is4() {
		taken = append(taken, host(r.from), host(r.to))
	} else {
		taken = append(taken, host(r.from)) // the subnet-router anycast address
	}
	for _, ports := range [][]snapshot.Port{s.Ports, s.NetworkPorts} {
		for _, p := range ports {
			for _, f := range p.FixedIPs {
				if a, err := netip.ParseAddr(f.IPAddress); err == nil && f.SubnetID == sn.ID {
					taken = append(taken, host(a))
				}
			}
		}
	}
	free = free.minus(newIPSet(taken...))
	var best ipRange
	var size *big.Int
	for _, rg := range free.rs {
		n := new(big.Int).Sub(new(big.Int).SetBytes(rg.to.AsSlice()), new(big.Int).SetBytes(rg.from.AsSlice()))
		if size == nil || n.Cmp(size) > 0 {
			best, size = rg, n
		}
	}
	if size == nil {
		return "", "", false
	}
	return best.from.String(), best.to.String(), true
}

// consoleLease is where the guest says whether it got a lease: its
// console log, when there is a server.
func consoleLease(s *snapshot.Snapshot) []shell.Cmd {
	if s.Server == nil {
		return nil
	}
	return cmds(cmd("openstack", "console", "log", "show", s.Server.ID).Pipe("grep", "-i", "-E", "lease|dhcp"))
}
