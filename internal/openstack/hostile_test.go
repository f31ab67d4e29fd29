package openstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
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

// elsewhere is a second server, on another port, that records whether a
// request reached it with a token.
type elsewhere struct {
	*httptest.Server
	hits, tokens atomic.Int32
	bodies       atomic.Int32
}

func startElsewhere(t *testing.T) *elsewhere {
	e := &elsewhere{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.hits.Add(1)
		if r.Header.Get("X-Auth-Token") != "" {
			e.tokens.Add(1)
		}
		if b, _ := io.ReadAll(r.Body); len(b) > 0 {
			e.bodies.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ports": [], "agents": [], "token": {}}`)
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *elsewhere) check(t *testing.T) {
	t.Helper()
	if n, tok, b := e.hits.Load(), e.tokens.Load(), e.bodies.Load(); n != 0 {
		t.Errorf("the other server got %d requests, %d with the token, %d with a body", n, tok, b)
	}
}

// TestTokenStaysOnEndpoint: the token goes only to the scheme, host and
// port of the endpoint called. A "next" link or a redirect elsewhere is a
// gap (or, for the server itself, the error), and the other server gets
// no request at all.
func TestTokenStaysOnEndpoint(t *testing.T) {
	t.Run("ports_links next on another port", func(t *testing.T) {
		fc := fakeos.Start(t, fakeos.Standard())
		other := startElsewhere(t)
		c := connect(t, fc, fakeos.AdminUser)
		fc.Inject(fakeos.Fault{Method: "GET", Path: "/networking/v2.0/ports", Query: "device_id=", Handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"ports": [], "ports_links": [{"rel": "next", "href": %q}]}`, other.URL+"/networking/v2.0/ports?device_id="+fakeos.ServerID+"&marker=x")
		}})
		s := collect(t, c, fakeos.ServerID, CollectOptions{})
		other.check(t)
		g := gap(t, s, snapshot.SourcePorts, fakeos.ServerID)
		want := "next page link to " + other.URL + "/networking/v2.0/ports?device_id=" + fakeos.ServerID + "&marker=x refused: it leaves " + fc.URL() + ", the only place the token is sent"
		if g.Kind != snapshot.GapError || !strings.HasPrefix(g.Reason, "GET "+fc.URL()+"/networking/v2.0/ports?") || !strings.HasSuffix(g.Reason, want) {
			t.Errorf("gap = %+v\nwant the reason to end with %q", g, want)
		}
	})
	t.Run("servers_links next on another scheme", func(t *testing.T) {
		fc := fakeos.Start(t, fakeos.Standard())
		c := connect(t, fc, fakeos.AdminUser)
		next := strings.Replace(fc.URL(), "http://", "https://", 1) + "/compute/v2.1/servers/detail?marker=x"
		fc.Inject(fakeos.Fault{Method: "GET", Path: "/compute/v2.1/servers/detail", Handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"servers": [], "servers_links": [{"rel": "next", "href": %q}]}`, next)
		}})
		_, err := c.Collect(context.Background(), "vm1", CollectOptions{})
		wantError(t, err, KindAPI, "next page link to "+next+" refused")
		if n := fc.Count("GET /compute/v2.1/servers/detail"); n != 1 {
			t.Errorf("server search asked %d times", n)
		}
	})
	t.Run("302 to another port", func(t *testing.T) {
		fc := fakeos.Start(t, fakeos.Standard())
		other := startElsewhere(t)
		c := connect(t, fc, fakeos.AdminUser)
		fc.Inject(fakeos.Fault{Method: "GET", Path: "/networking/v2.0/agents", Handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/networking/v2.0/agents", http.StatusFound)
		}})
		s := collect(t, c, fakeos.ServerID, CollectOptions{})
		other.check(t)
		g := gap(t, s, snapshot.SourceAgents, "")
		want := "GET " + fc.URL() + "/networking/v2.0/agents: redirect to " + other.URL + "/networking/v2.0/agents refused: it leaves " + fc.URL() + ", the only place the token is sent"
		if g.Kind != snapshot.GapError || g.Reason != want {
			t.Errorf("gap = %+v\nwant reason %q", g, want)
		}
		if n := fc.Count("GET /networking/v2.0/agents"); n != 1 {
			t.Errorf("agent list asked %d times: a refused redirect is not retried", n)
		}
	})
	t.Run("307 of the password to another port", func(t *testing.T) {
		fc := fakeos.Start(t, fakeos.Standard())
		other := startElsewhere(t)
		fc.Inject(fakeos.Fault{Method: "POST", Path: "/identity/v3/auth/tokens", Handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/identity/v3/auth/tokens", http.StatusTemporaryRedirect)
		}})
		_, err := Connect(context.Background(), testOptions(fc.PasswordEnv(fakeos.AdminUser)))
		other.check(t)
		wantError(t, err, KindAPI, "redirect to "+other.URL+"/identity/v3/auth/tokens refused")
	})
	t.Run("redirect on the endpoint is followed", func(t *testing.T) {
		fc := fakeos.Start(t, fakeos.Standard())
		c := connect(t, fc, fakeos.AdminUser)
		fc.Inject(fakeos.Fault{Method: "GET", Path: "/networking/v2.0/agents", Times: 1, Handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/networking/v2.0/agents", http.StatusMovedPermanently)
		}})
		s := collect(t, c, fakeos.ServerID, CollectOptions{})
		noGaps(t, s)
		if len(s.Agents) != 5 {
			t.Errorf("agents = %d", len(s.Agents))
		}
	})
}

