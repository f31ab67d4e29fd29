package exporter

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// TextfileName is the file "hoofbeat host --textfile DIR" writes in DIR,
// for node_exporter's textfile collector (which reads *.prom).
const TextfileName = "hoofbeat_host.prom"

// HostChecks is one run of "hoofbeat host" as metrics.
type HostChecks struct {
	Hosts    []snapshot.Host
	Result   rule.Result
	At       time.Time
	Duration time.Duration
}

var (
	descHostFindings = prometheus.NewDesc("hoofbeat_host_findings",
		"Findings of the last host check, by host, rule, severity and domain.", []string{"host", "rule", "severity", "domain"}, nil)
	descHostReachable = prometheus.NewDesc("hoofbeat_host_reachable",
		"1 if the host could be checked, 0 if it could not be reached.", []string{"host"}, nil)
	descHostLastRun = prometheus.NewDesc("hoofbeat_host_last_run_timestamp_seconds",
		"When the last host check started (Unix time).", nil, nil)
	descHostDuration = prometheus.NewDesc("hoofbeat_host_check_duration_seconds",
		"How long the last host check took.", nil, nil)
)

// Describe and Collect make HostChecks a collector of const metrics.
func (h *HostChecks) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descHostFindings, descHostReachable, descHostLastRun, descHostDuration} {
		ch <- d
	}
}

func (h *HostChecks) Collect(ch chan<- prometheus.Metric) {
	counts := map[[4]string]float64{}
	for _, f := range h.Result.Findings {
		host := ""
		if f.Subject.Kind == "host" {
			host = label(f.Subject.Name)
		}
		counts[[4]string{host, f.Rule, f.Severity.String(), f.Domain}]++
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(descHostFindings, prometheus.GaugeValue, n, k[0], k[1], k[2], k[3])
	}
	for _, hst := range h.Hosts {
		up := 1.0
		if hst.Unreachable != "" {
			up = 0
		}
		ch <- prometheus.MustNewConstMetric(descHostReachable, prometheus.GaugeValue, up, label(hst.Name))
	}
	ch <- prometheus.MustNewConstMetric(descHostLastRun, prometheus.GaugeValue, float64(h.At.UnixNano())/1e9)
	ch <- prometheus.MustNewConstMetric(descHostDuration, prometheus.GaugeValue, h.Duration.Seconds())
}

// WriteHostMetrics writes the checks in Prometheus's text format.
func WriteHostMetrics(w io.Writer, h *HostChecks) error {
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(h); err != nil {
		return err
	}
	fams, err := reg.Gather()
	if err != nil {
		return fmt.Errorf("host metrics: %w", err)
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range fams {
		if err := enc.Encode(f); err != nil {
			return err
		}
	}
	return nil
}

// WriteTextfile writes DIR/name atomically for node_exporter: a temporary
// file in DIR (not named *.prom, so the collector never reads it half
// written), synced, made world-readable, renamed over name, and the
// directory synced so that the rename survives a crash.
func WriteTextfile(dir, name string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(dir, "."+name+".tmp*")
	if err != nil {
		return fmt.Errorf("textfile: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = write(tmp); err != nil {
		return fmt.Errorf("textfile: write %s: %w", tmp.Name(), err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("textfile: %w", err)
	}
	if err = tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("textfile: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("textfile: %w", err)
	}
	if err = os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("textfile: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("textfile: %w", err)
	}
	defer d.Close()
	if err = d.Sync(); err != nil {
		return fmt.Errorf("textfile: sync %s: %w", dir, err)
	}
	return nil
}
