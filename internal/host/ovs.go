package host

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// OVSArgs reads the Bridge, Port and Interface tables in one ovs-vsctl
// run (one JSON document per table, one a line), whatever the number of
// ports.
var OVSArgs = []string{"ovs-vsctl", "--format=json",
	"--", "--columns=name,ports", "list", "Bridge",
	"--", "--columns=_uuid,name,interfaces,tag,other_config", "list", "Port",
	"--", "--columns=name,type,ofport,error,options,external_ids", "list", "Interface"}

// ParseOVSBatch reads OVSArgs' output: the three tables in order.
func ParseOVSBatch(b []byte) (*snapshot.OVS, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	var docs [3]json.RawMessage
	for i := range docs {
		if err := dec.Decode(&docs[i]); err != nil {
			return nil, fmt.Errorf("read ovs-vsctl json: table %d of 3: %w", i+1, err)
		}
	}
	return ParseOVS(docs[0], docs[1], docs[2])
}

// ovsTable is ovs-vsctl --format=json output: headings and rows of OVSDB
// values ("x", 1, ["uuid","…"], ["set",[…]], ["map",[[k,v]…]]), decoded
// once into Go values (numbers kept as json.Number).
type ovsTable struct {
	Headings []string `json:"headings"`
	Data     [][]any  `json:"data"`
}

func parseOVSTable(b []byte) ([]map[string]any, error) {
	var t ovsTable
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("read ovs-vsctl json: %w", err)
	}
	rows := make([]map[string]any, 0, len(t.Data))
	for _, d := range t.Data {
		if len(d) != len(t.Headings) {
			return nil, fmt.Errorf("read ovs-vsctl json: a row of %d values for %d columns", len(d), len(t.Headings))
		}
		r := make(map[string]any, len(d))
		for i, h := range t.Headings {
			r[h] = d[i]
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// ovsPair returns a tagged OVSDB value's tag ("uuid", "set", "map") and
// its content.
func ovsPair(v any) (string, any, bool) {
	pair, ok := v.([]any)
	if !ok || len(pair) != 2 {
		return "", nil, false
	}
	tag, ok := pair[0].(string)
	return tag, pair[1], ok
}

// ovsAtom returns a scalar (string or number) as a string, or "" for an
// empty set.
func ovsAtom(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	}
	switch tag, c, _ := ovsPair(v); tag {
	case "uuid":
		return ovsAtom(c)
	case "set":
		if items, ok := c.([]any); ok && len(items) == 1 {
			return ovsAtom(items[0])
		}
	}
	return ""
}

// ovsSet returns the members of a set (or the one atom).
func ovsSet(v any) []string {
	if tag, c, _ := ovsPair(v); tag == "set" {
		items, _ := c.([]any)
		out := make([]string, 0, len(items))
		for _, it := range items {
			out = append(out, ovsAtom(it))
		}
		return out
	}
	if a := ovsAtom(v); a != "" {
		return []string{a}
	}
	return nil
}

func ovsMap(v any) map[string]string {
	out := map[string]string{}
	tag, c, _ := ovsPair(v)
	if tag != "map" {
		return out
	}
	kvs, _ := c.([]any)
	for _, kv := range kvs {
		if p, ok := kv.([]any); ok && len(p) == 2 {
			out[ovsAtom(p[0])] = ovsAtom(p[1])
		}
	}
	return out
}

// ParseOVS reads the Bridge, Port and Interface tables.
func ParseOVS(bridges, ports, ifaces []byte) (*snapshot.OVS, error) {
	br, err := parseOVSTable(bridges)
	if err != nil {
		return nil, err
	}
	pt, err := parseOVSTable(ports)
	if err != nil {
		return nil, err
	}
	it, err := parseOVSTable(ifaces)
	if err != nil {
		return nil, err
	}
	portName := map[string]string{}
	o := &snapshot.OVS{Bridges: []snapshot.OVSBridge{}, Interfaces: []snapshot.OVSInterface{}}
	for _, p := range pt {
		name := ovsAtom(p["name"])
		portName[ovsAtom(p["_uuid"])] = name
		op := snapshot.OVSPort{Name: name, NetUUID: ovsMap(p["other_config"])["net_uuid"]}
		// An empty set is no tag; a number is one (0 included).
		var tag int
		if t := ovsAtom(p["tag"]); t != "" {
			if _, err := fmt.Sscanf(t, "%d", &tag); err == nil {
				op.Tag = &tag
			}
		}
		o.Ports = append(o.Ports, op)
	}
	for _, b := range br {
		ob := snapshot.OVSBridge{Name: ovsAtom(b["name"])}
		for _, u := range ovsSet(b["ports"]) {
			if n := portName[u]; n != "" {
				ob.Ports = append(ob.Ports, n)
			}
		}
		o.Bridges = append(o.Bridges, ob)
	}
	for _, i := range it {
		oi := snapshot.OVSInterface{Name: ovsAtom(i["name"]), Type: ovsAtom(i["type"]), Error: ovsAtom(i["error"])}
		if s := ovsAtom(i["ofport"]); s != "" {
			fmt.Sscanf(s, "%d", &oi.OFPort)
		}
		opts := ovsMap(i["options"])
		oi.RemoteIP, oi.LocalIP = opts["remote_ip"], opts["local_ip"]
		ext := ovsMap(i["external_ids"])
		oi.IfaceID, oi.AttachedMAC = ext["iface-id"], ext["attached-mac"]
		o.Interfaces = append(o.Interfaces, oi)
	}
	return o, nil
}
