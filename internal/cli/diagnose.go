package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/openstack"
	"github.com/hoofbeat/hoofbeat/internal/pipeline"
	"github.com/hoofbeat/hoofbeat/internal/report"
	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
	"github.com/spf13/cobra"
)

// DiagnoseOptions holds "hoofbeat diagnose"'s flags and dependencies.
type DiagnoseOptions struct {
	IO *IOStreams
	// Connect authenticates against the cloud; tests replace it.
	Connect func(ctx context.Context, o openstack.Options) (pipeline.Collector, error)
	// HostChecks are --hosts and how to reach the hosts (see host.go).
	HostChecks hostFlags

	Server string
	Cloud  cloudFlags
	Checks []string
	Froms  []string
	Output string
	// ruleFlags are --exclude and --config.
	ruleFlags
	// ConsoleLines is --console-lines: the tail of the console log to read.
	ConsoleLines int
	// FromFile is the snapshot file a --from names (from.go): diagnose
	// then reads it instead of the cloud.
	FromFile string
	// Quiet is -q: only the verdict line of the text report (and errors).
	Quiet bool
	// Redact is --redact: mask project IDs and names, the user, addresses
	// and host names in the report (output.go).
	Redact bool
	// Watch is --watch[=INTERVAL] and UntilHealthy --until-healthy
	// (watch.go).
	Watch        time.Duration
	UntilHealthy bool
}

// cloudFlags are the connection flags shared by every verb that talks to a
// cloud. Timeout is the API request deadline; each verb registers its own
// --timeout, since console's means the idle timeout of a scripted session.
type cloudFlags struct {
	Cloud    string
	CACert   string
	Insecure bool
	Timeout  time.Duration
	Debug    bool
	// NoTokenCache is --no-token-cache.
	NoTokenCache bool
	// OS holds the osFlags' values by the variable each overrides.
	OS map[string]*string
}

// osFlags are the openstack client's --os-* flags besides --os-cloud and
// --os-cacert, with the variable each overrides. There is deliberately no
// --os-password: a command line is visible to every user of the machine
// (ps), so the password comes from clouds.yaml, secure.yaml or
// OS_PASSWORD only.
var osFlags = []struct{ name, env, usage string }{
	{"os-auth-url", "OS_AUTH_URL", "Keystone's URL"},
	{"os-region-name", "OS_REGION_NAME", "the region whose endpoints to use"},
	{"os-interface", "OS_INTERFACE", "the endpoints' interface: public, internal or admin"},
	{"os-project-name", "OS_PROJECT_NAME", "the project to scope to, by name"},
	{"os-project-id", "OS_PROJECT_ID", "the project to scope to, by ID"},
	{"os-username", "OS_USERNAME", "the user to authenticate as"},
	{"os-user-domain-name", "OS_USER_DOMAIN_NAME", "the user's domain"},
	{"os-project-domain-name", "OS_PROJECT_DOMAIN_NAME", "the project's domain"},
	{"os-cert", "OS_CERT", "client certificate (PEM) for TLS client authentication; needs --os-key"},
	{"os-key", "OS_KEY", "client certificate's key (PEM)"},
}

func (f *cloudFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.Cloud, "os-cloud", "", "cloud name in clouds.yaml (default $OS_CLOUD)")
	fl.StringVar(&f.CACert, "os-cacert", "", "CA bundle to verify the cloud's TLS certificates (default $OS_CACERT)")
	f.OS = map[string]*string{}
	for _, of := range osFlags {
		f.OS[of.env] = fl.String(of.name, "", fmt.Sprintf("%s (default $%s; overrides clouds.yaml)", of.usage, of.env))
	}
	fl.BoolVar(&f.Insecure, "insecure", false, "do not verify TLS certificates (default $OS_INSECURE)")
	fl.BoolVar(&f.Debug, "debug", false, "log every API request (method, URL, status, duration) to stderr; secrets are redacted")
	fl.BoolVar(&f.NoTokenCache, "no-token-cache", false, "neither use nor keep a token in the cache (a 0600 file under the user's cache directory, per auth URL, user, project and scope)")
}

func (f *cloudFlags) options(cmd *cobra.Command, io *IOStreams) openstack.Options {
	o := openstack.Options{Cloud: f.Cloud, CACert: f.CACert, Timeout: f.Timeout, Getenv: io.Getenv}
	for env, v := range f.OS {
		if *v != "" {
			if o.Flags == nil {
				o.Flags = map[string]string{}
			}
			o.Flags[env] = *v
		}
	}
	if cmd.Flags().Changed("insecure") {
		v := f.Insecure
		o.Insecure = &v
	}
	if f.Debug {
		o.Debug = io.ErrOut
	}
	if !f.NoTokenCache {
		o.TokenCache = tokenCacheDir(io.Getenv)
	}
	return o
}

