package snapshot

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNewConsoleLog(t *testing.T) {
	cases := []struct {
		name      string
		output    string
		requested int
		want      []string
		check     func(t *testing.T, c *ConsoleLog)
	}{
		{name: "empty", output: "", requested: 200, want: []string{},
			check: func(t *testing.T, c *ConsoleLog) {
				if !c.Empty() || c.Binary || c.Bytes != 0 {
					t.Errorf("%+v", c)
				}
			}},
		{name: "only blank lines", output: "\n\n  \n", want: []string{"", "", ""},
			check: func(t *testing.T, c *ConsoleLog) {
				if !c.Empty() {
					t.Error("not empty")
				}
			}},
		{name: "trailing newline", output: "a\nb\n", want: []string{"a", "b"}},
		{name: "no trailing newline", output: "a\nb", want: []string{"a", "b"}},
		{name: "tail kept", output: "1\n2\n3\n4\n5\n", requested: 2, want: []string{"4", "5"},
			check: func(t *testing.T, c *ConsoleLog) {
				if c.Dropped != 3 || c.Requested != 2 {
					t.Errorf("%+v", c)
				}
			}},
		// systemd's coloured status as Nova returns it: Nova strips the
		// ESC byte (and CR) and leaves the rest of the escape sequence.
		{name: "systemd colours without ESC", output: "[[0;1;31mFAILED[0m] Failed to start [0;1;39mWait for Network to be Configured[0m.\r\n",
			want: []string{"[FAILED] Failed to start Wait for Network to be Configured."}},
		{name: "systemd colours with ESC", output: "[\x1b[0;32m  OK  \x1b[0m] Started \x1b[0;1;39mNetwork Service\x1b[0m.\r\n",
			want: []string{"[  OK  ] Started Network Service."}},
		{name: "cursor moves and title", output: "\x1b[2J\x1b[H\x1b]0;title\x07login: \x1b[K\n", want: []string{"login:"}},
		{name: "brackets that are text", output: "[    0.000000] Linux version 5.15\n[  *** ] A start job is running\n",
			want: []string{"[    0.000000] Linux version 5.15", "[  *** ] A start job is running"}},
		{name: "tabs and control bytes", output: "a\tb\x00\x07c\n", want: []string{"a bc"}},
		{name: "invalid UTF-8", output: "caf\xe9 ok\n", want: []string{"caf ok"}},
		{name: "a line of noise keeps its place", output: "before\n" + strings.Repeat("\x00\xff\x01", 20) + "\nafter\n",
			want: []string{"before", "[not text: 60 bytes]", "after"},
			check: func(t *testing.T, c *ConsoleLog) {
				if c.NotText != 1 || c.Binary {
					t.Errorf("%+v", c)
				}
			}},
		{name: "binary", output: strings.Repeat(strings.Repeat("\x00\x9f\xfe", 30)+"\n", 10) + "text\n",
			check: func(t *testing.T, c *ConsoleLog) {
				if !c.Binary || c.NotText != 10 || len(c.Lines) != 11 {
					t.Errorf("%+v", c)
				}
			}},
		{name: "long line", output: strings.Repeat("é", MaxConsoleLineBytes) + "\n",
			check: func(t *testing.T, c *ConsoleLog) {
				l := c.Lines[0]
				if c.Cut != 1 || !strings.HasSuffix(l, "…") || len(l) > MaxConsoleLineBytes+len("…") || !utf8.ValidString(l) {
					t.Errorf("cut %d, %d bytes", c.Cut, len(l))
				}
			}},
		{name: "huge", output: strings.Repeat(strings.Repeat("x", 1000)+"\n", 3000),
			check: func(t *testing.T, c *ConsoleLog) {
				n := 0
				for _, l := range c.Lines {
					n += len(l) + 1
				}
				if n > MaxConsoleBytes || c.Dropped == 0 || c.Dropped+len(c.Lines) != 3000 || c.Bytes != 3000*1001 {
					t.Errorf("kept %d bytes in %d lines, dropped %d", n, len(c.Lines), c.Dropped)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := NewConsoleLog(tc.output, tc.requested)
			if tc.want != nil && !reflect.DeepEqual(c.Lines, tc.want) {
				t.Errorf("lines = %q, want %q", c.Lines, tc.want)
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

// FuzzNewConsoleLog: whatever a guest writes to its serial port, the log is
// bounded, valid UTF-8 and free of control characters.
func FuzzNewConsoleLog(f *testing.F) {
	f.Add("udhcpc: no lease, failing\n", 200)
	f.Add("[[0;1;31mFAILED[0m] Failed\r\n", 1)
	f.Add("\x00\xff\x1b[31m\x1b]0;x\x07", 0)
	f.Add(strings.Repeat("\x1b[", 100), 3)
	f.Fuzz(func(t *testing.T, output string, requested int) {
		c := NewConsoleLog(output, requested)
		if requested > 0 && len(c.Lines) > requested {
			t.Fatalf("%d lines, asked for %d", len(c.Lines), requested)
		}
		n := 0
		for _, l := range c.Lines {
			n += len(l) + 1
			if !utf8.ValidString(l) {
				t.Fatalf("invalid UTF-8: %q", l)
			}
			if strings.ContainsAny(l, "\x00\x1b\r\n\t") {
				t.Fatalf("control character left: %q", l)
			}
			if len(l) > MaxConsoleLineBytes+len("…") {
				t.Fatalf("line of %d bytes", len(l))
			}
		}
		if n > MaxConsoleBytes {
			t.Fatal(fmt.Sprintf("%d bytes kept", n))
		}
	})
}
