package host

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// parsers maps a testdata folder to the parser of its files: real outputs
// of the tool, each with a golden JSON of what hoofbeat reads from it.
var parsers = map[string]func([]byte) (any, error){
	"ip": func(b []byte) (any, error) {
		if bytes.Contains(b, []byte(`"dst"`)) {
			return ParseIPRoute(b)
		}
		return ParseIPAddr(b)
	},
	"fdb":   func(b []byte) (any, error) { return ParseFDB(b) },
	"netns": func(b []byte) (any, error) { return ParseNetnsBatch(b) },
	"ps":    func(b []byte) (any, error) { return ParsePS(b) },
	"ss":    func(b []byte) (any, error) { return ParseSS(b) },
	"audit": func(b []byte) (any, error) {
		a, err := ParseAudit(b)
		return map[string]any{"avcs": a, "audit2allow": Audit2Allow(a)}, err
	},
	"logs": func(b []byte) (any, error) {
		errs, before := ScanLog("agent.log", b)
		return map[string]any{"errors": errs, "before_start": before}, nil
	},
	"libvirt": func(b []byte) (any, error) { return ParseDomains(b) },
	"nova-conf": func(b []byte) (any, error) {
		return ParseNovaConf(map[string][]byte{"nova.conf": b}, []string{"nova.conf"})
	},
}

func TestParsersGolden(t *testing.T) {
	for tool, parse := range parsers {
		files, _ := filepath.Glob(filepath.Join("testdata", tool, "*"))
		n := 0
		for _, f := range files {
			if strings.HasSuffix(f, ".golden.json") {
				continue
			}
			n++
			t.Run(tool+"/"+filepath.Base(f), func(t *testing.T) {
				in, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				v, err := parse(in)
				if err != nil {
					t.Fatalf("parse: %v", err)
				}
				got, _ := json.MarshalIndent(v, "", "  ")
				got = append(got, '\n')
				golden := strings.TrimSuffix(f, filepath.Ext(f)) + ".golden.json"
				if *update {
					if err := os.WriteFile(golden, got, 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test -update)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs from %s:\n%s", f, golden, got)
				}
			})
		}
		if n == 0 {
			t.Errorf("no test data for %s", tool)
		}
	}
}

