package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hoofbeat/hoofbeat/internal/openstack"
	"github.com/hoofbeat/hoofbeat/internal/pipeline"
	"github.com/hoofbeat/hoofbeat/internal/report"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// CollectOptions holds "hoofbeat collect"'s flags and dependencies.
type CollectOptions struct {
	IO      *IOStreams
	Connect func(ctx context.Context, o openstack.Options) (pipeline.Collector, error)

	Server       string
	Cloud        cloudFlags
	Out          string
	ConsoleLines int
	// HostChecks are --hosts and how to reach the hosts (host.go).
	HostChecks hostFlags
	// Redact is --redact: the file masked to be shared.
	Redact bool
}

// NewCmdCollect builds "hoofbeat collect SERVER --out FILE". connect may be
// nil for the real cloud.
func NewCmdCollect(io *IOStreams, connect func(context.Context, openstack.Options) (pipeline.Collector, error)) *cobra.Command {
	if connect == nil {
		connect = connectCloud
	}
	o := &CollectOptions{IO: io, Connect: connect}
	cmd := &cobra.Command{
		Use:   "collect SERVER|IP|MAC|PORT-ID --out FILE",
		Short: "Save what the cloud says about a server to a snapshot file, for diagnose --from",
		Long: `Read everything diagnose reads about a server — the server, its ports,
security groups, subnets, networks, agents, routers, floating IPs, the
guest's console log, and with --hosts what the hosts serving it show — and
write it to a snapshot file, with what could not be read and why. "hoofbeat diagnose --from FILE" then gives the same verdict
anywhere, offline, without credentials: attach the file to a ticket, or
diagnose a customer's cloud from your desk.

The file is JSON (docs/snapshot.md), gzip-compressed when FILE ends in .gz;
"-" writes it to stdout. It holds no password or token, but it does hold
project and resource IDs, addresses and host names. With --redact it holds
them masked, to be shared outside the team: project IDs and names and the
user as in a redacted report (project-1, user-1), host names (alone or as a
domain's first label, in log lines and URLs too) as host-1, and addresses
and MAC addresses replaced by others, consistently and keeping which
address is in which subnet, so that diagnose --from gives the same verdict.
Resource IDs and resource names are kept. The remote groups' members are
always read, so that --check works on the file.

Exit status: 0 written, 2 usage error (bad flag, unknown or ambiguous server,
the file cannot be written), 3 the cloud could not be reached or
authentication failed.`,
		Example: `  hoofbeat collect vm1 --out vm1.json
  hoofbeat diagnose --from vm1.json
  hoofbeat collect 3f2a9c1e-7b1d-4a57-9e7c-0a4c5f6e2b11 --out - | gzip > vm1.json.gz`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError("collect takes one SERVER (an ID or a name; or an address, a MAC, a port ID), got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Server = args[0]
			return collectRun(cmd, o)
		},
	}
	o.Cloud.register(cmd)
	fl := cmd.Flags()
	fl.DurationVar(&o.Cloud.Timeout, "timeout", openstack.DefaultTimeout, "deadline for each API request")
	fl.StringVarP(&o.Out, "out", "O", "", "the snapshot file to write (- for stdout; .gz compresses)")
	fl.IntVar(&o.ConsoleLines, "console-lines", openstack.DefaultConsoleLines, fmt.Sprintf("lines of the guest's console log to read (0 to skip it, at most %d)", snapshot.MaxConsoleLines))
	o.HostChecks.Getenv = io.Getenv
	o.HostChecks.register(cmd)
	fl.BoolVar(&o.Redact, "redact", false, "mask project IDs and names, the user, host names, IP and MAC addresses in the file, consistently, to share it")
	fl.BoolVar(&o.HostChecks.Enabled, "hosts", false, "also read the hosts that serve the server (its compute host, the DHCP and L3 agents' hosts, on ML2/OVN the gateway chassis and the OVN databases): this machine directly, others with --ssh")
	return cmd
}

func collectRun(cmd *cobra.Command, o *CollectOptions) error {
	if o.Out == "" {
		return usageError("collect needs --out FILE (- for stdout)")
	}
	if o.ConsoleLines < 0 || o.ConsoleLines > snapshot.MaxConsoleLines {
		return usageError("--console-lines %d: want 0 (skip the console log) to %d", o.ConsoleLines, snapshot.MaxConsoleLines)
	}
	ctx := cmd.Context()
	c, err := o.Connect(ctx, o.Cloud.options(cmd, o.IO))
	if err != nil {
		return cloudError(err)
	}
	p := newProgress(o.IO, o.Cloud.Debug)
	snap, err := pipeline.Collect(ctx, pipeline.Request{
		Server: o.Server,
		From:   c,
		// The remote groups' members, so that diagnose --check works on the file.
		Collect: openstack.CollectOptions{RemoteGroups: true, ConsoleLines: consoleLines(o.ConsoleLines), Progress: p.report()},
		Hosts:   o.HostChecks.hostCheck(p),
	})
	p.clear()
	if err != nil {
		return pipelineError(err)
	}
	if o.Redact {
		snap = report.RedactSnapshot(snap)
	}
	if err := writeSnapshotFile(o.Out, snap, o.IO, strings.HasSuffix(o.Out, ".gz")); err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	if o.Out != "-" {
		fmt.Fprintf(o.IO.ErrOut, "hoofbeat: wrote %s: %s, %s\n", o.Out, describeSnapshot(snap), gapSummary(snap))
	}
	return nil
}

// describeSnapshot names the server of a snapshot and its state.
func describeSnapshot(s *snapshot.Snapshot) string {
	if s.Server == nil && s.Target != nil {
		return fmt.Sprintf("port %s (no server)", s.Target.PortID)
	}
	if s.Server == nil {
		return "no server"
	}
	return fmt.Sprintf("server %s (%s) %s", s.Server.Name, s.Server.ID, s.Server.Status)
}

func gapSummary(s *snapshot.Snapshot) string {
	if len(s.Gaps) == 0 {
		return "everything read"
	}
	var srcs []string
	for _, g := range s.Gaps {
		if !containsString(srcs, g.Source) {
			srcs = append(srcs, g.Source)
		}
	}
	return fmt.Sprintf("not read: %s (the file says why)", strings.Join(srcs, ", "))
}

func containsString(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
