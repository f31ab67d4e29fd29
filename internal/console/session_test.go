package console

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hoofbeat/hoofbeat/internal/console/fakeproxy"
)

func startProxy(t *testing.T, cfg fakeproxy.Config) *fakeproxy.Proxy {
	t.Helper()
	p := fakeproxy.Start(cfg)
	t.Cleanup(p.Close)
	return p
}

// pipeStdin is an os.Pipe whose write end the test controls.
func pipeStdin(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

// The scripted use: echo | hoofbeat console vm1 --timeout …
func TestPipeEndsAfterIdleTimeout(t *testing.T) {
	p := startProxy(t, fakeproxy.Config{})
	var out, status syncBuffer
	start := time.Now()
	wait := runAsync(t, context.Background(), Options{
		URL: p.URL(), Stdin: strings.NewReader("root\r"), Stdout: &out, Stderr: &status,
		Timeout: 300 * time.Millisecond,
	})
	if err := wait(5 * time.Second); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if el := time.Since(start); el < 300*time.Millisecond {
		t.Errorf("ended after %v, before the idle timeout", el)
	}
	if got, want := out.String(), "root\r\nvm1 login: "; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
	if got := string(p.Received()); got != "root\r" {
		t.Errorf("guest received %q", got)
	}
	// The output ended mid-line (a prompt): the status starts a new line.
	for _, w := range []string{"Connected to nova-serialproxy at " + p.Addr(), "binary frames", ".\n\nNo console traffic for 300ms: closing.\n"} {
		if !strings.Contains(status.String(), w) {
			t.Errorf("status %q lacks %q", status.String(), w)
		}
	}
	if got := p.Protocols(); len(got) != 1 || got[0] != "binary,base64" {
		t.Errorf("Sec-WebSocket-Protocol %q, want binary,base64", got)
	}
	if got := p.Origins(); len(got) != 1 || got[0] != "http://"+p.Addr() {
		t.Errorf("Origin %q", got)
	}
}

// The idle timeout counts traffic, not time since stdin ended: output that
// keeps coming keeps the session.
func TestPipeIdleTimeoutIsIdle(t *testing.T) {
	p := startProxy(t, fakeproxy.Config{})
	r, w := pipeStdin(t)
	var out syncBuffer
	wait := runAsync(t, context.Background(), Options{URL: p.URL(), Stdin: r, Stdout: &out, Timeout: 300 * time.Millisecond})
	start := time.Now()
	for range 6 {
		if _, err := w.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	w.Close()
	if err := wait(5 * time.Second); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if el := time.Since(start); el < 800*time.Millisecond {
		t.Errorf("ended after %v although traffic went on for 600ms", el)
	}
	if out.String() != "xxxxxx" {
		t.Errorf("output %q", out.String())
	}
}

// Without a timeout, the end of stdin leaves the session open until the
// console closes.
func TestPipeWaitsForRemoteClose(t *testing.T) {
	p := startProxy(t, fakeproxy.Config{})
	var out, status syncBuffer
	wait := runAsync(t, context.Background(), Options{URL: p.URL(), Stdin: strings.NewReader("\r"), Stdout: &out, Stderr: &status})
	waitFor(t, "the prompt", 5*time.Second, func() bool { return strings.Contains(out.String(), "login: ") })
	time.Sleep(100 * time.Millisecond)
	p.HangUp()
	if err := wait(5 * time.Second); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !strings.Contains(status.String(), "Connection closed by nova-serialproxy (Target closed).") {
		t.Errorf("status %q", status.String())
	}
}

func TestFlavors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		flavor fakeproxy.Flavor
		frames string
		text   bool
	}{
		{"websockify", fakeproxy.Websockify, "binary frames", false},
		{"legacy websockify", fakeproxy.Legacy, "binary frames", false},
		{"base64 only", fakeproxy.Base64Only, "base64 frames", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startProxy(t, fakeproxy.Config{Flavor: tc.flavor, Banner: "\x00\xffboot\r\n"})
			var out, status syncBuffer
			wait := runAsync(t, context.Background(), Options{
				URL: p.URL(), Stdin: strings.NewReader("r\x00\xff~.\r"), Stdout: &out, Stderr: &status,
				Timeout: 200 * time.Millisecond,
			})
			if err := wait(5 * time.Second); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got, want := out.String(), "\x00\xffboot\r\nr\x00\xff~.\r\nvm1 login: "; got != want {
				t.Errorf("output %q, want %q", got, want)
			}
			if got := string(p.Received()); got != "r\x00\xff~.\r" {
				t.Errorf("guest received %q", got)
			}
			if !strings.Contains(status.String(), tc.frames) {
				t.Errorf("status %q lacks %q", status.String(), tc.frames)
			}
			if (p.TextFrames() > 0) != tc.text {
				t.Errorf("%d text frames sent", p.TextFrames())
			}
		})
	}
}

