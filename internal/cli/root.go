// Package cli holds hoofbeat's commands: one file per verb, each with an
// options struct holding its dependencies, a NewCmd constructor and a run
// function. Only this package and internal/report write to the terminal.
package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/visible"
	"github.com/spf13/cobra"
)

// Main runs hoofbeat with args (without the program name) and returns the
// process exit code.
func Main(ctx context.Context, args []string, io *IOStreams) int {
	// Error bodies, host names and reasons from clouds and hosts reach
	// stderr in many messages: none may bring its control characters.
	s := *io
	s.ErrOut = visible.Writer(io.ErrOut)
	io = &s
	root := NewCmdRoot(io)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	var sig Interrupted
	if errors.As(context.Cause(ctx), &sig) {
		fmt.Fprintf(io.ErrOut, "hoofbeat: %s\n", sig.Error())
		return sig.ExitCode()
	}
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, errFindings) {
		return ExitFindings
	}
	var ee *ExitError
	code := ExitUsage
	if errors.As(err, &ee) {
		code = ee.Code
	}
	msg := strings.TrimSpace(err.Error())
	fmt.Fprintf(io.ErrOut, "hoofbeat: %s\n", msg)
	if code == ExitUsage && cmd != nil && isFlagError(err) {
		fmt.Fprintf(io.ErrOut, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return code
}

// NewCmdRoot builds the command tree.
func NewCmdRoot(io *IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "hoofbeat",
		Short: "Find out why an OpenStack instance does not answer",
		Long: `hoofbeat walks from an instance outward — port, security groups, subnet,
network, agents, router, floating IP — through the Nova and Neutron APIs and
tells you, ranked, why it does not answer, with the evidence and the fix.

Credentials come from the same places the openstack client reads them:
OS_CLOUD (or --os-cloud) with clouds.yaml/secure.yaml, or OS_* variables.
hoofbeat only reads: it never changes the cloud.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          unknownCommand,
		// Bare "hoofbeat" prints help rather than an error. The root must
		// run for its Args to be checked: cobra prints help for a root
		// that cannot run, whatever the arguments, and exits 0.
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	// --version prints what "hoofbeat version" does.
	root.Version = version()
	root.SetVersionTemplate(currentBuild().String())
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &ExitError{Code: ExitUsage, Err: flagError{suggestFlag(cmd, err)}}
	})
	root.SetHelpCommand(newCmdHelp())
	// cobra's "completion bash|zsh|fish|powershell"; the scripts call the
	// hidden "__complete", which completes rule names (completeRules).

	root.AddCommand(
		NewCmdDiagnose(io, nil),
		NewCmdAudit(io, nil),
		NewCmdExporter(io, nil),
		NewCmdCollect(io, nil),
		NewCmdIpcalc(io),
		NewCmdRules(io),
		NewCmdExplain(io),
		NewCmdConsole(io, nil),
		NewCmdHost(io),
		NewCmdVersion(io),
		NewCmdMan(io),
		NewCmdDiff(io),
	)
	return root
}

// flagError marks errors that deserve a pointer to --help.
type flagError struct{ error }

func (e flagError) Unwrap() error { return e.error }

func isFlagError(err error) bool {
	var fe flagError
	return errors.As(err, &fe)
}
