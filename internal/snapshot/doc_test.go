package snapshot

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// TestSchemaDocumented: every key a snapshot file can hold is named in
// docs/snapshot.md (the host facts are documented with host.go).
func TestSchemaDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/snapshot.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type, string)
	walk = func(ty reflect.Type, path string) {
		for ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Slice || ty.Kind() == reflect.Map {
			ty = ty.Elem()
		}
		if ty.Kind() != reflect.Struct || seen[ty] || ty.PkgPath() != reflect.TypeOf(Snapshot{}).PkgPath() || ty == reflect.TypeOf(Host{}) {
			return
		}
		seen[ty] = true
		for i := 0; i < ty.NumField(); i++ {
			f := ty.Field(i)
			key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if key == "" || key == "-" {
				continue
			}
			if !regexp.MustCompile(`(^|[^a-z_])` + key + `([^a-z_]|$)`).Match(doc) {
				t.Errorf("%s.%s: key %q is not in docs/snapshot.md", path, f.Name, key)
			}
			walk(f.Type, path+"."+f.Name)
		}
	}
	walk(reflect.TypeOf(Snapshot{}), "Snapshot")
	for _, src := range []string{SourceServer, SourcePorts, SourceSecurityGroups, SourceNetworks, SourceSubnets, SourceNetworkPorts,
		SourceRouters, SourceFloatingIPs, SourceAgents, SourceDHCPAgents, SourceL3Agents, SourceIPAvailability, SourceRemoteGroups,
		SourceProviderFields, SourceServerHost, SourceConsoleLog, SourceHosts} {
		if !strings.Contains(string(doc), "`"+src+"`") {
			t.Errorf("gap source %q is not in docs/snapshot.md", src)
		}
	}
}
