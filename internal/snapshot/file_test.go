package snapshot

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// rich is a snapshot with every kind of value set, to survive a round trip.
func rich() *Snapshot {
	yes, no, seg := true, false, 57
	at := time.Date(2026, 3, 14, 2, 47, 9, 123456789, time.UTC)
	return &Snapshot{
		Version: Version, CollectedAt: at, Query: "vm1",
		Cloud: Cloud{AuthURL: "http://192.0.2.10:5000/v3", Region: "RegionOne", User: "admin", Project: "demo", Admin: true},
		Server: &Server{ID: "3f9a2c71-5b8e-4d0a-9c6f-1e2d3b4a5c6d", Name: "vm1", Status: "ERROR", Host: "cmp1", Fault: &Fault{Code: 500, Message: "No valid host", Created: at},
			Addresses: map[string][]ServerAddress{"private": {{Addr: "10.0.0.12", Version: 4, Type: "fixed", MAC: "fa:16:3e:12:34:56"}}}, Created: at},
		Ports: []Port{{ID: "p1", NetworkID: "n1", Status: "ACTIVE", AdminStateUp: true, PortSecurityEnabled: &no,
			FixedIPs: []FixedIP{{SubnetID: "s1", IPAddress: "10.0.0.12"}}, AllowedAddressPairs: []AddressPair{{IPAddress: "10.0.0.0/24"}}}},
		SecurityGroups: []SecurityGroup{{ID: "g1", Name: "default", Stateful: &yes, Rules: []SecurityGroupRule{{ID: "r1", Direction: "ingress", Ethertype: "IPv4", PortRangeMin: &seg, PortRangeMax: &seg}}}},
		Networks:       []Network{{ID: "n1", Name: "private", Status: "ACTIVE", MTU: 1450, Provider: &Provider{NetworkType: "vxlan", SegmentationID: &seg}}},
		Subnets:        []Subnet{{ID: "s1", NetworkID: "n1", CIDR: "10.0.0.0/24", IPVersion: 4, GatewayIP: "10.0.0.1", EnableDHCP: true, HostRoutes: []HostRoute{{Destination: "0.0.0.0/0", NextHop: "10.0.0.254"}}}},
		Agents:         []Agent{{ID: "a1", AgentType: AgentTypeDHCP, Host: "ctl", Alive: true, HeartbeatTimestamp: at, Configurations: json.RawMessage(`{"networks":1}`)}},
		DHCPAgents:     map[string][]string{"n1": {"a1"}},
		L3Agents:       map[string][]L3Hosting{"r1": {{AgentID: "a2", HAState: "active"}}},
		IPAvailability: []NetworkIPAvailability{{NetworkID: "n1", Subnets: []SubnetIPAvailability{{SubnetID: "s1", TotalIPs: "340282366920938463463374607431768211456", UsedIPs: "3"}}}},
		ConsoleLog:     NewConsoleLog("udhcpc: no lease, failing\n\x00\x00\n", 200),
		Gaps:           []Gap{{Source: SourceAgents, Kind: GapForbidden, Reason: "needs admin: agents are hidden", Status: 403}},
		Stats:          Stats{Requests: 13, RoundTrips: 3, Duration: 1234567 * time.Nanosecond},
	}
}

func TestFileRoundTrip(t *testing.T) {
	want := rich()
	var b bytes.Buffer
	if err := Write(&b, want); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "{\n  \"format\": \"hoofbeat-snapshot\",\n  \"version\": 1,\n") || !strings.HasSuffix(b.String(), "}\n") {
		t.Errorf("header:\n%.200s", b.String())
	}
	got, err := Read(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(compacted(got), want) {
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(want)
		t.Errorf("round trip differs:\n%s\n%s", gb, wb)
	}
	// Writing what was read gives the same bytes.
	var again bytes.Buffer
	if err := Write(&again, got); err != nil || !bytes.Equal(again.Bytes(), b.Bytes()) {
		t.Errorf("not stable: %v", err)
	}
	// Compressed, as a snapshot sent by mail would be.
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(b.Bytes())
	zw.Close()
	if got, err := Read(&z); err != nil || !reflect.DeepEqual(compacted(got), want) {
		t.Errorf("gzip: %v", err)
	}
}

