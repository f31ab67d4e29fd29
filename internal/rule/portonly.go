package rule

import (
	"fmt"

	"github.com/hoofbeat/hoofbeat/internal/shell"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// A snapshot may diagnose a port without a server (a VIP, an
// allowed-address-pair holder, a router or DHCP port: snapshot.PortOnly).
// The rules about the port itself, its subnets, its network, the agents
// serving them and its router judge it as they judge a server's port; the
// others need a server (its state, its guest, its host, the VIF whose
// traffic the security groups filter) and are not applicable.

// portRules are the rules that run on a port without a server.
func portRules() map[*Rule]bool {
	return map[*Rule]bool{
		portAdminDown: true, portNoFixedIP: true,
		subnetNoGateway: true, subnetPoolExhausted: true, subnetDHCPDisabled: true,
		networkAdminDown: true, networkNotActive: true, networkNoDHCPPort: true, networkMTUMismatch: true, networkSegment: true,
		agentDHCPNotHosting: true, agentDHCPDown: true, agentL3Down: true,
		routerMissing: true, routerAdminDown: true, routerNotActive: true, routerNotScheduled: true, routerNoGateway: true,
		floatingIPDown: true,
	}
}

// notForPort says why a rule does not judge a port-only snapshot ("" when
// it does).
func notForPort(s *snapshot.Snapshot, r *Rule, rules map[*Rule]bool) string {
	if rules[r] {
		return ""
	}
	return fmt.Sprintf("it needs a server: port %s has none", s.Target.PortID)
}

// ofServer is " of server NAME" in a summary, or nothing for a port
// without a server.
func ofServer(s *snapshot.Snapshot) string {
	if s.Server == nil {
		return ""
	}
	return " of server " + s.Server.Name
}

// rebootServer is the step that lets the guest pick up a change, when
// there is a server (none for a port alone).
func rebootServer(s *snapshot.Snapshot, why string) []shell.Cmd {
	if s.Server == nil {
		return nil
	}
	return cmds(cmd("openstack", "server", "reboot", s.Server.ID).Comment(why))
}

// portsStatus is the command that shows whether the ports came up: the
// server's, or the port alone.
func portsStatus(s *snapshot.Snapshot) shell.Cmd {
	if s.Server == nil {
		return cmd("openstack", "port", "show", s.Target.PortID, "-c", "status")
	}
	return cmd("openstack", "port", "list", "--server", s.Server.ID, "-c", "ID", "-c", "Status")
}
