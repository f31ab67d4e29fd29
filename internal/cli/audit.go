package cli

import (
	"context"
	"fmt"
	"regexp"

	"github.com/hoofbeat/hoofbeat/internal/openstack"
	"github.com/hoofbeat/hoofbeat/internal/pipeline"
	"github.com/hoofbeat/hoofbeat/internal/report"
	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// AuditOptions holds "hoofbeat audit"'s flags and dependencies.
type AuditOptions struct {
	IO *IOStreams
	// Connect authenticates against the cloud; tests replace it.
	Connect    func(ctx context.Context, o openstack.Options) (pipeline.Inventorier, error)
	HostChecks hostFlags
	Cloud      cloudFlags

	auditScope
	ruleFlags
	Output string
}

// auditScope is which servers an audit reads, as audit and exporter take it.
type auditScope struct {
	Project     string
	AllProjects bool
	Name        string
	Status      string
	Host        string
}

func (s *auditScope) register(fl *pflag.FlagSet) {
	fl.StringVar(&s.Project, "project", "", "audit this project's servers, by ID (default: the credentials' project; another one needs admin)")
	fl.BoolVar(&s.AllProjects, "all-projects", false, "audit every project's servers (admin)")
	fl.StringVar(&s.Name, "name", "", "only servers whose name matches this regular expression")
	fl.StringVar(&s.Status, "status", "", "only servers in this status (ACTIVE, ERROR, SHUTOFF…)")
	fl.StringVar(&s.Host, "host", "", "only servers on this compute host")
}

// auditRequest checks the scope and rule flags and fills the request's
// Inventory, Filter and Rules from them; the verb adds the rest.
func auditRequest(s auditScope, r ruleFlags, getenv func(string) string) (pipeline.AuditRequest, error) {
	if s.AllProjects && s.Project != "" {
		return pipeline.AuditRequest{}, usageError("--project and --all-projects are exclusive")
	}
	req := pipeline.AuditRequest{
		Inventory: openstack.InventoryOptions{Project: s.Project, AllProjects: s.AllProjects},
		Filter:    pipeline.AuditFilter{Status: s.Status, Host: s.Host},
	}
	if s.Name != "" {
		re, err := regexp.Compile(s.Name)
		if err != nil {
			return pipeline.AuditRequest{}, usageError("--name %q is not a regular expression: %v", s.Name, err)
		}
		req.Filter.Name = re
	}
	opt, err := r.options(getenv)
	if err != nil {
		return pipeline.AuditRequest{}, err
	}
	req.Rules = opt
	return req, nil
}

func connectInventory(ctx context.Context, o openstack.Options) (pipeline.Inventorier, error) {
	return openstack.Connect(ctx, o)
}

// NewCmdAudit builds "hoofbeat audit". connect may be nil for the real
// cloud.
func NewCmdAudit(io *IOStreams, connect func(context.Context, openstack.Options) (pipeline.Inventorier, error)) *cobra.Command {
	if connect == nil {
		connect = connectInventory
	}
	o := &AuditOptions{IO: io, Connect: connect}
	cmd := &cobra.Command{
		Use:   "audit [--project ID | --all-projects]",
		Short: "Diagnose every server of a project, or of the cloud, from bulk listings",
		Long: `List the servers, ports, networks, subnets, security groups and their
rules, routers, floating IPs and agents once, in parallel and page by page,
then ask each DHCP and L3 agent what it hosts: a constant number of
listings whatever the number of servers, never a request per server. Each
server is then diagnosed by the same rules as "hoofbeat diagnose", from
its own part of that inventory.

The console log (a request per server) and the HA state of HA routers'
agents (a request per router) are not read: the rules needing them are
skipped, with that reason; "hoofbeat diagnose SERVER" reads them.

The report groups the findings by rule and by server, most severe first.
--output html draws a grid, a row per server and a column per hop, each
cell coloured by the hop's state: a broken router or agent shows as a
stripe down the servers it serves.

Exit status: 0 no error found, 1 at least one error finding, 2 usage
error, 3 the cloud could not be reached or authentication failed.`,
		Example: `  hoofbeat audit
  hoofbeat audit --all-projects --status ACTIVE --output html > audit.html
  hoofbeat audit --project 9a8b7c6d5e4f40312a1b0c9d8e7f6a5b --name '^web-' -o json
  hoofbeat audit --all-projects --hosts --ssh`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return auditRun(cmd, o) },
	}
	o.Cloud.register(cmd)
	o.HostChecks.Getenv = io.Getenv
	o.HostChecks.register(cmd)
	fl := cmd.Flags()
	fl.BoolVar(&o.HostChecks.Enabled, "hosts", false, "also check every host serving an audited server, each once: this machine directly, others with --ssh")
	fl.DurationVar(&o.Cloud.Timeout, "timeout", openstack.DefaultTimeout, "deadline for each API request")
	o.auditScope.register(fl)
	fl.StringVarP(&o.Output, "output", "o", "text", "output format: text, json, markdown or html (a grid of servers by hop)")
	o.ruleFlags.register(cmd)
	return cmd
}

func auditRun(cmd *cobra.Command, o *AuditOptions) error {
	if err := checkOutput(o.Output); err != nil {
		return err
	}
	if o.HostChecks.Probe {
		return usageError("--probe pings one server's addresses: use it with hoofbeat diagnose")
	}
	req, err := auditRequest(o.auditScope, o.ruleFlags, o.IO.Getenv)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	if req.From, err = o.Connect(ctx, o.Cloud.options(cmd, o.IO)); err != nil {
		return cloudError(err)
	}
	p := newProgress(o.IO, o.Cloud.Debug)
	req.Inventory.Progress = p.report()
	if o.HostChecks.Enabled {
		req.Hosts = &pipeline.HostCheck{Reach: o.HostChecks.reach, Fanout: o.HostChecks.fanout(p)}
	}
	res, err := pipeline.Audit(ctx, req)
	p.clear()
	if err != nil {
		return pipelineError(err)
	}
	rep := AuditReport(res, o.Project, o.AllProjects)
	switch o.Output {
	case "json":
		err = report.AuditJSON(o.IO.Out, rep)
	case "markdown":
		err = report.AuditMarkdown(o.IO.Out, rep)
	case "html":
		err = report.AuditHTML(o.IO.Out, rep)
	default:
		err = report.AuditText(o.IO.Out, rep, report.TextOptions{Color: o.IO.colour(), Width: o.IO.Width})
	}
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if res.Worst() >= rule.Error {
		return errFindings
	}
	return nil
}

// AuditReport is what the renderers read of an audit.
func AuditReport(res *pipeline.AuditResult, project string, all bool) *report.AuditReport {
	scope := "project " + res.Cloud.Project
	switch {
	case all:
		scope = "all projects"
	case project != "":
		scope = "project " + project
	}
	rep := &report.AuditReport{
		Tool: "hoofbeat " + version(), CheckedAt: res.CheckedAt, Cloud: res.Cloud, Scope: scope, Gaps: res.Gaps, Hosts: res.Hosts,
		Stats: report.AuditStats{Requests: res.Stats.Requests, Listings: res.Stats.Listings, Pages: res.Stats.Pages,
			RoundTrips: res.Stats.RoundTrips, Duration: res.Stats.Duration, Evaluation: res.Evaluation},
	}
	for _, s := range res.Servers {
		rep.Servers = append(rep.Servers, report.AuditServer{Snapshot: s.Snapshot, Result: s.Result})
	}
	return rep
}