// tokenCacheDir is where tokens are cached: os.UserCacheDir()/hoofbeat,
// read from the environment the verb was given; "" (no cache) when it
// has no home.
func tokenCacheDir(getenv func(string) string) string {
	var base string
	switch runtime.GOOS {
	case "darwin", "ios":
		if h := getenv("HOME"); filepath.IsAbs(h) {
			base = filepath.Join(h, "Library", "Caches")
		}
	default:
		base = getenv("XDG_CACHE_HOME")
		if !filepath.IsAbs(base) {
			base = ""
			if h := getenv("HOME"); filepath.IsAbs(h) {
				base = filepath.Join(h, ".cache")
			}
		}
	}
	if base == "" {
		return ""
	}
	return filepath.Join(base, "hoofbeat")
}

func connectCloud(ctx context.Context, o openstack.Options) (pipeline.Collector, error) {
	return openstack.Connect(ctx, o)
}

// NewCmdDiagnose builds "hoofbeat diagnose SERVER". connect may be nil for
// the real cloud.
func NewCmdDiagnose(io *IOStreams, connect func(context.Context, openstack.Options) (pipeline.Collector, error)) *cobra.Command {
	if connect == nil {
		connect = connectCloud
	}
	o := &DiagnoseOptions{IO: io, Connect: connect}
	cmd := &cobra.Command{
		Use:   "diagnose SERVER|IP|MAC|PORT-ID | --from SNAPSHOT",
		Short: "Tell why a server does not answer, from the instance outward",
		Long: `Read the server, its ports, security groups, subnets, networks, the agents
serving them, its router and floating IP, and report what is wrong, most
likely cause first, with the evidence and the command that fixes it.

SERVER is a server ID or an exact name; or a fixed or floating IP address,
a MAC address or a port ID, which finds the port (in every project, for an
admin) and its server. A port without a server (a VIP, an allowed-address
pair holder, a router or DHCP port) is diagnosed as a port: the rules that
need a server are not applicable. A value that matches several ports
lists them and exits 2. With --check, also evaluate whether
the security groups admit a flow (repeatable; each check is tried from each
--from source, default 0.0.0.0/0).

With --from SNAPSHOT (a file "hoofbeat collect" wrote; - for stdin),
diagnose reads the file instead of the cloud: no credentials, no network,
the same verdict. A SERVER given with it must be the snapshot's server.
A --from value that is an address or a prefix is a --check source; any
other value is a snapshot file.

Exit status: 0 no error found, 1 at least one error finding, 2 usage error
(bad flag, unknown or ambiguous server, a snapshot file that cannot be
read), 3 the cloud could not be reached or
authentication failed. --watch runs until Ctrl-C (130); --until-healthy
exits 0 once no error finding is left.`,
		Example: `  hoofbeat diagnose vm1
  hoofbeat diagnose 3f2a9c1e-7b1d-4a57-9e7c-0a4c5f6e2b11 --output json
  hoofbeat diagnose 10.0.0.5
  hoofbeat diagnose fa:16:3e:5b:1c:2d
  hoofbeat diagnose vm1 --watch=15s --until-healthy
  hoofbeat diagnose vm1 --check tcp/22 --from 203.0.113.0/24 --check icmp
  hoofbeat collect vm1 --out vm1.json && hoofbeat diagnose --from vm1.json
  hoofbeat diagnose vm1 --output html --redact > vm1-report.html`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageError("diagnose takes one SERVER (an ID or a name), got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Server = args[0]
			}
			return diagnoseRun(cmd, o)
		},
	}
	o.Cloud.register(cmd)
	o.HostChecks.Getenv = io.Getenv
	o.HostChecks.register(cmd)
	cmd.Flags().BoolVar(&o.HostChecks.Enabled, "hosts", false, "also check the hosts that serve the server (its compute host, the DHCP and L3 agents' hosts, on ML2/OVN the gateway chassis and the OVN databases): this machine directly, others with --ssh")
	fl := cmd.Flags()
	fl.DurationVar(&o.Cloud.Timeout, "timeout", openstack.DefaultTimeout, "deadline for each API request")
	fl.StringArrayVar(&o.Checks, "check", nil, "a flow to evaluate against the security groups: tcp/22, udp/53, tcp/8000-8080, icmp, icmp/8, any (repeatable)")
	fl.StringArrayVar(&o.Froms, "from", nil, "source CIDR or address of the --check flows (repeatable, default 0.0.0.0/0); or a snapshot file to diagnose offline")
	fl.StringVarP(&o.Output, "output", "o", "text", "output format: text, json, markdown (an incident report for a ticket) or html (one self-contained page)")
	fl.BoolVarP(&o.Quiet, "quiet", "q", false, "print only the verdict line (and errors); the exit status is the same")
	fl.BoolVar(&o.Redact, "redact", false, "mask project IDs and names, the user, IP addresses and host names in the report, consistently, to share it outside the team")
	o.ruleFlags.register(cmd)
	watchFlags(fl, o)
	fl.IntVar(&o.ConsoleLines, "console-lines", openstack.DefaultConsoleLines, fmt.Sprintf("lines of the guest's console log to read (0 to skip it, at most %d)", snapshot.MaxConsoleLines))
	return cmd
}

