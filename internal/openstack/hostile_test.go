package openstack

import (
	"bytes"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// stream is a handler that writes a generated body, never held in memory,
// and counts what it wrote; done is closed when it returns.
type stream struct {
	status  int
	headers map[string]string
	// head, item and tail make the body: head, items while size allows
	// (forever when size <= 0), tail.
	head, item, tail string
	size             int64
	// stall, after the first MiB, waits for the client to hang up instead
	// of writing on.
	stall bool

	written atomic.Int64
	done    chan struct{}
}

func (s *stream) handler() http.HandlerFunc {
	s.done = make(chan struct{})
	return func(w http.ResponseWriter, r *http.Request) {
		defer close(s.done)
		for k, v := range s.headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(coalesceInt(s.status, http.StatusOK))
		write := func(b []byte) bool {
			n, err := w.Write(b)
			s.written.Add(int64(n))
			return err == nil
		}
		if !write([]byte(s.head)) {
			return
		}
		chunk := bytes.Repeat([]byte(s.item), 64<<10/len(s.item)+1)
		for s.size <= 0 || s.written.Load()+int64(len(chunk)+len(s.tail)) <= s.size {
			if s.stall && s.written.Load() > 1<<20 {
				<-r.Context().Done()
				return
			}
			if !write(chunk) {
				return
			}
		}
		for s.written.Load()+int64(len(s.item)+len(s.tail)) <= s.size {
			if !write([]byte(s.item)) {
				return
			}
		}
		write([]byte(s.tail))
	}
}

// wait waits for the handler to return, so that written is final.
func (s *stream) wait(t *testing.T) int64 {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the server is still writing 10s after the collection ended")
	}
	return s.written.Load()
}

func coalesceInt(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// agentItem is one agent of a generated list (the same one, repeated).
const agentItem = `{"id":"9e0c6a1f-52ad-4d43-8b5a-3f1e2d4c5b6a","agent_type":"DHCP agent","binary":"neutron-dhcp-agent","host":"ctl","alive":true,"admin_state_up":true,"availability_zone":"nova","configurations":{}},`

// hugeBodySize is the size of TestCollectHugeBody's answer: 128 MiB, or
// HOOFBEAT_HUGE_BODY bytes ("1073741824") to measure peak memory against
// a 1 GiB answer (see the test's comment).
func hugeBodySize(t *testing.T) int64 {
	v := os.Getenv("HOOFBEAT_HUGE_BODY")
	if v == "" {
		return 2 * MaxBodyBytes
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= MaxBodyBytes {
		t.Fatalf("HOOFBEAT_HUGE_BODY=%q: want a byte count above %d", v, MaxBodyBytes)
	}
	return n
}

// TestCollectHugeBody: an answer past MaxBodyBytes is not read (the client
// stops at the cap), not retried, and becomes a gap saying so; the rest of
// the collection goes on. Peak memory against a 1 GiB answer:
//
//	go test -c -o /tmp/openstack.test ./internal/openstack/
//	HOOFBEAT_HUGE_BODY=1073741824 /usr/bin/time -v /tmp/openstack.test -test.run '^TestCollectHugeBody$' -test.count=1
func TestCollectHugeBody(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	// Bounded, so that without the cap the test fails rather than hangs.
	c := connect(t, fc, fakeos.AdminUser, func(o *Options) { o.Timeout = 60 * time.Second; o.Retries = 1 })
	size := hugeBodySize(t)
	st := &stream{headers: map[string]string{"Content-Type": "application/json"},
		head: `{"agents":[`, item: agentItem, tail: strings.TrimSuffix(agentItem, ",") + `]}`, size: size}
	fc.Inject(fakeos.Fault{Method: "GET", Path: "/networking/v2.0/agents", Handler: st.handler()})

	start := time.Now()
	s := collect(t, c, fakeos.ServerID, CollectOptions{})
	written := st.wait(t)
	t.Logf("answer of %d MiB: %d MiB written before the client hung up, collection took %v", size>>20, written>>20, time.Since(start).Round(time.Millisecond))

	g := gap(t, s, snapshot.SourceAgents, "")
	if g.Kind != snapshot.GapError || !strings.HasSuffix(g.Reason, "/networking/v2.0/agents: answer larger than 64 MiB, not read") ||
		!strings.HasPrefix(g.Reason, "GET http://127.0.0.1:") {
		t.Errorf("gap = %+v", g)
	}
	if s.Agents != nil {
		t.Errorf("%d agents kept from a cut answer", len(s.Agents))
	}
	if n := fc.Count("GET /networking/v2.0/agents"); n != 1 {
		t.Errorf("agent list asked %d times, want 1: the same answer would come again", n)
	}
	// The socket buffers hold a few MiB more than the client read.
	if written > MaxBodyBytes+16<<20 {
		t.Errorf("the server wrote %d MiB: the client read past the cap", written>>20)
	}
	if s.Server == nil || len(s.Ports) != 1 || len(s.DHCPAgents) != 1 {
		t.Errorf("the rest of the collection is missing: server %v, ports %d, dhcp agents %v", s.Server, len(s.Ports), s.DHCPAgents)
	}
}

// TestCollectHugeBodyAnnounced: an answer whose Content-Length is past the
// cap fails at once, without waiting for its bytes.
func TestCollectHugeBodyAnnounced(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	c := connect(t, fc, fakeos.AdminUser, func(o *Options) { o.Timeout = 3 * time.Second; o.Retries = -1 })
	st := &stream{headers: map[string]string{"Content-Type": "application/json", "Content-Length": strconv.FormatInt(1<<40, 10)},
		head: `{"agents":[`, item: agentItem, stall: true}
	fc.Inject(fakeos.Fault{Method: "GET", Path: "/networking/v2.0/agents", Handler: st.handler()})
	start := time.Now()
	s := collect(t, c, fakeos.ServerID, CollectOptions{})
	st.wait(t)
	if g := gap(t, s, snapshot.SourceAgents, ""); g.Kind != snapshot.GapError || !strings.HasSuffix(g.Reason, ": answer larger than 64 MiB, not read") {
		t.Errorf("gap = %+v", g)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v: waited for the body", d)
	}
}

// TestCollectHugeErrorBody: an error answer is read up to 1 MiB, which is
// plenty for its message, and its message stays one short line.
func TestCollectHugeErrorBody(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	c := connect(t, fc, fakeos.AdminUser, func(o *Options) { o.Timeout = 60 * time.Second; o.Retries = -1 })
	st := &stream{status: http.StatusInternalServerError, headers: map[string]string{"Content-Type": "text/plain"},
		item: "aΩbc ", size: 2 * MaxBodyBytes}
	fc.Inject(fakeos.Fault{Method: "GET", Path: "/networking/v2.0/agents", Handler: st.handler()})
	s := collect(t, c, fakeos.ServerID, CollectOptions{})
	written := st.wait(t)
	g := gap(t, s, snapshot.SourceAgents, "")
	if g.Kind != snapshot.GapError || g.Status != 500 || len(g.Reason) > 400 || !strings.Contains(g.Reason, ": 500 aΩbc aΩbc") {
		t.Errorf("gap = %+v", g)
	}
	// 200 bytes of "aΩbc aΩbc …" end inside an Ω.
	if !strings.HasSuffix(g.Reason, "…") || !utf8.ValidString(g.Reason) {
		t.Errorf("reason not cut on a character boundary: %q", g.Reason)
	}
	if written > 16<<20 {
		t.Errorf("the server wrote %d MiB of an error answer: the client read past 1 MiB", written>>20)
	}
}
