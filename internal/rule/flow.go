package rule

import "net/netip"

// Flow is one operator question: does this traffic from From reach the
// server's port? Built by ParseFlows from --check and --from.
type Flow struct {
	// Spec is the check as the operator wrote it ("tcp/22").
	Spec string `json:"spec"`
	// Protocol is a lower-case name (tcp, udp, icmp, ipv6-icmp, sctp…) or a
	// decimal protocol number; "any" matches every protocol.
	Protocol string `json:"protocol"`
	// PortMin and PortMax bound the destination port (both 0 when the
	// protocol has no ports). For ICMP they hold type and code (-1 = any).
	PortMin int `json:"port_min,omitempty"`
	PortMax int `json:"port_max,omitempty"`
	// From is the source prefix.
	From netip.Prefix `json:"from"`
}
