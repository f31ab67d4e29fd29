package visible

import (
	"bytes"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	for in, want := range map[string]string{
		"plain name":                 "plain name",
		"é ü 日本":                     "é ü 日本",
		"a\nb\r\tc":                  `a\nb\r\tc`,
		"\x1b]0;title\x07":           `\x1b]0;title\x07`,
		"\x1b[2J":                    `\x1b[2J`,
		"\x1b]52;c;cm0gLXJmIH4=\x07": `\x1b]52;c;cm0gLXJmIH4=\x07`,
		"del\x7f":                    `del\x7f`,
		"c1\u009b31m":                `c1\u009b31m`,
		"bidi\u202eevil\u2066":       `bidi\u202eevil\u2066`,
		"sep\u2028x":                 `sep\u2028x`,
		"bad\xffbyte":                `bad\xffbyte`,
		"nul\x00":                    `nul\x00`,
		"\ufffd is a character":      "\ufffd is a character",
	} {
		if got := String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
		if Safe(in) != (in == want) {
			t.Errorf("Safe(%q) = %v", in, Safe(in))
		}
	}
}

func TestLinesKeepsLineBreaks(t *testing.T) {
	if got, want := Lines("a\x1b[2J\r\nb\rc\n"), "a\\x1b[2J\r\nb\\rc\n"; got != want {
		t.Errorf("Lines = %q, want %q", got, want)
	}
}

func TestWriter(t *testing.T) {
	var b bytes.Buffer
	w := Writer(&b)
	n, err := w.Write([]byte("hoofbeat: \x1b]0;x\x07\n"))
	if err != nil || n != len("hoofbeat: \x1b]0;x\x07\n") {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if got, want := b.String(), "hoofbeat: \\x1b]0;x\\x07\n"; got != want {
		t.Errorf("wrote %q, want %q", got, want)
	}
}

func FuzzString(f *testing.F) {
	f.Add("\x1b[31mred\x1b[0m\n")
	f.Fuzz(func(t *testing.T, s string) {
		if out := String(s); !Safe(out) {
			t.Fatalf("String(%q) = %q is not safe", s, out)
		}
		if out := Lines(s); !Safe(strings.NewReplacer("\r\n", "", "\n", "").Replace(out)) {
			t.Fatalf("Lines(%q) = %q is not safe", s, out)
		}
	})
}
