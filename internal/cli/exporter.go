package cli

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/exporter"
	"github.com/hoofbeat/hoofbeat/internal/openstack"
	"github.com/hoofbeat/hoofbeat/internal/pipeline"
	"github.com/spf13/cobra"
)

// ExporterOptions holds "hoofbeat exporter"'s flags and dependencies.
type ExporterOptions struct {
	IO      *IOStreams
	Connect func(ctx context.Context, o openstack.Options) (pipeline.Inventorier, error)
	Cloud   cloudFlags

	auditScope
	ruleFlags
	Listen    string
	Interval  time.Duration
	ServerCap int
}

// NewCmdExporter builds "hoofbeat exporter". connect may be nil for the
// real cloud.
func NewCmdExporter(io *IOStreams, connect func(context.Context, openstack.Options) (pipeline.Inventorier, error)) *cobra.Command {
	if connect == nil {
		connect = connectInventory
	}
	o := &ExporterOptions{IO: io, Connect: connect}
	cmd := &cobra.Command{
		Use:   "exporter --listen ADDR",
		Short: "Serve the audit's findings to Prometheus, re-auditing on an interval",
		Long: `Run "hoofbeat audit" every --interval (never on a scrape) and serve the
last result on http://ADDR/metrics:

  hoofbeat_audit_findings{rule,severity,domain}      findings by rule
  hoofbeat_audit_servers{state}                      servers by worst finding
  hoofbeat_audit_server_error{server_id,server_name,project_id,rule}
                                                     1 per server and rule at error,
                                                     at most --server-cap series
  hoofbeat_audit_server_error_series_dropped         series left out by the cap
  hoofbeat_audit_duration_seconds                    the last audit's duration
  hoofbeat_audit_runs_total{result}                  audits, success or failure
  hoofbeat_audit_api_requests_total                  API requests, pages included
  hoofbeat_audit_api_errors_total                    listings that failed
  hoofbeat_audit_last_success_timestamp_seconds      when the last success started
  hoofbeat_audit_up                                  1 if the last audit succeeded

Label values come from the cloud: Prometheus's format escapes them, and
hoofbeat cuts them to 128 characters. /healthz answers 200 while the last
success is at most three intervals old, 503 otherwise. Credentials are read
as by every verb (OS_CLOUD, clouds.yaml, OS_* variables); a cloud that
cannot be reached is a failed audit, retried at the next interval. SIGTERM
or Ctrl-C stops it cleanly (exit 143 or 130).`,
		Example: `  OS_CLOUD=prod hoofbeat exporter --listen 127.0.0.1:9717 --all-projects
  hoofbeat exporter --listen :9717 --interval 10m --status ACTIVE`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return exporterRun(cmd, o) },
	}
	o.Cloud.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&o.Listen, "listen", "", "address to serve /metrics and /healthz on, HOST:PORT (required)")
	fl.DurationVar(&o.Interval, "interval", 5*time.Minute, "time between the starts of two audits")
	fl.IntVar(&o.ServerCap, "server-cap", exporter.DefaultServerCap, "at most this many hoofbeat_audit_server_error series")
	fl.DurationVar(&o.Cloud.Timeout, "timeout", openstack.DefaultTimeout, "deadline for each API request")
	o.auditScope.register(fl)
	o.ruleFlags.register(cmd)
	return cmd
}

func exporterRun(cmd *cobra.Command, o *ExporterOptions) error {
	if o.Listen == "" {
		return usageError("exporter needs --listen HOST:PORT")
	}
	if o.Interval < time.Second {
		return usageError("--interval %s: want at least 1s", o.Interval)
	}
	if o.ServerCap < 1 {
		return usageError("--server-cap %d: want at least 1", o.ServerCap)
	}
	req, err := auditRequest(o.auditScope, o.ruleFlags, o.IO.Getenv)
	if err != nil {
		return err
	}
	cloud := o.Cloud.options(cmd, o.IO)
	l, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return usageError("--listen %s: %v", o.Listen, err)
	}
	logf := func(format string, args ...any) { fmt.Fprintf(o.IO.ErrOut, "hoofbeat exporter: "+format+"\n", args...) }
	var mu sync.Mutex
	var from pipeline.Inventorier
	e := exporter.New(exporter.Options{
		Interval:  o.Interval,
		ServerCap: o.ServerCap,
		Logf:      logf,
		Audit: func(ctx context.Context) (*pipeline.AuditResult, error) {
			mu.Lock()
			defer mu.Unlock()
			if from == nil {
				// Connected on first use, and again after a failure to
				// connect: the cloud may come back.
				c, err := o.Connect(ctx, cloud)
				if err != nil {
					return nil, err
				}
				from = c
			}
			r := req
			r.From = from
			return pipeline.Audit(ctx, r)
		},
	})
	logf("listening on %s", l.Addr())
	return e.Serve(cmd.Context(), l)
}
