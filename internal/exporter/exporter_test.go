package exporter

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/hoofbeat/hoofbeat/internal/openstack"
	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
	"github.com/hoofbeat/hoofbeat/internal/pipeline"
)

// brokenWorld: a fleet of six servers on three networks, two routers;
// router-0 (networks 0 and 2) is down, so srv-0, srv-2, srv-3 and srv-5
// have an error finding. srv-3 is named by someone hostile.
func brokenWorld() *fakeos.World {
	w := fakeos.Standard()
	fakeos.AddFleet(w, fakeos.Fleet{Servers: 6, Networks: 3, Routers: 2, Rules: 20})
	for i := range w.Routers {
		if w.Routers[i].Name == "router-0" {
			w.Routers[i].AdminDown = true
		}
	}
	for i := range w.Servers {
		if w.Servers[i].Name == "srv-3" {
			w.Servers[i].Name = "srv-3\"}\n# HELP evil\xff" + strings.Repeat("x", 300)
		}
	}
	return w
}

// auditOf audits c's whole cloud as admin.
func auditOf(t *testing.T, c *fakeos.Cloud, calls *atomic.Int32) func(context.Context) (*pipeline.AuditResult, error) {
	cl, err := openstack.Connect(context.Background(), openstack.Options{Getenv: fakeos.Getenv(c.PasswordEnv(fakeos.AdminUser))})
	if err != nil {
		t.Fatal(err)
	}
	return func(ctx context.Context) (*pipeline.AuditResult, error) {
		if calls != nil {
			calls.Add(1)
		}
		return pipeline.Audit(ctx, pipeline.AuditRequest{From: cl, Inventory: openstack.InventoryOptions{AllProjects: true}})
	}
}

func scrape(t *testing.T, h http.Handler) (string, map[string]*dto.MetricFamily) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics: %d %s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("exposition does not parse: %v\n%s", err, body)
	}
	return body, fams
}

func value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		got := map[string]string{}
		for _, l := range m.Label {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if got[k] != v {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		}
	}
	return 0, false
}

func TestMetrics(t *testing.T) {
	c := fakeos.Start(t, brokenWorld())
	e := New(Options{Audit: auditOf(t, c, nil), Interval: time.Minute})
	e.Once(context.Background())
	body, fams := scrape(t, e.Handler())
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"hoofbeat_audit_findings", map[string]string{"rule": "router/admin-down", "severity": "error", "domain": "router"}, 4},
		{"hoofbeat_audit_servers", map[string]string{"state": "error"}, 4},
		{"hoofbeat_audit_servers", map[string]string{"state": "ok"}, 3},
		{"hoofbeat_audit_server_error", map[string]string{"server_name": "srv-0", "rule": "router/admin-down", "project_id": fakeos.DemoProjectID}, 1},
		{"hoofbeat_audit_server_error_series_dropped", nil, 0},
		{"hoofbeat_audit_up", nil, 1},
		{"hoofbeat_audit_runs_total", map[string]string{"result": "success"}, 1},
		{"hoofbeat_audit_runs_total", map[string]string{"result": "failure"}, 0},
		{"hoofbeat_audit_api_errors_total", nil, 0},
	}
	for _, ck := range checks {
		if got, ok := value(fams, ck.name, ck.labels); !ok || got != ck.want {
			t.Errorf("%s%v = %v (present %v), want %v", ck.name, ck.labels, got, ok, ck.want)
		}
	}
	if n, _ := value(fams, "hoofbeat_audit_api_requests_total", nil); n < 10 {
		t.Errorf("api requests %v", n)
	}
	if ts, _ := value(fams, "hoofbeat_audit_last_success_timestamp_seconds", nil); ts < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("last success %v", ts)
	}
	// The hostile name is one label value: escaped, cut, valid UTF-8.
	hostile := false
	for _, m := range fams["hoofbeat_audit_server_error"].Metric {
		for _, l := range m.Label {
			if l.GetName() == "server_name" && strings.HasPrefix(l.GetValue(), "srv-3") {
				hostile = true
				if n := len([]rune(l.GetValue())); n != MaxLabelLen || !strings.Contains(l.GetValue(), "\"}\n# HELP evil\uFFFD") {
					t.Errorf("hostile label %q (%d characters)", l.GetValue(), n)
				}
			}
		}
	}
	if !hostile {
		t.Errorf("no series for the hostile server")
	}
	if strings.Contains(body, "\n# HELP evil") {
		t.Errorf("a label value broke out of its line:\n%s", body)
	}
	promtoolCheck(t, body)
}

