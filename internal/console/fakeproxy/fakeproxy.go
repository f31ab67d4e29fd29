// Package fakeproxy is a stand-in for nova-serialproxy in tests: a
// websockify-style websocket server on a loopback address that checks the
// console token and the Origin the way nova/console/websocketproxy.py does,
// negotiates subprotocols the way websockify does, and relays to a fake
// guest serial port.
//
// What it imitates, and from where:
//
//   - websockify (>= 0.9) splits Sec-WebSocket-Protocol on "," without
//     trimming and picks "binary" if present, otherwise no subprotocol; an
//     offer that contains neither "" nor "binary" gets HTTP 400 "Invalid
//     protocol selected" (the reason is in the status line, as Python's
//     send_error puts it). It sends binary frames, answers pings, and closes
//     with 1003 "Unsupported: Text frames are not supported" on a text frame.
//     When the target (the guest's serial port) closes it sends close 1000
//     "Target closed".
//   - websockify < 0.9 (Legacy) picks "binary", else "base64" (then both
//     directions are base64 text frames), else 400 "Client must support
//     'binary' or 'base64' protocol".
//   - nova validates the token (query "token", else cookie "token") and the
//     Origin only after the websocket upgrade, in new_websocket_client; a
//     failure raises, and websockify closes the socket without a close
//     frame. So a bad token is a 101 followed by a dropped connection
//     (AfterUpgrade). BeforeUpgrade answers 403 instead, as a front proxy
//     or a stricter implementation might.
//   - the Origin check: no Origin header is accepted (non-browser client);
//     otherwise its host must equal the Host header's host (port ignored)
//     or be in allowed_origins, and its scheme (or X-Forwarded-Proto) must
//     match the base_url scheme: ws or http, wss or https.
package fakeproxy

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// DefaultToken is the valid token when Config.Token is empty.
const DefaultToken = "4b7c1f0e-console-token"

// Flavor is the websockify generation imitated.
type Flavor int

// Flavors.
const (
	// Websockify is websockify >= 0.9: binary frames only.
	Websockify Flavor = iota
	// Legacy is websockify < 0.9: binary, or base64 in text frames.
	Legacy
	// Base64Only selects "base64" only, to exercise a client's base64 path.
	Base64Only
)

// Rejection is how a bad token or Origin is refused.
type Rejection int

// Rejections.
const (
	// AfterUpgrade is what nova does: 101, then the connection is dropped
	// without a close frame.
	AfterUpgrade Rejection = iota
	// BeforeUpgrade answers HTTP 403 Forbidden.
	BeforeUpgrade
)

// Guest is what sits behind the proxy: the instance's serial port. It reads
// what the user typed from in and writes console output to out; it returns
// when in ends or ctx is done.
type Guest func(ctx context.Context, in io.Reader, out io.Writer)

// Config describes the proxy.
type Config struct {
	Flavor Flavor
	Reject Rejection
	// Token is the valid token (DefaultToken if empty); Expired tokens are
	// refused like any invalid one, as nova does.
	Token   string
	Expired []string
	// AllowedOrigins is nova's console.allowed_origins: extra hostnames.
	AllowedOrigins []string
	// TLS serves wss:// with httptest's self-signed certificate.
	TLS bool
	// Banner is written by the guest as soon as a session starts (a real
	// serial console is usually silent until Enter).
	Banner string
	// Guest defaults to Getty("vm1").
	Guest Guest
}

// Proxy is a running fake nova-serialproxy.
type Proxy struct {
	cfg Config
	srv *httptest.Server

	mu        sync.Mutex
	received  bytes.Buffer
	changed   chan struct{} // closed and replaced when received grows
	origins   []string
	protocols []string
	sessions  map[*session]struct{}
	closes    []websocket.CloseError

	pings      atomic.Int64
	textFrames atomic.Int64
	upgrades   atomic.Int64
}

type session struct {
	ws     *websocket.Conn
	hangup func()
}