func TestOVSGolden(t *testing.T) {
	dir := filepath.Join("testdata", "ovs", "br-tun-error")
	read := func(n string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	o, err := ParseOVS(read("bridge.json"), read("port.json"), read("iface.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.MarshalIndent(o, "", "  ")
	got = append(got, '\n')
	golden := filepath.Join("testdata", "ovs", "br-tun-error.golden.json")
	if *update {
		os.WriteFile(golden, got, 0o644)
		return
	}
	want, _ := os.ReadFile(golden)
	if !bytes.Equal(got, want) {
		t.Errorf("ovs differs from golden:\n%s", got)
	}
}

// Bad input: every parser refuses garbage, truncated and wrong-tool output
// with an error, never a panic.
func TestParsersRefuseGarbage(t *testing.T) {
	bad := []string{"garbage", `[{"ifname": "lo"`, "\x00\x01\x02", `{"nftables": 1}`, "LISTEN 0 128 notanaddress users:"}
	for tool, parse := range parsers {
		if tool == "logs" || tool == "audit" || tool == "nova-conf" {
			continue // lenient by design: they scan for what they know
		}
		for _, in := range bad {
			if tool == "netns" && !strings.Contains(in, "@@") && in != "" {
				// text before the first namespace marker is refused
			}
			if _, err := parse([]byte(in)); err == nil && in != "" {
				if tool == "ps" && in == "garbage" {
					continue
				}
				t.Errorf("%s accepted %q", tool, in)
			}
		}
	}
	if _, err := ParseGetenforce([]byte("sh: getenforce: not found")); err == nil {
		t.Error("getenforce accepted an error message")
	}
	if m, err := ParseGetenforce([]byte("Enforcing\n")); err != nil || m != "Enforcing" {
		t.Errorf("getenforce: %q %v", m, err)
	}
	if _, err := ParseOVS([]byte(`{"data":[["a"]],"headings":["name","ports"]}`), []byte(`{}`), []byte(`{}`)); err == nil {
		t.Error("ovs accepted a short row")
	}
}

func fuzzSeeds(f *testing.F, tool string) {
	files, _ := filepath.Glob(filepath.Join("testdata", tool, "*"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && !strings.HasSuffix(p, ".golden.json") {
			f.Add(b)
		}
	}
}

func FuzzIPAddr(f *testing.F) {
	fuzzSeeds(f, "ip")
	f.Fuzz(func(t *testing.T, b []byte) { ParseIPAddr(b); ParseIPRoute(b); ParseNeighMAC(b) })
}

func FuzzFDB(f *testing.F) {
	fuzzSeeds(f, "fdb")
	f.Fuzz(func(t *testing.T, b []byte) { ParseFDB(b) })
}

func FuzzNetnsBatch(f *testing.F) {
	fuzzSeeds(f, "netns")
	f.Fuzz(func(t *testing.T, b []byte) { ParseNetnsBatch(b) })
}

func FuzzPS(f *testing.F) {
	fuzzSeeds(f, "ps")
	f.Fuzz(func(t *testing.T, b []byte) { ParsePS(b) })
}

func FuzzSS(f *testing.F) {
	fuzzSeeds(f, "ss")
	f.Fuzz(func(t *testing.T, b []byte) { ParseSS(b) })
}

func FuzzAudit(f *testing.F) {
	fuzzSeeds(f, "audit")
	f.Fuzz(func(t *testing.T, b []byte) {
		a, _ := ParseAudit(b)
		Audit2Allow(a)
		ParseGetenforce(b)
	})
}

func FuzzLogs(f *testing.F) {
	fuzzSeeds(f, "logs")
	f.Fuzz(func(t *testing.T, b []byte) {
		errs, before := ScanLog("x.log", b)
		for _, l := range append(errs, before...) {
			if l.Count < 1 || l.Line == "" {
				t.Fatalf("empty entry %+v", l)
			}
		}
	})
}

func FuzzDomains(f *testing.F) {
	fuzzSeeds(f, "libvirt")
	f.Fuzz(func(t *testing.T, b []byte) { ParseDomains(b) })
}

func FuzzNovaConf(f *testing.F) {
	fuzzSeeds(f, "nova-conf")
	f.Fuzz(func(t *testing.T, b []byte) { ParseNovaConf(map[string][]byte{"a": b}, []string{"a"}) })
}

func FuzzOVS(f *testing.F) {
	dir := filepath.Join("testdata", "ovs", "br-tun-error")
	for _, n := range []string{"bridge.json", "port.json", "iface.json"} {
		b, _ := os.ReadFile(filepath.Join(dir, n))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) { ParseOVS(b, b, b) })
}

// TestScanLogPastAHugeLine: a line longer than the scanner's limit must not
// end the scan and hide the error lines after it.
func TestScanLogPastAHugeLine(t *testing.T) {
	log := strings.Repeat("x", 2*maxLine) + "\n" +
		"2026-11-21 11:41:07.311 29388 ERROR neutron.agent.linux.utils [-] Exit code: 2; Stderr: RTNETLINK answers: File exists\n"
	got, _ := ScanLog("l3-agent.log", []byte(log))
	if len(got) != 1 || got[0].Pattern != "rtnetlink" {
		t.Fatalf("ScanLog after a %d-byte line = %+v, want the rtnetlink line", 2*maxLine, got)
	}
}

// TestScanLogAcrossRestarts: errors before the agent's last start are
// history, kept apart and merged per pattern; those after it count.
func TestScanLogAcrossRestarts(t *testing.T) {
	log := `2026-11-21 13:25:53.298 5802 ERROR neutron.agent.l3.agent [-] Failed reporting state!: oslo_messaging.exceptions.MessagingTimeout: Timed out
2026-11-21 13:30:00.001 5802 ERROR neutron.agent.linux.utils [-] Exit code: 2; Stderr: RTNETLINK answers: File exists
2026-11-21 13:48:13.359 2129 INFO neutron.common.config [-] Logging enabled!
2026-11-21 13:49:00.000 2129 ERROR neutron.agent.l3.agent [-] Failed reporting state!: oslo_messaging.exceptions.MessagingTimeout: Timed out
2026-11-21 13:52:08.421 2298 INFO neutron.common.config [-] Logging enabled!
2026-11-21 13:52:10.000 2298 INFO neutron.agent.l3.agent [-] Agent has just been revived. Doing a full sync.
2026-11-21 13:55:00.000 2298 ERROR neutron.agent.linux.utils [-] Exit code: 2; Stderr: RTNETLINK answers: Operation not permitted
`
	errs, before := ScanLog("l3.log", []byte(log))
	if len(errs) != 1 || errs[0].Pattern != "rtnetlink" || errs[0].Count != 1 || !strings.Contains(errs[0].Line, "Operation not permitted") {
		t.Errorf("since the last start: %+v", errs)
	}
	want := map[string]int{"agent report failed": 2, "rtnetlink": 1}
	if len(before) != 2 {
		t.Fatalf("before the last start: %+v", before)
	}
	for _, l := range before {
		if want[l.Pattern] != l.Count {
			t.Errorf("before the last start: %s counted %d, want %d", l.Pattern, l.Count, want[l.Pattern])
		}
	}
	if !strings.Contains(before[0].Line, "13:49:00") {
		t.Errorf("the last line of a pattern is the latest: %s", before[0].Line)
	}
	// nova-compute's start.
	errs, before = ScanLog("nova-compute.log", []byte("2026-11-21 13:40:00.000 1 ERROR nova.compute.manager [-] AMQP server on 192.0.2.10:5672 is unreachable\n"+
		"2026-11-21 13:48:18.118 2244 INFO nova.service [-] Starting compute node (version 26.2.2)\n"))
	if len(errs) != 0 || len(before) != 1 {
		t.Errorf("nova-compute restarted after the error: %+v / %+v", errs, before)
	}
}

// Only the processes rules read leave the host, without credentials.
func TestEvidenceProcesses(t *testing.T) {
	in := []snapshot.Process{
		{PID: 1, User: "root", Args: "/sbin/init"},
		{PID: 2, User: "mysql", Args: "mysql -uroot -pS3cret nova"},
		{PID: 3, User: "nobody", Args: "dnsmasq --no-hosts --pid-file=/var/lib/neutron/dhcp/n1/pid"},
		{PID: 4, User: "nova", Args: "/usr/bin/python3 /usr/bin/nova-compute --config-file /etc/nova/nova.conf"},
		{PID: 5, User: "neutron", Args: "neutron-server: rpc worker (/usr/bin/python3 /usr/bin/neutron-server)"},
		{PID: 6, User: "libvirt-qemu", Args: "/usr/bin/qemu-system-x86_64 -name guest=instance-1 -uuid 3f2a -object secret,id=masterKey0,format=raw,file=/var/lib/libvirt/qemu/k -object secret,id=disk0-secret0,data=c2VjcmV0,keyid=masterKey0,iv=aXY= -spice port=5900,password=hunter2"},
		{PID: 7, User: "root", Args: "curl -u admin:pw http://10.0.0.1/"},
		{PID: 8, User: "root", Args: "/usr/bin/python3 /usr/local/bin/my-dnsmasq-wrapper"},
	}
	got := EvidenceProcesses(in)
	var pids []int
	for _, p := range got {
		pids = append(pids, p.PID)
		for _, secret := range []string{"S3cret", "c2VjcmV0", "hunter2", "admin:pw"} {
			if strings.Contains(p.Args, secret) {
				t.Errorf("pid %d keeps %q: %s", p.PID, secret, p.Args)
			}
		}
	}
	if !slices.Equal(pids, []int{3, 4, 5, 6}) {
		t.Errorf("kept %v, want dnsmasq, nova-compute, neutron-server, qemu", pids)
	}
	if q := got[len(got)-1].Args; !strings.Contains(q, "-uuid 3f2a") || !strings.Contains(q, "data=REDACTED,keyid=masterKey0") {
		t.Errorf("qemu: %s", q)
	}
}

// TestRowsNameTheLine: the line-per-record parsers (ps, ss) skip blank
// lines and name the tool and the line of what they refuse.
func TestRowsNameTheLine(t *testing.T) {
	ctl, err := os.ReadFile(filepath.Join("testdata", "ps", "ctl.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := ParsePS(ctl)
	if err != nil || len(want) == 0 {
		t.Fatalf("%d processes, %v", len(want), err)
	}
	got, err := ParsePS(append([]byte("\n  \n"), ctl...))
	if err != nil || len(got) != len(want) {
		t.Errorf("blank lines first: %d processes, %v; want %d", len(got), err, len(want))
	}
	for _, c := range []struct {
		parse func([]byte) error
		in    string
		want  string
	}{
		{func(b []byte) error { _, err := ParsePS(b); return err }, "\n1 root init\nx root sh\n", `read ps: line 3: pid "x"`},
		{func(b []byte) error { _, err := ParsePS(b); return err }, "1 root\n", `read ps: line 1: want pid, user and command, got "1 root"`},
		{func(b []byte) error { _, err := ParseSS(b); return err }, "LISTEN 0 128\n", `read ss: line 1: "LISTEN 0 128"`},
		{func(b []byte) error { _, err := ParseSS(b); return err }, "\nLISTEN 0 128 0.0.0.0:x 0.0.0.0:*\n", `read ss: line 2: address "0.0.0.0:x": bad port`},
	} {
		if err := c.parse([]byte(c.in)); err == nil || err.Error() != c.want {
			t.Errorf("%q: %v, want %s", c.in, err, c.want)
		}
	}
}
