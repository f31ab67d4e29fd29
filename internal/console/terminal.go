package console

import (
	"errors"
	"io"
	"os"

	"golang.org/x/term"
)

// Terminal is the local terminal the session runs on. A non-nil Terminal in
// Options makes the session interactive.
type Terminal interface {
	// MakeRaw puts the terminal in raw mode and returns the function that
	// restores the previous state. Run calls restore exactly once.
	MakeRaw() (restore func() error, err error)
}

// TerminalFor returns the Terminal behind r when r is an *os.File open on a
// terminal, and nil otherwise (then a session is non-interactive).
func TerminalFor(r io.Reader) Terminal {
	f, ok := r.(*os.File)
	if !ok || f == nil {
		return nil
	}
	fd, ok := fileFd(f)
	if !ok || !term.IsTerminal(fd) {
		return nil
	}
	return fdTerminal{f: f, fd: fd}
}

// fdTerminal is a terminal file descriptor handled with golang.org/x/term.
type fdTerminal struct {
	f  *os.File // keeps fd open
	fd int
}

func (t fdTerminal) MakeRaw() (func() error, error) {
	st, err := term.MakeRaw(t.fd)
	if err != nil {
		return nil, err
	}
	return func() error { return term.Restore(t.fd, st) }, nil
}

// fileFd returns f's descriptor without os.File.Fd, which would switch a
// pollable file to blocking mode and break read deadlines.
func fileFd(f *os.File) (int, bool) {
	sc, err := f.SyscallConn()
	if err != nil {
		return 0, false
	}
	fd := -1
	if err := sc.Control(func(u uintptr) { fd = int(u) }); err != nil {
		return 0, false
	}
	return fd, fd >= 0
}

// errCanceled is what a canceled input reader returns.
var errCanceled = errors.New("input reader canceled")
