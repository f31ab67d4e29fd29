package console

import (
	"encoding/base64"
	"fmt"

	"github.com/coder/websocket"
)

// Subprotocols offered at the upgrade, in order of preference. websockify
// splits the header on "," without trimming and looks for the exact string
// "binary", so "binary" must come first (coder/websocket joins with a bare
// ",", which keeps both names exact).
var subprotocols = []string{"binary", "base64"}

// codec maps console bytes to websocket messages for the negotiated
// subprotocol: binary frames as they are ("binary", or no subprotocol), or
// base64 in text frames ("base64", websockify before 0.9).
type codec struct {
	base64 bool
}

func codecFor(subprotocol string) codec {
	return codec{base64: subprotocol == "base64"}
}

func (c codec) String() string {
	if c.base64 {
		return "base64"
	}
	return "binary"
}

// encode returns the message carrying p.
func (c codec) encode(p []byte) (websocket.MessageType, []byte) {
	if !c.base64 {
		return websocket.MessageBinary, p
	}
	out := make([]byte, base64.StdEncoding.EncodedLen(len(p)))
	base64.StdEncoding.Encode(out, p)
	return websocket.MessageText, out
}

// decode returns the console bytes carried by one message. In binary mode
// any frame is taken as raw bytes. In base64 mode each message is decoded on
// its own, as websockify encodes each frame; ASCII whitespace is ignored and
// missing padding tolerated.
func (c codec) decode(_ websocket.MessageType, p []byte) ([]byte, error) {
	if !c.base64 {
		return p, nil
	}
	clean := make([]byte, 0, len(p))
	for _, b := range p {
		switch b {
		case ' ', '\t', '\r', '\n':
		default:
			clean = append(clean, b)
		}
	}
	// RawStdEncoding's length is the larger of the two.
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	n, err := base64.StdEncoding.Decode(out, clean)
	if err != nil {
		n, err = base64.RawStdEncoding.Decode(out, clean)
	}
	if err != nil {
		return nil, fmt.Errorf("decode base64 frame of %d bytes: %w", len(p), err)
	}
	return out[:n], nil
}
