package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/host"
	"github.com/hoofbeat/hoofbeat/internal/run"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// BenchmarkOVNLargeNB diagnoses vm1 with --hosts against the recording of
// an NB grown to 10,000 logical switch ports and 50,000 ACLs
// (bench/ovn-large-nb.sh): it reports the OVN commands run and the bytes
// they answered per diagnosis, which must not grow with the database.
func BenchmarkOVNLargeNB(b *testing.B) {
	dir := filepath.Join("testdata", "ovn-large")
	f, err := os.Open(filepath.Join(dir, "api-vm1.json"))
	if err != nil {
		b.Fatal(err)
	}
	api, err := snapshot.Read(f)
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	replay, err := run.LoadReplay(filepath.Join(dir, "ctl"))
	if err != nil {
		b.Fatal(err)
	}
	reach := func(names []string, roles map[string][]string) ([]host.Target, func() error, error) {
		var ts []host.Target
		for _, n := range names {
			ts = append(ts, host.Target{Name: n, Roles: roles[n], Runner: replay, Via: "replay", Namespaces: noNamespaces{}})
		}
		return ts, func() error { return nil }, nil
	}
	var cmds, bytes int
	b.ReportAllocs()
	for b.Loop() {
		s := *api
		res, err := Run(context.Background(), Request{From: Stored{Snapshot: &s}, Hosts: &HostCheck{Reach: reach}})
		if err != nil {
			b.Fatal(err)
		}
		o := res.Snapshot.Hosts[0].OVN
		if o == nil || o.NB == nil || len(o.Traces) == 0 {
			b.Fatalf("OVN not read: %+v", o)
		}
		cmds, bytes = o.Commands, o.Bytes
	}
	b.ReportMetric(float64(cmds), "ovn-cmds/op")
	b.ReportMetric(float64(bytes), "ovn-bytes/op")
}

// noNamespaces stands for the namespaces, not what is measured here.
type noNamespaces struct{}

func (noNamespaces) Namespaces(context.Context) ([]snapshot.Namespace, error) { return nil, nil }
