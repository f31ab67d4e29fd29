// Package snapshottest loads the snapshots recorded in the lab for tests:
// examples/snapshots/ and internal/rule/testdata/ovn/.
package snapshottest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// root is the module's directory, found from this file's, so that any
// package's tests can name the recordings the same way.
func root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// Load reads the snapshot at path, relative to the module's root.
func Load(t testing.TB, path string) *snapshot.Snapshot {
	t.Helper()
	f, err := os.Open(filepath.Join(root(), path))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := snapshot.Read(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s
}

// Example reads examples/snapshots/NAME.json.
func Example(t testing.TB, name string) *snapshot.Snapshot {
	t.Helper()
	return Load(t, filepath.Join("examples", "snapshots", name+".json"))
}

// OVNLab reads internal/rule/testdata/ovn/NAME.json, a scenario of the OVN
// lab checked with --hosts.
func OVNLab(t testing.TB, name string) *snapshot.Snapshot {
	t.Helper()
	return Load(t, filepath.Join("internal", "rule", "testdata", "ovn", name+".json"))
}
