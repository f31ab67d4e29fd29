package cli

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// Exit codes, documented in the README and in --help.
const (
	ExitOK          = 0 // healthy: no error-severity finding
	ExitFindings    = 1 // at least one error-severity finding
	ExitUsage       = 2 // bad flags or arguments, unknown server or rule
	ExitUnreachable = 3 // the cloud could not be reached or authentication failed
)

// Interrupted is the cause of a context cancelled by a signal (Ctrl-C,
// SIGTERM): the verb stops and hoofbeat exits as a shell expects, 128 plus
// the signal's number (130 for Ctrl-C).
type Interrupted struct{ Signal os.Signal }

func (e Interrupted) Error() string { return "interrupted (" + e.Signal.String() + ")" }

// ExitCode is 128 plus the signal's number.
func (e Interrupted) ExitCode() int {
	if s, ok := e.Signal.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 130
}

// ExitError carries an exit code with the error that caused it.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

func usageError(format string, a ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, a...)}
}

// errFindings is returned by diagnose when the report holds an error
// finding: the report is already printed, so there is nothing more to say.
var errFindings = errors.New("error findings")
