// Package shell builds the command lines hoofbeat prints for a person to
// paste (the Fix and Verify blocks): each is a Cmd, a pipeline of argument
// vectors and an optional comment, rendered in this one place. A string
// from a cloud or a host (a name, a host name, an iptables rule) is always
// one quoted word of it, and a comment can hold no line break, so that no
// name can add a command to what an operator pastes into a root shell.
package shell

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/hoofbeat/hoofbeat/internal/visible"
)

// Cmd is one line to paste: commands joined by pipes, and a comment. A Cmd
// with no command is a comment line: advice to read, not to run.
type Cmd struct {
	stages [][]string
	note   string
}

// Command is the command line of argv.
func Command(argv ...string) Cmd {
	return Cmd{stages: [][]string{append([]string(nil), argv...)}}
}

// Note is a line of advice, printed as a shell comment.
func Note(text string) Cmd { return Cmd{note: text} }

// Pipe adds a command that reads this one's output.
func (c Cmd) Pipe(argv ...string) Cmd {
	c.stages = append(append([][]string(nil), c.stages...), append([]string(nil), argv...))
	return c
}

// Comment sets the comment after the command ("on host ctl").
func (c Cmd) Comment(text string) Cmd {
	c.note = text
	return c
}

// Map returns the Cmd with f applied to every word and to the comment
// (redaction masks them): a new Cmd, the words still quoted on output.
func (c Cmd) Map(f func(string) string) Cmd {
	out := Cmd{note: f(c.note)}
	for _, argv := range c.stages {
		m := make([]string, len(argv))
		for i, a := range argv {
			m[i] = f(a)
		}
		out.stages = append(out.stages, m)
	}
	return out
}

// Stages are the argument vectors, in pipeline order.
func (c Cmd) Stages() [][]string { return c.stages }

// Text is the comment as given.
func (c Cmd) Text() string { return c.note }

// IsZero reports an empty Cmd.
func (c Cmd) IsZero() bool { return len(c.stages) == 0 && c.note == "" }

// String renders the line: every word quoted as it needs, the comment
// with its control characters escaped.
func (c Cmd) String() string {
	var b strings.Builder
	for i, argv := range c.stages {
		if i > 0 {
			b.WriteString(" | ")
		}
		b.WriteString(Quote(argv))
	}
	if c.note != "" {
		if b.Len() > 0 {
			b.WriteString("   ")
		}
		b.WriteString("# ")
		b.WriteString(visible.String(c.note))
	}
	return b.String()
}

// MarshalText writes the line as String does: JSON carries the line to
// paste, not its parts.
func (c Cmd) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// Strings renders each Cmd.
func Strings(cs []Cmd) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.String()
	}
	return out
}

// Quote renders argv as one command line for bash, zsh or ksh.
func Quote(argv []string) string { return join(argv, Word) }

// QuotePOSIX renders argv as one command line for any POSIX sh (dash
// included), for a program to run, not a person to read: words are bare or
// single-quoted, control characters and all (no $'…', which dash lacks).
func QuotePOSIX(argv []string) string { return join(argv, posixWord) }

func join(argv []string, word func(string) string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(word(a))
	}
	return b.String()
}

func posixWord(s string) string {
	if s != "" && bare(s) {
		return s
	}
	return singleQuoted(s)
}

func singleQuoted(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// Word quotes s as one shell word: bare when every character is plain,
// single-quoted otherwise, and ANSI-C quoted ($'…') when s holds a control
// character or bytes that are not UTF-8, which a person's paste must
// neither run nor show raw. A NUL, which no argument can hold, becomes the
// four characters \x00.
func Word(s string) string {
	if s == "" {
		return "''"
	}
	if bare(s) {
		return s
	}
	if visible.Safe(s) {
		return singleQuoted(s)
	}
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == 0:
			// No shell can pass a NUL in an argument (bash cuts the word
			// there): it is shown, as \x00, instead of silently cut.
			b.WriteString(`\\x00`)
		case r == '\'' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case !visible.Safe(string(r)):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	b.WriteByte('\'')
	return b.String()
}

// bare reports a word no shell would expand or split. '=' is kept out of
// the first character: zsh expands =cmd to a path.
func bare(s string) bool {
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("-_./:@,+%", r):
		case r == '=' && i > 0:
		default:
			return false
		}
	}
	return true
}
