// Package exporter serves the audit's verdicts to Prometheus: it re-runs
// the audit on an interval (never on a scrape, which would cost the cloud
// a full inventory per scrape and per Prometheus replica) and exposes the
// last result on /metrics, its own health on /healthz.
package exporter

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hoofbeat/hoofbeat/internal/pipeline"
	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// DefaultServerCap bounds the per-server error series
// (hoofbeat_audit_server_error): a cloud-wide outage would otherwise add a
// series per server and rule at once. Beyond it, the series are counted in
// hoofbeat_audit_server_error_series_dropped; the aggregate
// hoofbeat_audit_findings keeps every finding.
const DefaultServerCap = 500

// MaxLabelLen bounds a label value, in characters: names come from
// whoever can create a server, and Prometheus stores every distinct
// value.
const MaxLabelLen = 128

// Options configure an Exporter.
type Options struct {
	// Audit runs one audit.
	Audit func(ctx context.Context) (*pipeline.AuditResult, error)
	// Interval is the time from one audit's start to the next's.
	Interval time.Duration
	// ServerCap bounds the per-server error series; 0 is DefaultServerCap.
	ServerCap int
	// Now is the clock (tests).
	Now func() time.Time
	// Logf reports each audit's outcome (the CLI's stderr).
	Logf func(format string, args ...any)
}

// Exporter holds the last audit's metrics.
type Exporter struct {
	o   Options
	reg *prometheus.Registry

	mu          sync.Mutex
	findings    map[[3]string]float64 // rule, severity, domain
	servers     map[string]float64    // state
	serverErrs  [][4]string           // server ID, name, project, rule
	dropped     int
	lastSuccess time.Time
	lastRun     time.Time
	lastOK      bool
	lastErr     string
	audited     bool

	duration prometheus.Gauge
	runs     *prometheus.CounterVec
	requests prometheus.Counter
	apiErrs  prometheus.Counter
}

// New builds an exporter; Run serves it.
func New(o Options) *Exporter {
	if o.ServerCap <= 0 {
		o.ServerCap = DefaultServerCap
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	e := &Exporter{o: o, reg: prometheus.NewRegistry(),
		duration: prometheus.NewGauge(prometheus.GaugeOpts{Name: "hoofbeat_audit_duration_seconds",
			Help: "How long the last audit took, listings and rules, whether it succeeded or not."}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hoofbeat_audit_runs_total",
			Help: "Audits run, by result (success: the servers could be listed; failure: they could not)."}, []string{"result"}),
		requests: prometheus.NewCounter(prometheus.CounterOpts{Name: "hoofbeat_audit_api_requests_total",
			Help: "API requests the audits made, each page and the authentication included."}),
		apiErrs: prometheus.NewCounter(prometheus.CounterOpts{Name: "hoofbeat_audit_api_errors_total",
			Help: "Listings that failed: failed audits, and listings an audit could not read (their rules were skipped)."}),
	}
	e.runs.WithLabelValues("success")
	e.runs.WithLabelValues("failure")
	e.reg.MustRegister(e.duration, e.runs, e.requests, e.apiErrs, (*lastAudit)(e))
	return e
}

// Registry is the exporter's registry (tests, promtool).
func (e *Exporter) Registry() *prometheus.Registry { return e.reg }

// Once runs one audit and records its result.
func (e *Exporter) Once(ctx context.Context) {
	start := e.o.Now()
	res, err := e.o.Audit(ctx)
	took := e.o.Now().Sub(start)
	if err != nil && ctx.Err() != nil {
		return // shutting down: not a failure of the cloud
	}
	e.duration.Set(took.Seconds())
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lastRun = start
	if err != nil {
		e.runs.WithLabelValues("failure").Inc()
		e.apiErrs.Inc()
		e.lastOK, e.lastErr = false, err.Error()
		e.o.Logf("audit failed after %s: %v", took.Round(time.Millisecond), err)
		return
	}
	e.runs.WithLabelValues("success").Inc()
	e.requests.Add(float64(res.Stats.Requests))
	for _, g := range res.Gaps {
		if g.Kind != snapshot.GapForbidden && g.Kind != snapshot.GapUnsupported {
			e.apiErrs.Inc()
		}
	}
	e.lastOK, e.lastErr, e.lastSuccess, e.audited = true, "", start, true
	e.findings = map[[3]string]float64{}
	e.servers = map[string]float64{"error": 0, "warning": 0, "ok": 0}
	var errs [][4]string
	for _, s := range res.Servers {
		switch w := s.Result.Worst(); {
		case w >= rule.Error:
			e.servers["error"]++
		case w == rule.Warning:
			e.servers["warning"]++
		default:
			e.servers["ok"]++
		}
		seen := map[string]bool{}
		for _, f := range s.Result.Findings {
			e.findings[[3]string{f.Rule, f.Severity.String(), f.Domain}]++
			if f.Severity >= rule.Error && !seen[f.Rule] {
				seen[f.Rule] = true
				srv := s.Snapshot.Server
				errs = append(errs, [4]string{label(srv.ID), label(srv.Name), label(srv.ProjectID), f.Rule})
			}
		}
	}
	// A stable choice of series under the cap: by server ID, then rule.
	sort.Slice(errs, func(i, j int) bool {
		if errs[i][0] != errs[j][0] {
			return errs[i][0] < errs[j][0]
		}
		return errs[i][3] < errs[j][3]
	})
	e.dropped = max(0, len(errs)-e.o.ServerCap)
	e.serverErrs = errs[:min(len(errs), e.o.ServerCap)]
	e.o.Logf("audit: %d servers, %v with errors, %d requests, %s", len(res.Servers), e.servers["error"], res.Stats.Requests, took.Round(time.Millisecond))
}

