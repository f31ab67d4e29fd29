package openstack

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// TestAppendSnapshots: a listing's items are converted in order and
// appended after what dst held; an empty listing leaves nil as nil.
func TestAppendSnapshots(t *testing.T) {
	b, err := os.ReadFile("testdata/lab/healthy/routers_vm1.json")
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Routers []neutronRouter `json:"routers"`
	}
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Routers) == 0 {
		t.Fatal("no router in the recording")
	}
	got := appendSnapshots([]snapshot.Router{{ID: "before"}}, body.Routers)
	if len(got) != 1+len(body.Routers) || got[0].ID != "before" {
		t.Fatalf("got %+v", got)
	}
	for i := range body.Routers {
		if want := body.Routers[i].toSnapshot(); got[1+i].ID != want.ID || got[1+i].Name != want.Name {
			t.Errorf("router %d: %+v, want %+v", i, got[1+i], want)
		}
	}
	if got := appendSnapshots([]snapshot.Router(nil), []neutronRouter{}); got != nil {
		t.Errorf("empty listing: %#v, want nil", got)
	}
}

// TestUnseen: each ID a filtered listing asked for and did not return is a
// forbidden gap naming it; one it returned is none.
func TestUnseen(t *testing.T) {
	k := &collection{snap: &snapshot.Snapshot{Routers: []snapshot.Router{{ID: "r1"}}}}
	unseen(k, snapshot.SourceRouters, []string{"r1", "r2"}, k.snap.Router, "router %s is not visible to this project")
	want := snapshot.Gap{Source: snapshot.SourceRouters, Kind: snapshot.GapForbidden, Subject: "r2", Reason: "router r2 is not visible to this project"}
	if len(k.snap.Gaps) != 1 || k.snap.Gaps[0] != want {
		t.Errorf("gaps %+v, want [%+v]", k.snap.Gaps, want)
	}
}