// promtoolCheck runs "promtool check metrics" on the exposition when
// $PROMTOOL names it (make lint installs it and sets it).
func promtoolCheck(t *testing.T, body string) {
	p := os.Getenv("PROMTOOL")
	if p == "" {
		t.Log("PROMTOOL not set: promtool check metrics not run (make lint runs it)")
		return
	}
	cmd := exec.Command(p, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
	if dir := os.Getenv("EXPOSITION_DIR"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "exporter.prom"), []byte(body), 0o644)
	}
}

func TestServerCap(t *testing.T) {
	c := fakeos.Start(t, brokenWorld())
	e := New(Options{Audit: auditOf(t, c, nil), Interval: time.Minute, ServerCap: 3})
	e.Once(context.Background())
	_, fams := scrape(t, e.Handler())
	if n := len(fams["hoofbeat_audit_server_error"].Metric); n != 3 {
		t.Errorf("%d server series, want the cap, 3", n)
	}
	if d, _ := value(fams, "hoofbeat_audit_server_error_series_dropped", nil); d != 1 {
		t.Errorf("dropped %v, want 1", d)
	}
	if n, _ := value(fams, "hoofbeat_audit_findings", map[string]string{"rule": "router/admin-down"}); n != 4 {
		t.Errorf("the aggregate lost findings to the cap: %v", n)
	}
}

// TestRecoveredServerLeavesNoSeries: a server fixed since the last audit
// has no series left.
func TestRecoveredServerLeavesNoSeries(t *testing.T) {
	c := fakeos.Start(t, brokenWorld())
	e := New(Options{Audit: auditOf(t, c, nil), Interval: time.Minute})
	e.Once(context.Background())
	c.Update(func(w *fakeos.World) {
		for i := range w.Routers {
			w.Routers[i].AdminDown = false
		}
	})
	e.Once(context.Background())
	_, fams := scrape(t, e.Handler())
	if f := fams["hoofbeat_audit_server_error"]; f != nil {
		t.Errorf("series left: %v", f.Metric)
	}
	if n, _ := value(fams, "hoofbeat_audit_servers", map[string]string{"state": "error"}); n != 0 {
		t.Errorf("servers in error %v", n)
	}
}

func TestFailureAndHealth(t *testing.T) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	fail := errors.New("list servers: connection refused")
	var err error
	c := fakeos.Start(t, fakeos.Standard())
	audit := auditOf(t, c, nil)
	e := New(Options{Interval: time.Minute, Now: func() time.Time { return now },
		Audit: func(ctx context.Context) (*pipeline.AuditResult, error) {
			if err != nil {
				return nil, err
			}
			return audit(ctx)
		}})
	health := func() (int, string) {
		rec := httptest.NewRecorder()
		e.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := health(); code != 200 || !strings.Contains(body, "first audit") {
		t.Errorf("before the first audit: %d %s", code, body)
	}
	err = fail
	e.Once(context.Background())
	if code, body := health(); code != 503 || !strings.Contains(body, "connection refused") {
		t.Errorf("after a failure: %d %s", code, body)
	}
	_, fams := scrape(t, e.Handler())
	if up, _ := value(fams, "hoofbeat_audit_up", nil); up != 0 {
		t.Errorf("up %v after a failure", up)
	}
	if n, _ := value(fams, "hoofbeat_audit_runs_total", map[string]string{"result": "failure"}); n != 1 {
		t.Errorf("failures %v", n)
	}
	err = nil
	e.Once(context.Background())
	if code, _ := health(); code != 200 {
		t.Errorf("after a success: %d", code)
	}
	now = now.Add(4 * time.Minute) // three intervals without an audit
	if code, body := health(); code != 503 || !strings.Contains(body, "stale") {
		t.Errorf("stale: %d %s", code, body)
	}
}

// TestServeAuditsOnAnIntervalNotPerScrape: scrapes read the last result;
// only the interval starts an audit. Cancelling the context stops the
// server and the loop.
func TestServeAuditsOnAnIntervalNotPerScrape(t *testing.T) {
	c := fakeos.Start(t, fakeos.Standard())
	var calls atomic.Int32
	e := New(Options{Audit: auditOf(t, c, &calls), Interval: time.Hour})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx, l) }()
	url := "http://" + l.Addr().String() + "/metrics"
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(b), "hoofbeat_audit_up 1") {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no successful audit served")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for range 5 {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d audits for 6+ scrapes, want 1", n)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Serve did not stop")
	}
	if _, err := http.Get(url); err == nil {
		t.Errorf("still serving after shutdown")
	}
}
