package console

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// DefaultEscape is the usual escape character, as in ssh.
const DefaultEscape = '~'

// DefaultKeepalive is the interval between websocket pings when
// Options.Keepalive is 0.
const DefaultKeepalive = 30 * time.Second

// NoOrigin as Options.Origin sends no Origin header at all. nova-serialproxy
// accepts that ("non-browser client"); useful when a reverse proxy rewrites
// the Host header so that no derived Origin can match.
const NoOrigin = "-"

// Options configures a console session.
type Options struct {
	// URL is the console URL Nova returned: ws:// or wss:// with ?token=….
	URL string
	// TLS verifies a wss:// proxy (CA options from the cloud config);
	// nil means the system roots, verified.
	TLS *tls.Config
	// Origin is the Origin header. Empty derives it from URL
	// (http(s)://host:port), which is what nova-serialproxy checks against
	// its Host header and console.allowed_origins; NoOrigin sends none.
	Origin string

	Stdin  io.Reader
	Stdout io.Writer
	// Stderr gets status messages ("Connected to …", "Connection … closed").
	Stderr io.Writer

	// Escape is the escape character, normally DefaultEscape ('~', the
	// --escape default); 0 disables it. It is recognised in interactive
	// sessions only, at session start or right after a newline, like ssh:
	// "~." ends the session, "~~" sends one "~", "~?" prints help, "~"
	// followed by anything else sends both.
	Escape byte

	// Log, if set, records the session output as received. With LogInput,
	// what was sent is recorded too, each chunk marked as
	// [hoofbeat input: "…"] (Go-quoted) where it happened in the stream.
	// Beware: input includes passwords typed at the console.
	Log      io.Writer
	LogInput bool

	// Timeout applies to non-interactive sessions only: the session ends,
	// successfully, after Timeout without traffic in either direction
	// (console output or input sent), whether or not stdin has ended. It is
	// an idle timeout, not a total one. 0 means none: after the end of stdin
	// the session lasts until the console closes or ctx ends.
	Timeout time.Duration
	// Keepalive is the interval of websocket pings, which keep idle
	// sessions alive through proxies and detect dead connections (a ping
	// unanswered for max(Keepalive, 10s) ends the session). 0 means
	// DefaultKeepalive, negative disables pings.
	Keepalive time.Duration

	// Terminal makes the session interactive: raw mode while it runs,
	// always restored. Nil detects it from Stdin (an *os.File on a
	// terminal, through golang.org/x/term); see TerminalFor.
	Terminal Terminal
}

