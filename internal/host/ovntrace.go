package host

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// OVNTraceSpec is one flow to trace: a microflow entering a datapath.
type OVNTraceSpec struct {
	Label     string
	Datapath  string
	Microflow string
}

// OVNFloatingTrace is a flow to a floating IP from outside: it enters the
// router by its gateway port, which only the Northbound rows name.
type OVNFloatingTrace struct {
	// Label says which flow ("ping from 203.0.113.1 to 172.24.4.147").
	Label string
	// Router is the Neutron router's ID; FloatingIP the address.
	Router, FloatingIP string
	// From is the outside source address; L4 the protocol's match
	// ("icmp4 && icmp4.type == 8").
	From, L4 string
}

// outsideMAC stands for the upstream router's MAC in a trace from
// outside: a locally administered address, as ovn-trace needs one.
const outsideMAC = "02:00:00:00:00:01"

// floatingSpec builds the trace of f entering its router's gateway port,
// from the Northbound rows; false when the router or its gateway port is
// not there (ovn/gateway-chassis-missing says so).
func floatingSpec(nb *snapshot.OVNNorthbound, f OVNFloatingTrace) (OVNTraceSpec, bool) {
	for _, lr := range nb.Routers {
		if lr.Name != "neutron-"+f.Router {
			continue
		}
		for _, p := range nb.RouterPorts {
			if !slices.Contains(lr.Ports, p.UUID) || (len(p.GatewayChassis) == 0 && p.HAChassisGroup == "") || p.MAC == "" {
				continue
			}
			return OVNTraceSpec{Label: f.Label, Datapath: lr.Name, Microflow: fmt.Sprintf(
				`inport == %s && eth.src == %s && eth.dst == %s && ip4.src == %s && ip4.dst == %s && ip.ttl == 64 && %s`,
				strconv.Quote(p.Name), outsideMAC, p.MAC, f.From, f.FloatingIP, f.L4)}, true
		}
	}
	return OVNTraceSpec{}, false
}

// OVNTraceArgs runs ovn-trace against the Southbound database: read-only, it
// sends nothing. Each conntrack lookup sees a new connection (the first
// packet of the flow), not ovn-trace's default "established".
func OVNTraceArgs(t OVNTraceSpec) []string {
	return []string{"ovn-trace", "--db=" + OVNSBSocket, "--ct=new", "--ct=new", "--ct=new", t.Datapath, t.Microflow}
}

// traceStage is a logical flow line of ovn-trace's detailed output:
// " 4. ls_out_acl (northd.c:6543): MATCH, priority 2001, uuid e737519d".
var traceStage = regexp.MustCompile(`^\s*(\d+)\. (\S+) \([^)]*\): (.*), priority \d+, uuid [0-9a-f]+$`)

// ParseOVNTrace reads ovn-trace's detailed output: the last logical flow the
// packet went through, and whether it left an egress pipeline by output.
func ParseOVNTrace(b []byte) (snapshot.OVNTrace, error) {
	var t snapshot.OVNTrace
	var pipeline string
	var actions []string
	stages := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "ingress(") || strings.HasPrefix(line, "egress("):
			pipeline = trimmed
		case traceStage.MatchString(line):
			m := traceStage.FindStringSubmatch(line)
			t.Table, _ = strconv.Atoi(m[1])
			t.Stage, t.Match, t.Pipeline = m[2], m[3], pipeline
			actions = nil
			stages++
		case stages > 0 && strings.HasPrefix(line, "    ") && trimmed != "" && !strings.HasPrefix(trimmed, "/*"):
			actions = append(actions, trimmed)
		}
	}
	if err := sc.Err(); err != nil {
		return t, fmt.Errorf("read ovn-trace: %w", err)
	}
	if stages == 0 {
		return t, fmt.Errorf("read ovn-trace: no logical flow in its output")
	}
	t.Actions = strings.Join(actions, " ")
	t.Delivered = strings.HasPrefix(t.Pipeline, "egress(") && len(actions) > 0 && actions[len(actions)-1] == "output;"
	return t, nil
}

// readTraces runs the traces on the database host.
func readTraces(ctx context.Context, run func(ctx context.Context, argv ...string) ([]byte, error), specs []OVNTraceSpec) ([]snapshot.OVNTrace, int, int) {
	var out []snapshot.OVNTrace
	bytes := 0
	for _, s := range specs {
		b, err := run(ctx, OVNTraceArgs(s)...)
		bytes += len(b)
		t := snapshot.OVNTrace{}
		if err == nil {
			t, err = ParseOVNTrace(b)
		}
		if err != nil {
			t.Error = ovnReason(err)
		}
		t.Label, t.Datapath, t.Microflow = s.Label, s.Datapath, s.Microflow
		out = append(out, t)
	}
	return out, len(specs), bytes
}