// Start starts a proxy on 127.0.0.1. Close it when done.
func Start(cfg Config) *Proxy {
	if cfg.Token == "" {
		cfg.Token = DefaultToken
	}
	if cfg.Guest == nil {
		cfg.Guest = Getty("vm1")
	}
	p := &Proxy{cfg: cfg, changed: make(chan struct{}), sessions: map[*session]struct{}{}}
	p.srv = httptest.NewUnstartedServer(p)
	// Clients that refuse the certificate are expected in tests.
	p.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if cfg.TLS {
		p.srv.StartTLS()
	} else {
		p.srv.Start()
	}
	return p
}

// Close stops the proxy and its sessions.
func (p *Proxy) Close() {
	p.Drop()
	p.srv.Close()
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.srv.Listener.Addr().String() }

// URL is the console URL with the valid token, as Nova would return it.
func (p *Proxy) URL() string { return p.URLWithToken(p.cfg.Token) }

// URLWithToken is the console URL with any token.
func (p *Proxy) URLWithToken(token string) string {
	scheme := "ws"
	if p.cfg.TLS {
		scheme = "wss"
	}
	return fmt.Sprintf("%s://%s/?token=%s", scheme, p.Addr(), url.QueryEscape(token))
}

// ClientTLS is a client configuration that trusts the proxy's certificate.
func (p *Proxy) ClientTLS() *tls.Config {
	pool := x509.NewCertPool()
	if c := p.srv.Certificate(); c != nil {
		pool.AddCert(c)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// CACertPEM is the proxy's certificate in PEM, for clients configured with
// a CA file (--os-cacert); nil without TLS.
func (p *Proxy) CACertPEM() []byte {
	c := p.srv.Certificate()
	if c == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// Received is everything the guest received, over all sessions.
func (p *Proxy) Received() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return bytes.Clone(p.received.Bytes())
}

// WaitReceived waits until the guest has received at least n bytes and
// returns them, or returns what it has when ctx ends.
func (p *Proxy) WaitReceived(ctx context.Context, n int) []byte {
	return p.waitFor(ctx, func(b []byte) bool { return len(b) >= n })
}

// WaitReceivedString waits until the guest has received s.
func (p *Proxy) WaitReceivedString(ctx context.Context, s string) []byte {
	return p.waitFor(ctx, func(b []byte) bool { return bytes.Contains(b, []byte(s)) })
}

func (p *Proxy) waitFor(ctx context.Context, ok func([]byte) bool) []byte {
	for {
		p.mu.Lock()
		b, ch := p.received.Bytes(), p.changed
		if ok(b) {
			b = bytes.Clone(b)
			p.mu.Unlock()
			return b
		}
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return p.Received()
		}
	}
}

// Pings is how many websocket pings the proxy answered.
func (p *Proxy) Pings() int { return int(p.pings.Load()) }

// TextFrames is how many text frames clients sent.
func (p *Proxy) TextFrames() int { return int(p.textFrames.Load()) }

// Upgrades is how many websocket upgrades the proxy completed.
func (p *Proxy) Upgrades() int { return int(p.upgrades.Load()) }

// Origins are the Origin headers seen ("" for none), in order.
func (p *Proxy) Origins() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.origins)
}

// Protocols are the raw Sec-WebSocket-Protocol headers seen, in order.
func (p *Proxy) Protocols() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.protocols)
}

// Closes are the close frames clients sent, in order.
func (p *Proxy) Closes() []websocket.CloseError {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.closes)
}

// Sessions is the number of live sessions.
func (p *Proxy) Sessions() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.sessions)
}

// HangUp makes every guest close its serial port: the proxy then closes the
// websocket with 1000 "Target closed".
func (p *Proxy) HangUp() {
	for _, s := range p.live() {
		s.hangup()
	}
}

// Drop cuts every session's connection without a close frame, as when the
// proxy dies or the network breaks.
func (p *Proxy) Drop() {
	for _, s := range p.live() {
		_ = s.ws.CloseNow()
	}
}

