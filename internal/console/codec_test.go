package console

import (
	"bytes"
	"testing"

	"github.com/coder/websocket"
)

func TestCodecFor(t *testing.T) {
	for proto, want := range map[string]string{"binary": "binary", "": "binary", "base64": "base64"} {
		if got := codecFor(proto).String(); got != want {
			t.Errorf("codecFor(%q) = %s, want %s", proto, got, want)
		}
	}
}

func TestCodecBinaryPassesBytes(t *testing.T) {
	c := codecFor("binary")
	in := []byte("\x00\xff~.\r\n")
	typ, msg := c.encode(in)
	if typ != websocket.MessageBinary || !bytes.Equal(msg, in) {
		t.Fatalf("encode = %v %q", typ, msg)
	}
	out, err := c.decode(websocket.MessageBinary, in)
	if err != nil || !bytes.Equal(out, in) {
		t.Fatalf("decode = %q, %v", out, err)
	}
}

func TestCodecBase64(t *testing.T) {
	c := codecFor("base64")
	typ, msg := c.encode([]byte("login: "))
	if typ != websocket.MessageText || string(msg) != "bG9naW46IA==" {
		t.Fatalf("encode = %v %q", typ, msg)
	}
	for _, tc := range []struct{ in, want string }{
		{"bG9naW46IA==", "login: "},
		{"bG9naW46IA", "login: "},         // no padding
		{"bG9n\r\naW46IA==\n", "login: "}, // line breaks
		{"", ""},
	} {
		got, err := c.decode(websocket.MessageText, []byte(tc.in))
		if err != nil || string(got) != tc.want {
			t.Errorf("decode(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := c.decode(websocket.MessageText, []byte("not base64!")); err == nil {
		t.Error("decode of garbage succeeded")
	}
}

func FuzzCodecBase64(f *testing.F) {
	for _, s := range []string{"", "bG9naW46IA==", "bG9naW46IA", "====", "a", "ab\r\ncd", "\xff\xfe"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		c := codecFor("base64")
		// Decoding arbitrary frames never panics.
		_, _ = c.decode(websocket.MessageText, p)
		// Whatever is encoded decodes back.
		_, msg := c.encode(p)
		got, err := c.decode(websocket.MessageText, msg)
		if err != nil || !bytes.Equal(got, p) {
			t.Fatalf("round trip of %q: %q, %v", p, got, err)
		}
	})
}
