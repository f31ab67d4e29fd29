package openstack

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/gophercloud/gophercloud/v2"
)

// Kind classifies why talking to the cloud failed, so that the CLI can map
// it to an exit code and a hint without parsing messages.
type Kind int

// Error kinds.
const (
	// KindConfig: the credentials or the configuration are missing or malformed.
	KindConfig Kind = iota + 1
	// KindAuth: Keystone refused the credentials (401/403 on the token request).
	KindAuth
	// KindUnreachable: no answer at the transport level (refused, DNS, TLS).
	KindUnreachable
	// KindTimeout: a request or the whole operation ran out of time.
	KindTimeout
	// KindNotFound: the server asked about does not exist.
	KindNotFound
	// KindAmbiguous: the name matches several servers; see Error.Candidates.
	KindAmbiguous
	// KindAPI: the API answered with an error that is none of the above.
	KindAPI
)

var kindNames = map[Kind]string{
	KindConfig:      "config",
	KindAuth:        "auth",
	KindUnreachable: "unreachable",
	KindTimeout:     "timeout",
	KindNotFound:    "not-found",
	KindAmbiguous:   "ambiguous",
	KindAPI:         "api",
}

func (k Kind) String() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is what Connect and Collect return: the operation that failed, its
// kind and the cause.
type Error struct {
	// Op is what was being done ("load credentials", "authenticate", "find server vm1").
	Op   string
	Kind Kind
	Err  error
	// Candidates are the matching servers, as "name (id, status)", when
	// Kind is KindAmbiguous.
	Candidates []string
}

// Error is one line: "op: cause".
func (e *Error) Error() string {
	if e.Err == nil {
		return e.Op
	}
	return e.Op + ": " + oneLine(e.Err.Error())
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func newError(op string, kind Kind, err error) *Error {
	return &Error{Op: op, Kind: kind, Err: err}
}

// apiError is an HTTP answer outside the expected codes, reduced to what an
// operator needs: the request, the status and the service's own message.
type apiError struct {
	Method  string
	URL     string
	Status  int
	Message string
	// Type is Neutron's error type (NetworkNotFound…) or Nova's envelope key
	// (itemNotFound…); empty when the body was not a service error.
	Type string
}

func (e *apiError) Error() string {
	s := fmt.Sprintf("%s %s: %d", e.Method, e.URL, e.Status)
	if e.Message != "" {
		s += " " + e.Message
	}
	return s
}

// asAPIError extracts the HTTP status error from err, if there is one.
func asAPIError(err error) (*apiError, bool) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae, true
	}
	var uc gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &uc) {
		return fromUnexpected(uc), true
	}
	var puc *gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &puc) && puc != nil {
		return fromUnexpected(*puc), true
	}
	// A 401 whose re-authentication failed: the 401 is what matters.
	var reauth *gophercloud.ErrUnableToReauthenticate
	if errors.As(err, &reauth) && reauth.ErrOriginal != nil {
		if ae, ok := asAPIError(reauth.ErrOriginal); ok {
			ae.Message = oneLine(ae.Message + " (re-authentication failed)")
			return ae, true
		}
	}
	return nil, false
}

func fromUnexpected(uc gophercloud.ErrUnexpectedResponseCode) *apiError {
	msg, typ := serviceMessage(uc.Body)
	return &apiError{Method: uc.Method, URL: redactURL(uc.URL), Status: uc.Actual, Message: msg, Type: typ}
}

// serviceMessage reads the message out of an OpenStack error body:
// Keystone {"error": {"message"}}, Nova {"itemNotFound": {"message"}},
// Neutron {"NeutronError": {"type", "message"}}; otherwise the body's text.
func serviceMessage(body []byte) (msg, typ string) {
	var env map[string]json.RawMessage
	if err := json.Unmarshal(body, &env); err == nil && len(env) == 1 {
		for k, v := range env {
			var inner struct {
				Message string `json:"message"`
				Type    string `json:"type"`
			}
			if json.Unmarshal(v, &inner) == nil && inner.Message != "" {
				if k == "NeutronError" {
					return oneLine(inner.Message), inner.Type
				}
				if k == "error" {
					return oneLine(inner.Message), ""
				}
				return oneLine(inner.Message), k
			}
			var s string
			if k == "NeutronError" && json.Unmarshal(v, &s) == nil {
				return oneLine(s), ""
			}
		}
	}
	// Only the start of a body that is not a service error is shown: fold
	// no more of it than that, whatever its size.
	if len(body) > 4096 {
		body = body[:4096]
	}
	s := oneLine(string(body))
	if len(s) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s, ""
}

// oneLine folds whitespace so that a message fits on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// classify tells the kind of a transport or API failure.
func classify(err error) Kind {
	if err == nil {
		return 0
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return KindTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return KindTimeout
	}
	if ae, ok := asAPIError(err); ok {
		switch ae.Status {
		case 401:
			return KindAuth
		case 404:
			return KindNotFound
		}
		return KindAPI
	}
	// A refused redirect comes wrapped in a *url.Error, which is not a
	// transport failure.
	var foreign *ForeignURLError
	if errors.As(err, &foreign) {
		return KindAPI
	}
	if isTransport(err) {
		return KindUnreachable
	}
	return KindAPI
}

// isTransport reports whether err happened below HTTP: the connection, DNS
// or TLS.
func isTransport(err error) bool {
	var (
		oe  *net.OpError
		de  *net.DNSError
		ue  *url.Error
		cve *tls.CertificateVerificationError
		ua  x509.UnknownAuthorityError
		hn  x509.HostnameError
		ci  x509.CertificateInvalidError
		rh  tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &oe), errors.As(err, &de), errors.As(err, &cve),
		errors.As(err, &ua), errors.As(err, &hn), errors.As(err, &ci), errors.As(err, &rh):
		return true
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.As(err, &ue):
		return true
	}
	return false
}

// describe turns a transport or API error into a short lower-case cause.
func describe(err error) error {
	if ae, ok := asAPIError(err); ok {
		return ae
	}
	var ue *url.Error
	var foreign *ForeignURLError
	if errors.As(err, &ue) && errors.As(err, &foreign) && foreign.From != "" {
		// The url.Error names the redirect's target; say what was asked.
		return fmt.Errorf("%s %s: %w", strings.ToUpper(ue.Op), foreign.From, foreign)
	}
	if errors.As(err, &ue) {
		cause := ue.Err
		var ne net.Error
		if errors.As(cause, &ne) && ne.Timeout() {
			return fmt.Errorf("%s %s: no answer in time: %w", strings.ToUpper(ue.Op), redactURL(ue.URL), cause)
		}
		return fmt.Errorf("%s %s: %w", strings.ToUpper(ue.Op), redactURL(ue.URL), cause)
	}
	return err
}
