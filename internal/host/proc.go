package host

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// PSArgs is the ps invocation ParsePS reads.
var PSArgs = []string{"ps", "-e", "-ww", "-o", "pid=,user=,args="}

// ParsePS reads `ps -e -ww -o pid=,user=,args=`.
func ParsePS(b []byte) ([]snapshot.Process, error) {
	return rows(b, "ps", func(f []string, line string) (snapshot.Process, error) {
		if len(f) < 3 {
			return snapshot.Process{}, fmt.Errorf("want pid, user and command, got %q", line)
		}
		pid, err := strconv.Atoi(f[0])
		if err != nil {
			return snapshot.Process{}, fmt.Errorf("pid %q", f[0])
		}
		return snapshot.Process{PID: pid, User: f[1], Args: strings.Join(f[2:], " ")}, nil
	})
}

// evidenceProgram names the programs the host rules read about (dnsmasq per
// network, nova-compute, nova-serialproxy, qemu's -uuid behind a console
// socket) and their neighbours an operator reads beside them, as a path's
// last element: the program, or the script an interpreter runs, or
// setproctitle's "neutron-server:".
var evidenceProgram = regexp.MustCompile(`^(?:\S*/)?(?:dnsmasq|nova-[\w-]+|neutron-[\w-]+|qemu[\w.-]*|haproxy|keepalived|libvirtd|ovs-vswitchd|ovsdb-server|ovn-controller|ovn-northd):?$`)

// EvidenceProcesses keeps the processes a rule can read and masks
// credentials in their arguments. The rest of the process table stays on
// the host: it is no evidence, and other programs' command lines (mysql
// -p…, curl -u …) must not travel in a snapshot.
func EvidenceProcesses(procs []snapshot.Process) []snapshot.Process {
	var out []snapshot.Process
	for _, p := range procs {
		f := strings.Fields(p.Args)
		keep := false
		for i := 0; i < len(f) && i < 2 && !keep; i++ {
			keep = evidenceProgram.MatchString(f[i])
		}
		if !keep {
			continue
		}
		p.Args = MaskArgs(p.Args)
		out = append(out, p)
	}
	return out
}

// SSArgs is the ss invocation ParseSS reads.
var SSArgs = []string{"ss", "-H", "-l", "-n", "-t", "-p"}

var ssUser = regexp.MustCompile(`\("([^"]*)",pid=(\d+)`)

// ParseSS reads `ss -H -lntp`: the listening TCP sockets with their
// processes (the processes are only shown to root).
func ParseSS(b []byte) ([]snapshot.Listener, error) {
	return rows(b, "ss", func(f []string, line string) (snapshot.Listener, error) {
		if len(f) < 5 {
			return snapshot.Listener{}, fmt.Errorf("%q", line)
		}
		addr, port, err := splitHostPort(f[3])
		if err != nil {
			return snapshot.Listener{}, err
		}
		l := snapshot.Listener{Addr: addr, Port: port}
		if len(f) > 5 {
			seen := map[string]bool{}
			for _, m := range ssUser.FindAllStringSubmatch(strings.Join(f[5:], " "), -1) {
				pid, _ := strconv.Atoi(m[2])
				l.PIDs = append(l.PIDs, pid)
				if !seen[m[1]] {
					seen[m[1]] = true
					l.Processes = append(l.Processes, m[1])
				}
			}
		}
		return l, nil
	})
}

// splitHostPort reads ss's local address: 0.0.0.0:22, [::]:22, *:5672,
// 127.0.0.1%lo:53, [fe80::1]%eth0:22.
func splitHostPort(s string) (string, int, error) {
	i := strings.LastIndex(s, ":")
	if i < 0 {
		return "", 0, fmt.Errorf("address %q has no port", s)
	}
	port, err := strconv.Atoi(s[i+1:])
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("address %q: bad port", s)
	}
	h := s[:i]
	if j := strings.Index(h, "%"); j >= 0 {
		h = h[:j]
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if h != "*" {
		if _, err := netip.ParseAddr(h); err != nil {
			return "", 0, fmt.Errorf("address %q: %w", s, err)
		}
	}
	return h, port, nil
}
