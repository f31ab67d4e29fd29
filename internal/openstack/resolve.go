package openstack

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// An operator often has only an address: the query may name a server (ID
// or name), a port (ID), a fixed or floating IP address, or a MAC. The
// address and the MAC are looked up with filtered Neutron listings in the
// walk's first round, beside the agents; Neutron shows an admin every
// project's ports and floating IPs, so an admin's search spans them all.

// queryKind is what a query looks like.
type queryKind int

const (
	queryName queryKind = iota
	queryID             // a UUID: a server, else a port
	queryAddress
	queryMAC
)

// kindOf classifies a query, and returns it normalised as Neutron stores
// it (an IPv6 address compressed, a MAC in lower case with colons).
func kindOf(query string) (queryKind, string) {
	if uuidRE.MatchString(query) {
		return queryID, query
	}
	if a, err := netip.ParseAddr(query); err == nil && a.Zone() == "" {
		return queryAddress, a.Unmap().String()
	}
	if m, err := net.ParseMAC(query); err == nil && len(m) == 6 {
		return queryMAC, m.String()
	}
	return queryName, query
}

// neutronPortDetails is a floating IP's port_details (the fip-port-details
// extension, Neutron ≥ Rocky): enough to know the port's server without
// reading the port.
type neutronPortDetails struct {
	DeviceID    string `json:"device_id"`
	DeviceOwner string `json:"device_owner"`
}

// addressLookup finds the ports (and floating IPs) an address or a MAC
// names.
type addressLookup struct {
	by       string
	value    string
	ports    []neutronPort
	fips     []neutronFloatingIP
	portsF   *fetch
	fipsF    *fetch
	fipPort  *fetch // the floating IP's port, when port_details is absent
	fipPorts []neutronPort
}

// lookupAddress builds the first round's requests for an address or a MAC.
func (k *collection) lookupAddress(kind queryKind, value string) *addressLookup {
	l := &addressLookup{value: value}
	q := url.Values{}
	switch kind {
	case queryAddress:
		l.by = snapshot.TargetAddress
		q.Set("fixed_ips", "ip_address="+value)
		fq := url.Values{"floating_ip_address": {value}}
		l.fipsF = lookup(func(ctx context.Context) (err error) {
			l.fips, err = list[neutronFloatingIP](k.c, "floatingips", fq, "floatingips")(ctx)
			return err
		})
	case queryMAC:
		l.by = snapshot.TargetMAC
		q.Set("mac_address", value)
	}
	l.portsF = lookup(func(ctx context.Context) (err error) {
		l.ports, err = list[neutronPort](k.c, "ports", q, "ports")(ctx)
		return err
	})
	return l
}

// lookupPortID is the port a UUID names when it names no server: asked in
// the first round, beside the server.
func (k *collection) lookupPortID(id string) *addressLookup {
	l := &addressLookup{by: snapshot.TargetPortID, value: id}
	q := url.Values{"id": {id}}
	l.portsF = lookup(func(ctx context.Context) (err error) {
		l.ports, err = list[neutronPort](k.c, "ports", q, "ports")(ctx)
		return err
	})
	return l
}

// fetches are the lookup's requests for its round.
func (l *addressLookup) fetches() []*fetch { return []*fetch{l.portsF, l.fipsF} }

// found is what a lookup resolved to: the port, and the server its
// device_id names ("" when the port has no server).
type found struct {
	target   snapshot.Target
	port     *neutronPort // nil when only the floating IP's port_details are known
	serverID string
}

