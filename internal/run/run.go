// Package run executes read-only commands on a host: locally, over SSH, or
// from a recording. Every host command hoofbeat runs goes through a Runner,
// as an argv (never a shell string built from untrusted input), with a
// deadline and a cap on the output kept, so that recorded real outputs can
// drive the tests and a test fails on a command it did not expect.
package run

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/shell"
)

// Defaults for a command that does not set its own limits.
const (
	DefaultTimeout   = 10 * time.Second
	DefaultMaxOutput = 8 << 20 // bytes of stdout kept; the rest is dropped
	maxStderr        = 64 << 10
)

// Command is one program to run on a host.
type Command struct {
	// Argv is the program and its arguments; Argv[0] is looked up in PATH.
	Argv []string
	// Timeout bounds the command; zero means DefaultTimeout.
	Timeout time.Duration
	// MaxOutput caps the stdout kept; zero means DefaultMaxOutput.
	MaxOutput int
}

// String renders the argv for messages and recordings, quoted for a POSIX
// shell where needed.
func (c Command) String() string { return Quote(c.Argv) }

func (c Command) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c Command) maxOutput() int {
	if c.MaxOutput > 0 {
		return c.MaxOutput
	}
	return DefaultMaxOutput
}

// Cat is the command that reads a file at a fixed path. File reads go
// through the runner like every other command, so that SSH and replays
// work the same.
func Cat(path string) Command { return Command{Argv: []string{"cat", "--", path}} }

// Result is what a command printed and how it ended.
type Result struct {
	Stdout   []byte `json:"-"`
	Stderr   []byte `json:"-"`
	ExitCode int    `json:"exit_code"`
	// Truncated is true when stdout exceeded MaxOutput and was cut.
	Truncated bool `json:"truncated,omitempty"`
}

// Runner runs commands on one host.
type Runner interface {
	// Run runs cmd. It returns an *Error when the command could not be run,
	// timed out or exited non-zero; the Result holds whatever was captured.
	Run(ctx context.Context, cmd Command) (Result, error)
	// Host names the host the runner reaches ("local" for this machine).
	Host() string
}

// Kind classifies why a command failed.
type Kind string

const (
	KindExit        Kind = "exit"        // ran and exited non-zero
	KindNotFound    Kind = "not-found"   // the program is not installed
	KindPermission  Kind = "permission"  // permission denied
	KindTimeout     Kind = "timeout"     // the deadline passed
	KindUnreachable Kind = "unreachable" // the host could not be reached
	KindUnexpected  Kind = "unexpected"  // a replay was asked a command it has no recording for
	KindOther       Kind = "other"
)

// Error is a command that failed, with what was being run where.
type Error struct {
	Host string
	Argv []string
	Kind Kind
	// Code is the exit status for KindExit.
	Code int
	// Stderr is the first line of the command's standard error, if any.
	Stderr string
	Err    error
}

func (e *Error) Error() string {
	cmd := Quote(e.Argv)
	if len(cmd) > 80 {
		cmd = cmd[:77] + "..."
	}
	var why string
	switch e.Kind {
	case KindExit:
		why = fmt.Sprintf("exit status %d", e.Code)
	case KindNotFound:
		why = fmt.Sprintf("%s is not installed", argv0(e.Argv))
	case KindPermission:
		why = "permission denied"
	case KindTimeout:
		why = "timed out"
	case KindUnreachable:
		why = "host unreachable"
	case KindUnexpected:
		why = "no recording of this command"
	default:
		why = "failed"
	}
	if e.Err != nil && e.Kind != KindExit && e.Kind != KindNotFound {
		why += ": " + e.Err.Error()
	}
	if e.Stderr != "" {
		why += ": " + e.Stderr
	}
	return fmt.Sprintf("%s on %s: %s", cmd, e.Host, why)
}

func (e *Error) Unwrap() error { return e.Err }

func argv0(argv []string) string {
	if len(argv) == 0 {
		return "(empty command)"
	}
	return argv[0]
}

// KindOf returns the kind of a Runner error, or "" for nil.
func KindOf(err error) Kind {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return KindTimeout
	}
	return KindOther
}

// firstLine returns the first non-empty line of b, trimmed and bounded.
func firstLine(b []byte) string {
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			if len(l) > 200 {
				l = l[:200] + "…"
			}
			return l
		}
	}
	return ""
}

// classify turns stderr and the exit status of a command that ran into a
// Kind: shells say 127 for a missing program and 126 for one they may not
// execute, and tools print "Permission denied" on their own.
func classify(code int, stderr []byte) Kind {
	s := strings.ToLower(string(stderr))
	switch {
	case code == 127 || strings.Contains(s, "command not found"):
		return KindNotFound
	case code == 126 || strings.Contains(s, "permission denied") || strings.Contains(s, "operation not permitted"):
		return KindPermission
	default:
		return KindExit
	}
}

// Quote renders argv as a POSIX shell command line (package shell quotes
// every command line, for people and programs alike).
func Quote(argv []string) string { return shell.QuotePOSIX(argv) }

// capWriter keeps at most max bytes and remembers that it dropped some.
type capWriter struct {
	buf       []byte
	max       int
	truncated bool
}

func (w *capWriter) Write(p []byte) (int, error) {
	room := w.max - len(w.buf)
	if room <= 0 {
		if len(p) > 0 {
			w.truncated = true
		}
		return len(p), nil
	}
	if len(p) > room {
		w.buf = append(w.buf, p[:room]...)
		w.truncated = true
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}