// label cuts a hostile string to MaxLabelLen characters, keeping it valid
// UTF-8 (Prometheus refuses anything else).
func label(s string) string {
	if !utf8.ValidString(s) {
		s = string([]rune(s)) // invalid bytes become U+FFFD
	}
	if utf8.RuneCountInString(s) <= MaxLabelLen {
		return s
	}
	return string([]rune(s)[:MaxLabelLen-1]) + "…"
}

// lastAudit is the collector of the last audit's gauges: they are built
// at each scrape from the last result, so a server that recovered leaves
// no stale series behind.
type lastAudit Exporter

var (
	descFindings = prometheus.NewDesc("hoofbeat_audit_findings",
		"Findings of the last successful audit, by rule, severity and domain.", []string{"rule", "severity", "domain"}, nil)
	descServers = prometheus.NewDesc("hoofbeat_audit_servers",
		"Servers of the last successful audit by their worst finding: error, warning, ok (info or nothing).", []string{"state"}, nil)
	descServerError = prometheus.NewDesc("hoofbeat_audit_server_error",
		"1 for each server and rule with an error finding in the last successful audit (at most the exporter's --server-cap series).",
		[]string{"server_id", "server_name", "project_id", "rule"}, nil)
	descDropped = prometheus.NewDesc("hoofbeat_audit_server_error_series_dropped",
		"Per-server error series left out of hoofbeat_audit_server_error by the cap.", nil, nil)
	descLastSuccess = prometheus.NewDesc("hoofbeat_audit_last_success_timestamp_seconds",
		"When the last successful audit started (Unix time); 0 before the first.", nil, nil)
	descUp = prometheus.NewDesc("hoofbeat_audit_up",
		"1 if the last audit listed the servers, 0 if it failed.", nil, nil)
)

func (c *lastAudit) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descFindings, descServers, descServerError, descDropped, descLastSuccess, descUp} {
		ch <- d
	}
}

func (c *lastAudit) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, n := range c.findings {
		ch <- prometheus.MustNewConstMetric(descFindings, prometheus.GaugeValue, n, k[0], k[1], k[2])
	}
	for k, n := range c.servers {
		ch <- prometheus.MustNewConstMetric(descServers, prometheus.GaugeValue, n, k)
	}
	for _, s := range c.serverErrs {
		ch <- prometheus.MustNewConstMetric(descServerError, prometheus.GaugeValue, 1, s[0], s[1], s[2], s[3])
	}
	ch <- prometheus.MustNewConstMetric(descDropped, prometheus.GaugeValue, float64(c.dropped))
	var ts float64
	if !c.lastSuccess.IsZero() {
		ts = float64(c.lastSuccess.UnixNano()) / 1e9
	}
	ch <- prometheus.MustNewConstMetric(descLastSuccess, prometheus.GaugeValue, ts)
	up := 0.0
	if c.lastOK {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, up)
}

// healthz answers 200 while the audits are fresh: the first one not yet
// done, or the last success within three intervals; 503 otherwise, with
// the last error.
func (e *Exporter) healthz(w http.ResponseWriter, _ *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.o.Now()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	switch {
	case e.lastRun.IsZero():
		fmt.Fprintln(w, "ok: first audit running")
	case e.audited && now.Sub(e.lastSuccess) <= 3*e.o.Interval:
		fmt.Fprintf(w, "ok: last audit succeeded %s ago\n", now.Sub(e.lastSuccess).Round(time.Second))
	default:
		w.WriteHeader(http.StatusServiceUnavailable)
		if e.audited {
			fmt.Fprintf(w, "stale: last success %s ago; last error: %s\n", now.Sub(e.lastSuccess).Round(time.Second), e.lastErr)
		} else {
			fmt.Fprintf(w, "failing: no audit succeeded yet; last error: %s\n", e.lastErr)
		}
	}
}

// Handler serves /metrics and /healthz.
func (e *Exporter) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", e.healthz)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "hoofbeat exporter: /metrics, /healthz")
	})
	return mux
}

// Serve audits now and then every interval, and serves the metrics on l
// until ctx ends; it then stops the audit in flight and closes the server,
// giving scrapes in flight a moment to finish.
func (e *Exporter) Serve(ctx context.Context, l net.Listener) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	srv := &http.Server{Handler: e.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(e.o.Interval)
		defer t.Stop()
		for {
			e.Once(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	var err error
	select {
	case <-ctx.Done():
	case err = <-served:
	}
	stop()
	shut, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_ = srv.Shutdown(shut)
	wg.Wait()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
