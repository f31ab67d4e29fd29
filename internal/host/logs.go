package host

import (
	"regexp"
	"slices"
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

// serviceStart is the line a service logs when it starts: neutron's
// "Logging enabled!", nova's "Starting compute node (version …)" (any
// binary), nova-serialproxy's "WebSocket server settings:".
var serviceStart = regexp.MustCompile(`neutron\.common\.config \[[^\]]*\] Logging enabled!|nova\.service \[[^\]]*\] Starting \S+ node \(version|nova\.console\.websocketproxy \[[^\]]*\] WebSocket server settings:`)

// ScanLog finds the known error lines in a log's text: one entry per
// pattern with the last matching line and the count. errs are those since
// the service last started; beforeStart those from an earlier run of it,
// which the restart is past (without a start in the tail, all count).
func ScanLog(file string, b []byte) (errs, beforeStart []snapshot.LogLine) {
	var cur []snapshot.LogLine
	idx := map[string]int{}
	sc := lines(b)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "INFO") && serviceStart.MatchString(line) {
			beforeStart = mergeLogLines(beforeStart, cur)
			cur, idx = nil, map[string]int{}
			continue
		}
		if !strings.Contains(line, "ERROR") && !strings.Contains(line, "CRITICAL") && !strings.Contains(line, "RTNETLINK") {
			continue
		}
		for _, p := range LogPatterns {
			if !p.re.MatchString(line) {
				continue
			}
			// Masked before it is cut, so that a cut cannot hide a secret's name.
			l := MaskLine(strings.TrimSpace(line))
			if len(l) > 400 { // the cause is at the end of neutron's lines
				l = l[:120] + " … " + l[len(l)-260:]
			}
			if i, ok := idx[p.Name]; ok {
				cur[i].Line = l
				cur[i].Count++
			} else {
				idx[p.Name] = len(cur)
				cur = append(cur, snapshot.LogLine{File: file, Pattern: p.Name, Line: l, Count: 1})
			}
			break
		}
	}
	return cur, beforeStart
}

// mergeLogLines adds later entries to earlier ones of the same file: per
// pattern, the counts add up and the later line is the last.
func mergeLogLines(earlier, later []snapshot.LogLine) []snapshot.LogLine {
	for _, l := range later {
		i := slices.IndexFunc(earlier, func(e snapshot.LogLine) bool { return e.Pattern == l.Pattern })
		if i < 0 {
			earlier = append(earlier, l)
			continue
		}
		earlier[i].Line = l.Line
		earlier[i].Count += l.Count
	}
	return earlier
}
