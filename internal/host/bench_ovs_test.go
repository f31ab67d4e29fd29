package host

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/run"
)

// countingRunner counts the commands a collection runs, by program.
type countingRunner struct {
	run.Runner
	n map[string]*atomic.Int64
}

func (c countingRunner) Run(ctx context.Context, cmd run.Command) (run.Result, error) {
	if n := c.n[cmd.Argv[0]]; n != nil {
		n.Add(1)
	}
	return c.Runner.Run(ctx, cmd)
}

// ovsTables builds what OVSArgs answers on a compute host with n VIFs, in
// the shape ovs-vsctl 3.1 printed in the lab (testdata/ovs/batch): the
// bridges, their ports with tag and other_config, the interfaces with
// their external_ids.
func ovsTables(n int) string {
	type table struct {
		Data     [][]any  `json:"data"`
		Headings []string `json:"headings"`
	}
	uuid := func(kind, i int) []any { return []any{"uuid", fmt.Sprintf("%08x-0000-4000-8000-%012x", kind, i)} }
	set := func(xs []any) []any { return []any{"set", xs} }
	var intPorts []any
	br := table{Headings: []string{"name", "ports"}}
	pt := table{Headings: []string{"_uuid", "name", "interfaces", "tag", "other_config"}}
	it := table{Headings: []string{"name", "type", "ofport", "error", "options", "external_ids"}}
	for i := range n {
		name := fmt.Sprintf("tap%08x-%02x", i, i%256)
		intPorts = append(intPorts, uuid(1, i))
		pt.Data = append(pt.Data, []any{uuid(1, i), name, uuid(2, i), 1 + i%4000, []any{"map", [][]string{
			{"net_uuid", fmt.Sprintf("%08x-8a4e-45ef-a179-667cd6b8bc8f", i%4000)}, {"network_type", "vxlan"},
			{"physical_network", "None"}, {"segmentation_id", fmt.Sprint(3 + i%4000)}, {"tag", fmt.Sprint(1 + i%4000)}}}})
		it.Data = append(it.Data, []any{name, "", 10 + i, set(nil), []any{"map", [][]string{}}, []any{"map", [][]string{
			{"attached-mac", fmt.Sprintf("fa:16:3e:%02x:%02x:%02x", i>>16&255, i>>8&255, i&255)},
			{"iface-id", fmt.Sprintf("%08x-38e2-45a3-8ef9-64ba18537ad7", i)}, {"iface-status", "active"}}}})
	}
	for j, p := range []struct{ name, typ string }{{"br-int", "internal"}, {"patch-tun", "patch"}, {"br-tun", "internal"}, {"patch-int", "patch"}, {"vxlan-c000020a", "vxlan"}} {
		opts := [][]string{}
		if p.typ == "vxlan" {
			opts = [][]string{{"remote_ip", "192.0.2.10"}, {"local_ip", "192.0.2.11"}}
		}
		pt.Data = append(pt.Data, []any{uuid(3, j), p.name, uuid(4, j), set(nil), []any{"map", [][]string{}}})
		it.Data = append(it.Data, []any{p.name, p.typ, 1 + j, set(nil), []any{"map", opts}, []any{"map", [][]string{}}})
	}
	br.Data = [][]any{
		{"br-int", set(append(intPorts, uuid(3, 0), uuid(3, 1)))},
		{"br-tun", set([]any{uuid(3, 2), uuid(3, 3), uuid(3, 4)})},
	}
	var b strings.Builder
	for _, t := range []table{br, pt, it} {
		j, _ := json.Marshal(t)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

// dumpFlows repeats the lab's per-port flows (cmp1's, healthy) for n
// ports: the firewall's on br-int, the ARP responder and unicast ones on
// br-tun.
func dumpFlows(b testing.TB, bridge string, n int) string {
	rec := td(b, "lab/ovs-healthy/cmp1/ovs_ofctl_dump_flows_"+bridge+".txt")
	var fixed, perPort []string
	for _, l := range strings.Split(strings.TrimSpace(rec), "\n") {
		switch {
		case strings.Contains(l, "reg5=0x2") || strings.Contains(l, "dl_dst=fa:16:3e:5e:ed:13") || strings.Contains(l, "arp_tpa="):
			perPort = append(perPort, l)
		default:
			fixed = append(fixed, l)
		}
	}
	var s strings.Builder
	for _, l := range fixed {
		s.WriteString(l + "\n")
	}
	for i := range n {
		r := strings.NewReplacer("reg5=0x2", fmt.Sprintf("reg5=0x%x", i+10), "fa:16:3e:5e:ed:13", fmt.Sprintf("fa:16:3e:%02x:%02x:%02x", i>>16&255, i>>8&255, i&255))
		for _, l := range perPort {
			s.WriteString(r.Replace(l) + "\n")
		}
	}
	return s.String()
}

// BenchmarkOVS5000Ports collects a host whose br-int has 5,000 VIFs: one
// ovs-vsctl and one dump-flows per bridge (br-int, br-tun) whatever the
// number of ports, and one trace per packet asked for. ovs-vsctl/op and
// ovs-ofctl/op count the commands run.
func BenchmarkOVS5000Ports(b *testing.B) {
	const n = 5000
	tables, brInt, brTun := ovsTables(n), dumpFlows(b, "br-int", n), dumpFlows(b, "br-tun", n)
	ping := "icmp,dl_src=fa:16:3e:3c:c0:97,dl_dst=fa:16:3e:5e:ed:13,nw_src=10.0.0.2,nw_dst=10.0.0.16,icmp_type=8,icmp_code=0"
	trace := td(b, "ofproto-trace/ping-delivered.txt")
	b.ResetTimer()
	var vsctl, ofctl, appctl int64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		r := allCommands(b)
		r.Add(OVSArgs, tables)
		r.Add(DumpFlowsArgs("br-int"), brInt)
		r.Add(DumpFlowsArgs("br-tun"), brTun)
		r.Add(TraceArgs("br-tun", "in_port=vxlan-c000020a,tun_id=0x3,"+ping), trace)
		c := countingRunner{Runner: r, n: map[string]*atomic.Int64{"ovs-vsctl": {}, "ovs-ofctl": {}, "ovs-appctl": {}}}
		b.StartTimer()
		h := Collect(context.Background(), c, "cmp1", Options{Traces: []TraceSpec{{Label: "ping", Packet: ping, FromTunnel: "192.0.2.10", VNI: 3}}})
		if h.OVS == nil || len(h.OVS.Ports) != n+5 || len(h.OVS.Traces) != 1 || h.OVS.Traces[0].Error != "" {
			b.Fatalf("ovs: %s %+v", h.OVSError, h.OVS.Traces)
		}
		vsctl += c.n["ovs-vsctl"].Load()
		ofctl += c.n["ovs-ofctl"].Load()
		appctl += c.n["ovs-appctl"].Load()
	}
	b.ReportMetric(float64(vsctl)/float64(b.N), "ovs-vsctl/op")
	b.ReportMetric(float64(ofctl)/float64(b.N), "ovs-ofctl/op")
	b.ReportMetric(float64(appctl)/float64(b.N), "ovs-appctl/op")
	b.ReportMetric(n, "ports")
	b.ReportMetric(float64(len(brInt)+len(brTun)+len(tables))/1e6, "MB-read")
}
