package cli

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hoofbeat/hoofbeat/internal/ipcalc"
)

// IpcalcOptions holds "hoofbeat ipcalc"'s flags.
type IpcalcOptions struct {
	IO       *IOStreams
	Prefixes []string
	Output   string
	Ifcfg    string
	// OVS adds the keys of an Open vSwitch bridge to the ifcfg lines.
	OVS bool
}

// NewCmdIpcalc builds "hoofbeat ipcalc CIDR...".
func NewCmdIpcalc(io *IOStreams) *cobra.Command {
	o := &IpcalcOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "ipcalc CIDR...",
		Short: "Network, netmask, broadcast, gateway and host range of a prefix",
		Long: `Print what an interface file needs from a prefix: the network, the netmask as
a dotted quad (as ifcfg files want NETMASK), the broadcast address, the usual
gateway (the first host, which Neutron gives a subnet unless told otherwise),
the host range and how many hosts it holds. IPv4 and IPv6; a bare address is
a /32 or /128. With --ifcfg DEVICE, print the static ifcfg lines for the
address instead.`,
		Example: `  hoofbeat ipcalc 10.0.0.12/24
  hoofbeat ipcalc 2001:db8:1::/64 -o json
  hoofbeat ipcalc 10.0.0.12/24 --ifcfg eth0 > /etc/sysconfig/network-scripts/ifcfg-eth0`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError("ipcalc takes at least one CIDR (10.0.0.0/24, 2001:db8::/64)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Prefixes = args
			return ipcalcRun(o)
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "text", "output format: text or json")
	cmd.Flags().StringVar(&o.Ifcfg, "ifcfg", "", "print the static ifcfg lines of the address for this DEVICE (a network's own address becomes its usual gateway: the address an all-in-one host's br-ex takes)")
	cmd.Flags().BoolVar(&o.OVS, "ovs-bridge", false, "with --ifcfg: the DEVICE is an Open vSwitch bridge (DEVICETYPE=ovs, TYPE=OVSBridge), as br-ex is")
	return cmd
}

// ipcalcJSON is one prefix in the JSON output; absent values are "".
type ipcalcJSON struct {
	Input     string `json:"input"`
	Version   int    `json:"ip_version"`
	Address   string `json:"address"`
	Network   string `json:"network"`
	Prefixlen int    `json:"prefix_length"`
	Netmask   string `json:"netmask"`
	Wildcard  string `json:"wildcard"`
	Broadcast string `json:"broadcast"`
	Gateway   string `json:"gateway"`
	HostMin   string `json:"host_min"`
	HostMax   string `json:"host_max"`
	// Hosts is a string: an IPv6 /64 holds more than JSON numbers carry.
	Hosts string `json:"hosts"`
}

func ipcalcRun(o *IpcalcOptions) error {
	if o.Output != "text" && o.Output != "json" {
		return usageError("unknown output format %q (want text or json)", o.Output)
	}
	var infos []ipcalc.Info
	for _, p := range o.Prefixes {
		in, err := ipcalc.Parse(p)
		if err != nil {
			return usageError("%v", err)
		}
		infos = append(infos, in)
	}
	if o.OVS && o.Ifcfg == "" {
		return usageError("--ovs-bridge goes with --ifcfg DEVICE")
	}
	if o.Ifcfg != "" {
		for _, in := range infos {
			lines := in.IfcfgLines(o.Ifcfg, in.Gateway)
			if o.OVS {
				lines = append(lines, "DEVICETYPE=ovs", "TYPE=OVSBridge")
			}
			fmt.Fprintln(o.IO.Out, strings.Join(lines, "\n"))
		}
		return nil
	}
	if o.Output == "json" {
		var out []ipcalcJSON
		for i, in := range infos {
			out = append(out, ipcalcJSON{
				Input: o.Prefixes[i], Version: map[bool]int{true: 4, false: 6}[in.Address.Is4()],
				Address: in.Address.String(), Network: in.Network.String(), Prefixlen: in.Prefix.Bits(),
				Netmask: in.Netmask.String(), Wildcard: in.Wildcard.String(), Broadcast: addrOrEmpty(in.Broadcast),
				Gateway: addrOrEmpty(in.Gateway), HostMin: in.First.String(), HostMax: in.Last.String(), Hosts: in.Hosts.String(),
			})
		}
		b, _ := json.MarshalIndent(out, "", "  ")
		fmt.Fprintf(o.IO.Out, "%s\n", b)
		return nil
	}
	for i, in := range infos {
		if i > 0 {
			fmt.Fprintln(o.IO.Out)
		}
		row := func(k, v string) { fmt.Fprintf(o.IO.Out, "%-10s %s\n", k+":", v) }
		row("Address", in.Address.String())
		row("Network", in.Network.String())
		row("Netmask", fmt.Sprintf("%s = %d", in.Netmask, in.Prefix.Bits()))
		row("Wildcard", in.Wildcard.String())
		switch {
		case in.Broadcast.IsValid():
			row("Broadcast", in.Broadcast.String())
		case in.Address.Is6():
			row("Broadcast", "none (IPv6 has none)")
		default:
			row("Broadcast", "none (a /31 or /32 has none)")
		}
		if in.Gateway.IsValid() {
			row("Gateway", in.Gateway.String()+" (the first host: Neutron's default gateway_ip)")
		} else {
			row("Gateway", "none (a single address)")
		}
		row("HostMin", in.First.String())
		row("HostMax", in.Last.String())
		row("Hosts", in.Hosts.String())
	}
	return nil
}

func addrOrEmpty(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