// resolve reads the lookup's answers: nil when nothing matched (the query
// may still be a server's name), an *Error when the listings failed or
// the value is ambiguous. A floating IP whose port_details name no server
// costs one more round, to read its port.
func (k *collection) resolve(ctx context.Context, l *addressLookup) (*found, error) {
	what := fmt.Sprintf("find %s %s", l.by, l.value)
	for _, f := range l.fetches() {
		if f != nil && f.err != nil {
			return nil, newError(what, classify(f.err), describe(f.err))
		}
	}
	var ports []neutronPort
	for _, p := range l.ports {
		// A floating IP's address is also the fixed IP of its own port
		// (device_owner network:floatingip) on the external network: the
		// floating IP names what is behind it.
		if len(l.fips) > 0 && p.DeviceOwner == "network:floatingip" {
			continue
		}
		ports = append(ports, p)
	}
	switch n := len(ports) + len(l.fips); {
	case n == 0:
		return nil, nil
	case n > 1:
		e := newError(what, KindAmbiguous, fmt.Errorf("%d ports or floating IPs match %s %s", n, l.by, l.value))
		for _, f := range l.fips {
			e.Candidates = append(e.Candidates, fmt.Sprintf("floating IP %s (%s) → port %s", f.FloatingIPAddress, f.ID, coalesce(deref(f.PortID), "none")))
		}
		for _, p := range ports {
			e.Candidates = append(e.Candidates, portCandidate(&p))
		}
		return nil, e
	case len(ports) == 1:
		p := ports[0]
		return &found{target: snapshot.Target{By: l.by, PortID: p.ID}, port: &p, serverID: serverOf(p.DeviceOwner, p.DeviceID)}, nil
	}
	fip := l.fips[0]
	portID := deref(fip.PortID)
	if portID == "" {
		return nil, newError(what, KindNotFound, fmt.Errorf("floating IP %s (%s) is associated with no port: nothing behind it to diagnose", fip.FloatingIPAddress, fip.ID))
	}
	t := snapshot.Target{By: snapshot.TargetFloatingIP, PortID: portID, FloatingIPID: fip.ID}
	if d := fip.PortDetails; d != nil && serverOf(d.DeviceOwner, d.DeviceID) != "" {
		return &found{target: t, serverID: serverOf(d.DeviceOwner, d.DeviceID)}, nil
	}
	// No port_details (before Rocky), or a port without a server (a
	// load balancer's VIP): the port itself, one round more.
	q := url.Values{"id": {portID}}
	l.fipPort = lookup(func(ctx context.Context) (err error) {
		l.fipPorts, err = list[neutronPort](k.c, "ports", q, "ports")(ctx)
		return err
	})
	k.plan++
	k.round(ctx, l.fipPort)
	if err := l.fipPort.err; err != nil {
		return nil, newError(fmt.Sprintf("read port %s of floating IP %s", portID, fip.FloatingIPAddress), classify(err), describe(err))
	}
	if len(l.fipPorts) != 1 {
		return nil, newError(what, KindNotFound, fmt.Errorf("port %s of floating IP %s is not visible", portID, fip.FloatingIPAddress))
	}
	p := l.fipPorts[0]
	return &found{target: t, port: &p, serverID: serverOf(p.DeviceOwner, p.DeviceID)}, nil
}

// serverOf is the server a port belongs to: its device_id when Nova owns
// it (device_owner compute:ZONE), else none.
func serverOf(owner, deviceID string) string {
	if strings.HasPrefix(owner, "compute:") {
		return deviceID
	}
	return ""
}

func portCandidate(p *neutronPort) string {
	var ips []string
	for _, f := range p.FixedIPs {
		ips = append(ips, f.IPAddress)
	}
	s := fmt.Sprintf("port %s (%s) %s on network %s", coalesce(p.Name, "-"), p.ID, strings.Join(ips, ","), p.NetworkID)
	if p.DeviceOwner != "" {
		s += fmt.Sprintf(", %s %s", p.DeviceOwner, p.DeviceID)
	}
	return s
}

// portOnly diagnoses a port without a server: the port alone, then its
// neighbourhood, as for a server's ports.
func (k *collection) portOnly(ctx context.Context, p *neutronPort, agents *fetch) {
	k.snap.Ports = []snapshot.Port{p.toSnapshot()}
	k.settle(agents)
	k.neighbourhood(ctx)
}
