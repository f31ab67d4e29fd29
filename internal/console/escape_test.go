package console

import (
	"bytes"
	"testing"
)

// feed runs an escaper over chunks and returns what it would send and the
// commands seen, stopping at a disconnect.
func feed(e *escaper, chunks ...string) (sent string, cmds []escCmd) {
	var out bytes.Buffer
	for _, c := range chunks {
		p := []byte(c)
		for len(p) > 0 {
			send, cmd, n := e.next(p)
			out.Write(send)
			p = p[n:]
			if cmd != escNone {
				cmds = append(cmds, cmd)
				if cmd == escDisconnect {
					return out.String(), cmds
				}
			}
		}
	}
	return out.String(), cmds
}

func TestEscaper(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ch     byte
		chunks []string
		sent   string
		cmds   []escCmd
	}{
		{"disconnect at session start", '~', []string{"~."}, "", []escCmd{escDisconnect}},
		{"disconnect after CR", '~', []string{"ls\r~.junk"}, "ls\r", []escCmd{escDisconnect}},
		{"disconnect after LF", '~', []string{"ls\n~."}, "ls\n", []escCmd{escDisconnect}},
		{"split across reads", '~', []string{"ls\r~", ".after"}, "ls\r", []escCmd{escDisconnect}},
		{"mid-line tilde is sent", '~', []string{"a~.b"}, "a~.b", nil},
		{"double escape sends one", '~', []string{"~~."}, "~.", nil},
		{"double escape then not at start", '~', []string{"~~~."}, "~~.", nil},
		{"unknown command sends both", '~', []string{"~x"}, "~x", nil},
		{"escape then CR keeps line start", '~', []string{"~\r~."}, "~\r", []escCmd{escDisconnect}},
		{"help keeps line start", '~', []string{"~?~."}, "", []escCmd{escHelp, escDisconnect}},
		{"other escape character", '^', []string{"~.\r^."}, "~.\r", []escCmd{escDisconnect}},
		{"disabled", 0, []string{"~.\r~."}, "~.\r~.", nil},
		{"control escape character", 0x1d, []string{"\x1d."}, "", []escCmd{escDisconnect}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sent, cmds := feed(newEscaper(tc.ch), tc.chunks...)
			if sent != tc.sent {
				t.Errorf("sent %q, want %q", sent, tc.sent)
			}
			if len(cmds) != len(tc.cmds) {
				t.Fatalf("commands %v, want %v", cmds, tc.cmds)
			}
			for i := range cmds {
				if cmds[i] != tc.cmds[i] {
					t.Errorf("commands %v, want %v", cmds, tc.cmds)
				}
			}
		})
	}
}

func TestEscName(t *testing.T) {
	for b, want := range map[byte]string{'~': "~", 0x1d: "^]", 0x7f: "^?"} {
		if got := escName(b); got != want {
			t.Errorf("escName(%#x) = %q, want %q", b, got, want)
		}
	}
}

func FuzzEscaper(f *testing.F) {
	f.Add([]byte("ls\r~.x"), byte('~'), 3)
	f.Add([]byte("~~~?~x"), byte('~'), 1)
	f.Add([]byte("plain"), byte(0), 2)
	f.Fuzz(func(t *testing.T, in []byte, ch byte, split int) {
		e := newEscaper(ch)
		var sent []byte
		consumed := 0
		chunks := [][]byte{in}
		if split > 0 && split < len(in) {
			chunks = [][]byte{in[:split], in[split:]}
		}
	outer:
		for _, p := range chunks {
			for len(p) > 0 {
				send, cmd, n := e.next(p)
				if n <= 0 || n > len(p) {
					t.Fatalf("consumed %d of %d", n, len(p))
				}
				sent = append(sent, send...)
				consumed += n
				p = p[n:]
				if cmd == escDisconnect {
					break outer
				}
			}
		}
		// Without an escape character in play, input passes unchanged.
		if ch == 0 || !bytes.Contains(in, []byte{ch}) {
			if !bytes.Equal(sent, in) {
				t.Fatalf("sent %q for %q", sent, in)
			}
		}
		// Nothing is invented: every byte sent was typed, in order.
		if len(sent) > consumed {
			t.Fatalf("sent %d bytes from %d consumed", len(sent), consumed)
		}
	})
}
