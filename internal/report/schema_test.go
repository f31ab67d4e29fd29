package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

const schemaFile = "../../docs/output.schema.json"

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("read %s: %v", schemaFile, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("output.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("output.schema.json")
	if err != nil {
		t.Fatalf("compile %s: %v", schemaFile, err)
	}
	return sch
}

// Every JSON golden, and the document for a server that was not found,
// conforms to docs/output.schema.json.
func TestJSONMatchesSchema(t *testing.T) {
	sch := compileSchema(t)
	files, err := filepath.Glob(filepath.Join("testdata", "*.json.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(cases) {
		t.Fatalf("%d JSON goldens, want %d", len(files), len(cases))
	}
	var docs = map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs[f] = b
	}
	var b bytes.Buffer
	if err := JSON(&b, notFound()); err != nil {
		t.Fatal(err)
	}
	docs["server not found"] = b.Bytes()
	// A diagnosis with hosts, and hoofbeat host's document.
	var s snapshot.Snapshot
	if err := json.Unmarshal(readExample(t, "vxlan-blocked"), &s); err != nil {
		t.Fatal(err)
	}
	var withHosts, hosts bytes.Buffer
	if err := JSON(&withHosts, &Report{Snapshot: &s, Result: rule.Evaluate(&rule.Input{Snapshot: &s}, rule.Options{})}); err != nil {
		t.Fatal(err)
	}
	docs["diagnose --hosts"] = withHosts.Bytes()
	if !bytes.Contains(withHosts.Bytes(), []byte(`"hosts": [`)) {
		t.Error("diagnose --hosts: the JSON lists no hosts")
	}
	hostsOnly := &snapshot.Snapshot{Hosts: s.Hosts}
	if err := HostsJSON(&hosts, &HostsReport{Hosts: s.Hosts, Result: rule.EvaluateHosts(&rule.Input{Snapshot: hostsOnly}, rule.Options{})}); err != nil {
		t.Fatal(err)
	}
	docs["hoofbeat host"] = hosts.Bytes()
	// A port without a server, diagnosed alone.
	var port snapshot.Snapshot
	if err := json.Unmarshal(readExample(t, "healthy"), &port); err != nil {
		t.Fatal(err)
	}
	port.Server, port.ConsoleLog, port.Hosts = nil, nil, nil
	port.Ports = port.NetworkPorts[:1]
	port.Target = &snapshot.Target{By: snapshot.TargetAddress, PortID: port.Ports[0].ID}
	var portDoc bytes.Buffer
	if err := JSON(&portDoc, &Report{Snapshot: &port, Result: rule.Evaluate(&rule.Input{Snapshot: &port}, rule.Options{})}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(portDoc.Bytes(), []byte(`"target": {`)) {
		t.Error("a port's diagnosis has no target")
	}
	docs["a port alone"] = portDoc.Bytes()
	for name, b := range docs {
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("%s does not match %s:\n%v", name, schemaFile, err)
		}
	}
}

// The schema is strict enough to catch drift: a missing key or a bad
// status fails it. Keys added within the version pass: the docs promise
// them, and a consumer validating with this schema must not break on them.
func TestSchemaRejectsDrift(t *testing.T) {
	sch := compileSchema(t)
	added := `{"schema_version":1,"tool":"","checked_at":null,"cloud":{"auth_url":"","region":"","user":"","project":"","admin":false,"added":1},"query":"","server":null,"flows":[],"path":[],"findings":[],"skipped":[],"passed":[],"not_applicable":[],"summary":{"errors":0,"warnings":0,"infos":0,"passed":0,"skipped":0,"not_applicable":0,"most_likely_cause":null,"verdict":""},"extra":1}`
	if inst, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(added))); err != nil {
		t.Fatal(err)
	} else if err := sch.Validate(inst); err != nil {
		t.Errorf("a document with added keys fails the schema: %v", err)
	}
	for name, doc := range map[string]string{
		"missing key":  `{"schema_version":1,"tool":"","checked_at":null,"cloud":{"auth_url":"","region":"","user":"","project":"","admin":false},"query":"","server":null,"flows":[],"path":[],"findings":[],"skipped":[],"passed":[]}`,
		"wrong status": `{"schema_version":1,"tool":"","checked_at":null,"cloud":{"auth_url":"","region":"","user":"","project":"","admin":false},"query":"","server":null,"flows":[],"path":[{"hop":"port","port_id":"","status":"PROBLEM","resource":null,"resources":[],"detail":"","findings":[]}],"findings":[],"skipped":[],"passed":[],"summary":{"errors":0,"warnings":0,"infos":0,"passed":0,"skipped":0,"most_likely_cause":null,"verdict":""}}`,
	} {
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(doc)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if sch.Validate(inst) == nil {
			t.Errorf("%s: the schema accepts it", name)
		}
	}
}