// Run connects to the console at o.URL and relays it until the session
// ends: the escape sequence, the console closing, a signal, ctx, the idle
// Timeout (non-interactive), or an error. It returns nil when the session
// ended normally, ctx.Err() when ctx ended it, and an *Error otherwise.
//
// Interactive (Stdin is a terminal): the terminal is put in raw mode, so
// Ctrl-C and Ctrl-Z are bytes for the guest; the mode is restored before Run
// returns whatever ends the session, including SIGINT, SIGTERM, SIGHUP or
// SIGQUIT sent from elsewhere. A signal or ctx ends the session within a
// second, even when the proxy does not answer the close. The end of Stdin ends the session.
//
// Non-interactive (pipes, files): stdin is copied to the console byte for
// byte (no escape sequence) and the console to Stdout. The end of stdin does
// not end the session, so that the output it caused can arrive: the session
// ends when the console closes, after Timeout without traffic, or with ctx.
//
// Input is sent in order by a single writer, with backpressure (nothing is
// dropped: reading stops while the proxy is slow). Every goroutine Run starts
// has ended when it returns, except that a goroutine blocked reading a Stdin
// that is neither an *os.File nor able to take read deadlines ends only when
// that Read returns.
func Run(ctx context.Context, o Options) error {
	u, addr, err := parseURL(o.URL)
	if err != nil {
		return err
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if o.Keepalive == 0 {
		o.Keepalive = DefaultKeepalive
	}
	term := o.Terminal
	if term == nil {
		term = TerminalFor(o.Stdin)
	}

	netConn := &netConnHolder{}
	conn, cd, err := dial(ctx, u, addr, &o, netConn)
	if err != nil {
		return err
	}
	s := &session{
		o:           &o,
		conn:        conn,
		netConn:     netConn,
		codec:       cd,
		addr:        addr,
		interactive: term != nil,
		events:      make(chan event, 8),
		input:       make(chan inputItem, 16),
		log:         &sessionLog{w: o.Log, input: o.LogInput, stderr: o.Stderr},
	}
	s.touch()
	return s.run(ctx, term)
}

type evKind int

const (
	evEscape       evKind = iota // ~. typed (all input before it was sent)
	evInputEOF                   // end of stdin (all input was sent)
	evInputErr                   // reading stdin failed
	evOutputErr                  // writing stdout failed
	evRemoteClosed               // the proxy sent a close frame
	evLost                       // the connection failed without a close frame
	evWriteErr                   // sending to the proxy failed
	evKeepalive                  // a ping went unanswered
	evBadFrame                   // a frame could not be decoded
	evTooBig                     // a frame was over maxMessage
)

type event struct {
	kind   evKind
	err    error
	code   websocket.StatusCode
	reason string
}

// inputItem is one step for the writer, in input order.
type inputItem struct {
	data []byte
	cmd  escCmd
	eof  bool
	err  error
}

type session struct {
	o           *Options
	conn        *websocket.Conn
	netConn     *netConnHolder // the TCP connection under conn
	codec       codec
	addr        string
	interactive bool
	raw         atomic.Bool

	events chan event
	input  chan inputItem

	gotOutput    atomic.Bool
	lastOut      atomic.Int32 // last byte of console output
	lastActivity atomic.Int64
	closing      atomic.Bool
	log          *sessionLog
}

// outcome is how a session ended.
type outcome struct {
	err      error
	msg      string // final status line, "" for none
	graceful bool   // send a close frame
	// interrupted: a signal or ctx ended the session; the close handshake
	// gets interruptCloseWait, not closeWait.
	interrupted bool
}

func (s *session) run(parent context.Context, term Terminal) error {
	// The session's goroutines outlive parent by the close handshake: the
	// websocket library drops the connection, without a close frame, when
	// a Read's context ends.
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	defer cancel()

	// Every signal that would end the process is caught, so that the
	// terminal is restored first: SIGINT, SIGTERM and SIGHUP (which Go
	// exits on), SIGQUIT (which Go exits on with a goroutine dump), and
	// SIGPIPE, so that a closed stdout pipe becomes a write error instead.
	// Signals the process was told to ignore (nohup) stay ignored. This
	// comes before raw mode: a signal in between would kill the process
	// with the terminal raw.
	sigs := make(chan os.Signal, 1)
	for _, sig := range []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGPIPE} {
		if !signal.Ignored(sig) {
			signal.Notify(sigs, sig)
		}
	}
	defer signal.Stop(sigs)

	s.say(s.banner())
	var restore func() error
	if term != nil {
		r, err := term.MakeRaw()
		if err != nil {
			s.closeGracefully(closeWait)
			return fmt.Errorf("set the terminal to raw mode: %w", err)
		}
		restore = r
		s.raw.Store(true)
	}
	restoreTerminal := func() {
		if restore != nil {
			_ = restore()
			restore = nil
			s.raw.Store(false)
		}
	}
	defer restoreTerminal()

	in := newInputReader(s.o.Stdin)
	inCtx, inCancel := context.WithCancel(ctx)
	defer inCancel()
	var wg, inWG sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); s.readRemote(ctx) }()
	go func() { defer wg.Done(); s.writeRemote(ctx) }()
	go func() { defer wg.Done(); s.keepalive(ctx) }()
	if in.waitable {
		inWG.Add(1)
	}
	go func() {
		if in.waitable {
			defer inWG.Done()
		}
		s.readInput(inCtx, in)
	}()

	out := s.wait(parent, sigs)

	// Stop reading the terminal and give it back first, so that nothing
	// below (a slow close on a dead network) can keep it raw.
	s.closing.Store(true)
	inCancel()
	in.cancel()
	inWG.Wait()
	if in.waitable {
		in.close()
	}
	restoreTerminal()

	switch {
	case out.graceful && out.interrupted:
		s.closeGracefully(interruptCloseWait)
	case out.graceful:
		s.closeGracefully(closeWait)
	default:
		_ = s.conn.CloseNow()
	}
	cancel()
	wg.Wait()
	if (out.msg != "" || out.err != nil) && s.gotOutput.Load() && byte(s.lastOut.Load()) != '\n' {
		// The console left the cursor mid-line (a prompt): start a new one
		// for the status line or the caller's error message.
		s.say("")
	}
	if out.msg != "" {
		s.say(out.msg)
	}
	return out.err
}

