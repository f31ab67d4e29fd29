package run

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"sync/atomic"
	"time"
)

// Local runs commands on this machine.
type Local struct {
	// Name is reported by Host; empty means "local".
	Name string
	// Env is the whole environment of the commands; nil means a minimal one
	// (a standard PATH, LC_ALL=C so that output is not translated).
	Env []string

	forks atomic.Int64
}

var localEnv = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"}

// Host returns the runner's name.
func (l *Local) Host() string {
	if l.Name != "" {
		return l.Name
	}
	return "local"
}

// Forks returns how many processes the runner started (for benchmarks).
func (l *Local) Forks() int64 { return l.forks.Load() }

// Run runs cmd with its deadline; a command that outlives it is killed, and
// so is anything it left holding its output open (WaitDelay).
func (l *Local) Run(ctx context.Context, cmd Command) (Result, error) {
	if len(cmd.Argv) == 0 {
		return Result{}, &Error{Host: l.Host(), Kind: KindOther, Err: errors.New("empty command")}
	}
	ctx, cancel := context.WithTimeout(ctx, cmd.timeout())
	defer cancel()
	c := exec.CommandContext(ctx, cmd.Argv[0], cmd.Argv[1:]...)
	c.Env = l.Env
	if c.Env == nil {
		c.Env = localEnv
	}
	c.WaitDelay = 500 * time.Millisecond
	out := &capWriter{max: cmd.maxOutput()}
	errOut := &capWriter{max: maxStderr}
	c.Stdout, c.Stderr = out, errOut
	c.Stdin = nil
	l.forks.Add(1)
	err := c.Run()
	res := Result{Stdout: out.buf, Stderr: errOut.buf, Truncated: out.truncated}
	if c.ProcessState != nil {
		res.ExitCode = c.ProcessState.ExitCode()
	}
	if err == nil {
		return res, nil
	}
	e := &Error{Host: l.Host(), Argv: cmd.Argv, Err: err, Stderr: firstLine(errOut.buf)}
	var ee *exec.ExitError
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		e.Kind = KindTimeout
	case errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist):
		e.Kind = KindNotFound
	case errors.Is(err, fs.ErrPermission) || errors.Is(err, os.ErrPermission):
		e.Kind = KindPermission
	case errors.As(err, &ee):
		e.Code = ee.ExitCode()
		e.Kind = classify(e.Code, errOut.buf)
	case ctx.Err() != nil:
		e.Kind = KindTimeout
	default:
		e.Kind = KindOther
	}
	return res, e
}