// SendFrame sends b as one binary message to every session, bypassing the
// guest (websockify's frames are 64 KiB at most; a broken proxy's need
// not be). It returns the first write error.
func (p *Proxy) SendFrame(ctx context.Context, b []byte) error {
	var first error
	for _, s := range p.live() {
		if err := s.ws.Write(ctx, websocket.MessageBinary, b); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (p *Proxy) live() []*session {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*session
	for s := range p.sessions {
		out = append(out, s)
	}
	return out
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		sendError(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	raw := r.Header.Get("Sec-WebSocket-Protocol")
	p.mu.Lock()
	p.protocols = append(p.protocols, raw)
	p.origins = append(p.origins, r.Header.Get("Origin"))
	p.mu.Unlock()

	chosen, reason := p.selectSubprotocol(strings.Split(raw, ","))
	if reason != "" {
		sendError(w, http.StatusBadRequest, reason)
		return
	}
	ok := p.tokenOK(r) && p.originOK(r)
	if !ok && p.cfg.Reject == BeforeUpgrade {
		sendError(w, http.StatusForbidden, "Forbidden")
		return
	}
	opts := &websocket.AcceptOptions{
		InsecureSkipVerify: true, // the Origin is checked below, like nova
		OnPingReceived: func(context.Context, []byte) bool {
			p.pings.Add(1)
			return true
		},
	}
	if chosen != "" {
		opts.Subprotocols = []string{chosen}
	}
	ws, err := websocket.Accept(w, r, opts)
	if err != nil {
		return
	}
	p.upgrades.Add(1)
	if !ok {
		// nova raises in new_websocket_client; websockify closes the socket.
		_ = ws.CloseNow()
		return
	}
	ws.SetReadLimit(-1)
	p.relay(ws, chosen == "base64")
}

// selectSubprotocol imitates websockify on the header split on ",".
func (p *Proxy) selectSubprotocol(offered []string) (chosen, reason string) {
	switch p.cfg.Flavor {
	case Legacy:
		switch {
		case slices.Contains(offered, "binary"):
			return "binary", ""
		case slices.Contains(offered, "base64"):
			return "base64", ""
		}
		return "", "Client must support 'binary' or 'base64' protocol"
	case Base64Only:
		if slices.Contains(offered, "base64") {
			return "base64", ""
		}
		return "", "Client must support 'base64' protocol"
	}
	if slices.Contains(offered, "binary") {
		chosen = "binary"
	}
	if !slices.Contains(offered, chosen) {
		return "", "Invalid protocol selected"
	}
	return chosen, ""
}

func (p *Proxy) tokenOK(r *http.Request) bool {
	token := r.URL.Query().Get("token")
	if token == "" {
		if c, err := r.Cookie("token"); err == nil {
			token = c.Value
		}
	}
	return token == p.cfg.Token && !slices.Contains(p.cfg.Expired, token)
}

func (p *Proxy) originOK(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	host := r.Host
	if strings.Contains(host, ":") {
		if i, j := strings.Index(host, "["), strings.Index(host, "]"); i >= 0 && j > i {
			host = host[i+1 : j]
		} else {
			host = host[:strings.Index(host, ":")]
		}
	}
	u, err := url.Parse(origin)
	if err != nil || u.Hostname() == "" || u.Scheme == "" {
		return false
	}
	scheme := u.Scheme
	if fp := r.Header.Get("X-Forwarded-Proto"); fp != "" {
		scheme = fp
	}
	if !slices.Contains(append([]string{host}, p.cfg.AllowedOrigins...), strings.ToLower(u.Hostname())) {
		return false
	}
	if p.cfg.TLS {
		return scheme == "wss" || scheme == "https"
	}
	return scheme == "ws" || scheme == "http"
}

// relay connects one websocket to a fresh guest until either side ends.
func (p *Proxy) relay(ws *websocket.Conn, b64 bool) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	guestIn, toGuest := io.Pipe()
	fromGuest, guestOut := io.Pipe()
	s := &session{ws: ws, hangup: func() { _ = guestOut.Close() }}
	p.mu.Lock()
	p.sessions[s] = struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.sessions, s)
		p.mu.Unlock()
	}()

	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer guestOut.Close()
		if p.cfg.Banner != "" {
			if _, err := io.WriteString(guestOut, p.cfg.Banner); err != nil {
				return
			}
		}
		p.cfg.Guest(ctx, guestIn, guestOut)
	}()
	// Target to client, like websockify's do_proxy.
	go func() {
		defer wg.Done()
		buf := make([]byte, 64<<10)
		for {
			n, err := fromGuest.Read(buf)
			if n > 0 {
				typ, msg := websocket.MessageBinary, buf[:n]
				if b64 {
					typ, msg = websocket.MessageText, []byte(base64.StdEncoding.EncodeToString(buf[:n]))
				}
				wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
				werr := ws.Write(wctx, typ, msg)
				wcancel()
				if werr != nil {
					cancel()
					return
				}
			}
			if err != nil {
				_ = ws.Close(websocket.StatusNormalClosure, "Target closed")
				cancel()
				return
			}
		}
	}()
	// Client to target.
	for {
		typ, data, err := ws.Read(ctx)
		if err != nil {
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				p.mu.Lock()
				p.closes = append(p.closes, ce)
				p.mu.Unlock()
			}
			break
		}
		if typ == websocket.MessageText && !b64 {
			p.textFrames.Add(1)
			_ = ws.Close(websocket.StatusUnsupportedData, "Unsupported: Text frames are not supported")
			break
		}
		if b64 {
			if typ == websocket.MessageText {
				p.textFrames.Add(1)
			}
			data, err = base64.StdEncoding.DecodeString(string(data))
			if err != nil {
				_ = ws.Close(websocket.StatusUnsupportedData, "Invalid base64")
				break
			}
		}
		p.record(data)
		if _, err := toGuest.Write(data); err != nil {
			break
		}
	}
	cancel()
	_ = toGuest.Close()
	_ = fromGuest.Close()
	_ = ws.CloseNow()
	wg.Wait()
}

