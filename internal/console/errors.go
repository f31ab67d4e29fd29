package console

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
)

// Kind classifies why a console session could not start or ended badly, so
// that the CLI can choose an exit code and a remediation without parsing
// messages.
type Kind int

// Kinds of console errors. The zero value is KindUnknown.
const (
	KindUnknown Kind = iota
	// KindUsage: the options are unusable (no URL, a scheme other than
	// ws/wss).
	KindUsage
	// KindUnreachable: nova-serialproxy could not be reached at all
	// (connection refused, no route, DNS, timeout, a 502/503/504 from a
	// load balancer in front of it).
	KindUnreachable
	// KindTLS: the TLS handshake with the proxy failed, usually because
	// its certificate could not be verified.
	KindTLS
	// KindRejected: the proxy refused this console: an HTTP 401/403 at the
	// upgrade, or (what nova-serialproxy really does) a completed upgrade
	// followed by the connection being dropped before any console byte.
	// The token was invalid or expired, or the Origin was refused.
	KindRejected
	// KindHandshake: the server answered, but not as a websocket console
	// proxy (another HTTP status, a protocol violation).
	KindHandshake
	// KindDisabled: the serial console is not enabled for the instance or
	// the cloud. Detected on the Nova side by the caller (the
	// remote-consoles API refuses protocol serial); see DisabledError.
	KindDisabled
	// KindLost: an established session broke: the connection dropped
	// without a close frame, or keepalive pings went unanswered.
	KindLost
	// KindProtocol: the proxy closed the session with an error status
	// (for example 1003, unsupported data).
	KindProtocol
	// KindInterrupted: a signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT) ended
	// the session.
	KindInterrupted
)

var kindNames = map[Kind]string{
	KindUnknown:     "unknown",
	KindUsage:       "usage",
	KindUnreachable: "unreachable",
	KindTLS:         "tls",
	KindRejected:    "rejected",
	KindHandshake:   "handshake",
	KindDisabled:    "disabled",
	KindLost:        "lost",
	KindProtocol:    "protocol",
	KindInterrupted: "interrupted",
}

func (k Kind) String() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Rule names the field-guide rule an operator should look at for this kind
// of failure, or "" when none applies.
func (k Kind) Rule() string {
	switch k {
	case KindUnreachable:
		return "host/serialproxy-not-running"
	case KindDisabled:
		return "host/serial-console-config"
	}
	return ""
}

// Error is what Run returns when a session cannot start or ends badly. Its
// message is one line: what happened, then what to do.
type Error struct {
	Kind Kind
	// Addr is the proxy's host:port (never the token).
	Addr string
	// Status is the HTTP status of a refused upgrade, or the websocket close
	// code for KindProtocol; 0 otherwise.
	Status int
	// Detail is a short human description of what was seen (the HTTP status
	// line, the close reason), used in the message.
	Detail string
	// Limit is the frame size limit (bytes) a frame from the proxy was
	// over; 0 otherwise.
	Limit int
	Err   error
}

// DisabledError wraps Nova's refusal to hand out a serial console URL (for
// the CLI to return from its Nova call).
func DisabledError(err error) error {
	return &Error{Kind: KindDisabled, Err: err}
}

// KindOf returns the Kind of err, or KindUnknown if err is not (and does not
// wrap) an *Error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindUnknown
}

func (e *Error) Unwrap() error { return e.Err }

func (e *Error) Error() string {
	at := ""
	if e.Addr != "" {
		at = " at " + e.Addr
	}
	cause := ""
	if e.Err != nil {
		cause = ": " + e.Err.Error()
	}
	switch e.Kind {
	case KindUsage:
		return "console" + cause
	case KindUnreachable:
		return fmt.Sprintf("cannot reach nova-serialproxy%s%s (%s: is nova-serialproxy running and listening there? check [serial_console] base_url in nova.conf)",
			at, cause, KindUnreachable.Rule())
	case KindTLS:
		if !isVerification(e.Err) {
			return fmt.Sprintf("TLS handshake with nova-serialproxy%s failed%s", at, cause)
		}
		return fmt.Sprintf("TLS verification of nova-serialproxy%s failed%s: pass its CA with --os-cacert (or cacert in clouds.yaml)", at, cause)
	case KindRejected:
		if e.Status != 0 {
			return fmt.Sprintf("nova-serialproxy%s refused the console (HTTP %s): the console token was rejected or expired: ask for a new URL",
				at, e.Detail)
		}
		return fmt.Sprintf("nova-serialproxy%s closed the console before sending anything: the console token was rejected or expired: ask for a new URL (if a new one fails too, the proxy cannot reach the compute host: %s)",
			at, KindDisabled.Rule())
	case KindHandshake:
		return fmt.Sprintf("websocket handshake with%s failed: %s%s", at, e.Detail, cause)
	case KindDisabled:
		return fmt.Sprintf("the serial console is not available%s: enable [serial_console] on the compute node (%s)", cause, KindDisabled.Rule())
	case KindLost:
		return fmt.Sprintf("connection to nova-serialproxy%s lost%s", at, cause)
	case KindProtocol:
		if e.Limit > 0 {
			return fmt.Sprintf("nova-serialproxy%s sent a console frame over the %s limit: hoofbeat closed the session (status %d)", at, byteSize(e.Limit), e.Status)
		}
		return fmt.Sprintf("nova-serialproxy%s closed the console with status %d (%s)", at, e.Status, e.Detail)
	case KindInterrupted:
		return "console interrupted" + cause
	}
	return "console" + at + cause
}

