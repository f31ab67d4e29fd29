package openstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gophercloud/gophercloud/v2"
)

// MaxBodyBytes bounds the size of every API answer hoofbeat reads. No
// answer it asks for comes near it (a thousand ports are about 2 MiB); a
// bigger one is a broken or hostile endpoint, and reading it whole would
// take gigabytes of memory. Such an answer is not read: the source becomes
// a gap saying so.
const MaxBodyBytes = 64 << 20

// maxErrorBodyBytes bounds the answers with an error status: only their
// first line or so makes it into a message.
const maxErrorBodyBytes = 1 << 20

// transport counts every HTTP request (retries and authentication
// included) and, when asked, writes one line per request to the debug log:
// method, URL, status and duration. It never writes headers or bodies, so
// tokens and passwords cannot leak into the log. It caps every answer's
// body (MaxBodyBytes).
type transport struct {
	base  http.RoundTripper
	count *atomic.Int64
	log   *debugLog
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.count.Add(1)
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	if t.log != nil {
		d := time.Since(start)
		if err != nil {
			t.log.printf("%s %s error: %s %s", req.Method, redactURL(req.URL.String()), oneLine(err.Error()), roundDuration(d))
		} else {
			t.log.printf("%s %s %d %s", req.Method, redactURL(req.URL.String()), resp.StatusCode, roundDuration(d))
		}
	}
	if err == nil && resp.Body != nil && resp.StatusCode != http.StatusSwitchingProtocols {
		limit := int64(MaxBodyBytes)
		if resp.StatusCode >= 400 {
			limit = maxErrorBodyBytes
		}
		resp.Body = &limitedBody{body: resp.Body, limit: limit, size: resp.ContentLength,
			method: req.Method, url: redactURL(req.URL.String())}
	}
	return resp, err
}

// BodyTooLargeError is an answer larger than MaxBodyBytes, left unread.
type BodyTooLargeError struct {
	Method, URL string
	Limit       int64
}

func (e *BodyTooLargeError) Error() string {
	return fmt.Sprintf("%s %s: answer larger than %d MiB, not read", e.Method, e.URL, e.Limit>>20)
}

// limitedBody reads at most limit bytes of an answer and fails past it,
// rather than truncating silently: a cut JSON list could still parse.
// Gophercloud ignores the read error of an error answer's body, which is
// then cut at the limit; only its first line is ever shown.
type limitedBody struct {
	body  io.ReadCloser
	limit int64
	// size is the announced Content-Length (-1 when unknown): an answer
	// announced too large fails before a byte is read.
	size        int64
	n           int64
	method, url string
	err         error
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.size > b.limit {
		b.err = &BodyTooLargeError{Method: b.method, URL: b.url, Limit: b.limit}
		return 0, b.err
	}
	// One byte past the limit tells an answer of exactly limit bytes from
	// a larger one.
	if room := b.limit + 1 - b.n; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := b.body.Read(p)
	b.n += int64(n)
	if b.n > b.limit {
		b.err = &BodyTooLargeError{Method: b.method, URL: b.url, Limit: b.limit}
		return n - int(b.n-b.limit), b.err
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.body.Close() }

// ForeignURLError is a redirect or a page link to another scheme, host or
// port than the endpoint called. It is not followed: net/http strips the
// Authorization header and cookies on such a redirect, but not
// X-Auth-Token, and a 307 would send Keystone's password body again.
type ForeignURLError struct {
	// What is "redirect" or "next page link".
	What string
	// Endpoint is the scheme, host and port the token goes to.
	Endpoint string
	// URL is where the cloud pointed, and From the URL that pointed
	// there, both without secrets.
	URL, From string
}

func (e *ForeignURLError) Error() string {
	return fmt.Sprintf("%s to %s refused: it leaves %s, the only place the token is sent", e.What, e.URL, e.Endpoint)
}

// origin is a URL's scheme, host and port, the default port made explicit.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// checkRedirect is the http.Client's redirect policy: the token follows a
// redirect only on the first request's scheme, host and port.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if want := origin(via[0].URL); origin(req.URL) != want {
		return &ForeignURLError{What: "redirect", Endpoint: want, URL: redactURL(req.URL.String()),
			From: redactURL(via[len(via)-1].URL.String())}
	}
	return nil
}

// debugLog serialises lines written by parallel requests.
type debugLog struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *debugLog) printf(format string, args ...any) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format+"\n", args...)
}

func roundDuration(d time.Duration) time.Duration {
	if d < time.Millisecond {
		return d.Round(time.Microsecond)
	}
	return d.Round(time.Millisecond)
}

// sensitiveParams are query parameters whose values never reach a log or
// an error message.
var sensitiveParams = []string{"password", "secret", "token", "auth_token", "x-auth-token"}

// redactURL hides a password in the URL's user info and the values of
// sensitive query parameters.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "REDACTED")
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		changed := false
		for k := range q {
			for _, s := range sensitiveParams {
				if equalFold(k, s) {
					q[k] = []string{"REDACTED"}
					changed = true
				}
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// retrier is gophercloud's RetryFunc: it retries idempotent requests
// (GET, HEAD) a bounded number of times on 5xx, 429, timeouts and
// connection errors, with a short exponential backoff that honours ctx.
type retrier struct {
	max     int
	backoff time.Duration
}

func (r retrier) retry(ctx context.Context, method, _ string, _ *gophercloud.RequestOpts, err error, failCount uint) error {
	if method != http.MethodGet && method != http.MethodHead {
		return err
	}
	if int(failCount) > r.max || ctx.Err() != nil || !retryable(err) {
		return err
	}
	d := r.backoff << (failCount - 1)
	d += time.Duration(rand.Int64N(int64(d)/4 + 1))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return err
	}
}

// retryable tells the failures worth another try.
func retryable(err error) bool {
	// The same answer would come again.
	var big *BodyTooLargeError
	var foreign *ForeignURLError
	if errors.As(err, &big) || errors.As(err, &foreign) {
		return false
	}
	// The caller's context is checked before; a deadline here is the
	// per-request one (http.Client.Timeout).
	if errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	if ae, ok := asAPIError(err); ok {
		switch ae.Status {
		case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
			http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return isTransport(err)
}