func (p *Proxy) record(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.received.Write(b)
	close(p.changed)
	p.changed = make(chan struct{})
}

// sendError answers like Python's BaseHTTPRequestHandler.send_error, whose
// status line carries the message as the reason phrase.
func sendError(w http.ResponseWriter, code int, msg string) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, msg, code)
		return
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	body := fmt.Sprintf("<html><body><h1>Error response</h1><p>Error code: %d</p><p>Message: %s.</p></body></html>\n", code, msg)
	fmt.Fprintf(brw, "HTTP/1.1 %d %s\r\nServer: WebSockify Python/3.11\r\nConnection: close\r\nContent-Type: text/html;charset=utf-8\r\nContent-Length: %d\r\n\r\n%s",
		code, msg, len(body), body)
	_ = brw.Flush()
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}

// Getty is a guest that behaves like a login prompt on a serial line: it
// echoes what it receives and answers each Enter (CR, or LF not after CR)
// with a new line and "hostname login: ".
func Getty(hostname string) Guest {
	return func(ctx context.Context, in io.Reader, out io.Writer) {
		buf := make([]byte, 32<<10)
		prompt := "\r\n" + hostname + " login: "
		lastCR := false
		for {
			n, err := in.Read(buf)
			var o []byte
			for _, b := range buf[:n] {
				switch {
				case b == '\r', b == '\n' && !lastCR:
					o = append(o, prompt...)
				case b == '\n':
				default:
					o = append(o, b)
				}
				lastCR = b == '\r'
			}
			if len(o) > 0 {
				if _, werr := out.Write(o); werr != nil {
					return
				}
			}
			if err != nil || ctx.Err() != nil {
				return
			}
		}
	}
}

// Sink is a guest that swallows everything and says nothing.
func Sink() Guest {
	return func(ctx context.Context, in io.Reader, _ io.Writer) {
		_, _ = io.Copy(io.Discard, in)
	}
}
