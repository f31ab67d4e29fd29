// Package visible shows foreign text safely on a terminal. Names, error
// bodies, log and console lines come from clouds and hosts, that is from
// anyone who can name a security group or write to a log: their control
// characters could move the cursor, retitle the window, write the
// clipboard (OSC 52) or end a line early. They are shown escaped instead,
// as Go would write them (\x1b, \n, \u202e), so that what the operator sees
// is what the string holds.
package visible

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// String returns s with every control character, every byte that is not
// UTF-8 and every character that reorders or separates lines escaped.
// Tabs too: text hoofbeat aligns must not be moved by them.
func String(s string) string {
	if Safe(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && unsafeRune(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// Safe reports whether s can be shown as it is.
func Safe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return false
		} else if c >= 0x80 {
			return safeUnicode(s[i:])
		}
	}
	return true
}

func safeUnicode(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || unsafeRune(r) {
			return false
		}
		i += n
	}
	return true
}

// unsafeRune is a C0 or C1 control, DEL, a bidirectional
// override or isolate ("Trojan Source": text shown in another order than
// it is pasted), or a line or paragraph separator.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069,
		r == 0x200e, r == 0x200f, r == 0x061c, r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

// Lines escapes each line of s but keeps its line breaks ("\n", and
// "\r\n" as "\n"): for multi-line messages such as a stderr stream.
func Lines(s string) string {
	if Safe(strings.ReplaceAll(s, "\n", "")) {
		return s
	}
	ls := strings.Split(s, "\n")
	for i, l := range ls {
		crlf := strings.HasSuffix(l, "\r") && i < len(ls)-1
		if crlf {
			l = l[:len(l)-1]
		}
		ls[i] = String(l)
		if crlf {
			ls[i] += "\r"
		}
	}
	return strings.Join(ls, "\n")
}

// Writer escapes what is written to w as Lines does, one Write at a time:
// for a stream that carries foreign text among hoofbeat's own (stderr).
func Writer(w io.Writer) io.Writer { return &writer{w: w} }

type writer struct{ w io.Writer }

func (e *writer) Write(p []byte) (int, error) {
	s := string(p)
	if t := Lines(s); t != s {
		if _, err := io.WriteString(e.w, t); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return e.w.Write(p)
}
