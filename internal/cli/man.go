package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// NewCmdMan builds the hidden "hoofbeat man DIR": one man page per verb,
// from the same help text as --help, for packages (make man, make dist).
func NewCmdMan(io *IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:    "man DIR",
		Short:  "Write hoofbeat's man pages (section 1) into DIR",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := writeManPages(cmd.Root(), args[0]); err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			fmt.Fprintf(io.ErrOut, "hoofbeat: wrote the man pages into %s\n", args[0])
			return nil
		},
	}
}

func writeManPages(root *cobra.Command, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b := currentBuild()
	h := &doc.GenManHeader{Section: "1", Source: "hoofbeat " + b.Version, Manual: "hoofbeat manual"}
	// The commit's date, not today's, so that the same commit gives the
	// same pages (cobra falls back to $SOURCE_DATE_EPOCH, then now).
	if t, err := time.Parse(time.RFC3339, b.Date); err == nil {
		h.Date = &t
	}
	// No "Auto generated … <date>" footer: it would differ on every build.
	root.DisableAutoGenTag = true
	return doc.GenManTree(root, h, dir)
}
