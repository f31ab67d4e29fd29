// Package ipcalc computes what an interface file needs from a prefix:
// network, netmask, broadcast, the usual gateway, the host range and how
// many hosts it holds, for IPv4 and IPv6.
package ipcalc

import (
	"fmt"
	"math/big"
	"net/netip"
	"strings"
)

// Info describes one prefix. Addresses are zero (invalid) when the family
// has no such thing: IPv6 has no broadcast, and a /32 or /128 has no
// gateway of its own.
type Info struct {
	// Prefix is the input as written (masked or not).
	Prefix netip.Prefix
	// Address is the address of the input: 10.0.0.12 of 10.0.0.12/24.
	Address netip.Addr
	// Network is the masked prefix: 10.0.0.0/24.
	Network netip.Prefix
	// Netmask is the dotted-quad mask ifcfg files want (255.255.255.0);
	// for IPv6, the mask written as an address (ffff:ffff:ffff:ffff::).
	Netmask netip.Addr
	// Wildcard is the inverted mask (Cisco ACLs): 0.0.0.255.
	Wildcard netip.Addr
	// Broadcast is the last address of an IPv4 network of /30 or wider.
	Broadcast netip.Addr
	// Gateway is the usual gateway: the first host, as Neutron and most
	// clouds pick it (10.0.0.1).
	Gateway netip.Addr
	// First and Last bound the host range: the network and broadcast
	// addresses excluded for IPv4 /30 and wider (RFC 3021: a /31 has two
	// hosts); for IPv6 the Subnet-Router anycast address (the first) is
	// excluded.
	First, Last netip.Addr
	// Hosts is how many addresses First..Last holds.
	Hosts *big.Int
}

// Parse reads a prefix ("10.0.0.12/24", "2001:db8::/64") or a bare
// address (a /32 or /128).
func Parse(s string) (Info, error) {
	s = strings.TrimSpace(s)
	var p netip.Prefix
	var err error
	if strings.Contains(s, "/") {
		p, err = netip.ParsePrefix(s)
	} else {
		var a netip.Addr
		a, err = netip.ParseAddr(s)
		if err == nil {
			p = netip.PrefixFrom(a, a.BitLen())
		}
	}
	if err != nil {
		return Info{}, fmt.Errorf("%q is not an IPv4 or IPv6 prefix (like 10.0.0.0/24 or 2001:db8::/64)", s)
	}
	if p.Addr().Zone() != "" {
		return Info{}, fmt.Errorf("%q: a zone has no place in a prefix", s)
	}
	return Of(p), nil
}

// Of computes the Info of a valid prefix.
func Of(p netip.Prefix) Info {
	a := p.Addr()
	if a.Is4In6() && p.Bits() >= 96 {
		a = a.Unmap()
		p = netip.PrefixFrom(a, p.Bits()-96)
	}
	bits, size := p.Bits(), a.BitLen()
	in := Info{Prefix: p, Address: a, Network: p.Masked()}
	mask := make([]byte, size/8)
	for i := 0; i < bits; i++ {
		mask[i/8] |= 0x80 >> (i % 8)
	}
	wild := make([]byte, len(mask))
	for i := range mask {
		wild[i] = ^mask[i]
	}
	in.Netmask, _ = netip.AddrFromSlice(mask)
	in.Wildcard, _ = netip.AddrFromSlice(wild)
	first := in.Network.Addr()
	last := orBytes(first, wild)
	hostBits := size - bits
	count := new(big.Int).Lsh(big.NewInt(1), uint(hostBits))
	switch {
	case hostBits == 0:
		in.First, in.Last = first, first
	case a.Is4() && hostBits == 1:
		in.First, in.Last = first, last // RFC 3021 point-to-point
	case a.Is4():
		in.Broadcast = last
		in.First, in.Last = first.Next(), last.Prev()
		count.Sub(count, big.NewInt(2))
	default:
		in.First, in.Last = first.Next(), last
		count.Sub(count, big.NewInt(1))
	}
	in.Hosts = count
	if hostBits > 1 || (a.Is6() && hostBits == 1) {
		in.Gateway = first.Next()
	}
	return in
}

func orBytes(a netip.Addr, b []byte) netip.Addr {
	s := a.AsSlice()
	for i := range s {
		s[i] |= b[i]
	}
	out, _ := netip.AddrFromSlice(s)
	return out
}

// Contains reports whether addr is in the network. An IPv4-mapped address
// counts for an IPv4 network only: in an IPv6 network, ::ffff:a.b.c.d is
// just another IPv6 address (the last one of ::/80, for instance).
func (in Info) Contains(addr netip.Addr) bool {
	if in.Network.Addr().Is4() {
		addr = addr.Unmap()
	}
	return in.Network.Contains(addr)
}

// HostAddress is the address to configure on an interface: the input's,
// unless it is the network's own address (10.0.0.0 of 10.0.0.0/24), which
// no interface can hold: then the usual gateway, as an all-in-one host's
// br-ex takes for the floating network.
func (in Info) HostAddress() netip.Addr {
	if in.Address == in.Network.Addr() && in.Gateway.IsValid() && in.Network.Bits() < in.Address.BitLen()-1 {
		return in.Gateway
	}
	return in.Address
}

// IfcfgLines are the lines of a RHEL-style ifcfg file (network-scripts) that
// configure dev statically with the host address (HostAddress) and gateway
// gw (none when invalid, or when it is the address itself).
func (in Info) IfcfgLines(dev string, gw netip.Addr) []string {
	out := []string{"DEVICE=" + dev, "ONBOOT=yes", "BOOTPROTO=none"}
	addr := in.HostAddress()
	if gw == addr {
		gw = netip.Addr{}
	}
	if in.Address.Is4() {
		out = append(out, "IPADDR="+addr.String(), "NETMASK="+in.Netmask.String())
		if gw.IsValid() {
			out = append(out, "GATEWAY="+gw.String())
		}
		return out
	}
	out = append(out, "IPV6INIT=yes", fmt.Sprintf("IPV6ADDR=%s/%d", addr, in.Prefix.Bits()))
	if gw.IsValid() {
		out = append(out, "IPV6_DEFAULTGW="+gw.String())
	}
	return out
}