var errNotTLS = errors.New("the server does not speak TLS (is the URL ws:// rather than wss://?)")

// classifyDial turns a failed websocket dial into an *Error. resp may be nil.
func classifyDial(ctx context.Context, addr string, tlsURL bool, resp *http.Response, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
		status := resp.Status // websockify puts its reason in the status line
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return &Error{Kind: KindRejected, Addr: addr, Status: resp.StatusCode, Detail: status}
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return &Error{Kind: KindUnreachable, Addr: addr, Status: resp.StatusCode,
				Err: fmt.Errorf("HTTP %s from the proxy in front of it", status)}
		case http.StatusMethodNotAllowed:
			return &Error{Kind: KindHandshake, Addr: addr, Status: resp.StatusCode,
				Detail: "HTTP " + status + " (the request arrived without its websocket upgrade: is a reverse proxy stripping the Upgrade headers?)"}
		}
		return &Error{Kind: KindHandshake, Addr: addr, Status: resp.StatusCode, Detail: "HTTP " + status}
	}
	var (
		certErr  *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		invalid  x509.CertificateInvalidError
		record   tls.RecordHeaderError
		alert    tls.AlertError
		dnsErr   *net.DNSError
		netErr   net.Error
		errno    syscall.Errno
		hasErrno = errors.As(err, &errno)
	)
	switch {
	case errors.As(err, &certErr), errors.As(err, &unknown), errors.As(err, &hostErr), errors.As(err, &invalid):
		return &Error{Kind: KindTLS, Addr: addr, Err: tlsCause(err)}
	case errors.As(err, &record), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		// net/http turns a RecordHeaderError that starts with "HTTP/" into
		// an unexported error; its message is the only handle.
		return &Error{Kind: KindTLS, Addr: addr, Err: errNotTLS}
	case errors.As(err, &alert):
		return &Error{Kind: KindTLS, Addr: addr, Err: fmt.Errorf("the server sent TLS alert %v", alert)}
	case hasErrno && (errno == syscall.ECONNREFUSED || errno == syscall.EHOSTUNREACH || errno == syscall.ENETUNREACH):
		return &Error{Kind: KindUnreachable, Addr: addr, Err: errno}
	case errors.As(err, &dnsErr):
		return &Error{Kind: KindUnreachable, Addr: addr, Err: fmt.Errorf("cannot resolve %s", dnsErr.Name)}
	case errors.As(err, &netErr) && netErr.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return &Error{Kind: KindUnreachable, Addr: addr, Err: errors.New("timed out")}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), hasErrno && errno == syscall.ECONNRESET:
		// The TCP connection was accepted, then closed or reset.
		if tlsURL {
			// websockify without a certificate drops a TLS client at once.
			return &Error{Kind: KindTLS, Addr: addr, Err: fmt.Errorf("the server closed the connection during the TLS handshake: %w", errNotTLS)}
		}
		return &Error{Kind: KindHandshake, Addr: addr, Detail: "the server closed the connection during the handshake"}
	}
	if resp != nil {
		// 101, but the response broke the protocol (subprotocol, accept key).
		return &Error{Kind: KindHandshake, Addr: addr, Detail: "invalid upgrade response", Err: err}
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return &Error{Kind: KindUnreachable, Addr: addr, Err: opErr.Err}
	}
	// The http client's *url.Error repeats the URL; keep what it wraps.
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	return &Error{Kind: KindHandshake, Addr: addr, Detail: "request failed", Err: err}
}

// isVerification reports whether err is a certificate verification failure.
func isVerification(err error) bool {
	var (
		certErr *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		hostErr x509.HostnameError
		invalid x509.CertificateInvalidError
	)
	return errors.As(err, &certErr) || errors.As(err, &unknown) || errors.As(err, &hostErr) || errors.As(err, &invalid)
}

// tlsCause digs out the x509 error, whose message is the useful part.
func tlsCause(err error) error {
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) {
		return certErr.Err
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		switch e.(type) {
		case x509.UnknownAuthorityError, x509.HostnameError, x509.CertificateInvalidError:
			return e
		}
	}
	return err
}

// byteSize shows a frame limit: 16 MiB, 64 KiB, 1000 bytes.
func byteSize(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d-byte", n)
}