func TestRejected(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    fakeproxy.Config
		token  string
		origin string
		status int
	}{
		{"invalid token, nova drops after upgrade", fakeproxy.Config{}, "wrong", "", 0},
		{"expired token, nova drops after upgrade", fakeproxy.Config{Expired: []string{"old"}, Token: "old"}, "old", "", 0},
		{"invalid token, 403", fakeproxy.Config{Reject: fakeproxy.BeforeUpgrade}, "wrong", "", 403},
		{"foreign origin, nova drops after upgrade", fakeproxy.Config{}, "", "http://horizon.example.org", 0},
		{"foreign origin, 403", fakeproxy.Config{Reject: fakeproxy.BeforeUpgrade}, "", "http://horizon.example.org", 403},
		{"https origin on ws", fakeproxy.Config{Reject: fakeproxy.BeforeUpgrade}, "", "https://127.0.0.1", 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startProxy(t, tc.cfg)
			url := p.URL()
			if tc.token != "" {
				url = p.URLWithToken(tc.token)
			}
			var status syncBuffer
			wait := runAsync(t, context.Background(), Options{URL: url, Origin: tc.origin, Stderr: &status, Stdin: strings.NewReader("")})
			err := wait(5 * time.Second)
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindRejected || e.Status != tc.status {
				t.Fatalf("Run: %#v, want KindRejected with status %d", err, tc.status)
			}
			msg := err.Error()
			if !strings.Contains(msg, "the console token was rejected or expired: ask for a new URL") {
				t.Errorf("message %q", msg)
			}
			if strings.Contains(msg, tc.token) && tc.token != "" {
				t.Errorf("message shows the token: %q", msg)
			}
		})
	}
}

func TestOrigins(t *testing.T) {
	for _, tc := range []struct {
		name, origin, want string
		allowed            []string
	}{
		{"derived", "", "http://127.0.0.1:", nil},
		{"allowed_origins", "http://horizon.example.org", "http://horizon.example.org", []string{"horizon.example.org"}},
		{"none", NoOrigin, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startProxy(t, fakeproxy.Config{AllowedOrigins: tc.allowed})
			wait := runAsync(t, context.Background(), Options{URL: p.URL(), Origin: tc.origin, Stdin: strings.NewReader("\r"), Timeout: 100 * time.Millisecond})
			if err := wait(5 * time.Second); err != nil {
				t.Fatalf("Run: %v", err)
			}
			got := p.Origins()
			if len(got) != 1 || !strings.HasPrefix(got[0], tc.want) || (tc.want == "") != (got[0] == "") {
				t.Errorf("Origin %q, want %q", got, tc.want)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	err = Run(context.Background(), Options{URL: "ws://" + addr + "/?token=secret"})
	if KindOf(err) != KindUnreachable {
		t.Fatalf("Run: %v, want KindUnreachable", err)
	}
	msg := err.Error()
	for _, w := range []string{addr, "connection refused", "host/serialproxy-not-running", "[serial_console] base_url"} {
		if !strings.Contains(msg, w) {
			t.Errorf("%q lacks %q", msg, w)
		}
	}
	if strings.Contains(msg, "secret") || strings.Contains(msg, "\n") {
		t.Errorf("message %q", msg)
	}
}

func TestTLS(t *testing.T) {
	p := startProxy(t, fakeproxy.Config{TLS: true})
	t.Run("verified", func(t *testing.T) {
		var out syncBuffer
		wait := runAsync(t, context.Background(), Options{URL: p.URL(), TLS: p.ClientTLS(), Stdin: strings.NewReader("\r"), Stdout: &out, Timeout: 100 * time.Millisecond})
		if err := wait(5 * time.Second); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if !strings.Contains(out.String(), "vm1 login: ") {
			t.Errorf("output %q", out.String())
		}
		if o := p.Origins(); len(o) == 0 || o[len(o)-1] != "https://"+p.Addr() {
			t.Errorf("Origin %q", o)
		}
	})
	t.Run("unknown authority", func(t *testing.T) {
		err := Run(context.Background(), Options{URL: p.URL()})
		if KindOf(err) != KindTLS || !strings.Contains(err.Error(), "--os-cacert") || !strings.Contains(err.Error(), "x509") {
			t.Fatalf("Run: %v, want KindTLS", err)
		}
	})
	t.Run("wss to a plain proxy", func(t *testing.T) {
		plain := startProxy(t, fakeproxy.Config{})
		err := Run(context.Background(), Options{URL: strings.Replace(plain.URL(), "ws://", "wss://", 1)})
		if KindOf(err) != KindTLS || !strings.Contains(err.Error(), "does not speak TLS") {
			t.Fatalf("Run: %v, want KindTLS", err)
		}
	})
}

// A server that is not a console proxy, or a load balancer in front of one.
func TestHTTPStatuses(t *testing.T) {
	for _, tc := range []struct {
		code int
		kind Kind
		want string
	}{
		{http.StatusNotFound, KindHandshake, "HTTP 404 Not Found"},
		{http.StatusServiceUnavailable, KindUnreachable, "503 Service Unavailable"},
		{http.StatusUnauthorized, KindRejected, "ask for a new URL"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "no", tc.code)
		}))
		err := Run(context.Background(), Options{URL: strings.Replace(srv.URL, "http://", "ws://", 1) + "/?token=t"})
		srv.Close()
		if KindOf(err) != tc.kind || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("HTTP %d: %v, want %v mentioning %q", tc.code, err, tc.kind, tc.want)
		}
	}
	// http:// is taken as ws://.
	p := startProxy(t, fakeproxy.Config{})
	err := Run(context.Background(), Options{URL: strings.Replace(p.URL(), "ws://", "http://", 1), Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("http:// URL: %v", err)
	}
}