// compacted undoes the indentation the file gives raw agent configurations.
func compacted(s *Snapshot) *Snapshot {
	for i := range s.Agents {
		var b bytes.Buffer
		if json.Compact(&b, s.Agents[i].Configurations) == nil {
			s.Agents[i].Configurations = b.Bytes()
		}
	}
	return s
}

func TestReadRefuses(t *testing.T) {
	good := func(edit func(m map[string]any)) string {
		var b bytes.Buffer
		Write(&b, rich())
		var m map[string]any
		json.Unmarshal(b.Bytes(), &m)
		edit(m)
		out, _ := json.Marshal(m)
		return string(out)
	}
	var full bytes.Buffer
	Write(&full, rich())
	cases := []struct {
		name, in string
		kind     FileErrorKind
		msg      string
	}{
		{"empty", "", FileCorrupt, "the file is empty"},
		{"blank", " \n\t", FileCorrupt, "the file is empty"},
		{"binary", "\x00\x01\x02PK\x03\x04", FileCorrupt, "invalid JSON at byte 1"},
		{"truncated", full.String()[:full.Len()/2], FileCorrupt, "cut short"},
		{"trailing garbage", full.String() + "}", FileCorrupt, "invalid JSON"},
		{"broken gzip", "\x1f\x8b\x08\x00garbage", FileCorrupt, "broken gzip"},
		{"array", "[1,2]", FileNotSnapshot, "holds JSON an array, not an object"},
		{"report", `{"schema_version": 1, "tool": "hoofbeat 0.4.0", "findings": []}`, FileNotSnapshot, "not a snapshot but a report"},
		{"other JSON", `{"servers": []}`, FileNotSnapshot, `no "format": "hoofbeat-snapshot" key`},
		{"other format", good(func(m map[string]any) { m["format"] = "terraform-state" }), FileNotSnapshot, `format is "terraform-state"`},
		{"no version", good(func(m map[string]any) { delete(m, "version") }), FileCorrupt, `without a "version"`},
		{"string version", good(func(m map[string]any) { m["version"] = "1" }), FileCorrupt, `version "1" is not a whole number`},
		{"newer", good(func(m map[string]any) { m["version"] = 2 }), FileTooNew, "snapshot version 2 is newer than this hoofbeat reads (1): upgrade hoofbeat"},
		{"older", good(func(m map[string]any) { m["version"] = 0 }), FileTooOld, "snapshot version 0 is older than this hoofbeat reads (1): collect it again"},
		{"wrong type", good(func(m map[string]any) { m["ports"] = "none" }), FileCorrupt, `"ports" holds string where a list belongs`},
		{"wrong nested type", good(func(m map[string]any) { m["server"].(map[string]any)["status"] = 3 }), FileCorrupt, `"server.status" holds number where a string belongs`},
		{"bad time", good(func(m map[string]any) { m["collected_at"] = "yesterday" }), FileCorrupt, "corrupt snapshot"},
		{"server without id", good(func(m map[string]any) { delete(m["server"].(map[string]any), "id") }), FileCorrupt, "the server has no id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Read(strings.NewReader(tc.in))
			var fe *FileError
			if s != nil || !errors.As(err, &fe) {
				t.Fatalf("got %v, %v", s, err)
			}
			if fe.Kind != tc.kind || !strings.Contains(err.Error(), tc.msg) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s: %q, want %s %q", fe.Kind, err, tc.kind, tc.msg)
			}
		})
	}
}

// Unknown keys are a newer hoofbeat's additions within the version: ignored.
func TestReadIgnoresUnknownKeys(t *testing.T) {
	var b bytes.Buffer
	Write(&b, rich())
	in := strings.Replace(b.String(), `"query": "vm1",`, `"query": "vm1", "flavour": {"x": [1]},`, 1)
	if _, err := Read(strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
}

func FuzzRead(f *testing.F) {
	var b bytes.Buffer
	Write(&b, rich())
	f.Add(b.Bytes())
	f.Add([]byte(`{"format":"hoofbeat-snapshot","version":1,"server":{"id":"x"}}`))
	f.Add([]byte(`{"format":"hoofbeat-snapshot","version":1e400}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := Read(bytes.NewReader(in))
		if (s == nil) == (err == nil) {
			t.Fatalf("snapshot %v and error %v", s, err)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("error on two lines: %q", err)
		}
	})
}
