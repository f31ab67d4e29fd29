package cli

import (
	"regexp"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hoofbeat/hoofbeat/internal/rule"
)

// otherTools' flags appear in the rules' texts as parts of the openstack
// client's, iptables', ovs-vsctl's or cloud-init's commands.
var otherTools = map[string]bool{
	"protocol": true, "mtu": true, "enable": true, "dhcp": true, "serial": true, "network": true, "long": true,
	"ingress": true, "egress": true, "ethertype": true, "dport": true, "dports": true, "dst-port": true,
	"security-group": true, "remote-ip": true, "reboot": true, "port": true, "no-fixed-ip": true, "l3": true,
	"host": true, "gateway": true, "format": true, "fixed-ip": true, "external-gateway": true,
	"enable-port-security": true,
}

// TestExplainNamesRealFlags: every hoofbeat flag a rule's explanation
// names exists (an explanation once sent operators to a --role that no
// verb has).
func TestExplainNamesRealFlags(t *testing.T) {
	io, _, _, _ := Test()
	have := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) { have[f.Name] = true })
		c.PersistentFlags().VisitAll(func(f *pflag.Flag) { have[f.Name] = true })
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(NewCmdRoot(io))
	flag := regexp.MustCompile(`--([a-z][a-z0-9-]*)`)
	for _, r := range rule.Catalogue() {
		for _, m := range flag.FindAllStringSubmatch(r.Doc+"\n"+r.Fix, -1) {
			if !have[m[1]] && !otherTools[m[1]] {
				t.Errorf("%s names --%s, which no hoofbeat verb has", r.Name, m[1])
			}
		}
	}
}
