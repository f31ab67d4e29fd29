package host

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// DumpFlowsArgs dumps one bridge's OpenFlow flows.
func DumpFlowsArgs(bridge string) []string { return []string{"ovs-ofctl", "dump-flows", bridge} }

// TraceArgs traces a packet through a bridge (and the bridges its patch
// ports lead to) without sending it.
func TraceArgs(bridge, flow string) []string {
	return []string{"ovs-appctl", "ofproto/trace", bridge, flow}
}

// flowStats are the fields ovs-ofctl prints before the match: statistics
// and timeouts, none of them part of what the flow matches.
var flowStats = map[string]bool{"cookie": true, "duration": true, "table": true, "n_packets": true, "n_bytes": true,
	"idle_timeout": true, "hard_timeout": true, "idle_age": true, "hard_age": true, "importance": true}

// defaultPriority is OpenFlow's, which ovs-ofctl does not print.
const defaultPriority = 32768

// ParseDumpFlows reads `ovs-ofctl dump-flows BRIDGE`: one flow a line,
// " cookie=0x…, duration=…s, table=N, n_packets=…, …, priority=P,MATCH actions=ACTIONS",
// after a "NXST_FLOW reply" (or "OFPST_FLOW reply") heading.
func ParseDumpFlows(b []byte) ([]snapshot.OVSFlow, error) {
	var out []snapshot.OVSFlow
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasSuffix(line, "_FLOW reply") || strings.Contains(line, "_FLOW reply (") {
			continue
		}
		head, actions, ok := strings.Cut(line, " actions=")
		if !ok {
			if strings.HasPrefix(line, "actions=") {
				head, actions = "", strings.TrimPrefix(line, "actions=")
			} else {
				return nil, fmt.Errorf("read dump-flows: line %d: no actions", n)
			}
		}
		f := snapshot.OVSFlow{Priority: defaultPriority, Actions: actions}
		for _, tok := range strings.Fields(head) {
			field := strings.TrimSuffix(tok, ",")
			k, v, _ := strings.Cut(field, "=")
			if flowStats[k] && strings.HasSuffix(tok, ",") {
				if k == "cookie" {
					f.Cookie = v
				}
				if k == "table" {
					t, err := strconv.Atoi(v)
					if err != nil {
						return nil, fmt.Errorf("read dump-flows: line %d: table %q", n, v)
					}
					f.Table = t
				}
				continue
			}
			f.Match = field
		}
		// The priority leads the match when it is not the default.
		if rest, ok := strings.CutPrefix(f.Match, "priority="); ok {
			p, m, _ := strings.Cut(rest, ",")
			v, err := strconv.Atoi(p)
			if err != nil {
				return nil, fmt.Errorf("read dump-flows: line %d: priority %q", n, p)
			}
			f.Priority, f.Match = v, m
		}
		out = append(out, f)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read dump-flows: %w", err)
	}
	return out, nil
}

// maxTraceSteps bounds the steps kept of one trace: a looping pipeline
// (resubmit limits are 4096 deep) would fill the snapshot.
const maxTraceSteps = 64

// ParseTrace reads `ovs-appctl ofproto/trace BRIDGE FLOW`: bridge
// headings (bridge("br-tun")), one step per table ("NN. MATCH, priority P,
// cookie C" or "NN. No match."), its actions indented below, and for each
// pipeline (the first, then one per recirculation after conntrack) a
// "Datapath actions:" line. The last pipeline's datapath actions say what
// became of the packet: "drop" drops it, and the last step with a drop
// among its actions names the flow that did.
func ParseTrace(b []byte) (snapshot.OVSTrace, error) {
	var t snapshot.OVSTrace
	var bridge string
	var last []snapshot.OVSTraceStep // the steps of the current pipeline
	seenActions := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		raw := sc.Text()
		line := strings.TrimSpace(raw)
		switch {
		case strings.HasPrefix(line, `bridge("`) && strings.HasSuffix(line, `")`):
			bridge = strings.TrimSuffix(strings.TrimPrefix(line, `bridge("`), `")`)
		case strings.HasPrefix(line, "Datapath actions:"):
			t.Actions = strings.TrimSpace(strings.TrimPrefix(line, "Datapath actions:"))
			seenActions = true
			t.Dropped = t.Actions == "drop"
			t.Drop = nil
			if t.Dropped {
				t.Drop = dropStep(last)
			}
		case strings.HasPrefix(line, "recirc(") || strings.HasPrefix(line, "Flow: recirc_id"):
			last = nil // a new pipeline after conntrack
		default:
			if s, ok := traceStep(raw, bridge); ok {
				last = append(last, s)
				if len(t.Steps) < maxTraceSteps {
					t.Steps = append(t.Steps, s)
				}
				continue
			}
			// An action of the current step: indented, after the step.
			if len(last) > 0 && strings.HasPrefix(raw, "    ") && !strings.HasPrefix(line, "->") && !strings.HasPrefix(line, ">>") && line != "" {
				i := len(last) - 1
				if len(last[i].Actions) < maxTraceSteps {
					last[i].Actions = append(last[i].Actions, line)
					if n := len(t.Steps); n > 0 && t.Steps[n-1].Table == last[i].Table && t.Steps[n-1].Rule == last[i].Rule {
						t.Steps[n-1].Actions = last[i].Actions
					}
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return t, fmt.Errorf("read ofproto/trace: %w", err)
	}
	if !seenActions {
		return t, fmt.Errorf("read ofproto/trace: no \"Datapath actions\" line")
	}
	return t, nil
}

// traceStep reads a step line: a table number, a dot, the rule (with its
// priority, or "No match."). Nested resubmits indent their steps further.
func traceStep(raw, bridge string) (snapshot.OVSTraceStep, bool) {
	num, rule, ok := strings.Cut(strings.TrimSpace(raw), ". ")
	if !ok || !(strings.Contains(rule, "priority ") || rule == "No match.") {
		return snapshot.OVSTraceStep{}, false
	}
	table, err := strconv.Atoi(num)
	if err != nil || table < 0 || table > 255 {
		return snapshot.OVSTraceStep{}, false
	}
	st := snapshot.OVSTraceStep{Bridge: bridge, Table: table}
	// The cookie tells the bridge: after a recirculation the trace heads
	// the steps with the bridge it started on.
	if i := strings.LastIndex(rule, ", cookie "); i >= 0 {
		rule, st.Cookie = rule[:i], rule[i+len(", cookie "):]
	}
	st.Rule = rule
	return st, true
}

// dropStep is the last step whose actions end the packet: an explicit
// drop (not the untracked copy a ct() action leaves behind, which goes on
// in a recirculation), or a table miss.
func dropStep(steps []snapshot.OVSTraceStep) *snapshot.OVSTraceStep {
	for i := len(steps) - 1; i >= 0; i-- {
		s := steps[i]
		if s.Rule == "No match." {
			return &s
		}
		ct := false
		for _, a := range s.Actions {
			if strings.HasPrefix(a, "ct(") {
				ct = true
			}
			if a == "drop" && !ct {
				return &s
			}
		}
	}
	if len(steps) > 0 {
		s := steps[len(steps)-1]
		return &s
	}
	return nil
}
