package console

// escCmd is what the escape sequence asked for.
type escCmd int

const (
	escNone       escCmd = iota
	escDisconnect        // ~.
	escHelp              // ~?
)

// escaper recognises ssh-style escape sequences in typed input: the escape
// character is special only at the start of the session or right after a
// newline (CR or LF) was sent. After it:
//
//	.   ends the session
//	?   asks for help
//	~   (the escape character again) sends one escape character
//	anything else: both characters are sent.
//
// The escape character itself is held back until the next byte decides.
// With ch == 0 everything passes through.
type escaper struct {
	ch      byte
	atStart bool // the last byte sent ended a line (or nothing was sent yet)
	pending bool // an escape character was seen at a line start
	out     []byte
}

func newEscaper(ch byte) *escaper {
	return &escaper{ch: ch, atStart: true}
}

// next processes p up to and including the first command. It returns the
// bytes to send (valid until the next call), the command (escNone if p was
// consumed without one) and how many bytes of p it consumed.
func (e *escaper) next(p []byte) (send []byte, cmd escCmd, n int) {
	e.out = e.out[:0]
	if e.ch == 0 {
		return p, escNone, len(p)
	}
	for i, b := range p {
		if e.pending {
			e.pending = false
			switch b {
			case '.':
				return e.out, escDisconnect, i + 1
			case '?':
				e.atStart = true
				return e.out, escHelp, i + 1
			case e.ch:
				e.out = append(e.out, e.ch)
				e.atStart = false
				continue
			default:
				e.out = append(e.out, e.ch)
			}
		} else if b == e.ch && e.atStart {
			e.pending = true
			continue
		}
		e.out = append(e.out, b)
		e.atStart = b == '\r' || b == '\n'
	}
	return e.out, escNone, len(p)
}
