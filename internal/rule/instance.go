package rule

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

var instanceNotActive = &Rule{
	Name:     "instance/not-active",
	Severity: Error,
	Title:    "The server is not ACTIVE",
	Doc: `A server that is not ACTIVE (ERROR, SHUTOFF, PAUSED, SUSPENDED, or stuck in
BUILD) has no running guest to answer: nothing further out matters until it
runs. hoofbeat reads the server's status, task state and, for ERROR, the fault
Nova recorded.`,
	Fix:   "Read the fault, fix its cause, then start, rebuild or re-create the server.",
	Needs: []string{snapshot.SourceServer},
	Check: func(in *Input) []Finding {
		srv := in.Snapshot.Server
		if srv.Status == "ACTIVE" {
			return nil
		}
		f := Finding{
			Subject:  serverSubject(srv),
			Summary:  fmt.Sprintf("server %s is %s, not ACTIVE", srv.Name, srv.Status),
			Evidence: []string{fmt.Sprintf("status: %s", srv.Status)},
			Verify:   cmds(cmd("openstack", "server", "show", srv.ID, "-c", "status")),
		}
		if srv.TaskState != "" {
			f.Evidence = append(f.Evidence, "task_state: "+srv.TaskState)
		}
		if srv.Fault != nil {
			f.Evidence = append(f.Evidence, fmt.Sprintf("fault (%d): %s", srv.Fault.Code, srv.Fault.Message))
		}
		switch srv.Status {
		case "SHUTOFF":
			f.Remediation = cmds(cmd("openstack", "server", "start", srv.ID))
		case "PAUSED":
			f.Remediation = cmds(cmd("openstack", "server", "unpause", srv.ID))
		case "SUSPENDED":
			f.Remediation = cmds(cmd("openstack", "server", "resume", srv.ID))
		case "SHELVED", "SHELVED_OFFLOADED":
			f.Remediation = cmds(cmd("openstack", "server", "unshelve", srv.ID))
		case "ERROR":
			f.Remediation = cmds(
				cmd("openstack", "server", "show", srv.ID, "-c", "fault"),
				cmd("openstack", "server", "rebuild", srv.ID).Comment("or delete and re-create once the fault's cause is fixed"),
			)
		default:
			f.Remediation = cmds(cmd("openstack", "server", "show", srv.ID).Comment("wait for the task to finish; if it is stuck, check nova-compute's log on the host"))
		}
		return []Finding{f}
	},
}

func serverSubject(s *snapshot.Server) Subject {
	return Subject{Kind: "server", ID: s.ID, Name: s.Name}
}

var instanceNoNetworkPort = &Rule{
	Name:     "instance/no-network-port",
	Severity: Error,
	Title:    "The server has no network port",
	Doc: `A server booted without a network (openstack server create --network none),
or whose ports were deleted or detached, has no virtual NIC to answer on.
hoofbeat lists the Neutron ports whose device_id is the server. When Nova still
lists addresses for it, the ports were removed behind Nova's back (deleted in
Neutron directly) and its view is stale.`,
	Fix:   "Attach a network or a port: openstack server add network SERVER NETWORK.",
	Needs: []string{snapshot.SourceServer, snapshot.SourcePorts},
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		if len(s.Ports) > 0 {
			return nil
		}
		srv := s.Server
		f := Finding{
			Subject:  serverSubject(srv),
			Summary:  fmt.Sprintf("server %s has no network port: it has no NIC to answer on", srv.Name),
			Evidence: []string{fmt.Sprintf("ports with device_id %s: none", srv.ID)},
			Verify:   cmds(cmd("openstack", "port", "list", "--server", srv.ID)),
		}
		var nets []string
		for name, addrs := range srv.Addresses {
			var as []string
			for _, a := range addrs {
				as = append(as, a.Addr)
			}
			nets = append(nets, name)
			f.Evidence = append(f.Evidence, fmt.Sprintf("nova still lists addresses on %s: %s (stale: the port was removed in Neutron)", name, strings.Join(as, ", ")))
		}
		sort.Strings(nets)
		sort.Strings(f.Evidence[1:])
		if len(nets) > 0 {
			f.Remediation = cmds(cmd("openstack", "server", "add", "network", srv.ID, nets[0]).Comment("a new port on the network Nova remembers"))
		} else {
			f.Remediation = cmds(
				cmd("openstack", "network", "list"),
				cmd("openstack", "server", "add", "network", srv.ID, "NETWORK"),
			)
		}
		f.Remediation = append(f.Remediation, cmd("openstack", "server", "reboot", srv.ID).Comment("if the guest does not configure a hot-plugged NIC"))
		if srv.Status == "ERROR" || srv.Status == "BUILD" {
			// Nova refuses to attach an interface in these states: the
			// server's state is the cause, and its fix comes first.
			f.Causes = []*Rule{instanceNotActive}
		}
		return []Finding{f}
	},
}