// Server-side closes that are errors, and frames that cannot be decoded.
func TestProtocolErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		serve func(*websocket.Conn)
		proto string
		want  string
	}{
		{"close 1011", func(c *websocket.Conn) { _ = c.Close(websocket.StatusInternalError, "boom") }, "binary", "status 1011 (boom)"},
		{"bad base64", func(c *websocket.Conn) {
			_ = c.Write(context.Background(), websocket.MessageText, []byte("!!!"))
			time.Sleep(time.Second)
		}, "base64", "decode base64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{tc.proto}, InsecureSkipVerify: true})
				if err != nil {
					return
				}
				defer c.CloseNow()
				tc.serve(c)
			}))
			defer srv.Close()
			wait := runAsync(t, context.Background(), Options{URL: strings.Replace(srv.URL, "http://", "ws://", 1)})
			err := wait(10 * time.Second)
			if KindOf(err) != KindProtocol || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run: %v, want KindProtocol mentioning %q", err, tc.want)
			}
		})
	}
}

// A frame over the size limit says so, whether or not console output came
// before it: it is neither a rejected token nor a network failure.
func TestFrameOverLimit(t *testing.T) {
	for _, after := range []bool{false, true} {
		t.Run(fmt.Sprintf("after output %v", after), func(t *testing.T) {
			p := startProxy(t, fakeproxy.Config{})
			r, w := pipeStdin(t)
			var out syncBuffer
			wait := runAsync(t, context.Background(), Options{URL: p.URL(), Stdin: r, Stdout: &out})
			waitFor(t, "the session", 5*time.Second, func() bool { return p.Sessions() == 1 })
			if after {
				w.Write([]byte("\r"))
				waitFor(t, "the prompt", 5*time.Second, func() bool { return strings.Contains(out.String(), "login: ") })
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			go p.SendFrame(ctx, make([]byte, maxMessage+1))
			err := wait(10 * time.Second)
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindProtocol || e.Limit != maxMessage {
				t.Fatalf("Run: %v, want KindProtocol with the limit", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "sent a console frame over the 16 MiB limit") || strings.Contains(msg, "token") {
				t.Errorf("message %q", msg)
			}
		})
	}
}

// A proxy dying mid-session is a lost connection, not a rejection.
func TestNetworkErrorAfterOutput(t *testing.T) {
	p := startProxy(t, fakeproxy.Config{})
	r, w := pipeStdin(t)
	var out syncBuffer
	wait := runAsync(t, context.Background(), Options{URL: p.URL(), Stdin: r, Stdout: &out})
	w.Write([]byte("\r"))
	waitFor(t, "the prompt", 5*time.Second, func() bool { return strings.Contains(out.String(), "login: ") })
	p.Drop()
	err := wait(5 * time.Second)
	if KindOf(err) != KindLost || !strings.Contains(err.Error(), "without a websocket close frame") {
		t.Fatalf("Run: %v, want KindLost", err)
	}
}

// 1 MiB of arbitrary bytes through a pipe: intact and in order, escape
// characters and all (no escape processing without a terminal).
func TestPipeLargePaste(t *testing.T) {
	p := startProxy(t, fakeproxy.Config{})
	data := make([]byte, 1<<20)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	copy(data, "\r~.\r~~") // would end an interactive session
	r, w := pipeStdin(t)
	var out syncBuffer
	wait := runAsync(t, context.Background(), Options{URL: p.URL(), Stdin: r, Stdout: &out})
	go func() {
		// Odd-sized writes, like a terminal paste arriving in bursts.
		for rest := data; len(rest) > 0; {
			n := min(len(rest), 3000+len(rest)%5000)
			if _, err := w.Write(rest[:n]); err != nil {
				return
			}
			rest = rest[n:]
		}
		w.Close()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got := p.WaitReceived(ctx, len(data))
	p.HangUp()
	if err := wait(10 * time.Second); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("guest received %d bytes, first difference at %d", len(got), firstDiff(got, data))
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// Keepalive pings go out during an idle session and are answered.
func TestKeepalivePings(t *testing.T) {
	p := startProxy(t, fakeproxy.Config{})
	r, _ := pipeStdin(t)
	ctx, cancel := context.WithCancel(context.Background())
	wait := runAsync(t, ctx, Options{URL: p.URL(), Stdin: r, Keepalive: 50 * time.Millisecond})
	waitFor(t, "4 pings", 5*time.Second, func() bool { return p.Pings() >= 4 })
	cancel()
	if err := wait(10 * time.Second); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v, want context.Canceled", err)
	}
}

// A peer that stops answering pings ends the session as lost.
func TestKeepaliveTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 10s for a pong")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
			Subprotocols:   []string{"binary"},
			OnPingReceived: func(context.Context, []byte) bool { return false }, // no pong
		})
		if err != nil {
			return
		}
		defer c.CloseNow()
		_, _, _ = c.Read(r.Context())
	}))
	defer srv.Close()
	r, _ := pipeStdin(t)
	wait := runAsync(t, context.Background(), Options{URL: strings.Replace(srv.URL, "http://", "ws://", 1), Stdin: r, Keepalive: 100 * time.Millisecond})
	err := wait(20 * time.Second)
	if KindOf(err) != KindLost || !strings.Contains(err.Error(), "no answer to a websocket ping") {
		t.Fatalf("Run: %v, want KindLost", err)
	}
}

