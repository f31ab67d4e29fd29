package rule

import (
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// TestMissingPhrasing pins how a gap reads as a skip reason: "needs admin: "
// once, even over a snapshot whose reason already has it (older
// collectors wrote it), and a rejected token as what it is.
func TestMissingPhrasing(t *testing.T) {
	for _, tc := range []struct {
		gap  snapshot.Gap
		want string
	}{
		{snapshot.Gap{Kind: snapshot.GapForbidden, Reason: "agents are hidden"}, "needs admin: agents are hidden"},
		{snapshot.Gap{Kind: snapshot.GapForbidden, Reason: "needs admin: agents are hidden"}, "needs admin: agents are hidden"},
		{snapshot.Gap{Kind: snapshot.GapUnauthorized, Reason: "the token was rejected (expired or revoked): GET http://ctl:9696/v2.0/agents: 401 Unauthorized"},
			"unauthorized: the token was rejected (expired or revoked): GET http://ctl:9696/v2.0/agents: 401 Unauthorized"},
		{snapshot.Gap{Kind: snapshot.GapError, Reason: "GET http://ctl:9696/v2.0/agents: 500 boom"}, "could not read agents: GET http://ctl:9696/v2.0/agents: 500 boom"},
		{snapshot.Gap{Kind: "from-a-newer-hoofbeat", Reason: "x"}, "could not read agents: x"},
	} {
		tc.gap.Source = snapshot.SourceAgents
		s := &snapshot.Snapshot{Gaps: []snapshot.Gap{tc.gap}}
		got, skip := missing(s, []string{snapshot.SourcePorts, snapshot.SourceAgents})
		if !skip || got != tc.want {
			t.Errorf("%s %q: got %q, %v; want %q", tc.gap.Kind, tc.gap.Reason, got, skip, tc.want)
		}
	}
	if r, skip := missing(&snapshot.Snapshot{}, []string{snapshot.SourceAgents}); skip {
		t.Errorf("no gap: skipped with %q", r)
	}
}
