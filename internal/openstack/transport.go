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
	"sync"
	"sync/atomic"
	"time"

	"github.com/gophercloud/gophercloud/v2"
)

// transport counts every HTTP request (retries and authentication
// included) and, when asked, writes one line per request to the debug log:
// method, URL, status and duration. It never writes headers or bodies, so
// tokens and passwords cannot leak into the log.
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
	return resp, err
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