// A blocking descriptor (like the process's own stdin) is read with poll(2)
// so that Run can still stop its reader.
func TestBlockingStdinIsReleased(t *testing.T) {
	p := startProxy(t, fakeproxy.Config{})
	r, w := blockingPipe(t)
	if err := r.SetReadDeadline(time.Time{}); err == nil {
		t.Fatal("the pipe supports deadlines: the test would not exercise poll(2)")
	}
	var out syncBuffer
	wait := runAsync(t, context.Background(), Options{URL: p.URL(), Stdin: r, Stdout: &out, Timeout: 300 * time.Millisecond})
	w.Write([]byte("\r"))
	if err := wait(5 * time.Second); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !strings.Contains(out.String(), "login: ") {
		t.Errorf("output %q", out.String())
	}
}

// TestContextCancel: a canceled ctx ends the session with a close 1000.
// About one run in 300 under -race, the fake proxy's reader meets EOF
// although the client's Close returned nil (the handshake done): a race
// on the fake's side, not found yet. So up to three sessions are tried and
// one must show the frame; a client that never sends it fails all three.
func TestContextCancel(t *testing.T) {
	var closes []websocket.CloseError
	for range 3 {
		p := startProxy(t, fakeproxy.Config{})
		r, _ := pipeStdin(t)
		ctx, cancel := context.WithCancel(context.Background())
		wait := runAsync(t, ctx, Options{URL: p.URL(), Stdin: r})
		waitFor(t, "the session", 5*time.Second, func() bool { return p.Sessions() == 1 })
		cancel()
		if err := wait(10 * time.Second); !errors.Is(err, context.Canceled) {
			t.Fatalf("Run: %v", err)
		}
		waitFor(t, "the proxy to see the close", 5*time.Second, func() bool { return p.Sessions() == 0 })
		closes = p.Closes()
		if len(closes) > 1 {
			break
		}
		if len(closes) == 1 {
			if closes[0].Code != websocket.StatusNormalClosure {
				break
			}
			return
		}
	}
	t.Errorf("close frames %v, want one 1000", closes)
}

