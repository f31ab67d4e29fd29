package cli

import (
	"bytes"
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams are the process's standard streams, passed in so that tests can
// capture output and pretend to be (or not be) a terminal.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// OutTTY is true when Out is a terminal: colour and the path view's
	// alignment assume a person is reading.
	OutTTY bool
	// Width is the terminal width, 0 when unknown.
	Width int
	// Getenv reads the environment (tests inject a map).
	Getenv func(string) string
	// Progress is the raw stderr when it is a terminal, nil otherwise: the
	// progress line needs the carriage return and erase sequences that
	// ErrOut (escaped in Main) would show as text. Nothing else uses it.
	Progress io.Writer
}

// System returns the streams of the running process.
func System() *IOStreams {
	s := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, Getenv: os.Getenv}
	if fd := int(os.Stdout.Fd()); term.IsTerminal(fd) {
		s.OutTTY = true
		if w, _, err := term.GetSize(fd); err == nil {
			s.Width = w
		}
	}
	if term.IsTerminal(int(os.Stderr.Fd())) {
		s.Progress = os.Stderr
	}
	return s
}

// Test returns streams backed by buffers, not a terminal, with an empty
// environment.
func Test() (*IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut, Getenv: func(string) string { return "" }}, in, out, errOut
}

// colour reports whether to use ANSI colour: on a terminal that is not
// TERM=dumb, or anywhere with CLICOLOR_FORCE (set and not "0", for a pager
// or CI log that renders colour); NO_COLOR (https://no-color.org) wins
// over both.
func (s *IOStreams) colour() bool {
	switch {
	case s.Getenv("NO_COLOR") != "":
		return false
	case s.Getenv("CLICOLOR_FORCE") != "" && s.Getenv("CLICOLOR_FORCE") != "0":
		return true
	case s.Getenv("TERM") == "dumb":
		return false
	}
	return s.OutTTY
}