// closeWait bounds the websocket close handshake: a healthy proxy answers at
// once, a dead connection must not hold the session for long.
// interruptCloseWait is the bound after a signal or a canceled ctx: Ctrl-C
// (SIGINT from elsewhere, or the process-wide handler canceling ctx) ends
// any verb within a second.
const (
	closeWait          = 2 * time.Second
	interruptCloseWait = 500 * time.Millisecond
)

// closeGracefully sends a close frame and waits for the answer, at most
// wait; then it cuts the TCP connection, which makes the websocket
// library give up at once.
func (s *session) closeGracefully(wait time.Duration) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.conn.Close(websocket.StatusNormalClosure, "")
	}()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		s.netConn.close()
		<-done
	}
}

// wait returns when the session has to end.
func (s *session) wait(ctx context.Context, sigs <-chan os.Signal) outcome {
	timeout := s.o.Timeout
	var idle <-chan time.Time
	var timer *time.Timer
	if !s.interactive && timeout > 0 {
		timer = time.NewTimer(timeout)
		defer timer.Stop()
		idle = timer.C
	}
	for {
		select {
		case <-ctx.Done():
			return outcome{err: ctx.Err(), graceful: true, interrupted: true}
		case <-idle:
			since := time.Since(time.Unix(0, s.lastActivity.Load()))
			if since >= timeout {
				return outcome{msg: fmt.Sprintf("No console traffic for %v: closing.", timeout), graceful: true}
			}
			timer.Reset(timeout - since)
		case sig := <-sigs:
			if sig == syscall.SIGPIPE {
				continue
			}
			return outcome{
				err:         &Error{Kind: KindInterrupted, Addr: s.addr, Err: fmt.Errorf("by signal %v", sig)},
				graceful:    true,
				interrupted: true,
			}
		case ev := <-s.events:
			if ev.kind == evWriteErr {
				// The reader usually knows better why the connection broke.
				select {
				case ev2 := <-s.events:
					if ev2.kind == evRemoteClosed || ev2.kind == evLost {
						ev = ev2
					}
				case <-time.After(500 * time.Millisecond):
				}
			}
			if o, done := s.judge(ev); done {
				return o
			}
		}
	}
}

// judge turns an event into an outcome.
func (s *session) judge(ev event) (outcome, bool) {
	switch ev.kind {
	case evEscape:
		return outcome{msg: fmt.Sprintf("Connection to %s closed.", s.addr), graceful: true}, true
	case evInputEOF:
		if !s.interactive {
			return outcome{}, false
		}
		return outcome{msg: "End of input: closing.", graceful: true}, true
	case evInputErr:
		return outcome{err: fmt.Errorf("read input: %w", ev.err), graceful: true}, true
	case evOutputErr:
		return outcome{err: fmt.Errorf("write console output: %w", ev.err), graceful: true}, true
	case evRemoteClosed:
		switch ev.code {
		case websocket.StatusNormalClosure, websocket.StatusNoStatusRcvd, websocket.StatusGoingAway:
			msg := "Connection closed by nova-serialproxy"
			if ev.reason != "" {
				msg += " (" + ev.reason + ")"
			}
			return outcome{msg: msg + "."}, true
		}
		return outcome{err: &Error{Kind: KindProtocol, Addr: s.addr, Status: int(ev.code), Detail: closeDetail(ev)}}, true
	case evLost, evWriteErr:
		if !s.gotOutput.Load() && ev.kind == evLost {
			return outcome{err: &Error{Kind: KindRejected, Addr: s.addr, Err: ev.err}}, true
		}
		return outcome{err: &Error{Kind: KindLost, Addr: s.addr, Err: ev.err}}, true
	case evKeepalive:
		return outcome{err: &Error{Kind: KindLost, Addr: s.addr, Err: ev.err}}, true
	case evBadFrame:
		return outcome{err: &Error{Kind: KindProtocol, Addr: s.addr, Status: int(websocket.StatusInvalidFramePayloadData), Detail: ev.err.Error()}}, true
	case evTooBig:
		return outcome{err: &Error{Kind: KindProtocol, Addr: s.addr, Status: int(websocket.StatusMessageTooBig), Limit: maxMessage}}, true
	}
	return outcome{err: fmt.Errorf("unexpected session event %d", ev.kind)}, true
}