func diagnoseRun(cmd *cobra.Command, o *DiagnoseOptions) error {
	if err := checkOutput(o.Output); err != nil {
		return err
	}
	if err := o.checkWatch(); err != nil {
		return err
	}
	if o.Quiet && o.Output != "text" {
		return usageError("--quiet shortens the text report; --output %s has no verdict line to keep", o.Output)
	}
	froms, file, err := splitFroms(o.Froms)
	if err != nil {
		return usageError("%v", err)
	}
	o.FromFile = file
	if o.Server == "" && file == "" {
		return usageError("diagnose takes one SERVER (an ID or a name), got 0 arguments; or --from SNAPSHOT")
	}
	if len(froms) > 0 && len(o.Checks) == 0 {
		return usageError("--from needs at least one --check")
	}
	if o.ConsoleLines < 0 || o.ConsoleLines > snapshot.MaxConsoleLines {
		return usageError("--console-lines %d: want 0 (skip the console log) to %d", o.ConsoleLines, snapshot.MaxConsoleLines)
	}
	flows, err := rule.ParseFlows(o.Checks, froms)
	if err != nil {
		return usageError("%v", err)
	}
	opt, err := o.ruleFlags.options(o.IO.Getenv)
	if err != nil {
		return err
	}

	ctx := cmd.Context()
	from, err := o.source(ctx, cmd)
	if err != nil {
		return err
	}
	p := newProgress(o.IO, o.Quiet || o.Cloud.Debug)
	req := pipeline.Request{
		Server:  o.Server,
		From:    from,
		Collect: openstack.CollectOptions{RemoteGroups: len(flows) > 0, ConsoleLines: consoleLines(o.ConsoleLines), Progress: p.report()},
		Hosts:   o.HostChecks.hostCheck(p),
		Flows:   flows,
		Rules:   opt,
	}
	res, err := pipeline.Run(ctx, req)
	p.clear()
	if err != nil {
		return pipelineError(err)
	}
	rep := &report.Report{Snapshot: res.Snapshot, Result: res.Result, Flows: flows, Tool: "hoofbeat " + version()}
	if err := o.render(rep); err != nil {
		return err
	}
	if o.watching() {
		return o.watch(ctx, req, rep, p)
	}
	if res.Result.Worst() >= rule.Error {
		return errFindings
	}
	return nil
}

// consoleLines maps --console-lines to CollectOptions.ConsoleLines, whose
// 0 means the default.
func consoleLines(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// pipelineError maps a failed stage of the pipeline to an exit code: the
// cloud's errors by kind, a snapshot of another server as a usage error,
// the hosts' errors as they are (ours already carry their code).
func pipelineError(err error) error {
	var mm *pipeline.MismatchError
	if errors.As(err, &mm) {
		return &ExitError{Code: ExitUsage, Err: mm}
	}
	var pe *pipeline.Error
	if errors.As(err, &pe) && pe.Stage == pipeline.StageCollect {
		return cloudError(pe.Err)
	}
	return err
}

// cloudError maps the collector's error kinds to exit codes.
func cloudError(err error) error {
	var oe *openstack.Error
	if !errors.As(err, &oe) {
		return &ExitError{Code: ExitUnreachable, Err: err}
	}
	switch oe.Kind {
	case openstack.KindConfig:
		return &ExitError{Code: ExitUsage, Err: err}
	case openstack.KindNotFound:
		return &ExitError{Code: ExitUsage, Err: err}
	case openstack.KindAmbiguous:
		msg := err.Error()
		if len(oe.Candidates) > 0 {
			msg += "; candidates:\n  " + strings.Join(oe.Candidates, "\n  ") + "\nname one by ID (a server's, or a port's)"
		}
		return &ExitError{Code: ExitUsage, Err: errors.New(msg)}
	default:
		return &ExitError{Code: ExitUnreachable, Err: err}
	}
}
