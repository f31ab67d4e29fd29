// Package fakeos is a fake OpenStack for tests and benchmarks: Keystone,
// Nova and Neutron on one local HTTP server, answering from a World built
// in code (or loaded from recorded responses) with bodies shaped like the
// real services' (field names, nulls, envelopes, error bodies).
//
// Neutron list queries are really filtered: repeated keys are OR'd, keys
// are AND'ed, unknown filters are refused, and fields= projects, as Neutron
// does. Non-admin tokens see only their project's resources, lose admin-only
// attributes (provider:*, binding:*, OS-EXT-SRV-ATTR:*) and get 403 on
// admin-only calls. Faults can be injected: an HTTP status N times, a hang,
// a delay; latency can be added to every answer; requests are counted.
package fakeos

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Cloud is a running fake OpenStack.
type Cloud struct {
	srv    *httptest.Server
	closed chan struct{}
	once   sync.Once

	mu      sync.Mutex
	world   *World
	coll    map[string][]map[string]any // Neutron collections, rendered
	index   map[string]map[string]map[string][]int
	tokens  map[string]*token
	faults  []*Fault
	latency time.Duration
	// AgentsEmptyForNonAdmin answers a non-admin's GET /v2.0/agents with
	// an empty list (as Neutron's policy filtering does) instead of 403.
	agentsEmpty bool
	// pageCap is the largest page a list answers (Nova's max_limit,
	// Neutron's pagination_max_limit); 0 answers whole lists.
	pageCap int

	requests int
	log      []string
	bytes    int64
}

// Fault is an injected misbehaviour for the requests it matches.
type Fault struct {
	// Method matches the request method; empty matches any.
	Method string
	// Path matches the start of the request path, e.g.
	// "/networking/v2.0/agents" or "/compute/v2.1/servers/".
	Path string
	// Query, if set, must be a substring of the raw query.
	Query string
	// Status is the HTTP status to answer with (0: answer normally after
	// Delay, if any).
	Status int
	// Times is how many matching requests are affected; 0 means all.
	Times int
	// Hang never answers: the request waits until the client gives up.
	Hang bool
	// Delay is added before answering.
	Delay time.Duration
	// Message replaces the error body's message (a hostile one, say).
	Message string
	// Handler, if set, answers instead of the fake: a huge body, a
	// redirect, a page whose links point elsewhere.
	Handler http.HandlerFunc

	hits int
}

// New starts a fake serving w over plain HTTP. Close it when done.
func New(w *World) *Cloud {
	c := &Cloud{closed: make(chan struct{}), tokens: map[string]*token{}}
	c.srv = httptest.NewServer(http.HandlerFunc(c.serveHTTP))
	c.setWorld(w)
	return c
}

// NewTLS starts a fake serving w over HTTPS with a self-signed
// certificate for 127.0.0.1 (see CACertPEM).
func NewTLS(w *World) *Cloud {
	c := &Cloud{closed: make(chan struct{}), tokens: map[string]*token{}}
	c.srv = httptest.NewTLSServer(http.HandlerFunc(c.serveHTTP))
	c.setWorld(w)
	return c
}

// CACertPEM is the certificate of a NewTLS fake, to trust it.
func (c *Cloud) CACertPEM() []byte {
	cert := c.srv.Certificate()
	if cert == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

// Start starts a fake serving w and closes it at the end of the test.
func Start(tb testing.TB, w *World) *Cloud {
	tb.Helper()
	c := New(w)
	tb.Cleanup(c.Close)
	return c
}

// Close releases hanging requests and stops the server.
func (c *Cloud) Close() {
	c.once.Do(func() {
		close(c.closed)
		c.srv.CloseClientConnections()
		c.srv.Close()
	})
}

// URL is the server's base URL.
func (c *Cloud) URL() string { return c.srv.URL }

// AuthURL is Keystone's v3 endpoint, for OS_AUTH_URL.
func (c *Cloud) AuthURL() string { return c.srv.URL + "/identity/v3" }

// Update changes the world under the lock and re-renders it.
func (c *Cloud) Update(f func(w *World)) {
	c.mu.Lock()
	w := c.world
	c.mu.Unlock()
	f(w)
	c.setWorld(w)
}

// Inject adds a fault; the first matching fault with hits left applies.
func (c *Cloud) Inject(f Fault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults = append(c.faults, &f)
}

// ClearFaults removes every injected fault.
func (c *Cloud) ClearFaults() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults = nil
}