func TestLog(t *testing.T) {
	p := startProxy(t, fakeproxy.Config{Banner: "boot\r\n"})
	for _, tc := range []struct {
		input bool
		want  string
	}{
		{false, "boot\r\nroot\r\nvm1 login: "},
		{true, "boot\r\n[hoofbeat input: \"root\\r\"]root\r\nvm1 login: "},
	} {
		var log, out syncBuffer
		r, w := pipeStdin(t)
		wait := runAsync(t, context.Background(), Options{URL: p.URL(), Stdin: r, Stdout: &out, Log: &log, LogInput: tc.input, Timeout: 300 * time.Millisecond})
		waitFor(t, "the banner", 5*time.Second, func() bool { return out.Len() > 0 })
		w.Write([]byte("root\r"))
		w.Close()
		if err := wait(5 * time.Second); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if log.String() != tc.want {
			t.Errorf("LogInput=%v: log %q, want %q", tc.input, log.String(), tc.want)
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// A log that fails is reported once and does not end the session.
func TestLogFailureIsNotFatal(t *testing.T) {
	p := startProxy(t, fakeproxy.Config{Banner: "boot\r\n"})
	var out, status syncBuffer
	wait := runAsync(t, context.Background(), Options{URL: p.URL(), Stdin: strings.NewReader("\r\r"), Stdout: &out, Stderr: &status, Log: failingWriter{}, Timeout: 200 * time.Millisecond})
	if err := wait(5 * time.Second); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n := strings.Count(status.String(), "disk full"); n != 1 {
		t.Errorf("log failure reported %d times: %q", n, status.String())
	}
	if !strings.Contains(out.String(), "login: ") {
		t.Errorf("output %q", out.String())
	}
}

// websockify without a certificate drops a TLS client right away.
func TestWSSToServerThatDrops(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 1)
			_, _ = c.Read(buf)
			c.Close()
		}
	}()
	err = Run(context.Background(), Options{URL: "wss://" + l.Addr().String() + "/?token=t"})
	if KindOf(err) != KindTLS || !strings.Contains(err.Error(), "does not speak TLS") {
		t.Fatalf("Run: %v, want KindTLS", err)
	}
	err = Run(context.Background(), Options{URL: "ws://" + l.Addr().String() + "/?token=t"})
	if KindOf(err) != KindHandshake {
		t.Fatalf("Run: %v, want KindHandshake", err)
	}
}

// fakeTerminal counts raw mode switches.
type fakeTerminal struct {
	raw, restored int
	err           error
}

func (f *fakeTerminal) MakeRaw() (func() error, error) {
	if f.err != nil {
		return nil, f.err
	}
	f.raw++
	return func() error { f.restored++; return nil }, nil
}

func TestTerminalOption(t *testing.T) {
	p := startProxy(t, fakeproxy.Config{})
	ft := &fakeTerminal{}
	var status syncBuffer
	// A given Terminal makes the session interactive: the end of input ends it.
	wait := runAsync(t, context.Background(), Options{URL: p.URL(), Terminal: ft, Stdin: strings.NewReader("\r"), Stderr: &status, Escape: DefaultEscape})
	if err := wait(5 * time.Second); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if ft.raw != 1 || ft.restored != 1 {
		t.Errorf("raw %d times, restored %d times", ft.raw, ft.restored)
	}
	if !strings.Contains(status.String(), "Escape sequence is ~.") || !strings.Contains(status.String(), "End of input: closing.\n") {
		t.Errorf("status %q", status.String())
	}

	ft = &fakeTerminal{err: errors.New("inappropriate ioctl")}
	err := Run(context.Background(), Options{URL: p.URL(), Terminal: ft})
	if err == nil || !strings.Contains(err.Error(), "raw mode: inappropriate ioctl") {
		t.Fatalf("Run: %v", err)
	}
	waitFor(t, "the proxy to see the close", 5*time.Second, func() bool { return p.Sessions() == 0 })
}

// A proxy that stops answering cannot hold the session in its close
// handshake for long, and not past a second once ctx is canceled.
func TestCloseOnDeadPeerIsBounded(t *testing.T) {
	hold := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"binary"}})
		if err != nil {
			return
		}
		defer c.CloseNow()
		<-hold // never reads: the close frame goes unanswered
	}))
	defer srv.Close()
	defer close(hold)
	r, _ := pipeStdin(t)
	ctx, cancel := context.WithCancel(context.Background())
	wait := runAsync(t, ctx, Options{URL: strings.Replace(srv.URL, "http://", "ws://", 1), Stdin: r, Keepalive: -1})
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	cancel()
	if err := wait(10 * time.Second); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
	// Canceled (Ctrl-C through the process-wide handler): within a second.
	if el := time.Since(start); el > time.Second || el < interruptCloseWait {
		t.Errorf("closing took %v, want about %v", el, interruptCloseWait)
	}
}
