package snapshot

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ConsoleLog is the tail of a server's console output as Nova returns it
// (the os-getConsoleOutput action), cleaned into text that rules can match
// and reports can quote: what the guest itself said while it booted.
type ConsoleLog struct {
	// Lines are the last lines asked for, oldest first, decoded as UTF-8
	// with invalid bytes replaced, without terminal escape sequences or
	// control characters, each at most MaxConsoleLineBytes long. A line
	// that was mostly not text is replaced by a placeholder
	// ("[not text: N bytes]") so that line numbers stay right.
	Lines []string `json:"lines"`
	// Requested is the number of lines asked for (--console-lines).
	Requested int `json:"requested,omitempty"`
	// Bytes is the size of the output as Nova returned it.
	Bytes int `json:"bytes"`
	// Dropped counts the oldest lines left out to keep the tail within
	// Requested lines and MaxConsoleBytes.
	Dropped int `json:"dropped,omitempty"`
	// Cut counts the lines shortened to MaxConsoleLineBytes.
	Cut int `json:"cut,omitempty"`
	// NotText counts the lines replaced by a placeholder.
	NotText int `json:"not_text,omitempty"`
	// Binary is true when most of the output was not text (a guest writing
	// binary data to its serial port, a wrong baud rate): rules do not read
	// it.
	Binary bool `json:"binary,omitempty"`
}

// Bounds of a console log kept in a snapshot.
const (
	// MaxConsoleLines bounds Requested: Nova reads the whole log file to
	// return its tail, so asking for more is slow for everyone.
	MaxConsoleLines = 10000
	// MaxConsoleLineBytes bounds one line; longer ones are cut with "…".
	MaxConsoleLineBytes = 1024
	// MaxConsoleBytes bounds the kept lines together.
	MaxConsoleBytes = 1 << 20
)

// Empty reports whether the guest printed nothing that was kept.
func (c *ConsoleLog) Empty() bool {
	for _, l := range c.Lines {
		if strings.TrimSpace(l) != "" {
			return false
		}
	}
	return true
}

// escapes are terminal escape sequences: CSI (colours, cursor moves), OSC
// (titles), two-character ones; and the bare "[0;32m" colour codes Nova
// leaves behind when it strips the ESC byte from systemd's "[  OK  ]" lines.
var escapes = regexp.MustCompile(`\x1b\[[0-9;?=>]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[()][0-9A-Za-z]|\x1b[@-Z\\-_]|\[[0-9]{1,3}(?:;[0-9]{1,3})*m`)

// NewConsoleLog cleans Nova's output into a ConsoleLog keeping the last
// requested lines (all of them when requested <= 0). It never fails: any
// input, binary or huge, gives a bounded log.
func NewConsoleLog(output string, requested int) *ConsoleLog {
	c := &ConsoleLog{Lines: []string{}, Requested: requested, Bytes: len(output)}
	if output == "" {
		return c
	}
	raw := strings.Split(strings.TrimSuffix(output, "\n"), "\n")
	if requested > 0 && len(raw) > requested {
		c.Dropped = len(raw) - requested
		raw = raw[len(raw)-requested:]
	}
	lines := make([]string, len(raw))
	total, nonEmpty := 0, 0
	for i, l := range raw {
		clean, junk := cleanLine(l)
		switch {
		case junk:
			clean = fmt.Sprintf("[not text: %d bytes]", len(l))
			c.NotText++
		case len(clean) > MaxConsoleLineBytes:
			clean = cutUTF8(clean, MaxConsoleLineBytes) + "…"
			c.Cut++
		}
		if strings.TrimSpace(l) != "" {
			nonEmpty++
		}
		lines[i] = clean
		total += len(clean) + 1
	}
	// Keep the newest lines within MaxConsoleBytes.
	start := 0
	for total > MaxConsoleBytes && start < len(lines) {
		total -= len(lines[start]) + 1
		start++
	}
	c.Dropped += start
	c.Lines = lines[start:]
	c.Binary = nonEmpty > 0 && c.NotText*2 > nonEmpty
	return c
}

// cleanLine removes escape sequences, control characters and invalid
// UTF-8, and reports whether the line was mostly not text.
func cleanLine(l string) (string, bool) {
	if !utf8.ValidString(l) {
		l = strings.ToValidUTF8(l, "\uFFFD")
	}
	l = escapes.ReplaceAllString(l, "")
	var b strings.Builder
	b.Grow(len(l))
	text, junk := 0, 0
	for _, r := range l {
		switch {
		case r == '\t':
			b.WriteRune(' ')
			text++
		case r == utf8.RuneError || (unicode.IsControl(r)) || r == '\uFEFF':
			junk++
		default:
			b.WriteRune(r)
			text++
		}
	}
	out := strings.TrimRight(b.String(), " ")
	return out, junk >= 8 && junk*3 > text
}

// cutUTF8 shortens s to at most n bytes without splitting a character.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