// SetLatency adds d before every answer.
func (c *Cloud) SetLatency(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.latency = d
}

// SetPageCap makes every list answer at most n items a page, with a
// "next" link, as a cloud with max_limit set does; 0 answers whole lists.
func (c *Cloud) SetPageCap(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pageCap = n
}

// AgentsEmptyForNonAdmin makes GET /v2.0/agents answer a non-admin with an
// empty list rather than 403.
func (c *Cloud) AgentsEmptyForNonAdmin(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.agentsEmpty = on
}

// ExpireTokens invalidates every token issued so far (the next request
// with one gets 401).
func (c *Cloud) ExpireTokens() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tokens = map[string]*token{}
}

// Requests is the number of requests served.
func (c *Cloud) Requests() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests
}

// RequestLog lists the requests served, as "METHOD /path?query".
func (c *Cloud) RequestLog() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.log...)
}

// Count is the number of requests whose "METHOD /path?query" starts with prefix.
func (c *Cloud) Count(prefix string) int {
	n := 0
	for _, l := range c.RequestLog() {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

// BytesServed is the total size of the response bodies.
func (c *Cloud) BytesServed() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// ResetCounters zeroes the request count, log and bytes.
func (c *Cloud) ResetCounters() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests, c.log, c.bytes = 0, nil, 0
}

// setWorld renders the Neutron collections of w.
func (c *Cloud) setWorld(w *World) {
	coll := map[string][]map[string]any{}
	subnetsOf := map[string][]string{}
	for i := range w.Subnets {
		subnetsOf[w.Subnets[i].NetworkID] = append(subnetsOf[w.Subnets[i].NetworkID], w.Subnets[i].ID)
	}
	for i := range w.Networks {
		coll["networks"] = append(coll["networks"], normalise(w.Networks[i].render(subnetsOf[w.Networks[i].ID])))
	}
	for i := range w.Subnets {
		coll["subnets"] = append(coll["subnets"], normalise(w.Subnets[i].render()))
	}
	for i := range w.Ports {
		coll["ports"] = append(coll["ports"], normalise(w.Ports[i].render()))
	}
	for i := range w.SecurityGroups {
		g := normalise(w.SecurityGroups[i].render())
		coll["security_groups"] = append(coll["security_groups"], g)
		for _, r := range g["security_group_rules"].([]any) {
			coll["security_group_rules"] = append(coll["security_group_rules"], r.(map[string]any))
		}
	}
	for i := range w.FloatingIPs {
		f := w.FloatingIPs[i].render()
		// Real Neutron (fip-port-details, since Rocky) shows the port's
		// summary with the floating IP.
		for _, p := range coll["ports"] {
			if f["port_id"] != nil && p["id"] == f["port_id"] && !w.Disabled["fip-port-details"] {
				f["port_details"] = map[string]any{"name": p["name"], "network_id": p["network_id"], "mac_address": p["mac_address"],
					"admin_state_up": p["admin_state_up"], "status": p["status"], "device_id": p["device_id"], "device_owner": p["device_owner"]}
			}
		}
		coll["floatingips"] = append(coll["floatingips"], normalise(f))
	}
	for i := range w.Routers {
		coll["routers"] = append(coll["routers"], normalise(w.Routers[i].render()))
	}
	for i := range w.Agents {
		coll["agents"] = append(coll["agents"], normalise(w.Agents[i].render()))
	}
	for k, items := range w.Raw {
		for _, it := range items {
			coll[k] = append(coll[k], normalise(it))
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.world = w
	c.coll = coll
	c.index = nil
}

// countingWriter counts the body bytes written.
type countingWriter struct {
	http.ResponseWriter
	n      int64
	status int
}

func (w *countingWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

func (w *countingWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

func (c *Cloud) serveHTTP(rw http.ResponseWriter, r *http.Request) {
	w := &countingWriter{ResponseWriter: rw}
	line := r.Method + " " + r.URL.Path
	if r.URL.RawQuery != "" {
		line += "?" + r.URL.RawQuery
	}
	c.mu.Lock()
	c.requests++
	c.log = append(c.log, line)
	latency := c.latency
	var fault *Fault
	for _, f := range c.faults {
		if (f.Method == "" || f.Method == r.Method) && strings.HasPrefix(r.URL.Path, f.Path) &&
			(f.Query == "" || strings.Contains(r.URL.RawQuery, f.Query)) && (f.Times == 0 || f.hits < f.Times) {
			f.hits++
			fault = f
			break
		}
	}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.bytes += w.n
		c.mu.Unlock()
	}()

	if !c.wait(r, latency) {
		return
	}
	if fault != nil {
		if fault.Hang {
			select {
			case <-r.Context().Done():
			case <-c.closed:
			}
			return
		}
		if !c.wait(r, fault.Delay) {
			return
		}
		if fault.Handler != nil {
			fault.Handler(w, r)
			return
		}
		if fault.Status != 0 {
			msg := fault.Message
			if msg == "" {
				msg = injectedMessage(fault.Status)
			}
			serviceError(w, r.URL.Path, fault.Status, "", msg)
			return
		}
	}
	switch {
	case strings.HasPrefix(r.URL.Path, "/identity"):
		c.keystone(w, r, strings.TrimPrefix(r.URL.Path, "/identity"))
	case strings.HasPrefix(r.URL.Path, "/compute"):
		c.nova(w, r, strings.TrimPrefix(r.URL.Path, "/compute"))
	case strings.HasPrefix(r.URL.Path, "/networking"):
		c.neutron(w, r, strings.TrimPrefix(r.URL.Path, "/networking"))
	default:
		http.NotFound(w, r)
	}
}

// wait sleeps d unless the client leaves or the fake closes first.
func (c *Cloud) wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-c.closed:
		return false
	}
}

func injectedMessage(status int) string {
	switch status {
	case http.StatusInternalServerError:
		return "Request Failed: internal server error while processing your request."
	case http.StatusServiceUnavailable:
		return "The server is currently unavailable. Please try again at a later time."
	}
	return http.StatusText(status)
}

// serviceError writes an error body shaped like the service's own.
func serviceError(w http.ResponseWriter, path string, status int, typ, msg string) {
	switch {
	case strings.HasPrefix(path, "/identity"):
		writeJSON(w, status, map[string]any{"error": map[string]any{"code": status, "title": http.StatusText(status), "message": msg}})
	case strings.HasPrefix(path, "/compute"):
		if typ == "" {
			typ = novaFaultNames[status]
			if typ == "" {
				typ = "computeFault"
			}
		}
		writeJSON(w, status, map[string]any{typ: map[string]any{"code": status, "message": msg}})
	default:
		if typ == "" {
			typ = "HTTP" + strings.ReplaceAll(http.StatusText(status), " ", "")
		}
		writeJSON(w, status, map[string]any{"NeutronError": map[string]any{"type": typ, "message": msg, "detail": ""}})
	}
}

// novaFaultNames are the envelope keys of Nova's error bodies.
var novaFaultNames = map[int]string{
	400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
	405: "badMethod", 409: "conflictingRequest", 413: "overLimit", 415: "badMediaType",
	429: "overLimit", 501: "notImplemented", 503: "serviceUnavailable",
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
