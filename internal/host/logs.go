package host

import (
	"regexp"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// LogPattern is a known error line in an agent's log.
type LogPattern struct {
	Name string
	re   *regexp.Regexp
}

// LogPatterns are the errors the field guide names: each says something
// precise about the dataplane. Plain ERROR lines are too noisy (keystone's
// 404s, for one) to report on their own.
var LogPatterns = []LogPattern{
	{"invalid netns", regexp.MustCompile(`Invalid "netns" value`)},
	{"rtnetlink", regexp.MustCompile(`RTNETLINK answers: `)},
	{"dnsmasq failed", regexp.MustCompile(`(?i)dnsmasq.*(failed|error|cannot|exited)|Unable to (enable|reload) dhcp`)},
	{"amqp unreachable", regexp.MustCompile(`AMQP server on \S+ is unreachable|Connection failed: \[Errno 111\] ECONNREFUSED`)},
	{"privsep failed", regexp.MustCompile(`privsep helper command exited non-zero|FailedToDropPrivileges`)},
	{"ovs error", regexp.MustCompile(`(?i)ovs-vsctl.*(error|failed)|OVSDB Error`)},
	{"agent report failed", regexp.MustCompile(`Failed reporting state!`)},
}

// AgentLogs are the log files read, by agent.
var AgentLogs = []string{
	"/var/log/neutron/neutron-dhcp-agent.log",
	"/var/log/neutron/neutron-l3-agent.log",
	"/var/log/neutron/neutron-linuxbridge-agent.log",
	"/var/log/neutron/neutron-openvswitch-agent.log",
	"/var/log/neutron/neutron-metadata-agent.log",
	"/var/log/nova/nova-compute.log",
	"/var/log/nova/nova-serialproxy.log",
}

// LogTailLines is how much of each log is read (tail -n).
const LogTailLines = 2000

// ScanLog finds the known error lines in a log's text: one entry per
// pattern with the last matching line and the count.
func ScanLog(file string, b []byte) []snapshot.LogLine {
	var out []snapshot.LogLine
	idx := map[string]int{}
	sc := lines(b)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, "ERROR") && !strings.Contains(line, "CRITICAL") && !strings.Contains(line, "RTNETLINK") {
			continue
		}
		for _, p := range LogPatterns {
			if !p.re.MatchString(line) {
				continue
			}
			l := strings.TrimSpace(line)
			if len(l) > 400 { // the cause is at the end of neutron's lines
				l = l[:120] + " … " + l[len(l)-260:]
			}
			if i, ok := idx[p.Name]; ok {
				out[i].Line = l
				out[i].Count++
			} else {
				idx[p.Name] = len(out)
				out = append(out, snapshot.LogLine{File: file, Pattern: p.Name, Line: l, Count: 1})
			}
			break
		}
	}
	return out
}
