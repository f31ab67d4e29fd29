package rule

import (
	"fmt"

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
			Verify:   []string{fmt.Sprintf("openstack server show %s -c status", srv.ID)},
		}
		if srv.TaskState != "" {
			f.Evidence = append(f.Evidence, "task_state: "+srv.TaskState)
		}
		if srv.Fault != nil {
			f.Evidence = append(f.Evidence, fmt.Sprintf("fault (%d): %s", srv.Fault.Code, srv.Fault.Message))
		}
		switch srv.Status {
		case "SHUTOFF":
			f.Remediation = []string{"openstack server start " + srv.ID}
		case "PAUSED":
			f.Remediation = []string{"openstack server unpause " + srv.ID}
		case "SUSPENDED":
			f.Remediation = []string{"openstack server resume " + srv.ID}
		case "ERROR":
			f.Remediation = []string{
				"openstack server show " + srv.ID + " -c fault",
				"openstack server rebuild " + srv.ID + "   # or delete and re-create once the fault's cause is fixed",
			}
		default:
			f.Remediation = []string{"openstack server show " + srv.ID + "   # wait for the task to finish; if it is stuck, check nova-compute's log on the host"}
		}
		return []Finding{f}
	},
}

func serverSubject(s *snapshot.Server) Subject {
	return Subject{Kind: "server", ID: s.ID, Name: s.Name}
}
