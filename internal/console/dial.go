package console

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

const (
	// dialTimeout bounds the TCP connect, TLS and websocket handshakes.
	dialTimeout = 30 * time.Second
	// maxMessage is the largest message accepted from the proxy. websockify
	// reads its target 64 KiB at a time and sends each read as one frame
	// (about 87 KiB once base64-encoded); leave room.
	maxMessage = 16 << 20
)

// parseURL checks a console URL and returns it with the proxy's host:port
// (default port filled in), which is what messages show: never the token.
func parseURL(raw string) (*url.URL, string, error) {
	if raw == "" {
		return nil, "", &Error{Kind: KindUsage, Err: errors.New("no console URL")}
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse quotes the whole URL, token included: do not.
		return nil, "", &Error{Kind: KindUsage, Err: errors.New("the console URL cannot be parsed")}
	}
	port := ""
	switch strings.ToLower(u.Scheme) {
	case "ws", "http":
		u.Scheme, port = "ws", "80"
	case "wss", "https":
		u.Scheme, port = "wss", "443"
	default:
		return nil, "", &Error{Kind: KindUsage, Err: fmt.Errorf("console URL scheme %q is not ws or wss", u.Scheme)}
	}
	if u.Hostname() == "" {
		return nil, "", &Error{Kind: KindUsage, Err: errors.New("the console URL has no host")}
	}
	if u.Port() != "" {
		port = u.Port()
	}
	return u, net.JoinHostPort(u.Hostname(), port), nil
}

// originFor returns the Origin header to send: o itself, none for NoOrigin,
// or by default the HTTP origin of the console URL (ws→http, wss→https, same
// host and port). nova-serialproxy compares the Origin's host with the Host
// header (and console.allowed_origins) and its scheme with the scheme of
// serial_console.base_url, so the derived origin always passes when the
// URL is used as Nova gave it.
func originFor(u *url.URL, o string) string {
	switch o {
	case NoOrigin:
		return ""
	case "":
		scheme := "http"
		if u.Scheme == "wss" {
			scheme = "https"
		}
		return scheme + "://" + u.Host
	}
	return o
}

// dial opens the websocket to the proxy and returns it with the codec for
// the negotiated subprotocol.
func dial(ctx context.Context, u *url.URL, addr string, o *Options, hold *netConnHolder) (*websocket.Conn, codec, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	dialer := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	tr.DialContext = func(ctx context.Context, network, address string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, address)
		if err == nil {
			hold.set(c)
		}
		return c, err
	}
	// A websocket upgrade needs HTTP/1.1.
	tr.ForceAttemptHTTP2 = false
	tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	if o.TLS != nil {
		tr.TLSClientConfig = o.TLS.Clone()
	}
	defer tr.CloseIdleConnections()

	hdr := http.Header{}
	hdr.Set("User-Agent", "hoofbeat-console")
	if origin := originFor(u, o.Origin); origin != "" {
		hdr.Set("Origin", origin)
	}

	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	conn, resp, err := websocket.Dial(dctx, u.String(), &websocket.DialOptions{
		HTTPClient:   &http.Client{Transport: tr},
		HTTPHeader:   hdr,
		Subprotocols: subprotocols,
	})
	if err != nil {
		return nil, codec{}, classifyDial(ctx, addr, u.Scheme == "wss", resp, redact(err, u))
	}
	conn.SetReadLimit(maxMessage)
	return conn, codecFor(conn.Subprotocol()), nil
}

// redacted hides the console token in an error's message: the http client
// quotes the request URL in its errors.
type redacted struct {
	err     error
	secrets []string
}

func redact(err error, u *url.URL) error {
	var secrets []string
	for _, vs := range u.Query() {
		for _, v := range vs {
			if v != "" {
				secrets = append(secrets, v, url.QueryEscape(v))
			}
		}
	}
	if len(secrets) == 0 {
		return err
	}
	return &redacted{err: err, secrets: secrets}
}

func (r *redacted) Error() string {
	msg := r.err.Error()
	for _, s := range r.secrets {
		msg = strings.ReplaceAll(msg, s, "***")
	}
	return msg
}

func (r *redacted) Unwrap() error { return r.err }

// netConnHolder keeps the TCP connection under the websocket, so that a
// stuck close handshake can be cut short.
type netConnHolder struct {
	mu sync.Mutex
	c  net.Conn
}

func (h *netConnHolder) set(c net.Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.c = c
}

func (h *netConnHolder) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.c != nil {
		_ = h.c.Close()
	}
}