func closeDetail(ev event) string {
	if ev.reason == "" {
		return ev.code.String()
	}
	return ev.reason
}

func (s *session) emit(ctx context.Context, ev event) {
	select {
	case s.events <- ev:
	case <-ctx.Done():
	}
}

func (s *session) touch() { s.lastActivity.Store(time.Now().UnixNano()) }

// readRemote copies console output to Stdout (and the log).
func (s *session) readRemote(ctx context.Context) {
	for {
		typ, data, err := s.conn.Read(ctx)
		if err != nil {
			if s.closing.Load() || ctx.Err() != nil {
				return
			}
			if errors.Is(err, websocket.ErrMessageTooBig) {
				// The library has closed the connection (1009): without
				// this the missing output reads as a rejected token.
				s.emit(ctx, event{kind: evTooBig})
				return
			}
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				s.emit(ctx, event{kind: evRemoteClosed, code: ce.Code, reason: ce.Reason})
				return
			}
			s.emit(ctx, event{kind: evLost, err: connCause(err)})
			return
		}
		p, err := s.codec.decode(typ, data)
		if err != nil {
			s.emit(ctx, event{kind: evBadFrame, err: err})
			return
		}
		if len(p) == 0 {
			continue
		}
		s.gotOutput.Store(true)
		s.lastOut.Store(int32(p[len(p)-1]))
		s.touch()
		if _, err := s.o.Stdout.Write(p); err != nil {
			s.emit(ctx, event{kind: evOutputErr, err: err})
			return
		}
		s.log.output(p)
	}
}

// connCause shortens coder/websocket's error chains to the network cause.
func connCause(err error) error {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the connection was closed without a websocket close frame")
	case errors.Is(err, net.ErrClosed):
		return errors.New("the connection was closed")
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return opErr.Err
	}
	return err
}

// readInput reads Stdin, applies the escape sequence (interactive only) and
// queues the input for writeRemote, blocking while the queue is full.
func (s *session) readInput(ctx context.Context, in *inputReader) {
	var esc *escaper
	if s.interactive {
		esc = newEscaper(s.o.Escape)
	} else {
		esc = newEscaper(0)
	}
	queue := func(it inputItem) bool {
		select {
		case s.input <- it:
			return true
		case <-ctx.Done():
			return false
		}
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := in.read(buf)
		p := buf[:n]
		for len(p) > 0 {
			send, cmd, used := esc.next(p)
			p = p[used:]
			if len(send) > 0 && !queue(inputItem{data: append([]byte(nil), send...)}) {
				return
			}
			if cmd != escNone {
				if !queue(inputItem{cmd: cmd}) || cmd == escDisconnect {
					return
				}
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, errCanceled):
			return
		case errors.Is(err, io.EOF):
			queue(inputItem{eof: true})
			return
		default:
			queue(inputItem{err: err})
			return
		}
	}
}