func TestOrigin(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"http://ctl:9696/v2.0/ports", "http://CTL:9696/v2.0/ports?marker=x", true},
		{"http://ctl/v2.0/ports", "http://ctl:80/v2.0/ports", true},
		{"https://ctl/v2.0/ports", "https://ctl:443/x", true},
		{"https://ctl/v2.0/ports", "http://ctl:443/x", false},
		{"http://ctl:9696/", "http://ctl:9697/", false},
		{"http://ctl:9696/", "http://ctl.evil:9696/", false},
		{"http://[::1]:9696/", "http://[::1]:9696/x", true},
		{"http://[::1]:9696/", "http://[::2]:9696/x", false},
		{"http://ctl:9696/", "http://user@ctl:9696/", true},
	} {
		a, _ := url.Parse(tc.a)
		b, _ := url.Parse(tc.b)
		if got := origin(a) == origin(b); got != tc.same {
			t.Errorf("%s vs %s: same = %v (%s, %s)", tc.a, tc.b, got, origin(a), origin(b))
		}
	}
}

// TestCollectListCut: a listing that still has a next page after maxPages
// pages is a gap saying so, not "everything read".
func TestCollectListCut(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	c := connect(t, fc, fakeos.AdminUser)
	var pages atomic.Int32
	fc.Inject(fakeos.Fault{Method: "GET", Path: "/networking/v2.0/agents", Handler: func(w http.ResponseWriter, r *http.Request) {
		n := pages.Add(1)
		w.Header().Set("Content-Type", "application/json")
		// A new agent on every page, and always another page.
		fmt.Fprintf(w, `{"agents": [{"id": "agent-%d", "agent_type": "DHCP agent", "host": "h%d", "alive": true, "admin_state_up": true}],
			"agents_links": [{"rel": "next", "href": %q}]}`, n, n, fmt.Sprintf("%s/networking/v2.0/agents?marker=agent-%d", fc.URL(), n))
	}})
	s := collect(t, c, fakeos.ServerID, CollectOptions{})
	g := gap(t, s, snapshot.SourceAgents, "")
	want := "GET " + fc.URL() + "/networking/v2.0/agents: listing cut at 50 pages, the cloud has more: not used, as it is not the whole list"
	if g.Kind != snapshot.GapError || g.Reason != want {
		t.Errorf("gap = %+v\nwant reason %q", g, want)
	}
	if s.Agents != nil {
		t.Errorf("%d agents kept from a cut list", len(s.Agents))
	}
	if n := pages.Load(); n != maxPages {
		t.Errorf("%d pages read, want %d", n, maxPages)
	}
}

// TestCollectListDuplicates: an item shown on two pages (a cloud paging by
// offset while the list changes) is kept once.
func TestCollectListDuplicates(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	c := connect(t, fc, fakeos.AdminUser)
	// The agents as the fake lists them, served in overlapping pages.
	req, _ := http.NewRequest("GET", fc.URL()+"/networking/v2.0/agents", nil)
	req.Header.Set("X-Auth-Token", c.provider.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var all struct {
		Agents []json.RawMessage `json:"agents"`
	}
	err = json.NewDecoder(resp.Body).Decode(&all)
	resp.Body.Close()
	if err != nil || len(all.Agents) != 5 {
		t.Fatalf("agents: %v, %d", err, len(all.Agents))
	}
	pages := map[string][]json.RawMessage{
		"":  all.Agents[0:3],
		"2": all.Agents[2:5],
		"3": {all.Agents[4], all.Agents[0]},
	}
	fc.Inject(fakeos.Fault{Method: "GET", Path: "/networking/v2.0/agents", Handler: func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Query().Get("page")
		body := map[string]any{"agents": pages[p]}
		if next := map[string]string{"": "2", "2": "3"}[p]; next != "" {
			body["agents_links"] = []map[string]string{{"rel": "next", "href": "/networking/v2.0/agents?page=" + next}}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(body)
	}})
	s := collect(t, c, fakeos.ServerID, CollectOptions{})
	noGaps(t, s)
	var ids []string
	for _, a := range s.Agents {
		ids = append(ids, a.ID)
	}
	if len(ids) != 5 || len(slices.Compact(slices.Sorted(slices.Values(ids)))) != 5 {
		t.Errorf("agents = %v, want the 5 once each", ids)
	}
	if n := fc.Count("GET /networking/v2.0/agents"); n != 4 {
		t.Errorf("agent requests = %d, want 3 pages and the test's own", n)
	}
}
