package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/console"
	"github.com/hoofbeat/hoofbeat/internal/openstack"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
	"github.com/spf13/cobra"
)

// ConsoleCloud is what the console verb needs from the cloud.
type ConsoleCloud interface {
	FindServer(ctx context.Context, query string) (*snapshot.Server, error)
	SerialConsoleURL(ctx context.Context, serverID string) (string, error)
	TLSConfig() *tls.Config
}

// ConsoleOptions holds "hoofbeat console"'s flags and dependencies.
type ConsoleOptions struct {
	IO      *IOStreams
	Connect func(ctx context.Context, o openstack.Options) (ConsoleCloud, error)
	// Run is the console session; tests replace it.
	Run func(ctx context.Context, o console.Options) error

	Target   string
	Cloud    cloudFlags
	Escape   string
	LogFile  string
	LogInput bool
	Idle     time.Duration
}

func connectConsole(ctx context.Context, o openstack.Options) (ConsoleCloud, error) {
	c, err := openstack.Connect(ctx, o)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// NewCmdConsole builds "hoofbeat console SERVER|URL".
func NewCmdConsole(io *IOStreams, connect func(context.Context, openstack.Options) (ConsoleCloud, error)) *cobra.Command {
	if connect == nil {
		connect = connectConsole
	}
	o := &ConsoleOptions{IO: io, Connect: connect, Run: console.Run}
	cmd := &cobra.Command{
		Use:   "console SERVER|URL",
		Short: "Open a server's serial console in the terminal",
		Long: `Open the serial console of a server through nova-serialproxy: the way in
when an instance has no VNC or SPICE console, or no network.

SERVER is a server ID or exact name: hoofbeat asks Nova for a serial console
URL (the remote-consoles API) with the same credentials as diagnose. A URL
from "openstack console url show --serial" (ws:// or wss://) works too.

On a terminal the session is raw: Ctrl-C goes to the guest. Type ~. at the
start of a line to leave (like ssh), ~~ to send a ~, ~? for help. Without a
terminal, stdin is sent to the console and the console is copied to stdout,
so scripts can use it; --timeout then ends the session after that long
without traffic.`,
		Example: `  hoofbeat console vm1
  hoofbeat console 'wss://cloud.example.com:6083/?token=…' --os-cacert ca.pem
  echo | hoofbeat console vm1 --timeout 10s --log vm1-console.log`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError("console takes one SERVER (an ID or a name) or a ws:// or wss:// URL, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Target = args[0]
			return consoleRun(cmd, o)
		},
	}
	o.Cloud.register(cmd)
	fl := cmd.Flags()
	fl.DurationVar(&o.Idle, "timeout", 0, "without a terminal: end the session after this long without traffic (0: never)")
	fl.StringVar(&o.Escape, "escape", "~", `escape character ("none" disables it)`)
	fl.StringVar(&o.LogFile, "log", "", "record the session's output to this file")
	fl.BoolVar(&o.LogInput, "log-input", false, "with --log, record what was typed too (passwords included)")
	return cmd
}

func consoleRun(cmd *cobra.Command, o *ConsoleOptions) error {
	var escape byte
	switch {
	case o.Escape == "none":
	case len(o.Escape) == 1 && o.Escape[0] > ' ' && o.Escape[0] < 0x7f:
		escape = o.Escape[0]
	default:
		return usageError("--escape must be one printable character or \"none\", got %q", o.Escape)
	}
	if o.LogInput && o.LogFile == "" {
		return usageError("--log-input needs --log FILE")
	}

	ctx := cmd.Context()
	co := console.Options{
		Stdin: o.IO.In, Stdout: o.IO.Out, Stderr: o.IO.ErrOut,
		Escape: escape, Timeout: o.Idle, LogInput: o.LogInput,
	}
	if isConsoleURL(o.Target) {
		co.URL = o.Target
		tc, err := urlTLS(o.Cloud, cmd, o.IO)
		if err != nil {
			return err
		}
		co.TLS = tc
	} else {
		c, err := o.Connect(ctx, o.Cloud.options(cmd, o.IO))
		if err != nil {
			return cloudError(err)
		}
		srv, err := c.FindServer(ctx, o.Target)
		if err != nil {
			return cloudError(err)
		}
		u, err := c.SerialConsoleURL(ctx, srv.ID)
		if err != nil {
			if errors.Is(err, openstack.ErrConsoleUnavailable) {
				return &ExitError{Code: ExitFindings, Err: fmt.Errorf("%v; on %s's compute host check [serial_console] enabled in nova.conf (hoofbeat explain host/serial-console-config)", err, srv.Name)}
			}
			if srv.Status != "ACTIVE" {
				return cloudError(fmt.Errorf("%w (the server is %s)", err, srv.Status))
			}
			return cloudError(err)
		}
		co.URL = u
		co.TLS = c.TLSConfig()
	}
	if o.LogFile != "" {
		f, err := os.OpenFile(o.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return usageError("--log: %v", err)
		}
		defer f.Close()
		co.Log = f
	}
	err := o.Run(ctx, co)
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return nil
	case console.KindOf(err) == console.KindUsage:
		return &ExitError{Code: ExitUsage, Err: err}
	case console.KindOf(err) == console.KindInterrupted:
		return nil
	default:
		return &ExitError{Code: ExitUnreachable, Err: err}
	}
}

func isConsoleURL(s string) bool {
	return strings.HasPrefix(s, "ws://") || strings.HasPrefix(s, "wss://")
}

// urlTLS builds the TLS configuration for a console URL given directly:
// verified against the system roots, or --os-cacert / $OS_CACERT; --insecure
// or $OS_INSECURE turn verification off as for the APIs.
func urlTLS(f cloudFlags, cmd *cobra.Command, io *IOStreams) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	ca := f.CACert
	if ca == "" {
		ca = io.Getenv("OS_CACERT")
	}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, usageError("read CA bundle: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, usageError("CA bundle %s holds no PEM certificate", ca)
		}
		tc.RootCAs = pool
	}
	insecure := strings.EqualFold(io.Getenv("OS_INSECURE"), "true") || io.Getenv("OS_INSECURE") == "1"
	if cmd.Flags().Changed("insecure") {
		insecure = f.Insecure
	}
	tc.InsecureSkipVerify = insecure
	return tc, nil
}