// writeRemote is the only writer of data frames: input goes out in order.
func (s *session) writeRemote(ctx context.Context) {
	for {
		var it inputItem
		select {
		case <-ctx.Done():
			return
		case it = <-s.input:
		}
		switch {
		case it.data != nil:
			// Logged first: the echo may arrive before Write returns.
			s.log.sent(it.data)
			typ, msg := s.codec.encode(it.data)
			if err := s.conn.Write(ctx, typ, msg); err != nil {
				if !s.closing.Load() && ctx.Err() == nil {
					s.emit(ctx, event{kind: evWriteErr, err: connCause(err)})
				}
				return
			}
			s.touch()
		case it.cmd == escHelp:
			s.say(s.help())
		case it.cmd == escDisconnect:
			s.emit(ctx, event{kind: evEscape})
			return
		case it.eof:
			s.emit(ctx, event{kind: evInputEOF})
			return
		case it.err != nil:
			s.emit(ctx, event{kind: evInputErr, err: it.err})
			return
		}
	}
}

// keepalive pings the proxy every Keepalive; websockify answers pings
// itself (they never reach the guest).
func (s *session) keepalive(ctx context.Context) {
	every := s.o.Keepalive
	if every <= 0 {
		return
	}
	wait := max(every, 10*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, wait)
		err := s.conn.Ping(pctx)
		timedOut := pctx.Err() != nil
		cancel()
		if err == nil {
			continue
		}
		if ctx.Err() == nil && !s.closing.Load() && timedOut {
			s.emit(ctx, event{kind: evKeepalive, err: fmt.Errorf("no answer to a websocket ping within %v", wait)})
		}
		// Otherwise the connection is gone and readRemote says why.
		return
	}
}

// say writes a status line to Stderr, with CRLF while the terminal is raw.
func (s *session) say(msg string) {
	nl := "\n"
	if s.raw.Load() {
		nl = "\r\n"
		msg = strings.ReplaceAll(msg, "\n", "\r\n")
	}
	_, _ = io.WriteString(s.o.Stderr, msg+nl)
}

func (s *session) banner() string {
	b := fmt.Sprintf("Connected to nova-serialproxy at %s (%s frames).", s.addr, s.codec)
	switch {
	case !s.interactive && s.o.Timeout > 0:
		return b + fmt.Sprintf(" Non-interactive: ends when the console closes or after %v without traffic.", s.o.Timeout)
	case !s.interactive:
		return b + " Non-interactive: ends when the console closes."
	case s.o.Escape == 0:
		return b + fmt.Sprintf(" No escape sequence: end the session with kill %d. Press Enter if the console stays silent.", os.Getpid())
	}
	e := escName(s.o.Escape)
	return b + fmt.Sprintf(" Escape sequence is %s. (%s? for help). Press Enter if the console stays silent.", e, e)
}

func (s *session) help() string {
	e := escName(s.o.Escape)
	return fmt.Sprintf("\nSupported escape sequences:\n %[1]s.  - end the session\n %[1]s?  - this message\n %[1]s%[1]s  - send the escape character\n(Recognised at the start of the session or right after a newline.)", e)
}

// escName shows an escape byte as typed: ~ or ^].
func escName(b byte) string {
	switch {
	case b < 0x20:
		return "^" + string(rune(b+'@'))
	case b == 0x7f:
		return "^?"
	}
	return string(rune(b))
}

// sessionLog records the session for Options.Log. A failing log is
// reported once and then ignored: it must not end the session.
type sessionLog struct {
	mu     sync.Mutex
	w      io.Writer
	input  bool
	stderr io.Writer
	failed bool
}

func (l *sessionLog) output(p []byte) { l.write(p) }

func (l *sessionLog) sent(p []byte) {
	if l.input {
		l.write(fmt.Appendf(nil, "[hoofbeat input: %q]", p))
	}
}

func (l *sessionLog) write(p []byte) {
	if l == nil || l.w == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failed {
		return
	}
	if _, err := l.w.Write(p); err != nil {
		l.failed = true
		_, _ = fmt.Fprintf(l.stderr, "hoofbeat: writing the session log failed, logging stopped: %v\r\n", err)
	}
}
