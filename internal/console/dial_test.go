package console

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in, addr, scheme string
		kind             Kind
	}{
		{"ws://127.0.0.1:6083/?token=abc", "127.0.0.1:6083", "ws", 0},
		{"wss://console.example.org/?token=abc", "console.example.org:443", "wss", 0},
		{"ws://[::1]:6083/?token=abc", "[::1]:6083", "ws", 0},
		{"http://127.0.0.1/?token=abc", "127.0.0.1:80", "ws", 0},
		{"", "", "", KindUsage},
		{"spice://127.0.0.1:6083/", "", "", KindUsage},
		{"ws:///?token=abc", "", "", KindUsage},
	} {
		u, addr, err := parseURL(tc.in)
		if tc.kind != 0 {
			if KindOf(err) != tc.kind {
				t.Errorf("parseURL(%q) error %v, want kind %v", tc.in, err, tc.kind)
			}
			continue
		}
		if err != nil || addr != tc.addr || u.Scheme != tc.scheme {
			t.Errorf("parseURL(%q) = %v, %q, %v; want scheme %s addr %s", tc.in, u, addr, err, tc.scheme, tc.addr)
		}
	}
}

func TestParseURLHidesToken(t *testing.T) {
	_, _, err := parseURL("ws://127.0.0.1:6083/%zz?token=secret-token")
	if err == nil || strings.Contains(err.Error(), "secret-token") {
		t.Fatalf("error %v", err)
	}
}

func TestOriginFor(t *testing.T) {
	for _, tc := range []struct{ url, opt, want string }{
		{"ws://127.0.0.1:6083/?token=x", "", "http://127.0.0.1:6083"},
		{"wss://console.example.org/?token=x", "", "https://console.example.org"},
		{"ws://[::1]:6083/?token=x", "", "http://[::1]:6083"},
		{"ws://127.0.0.1:6083/?token=x", "https://horizon.example.org", "https://horizon.example.org"},
		{"ws://127.0.0.1:6083/?token=x", NoOrigin, ""},
	} {
		u, _, err := parseURL(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := originFor(u, tc.opt); got != tc.want {
			t.Errorf("originFor(%s, %q) = %q, want %q", tc.url, tc.opt, got, tc.want)
		}
	}
}

func TestRedact(t *testing.T) {
	u, _ := url.Parse("ws://h:1/?token=s3cr%2Bt")
	err := redact(fmt.Errorf("Get %q: refused", u.String()), u)
	if strings.Contains(err.Error(), "s3cr") {
		t.Fatalf("token visible: %v", err)
	}
	inner := errors.New("x")
	if !errors.Is(redact(inner, u), inner) {
		t.Fatal("redact hides the chain")
	}
}

func TestErrorMessages(t *testing.T) {
	for _, tc := range []struct {
		err  *Error
		want []string
	}{
		{&Error{Kind: KindUnreachable, Addr: "h:6083", Err: errors.New("connection refused")},
			[]string{"cannot reach nova-serialproxy at h:6083: connection refused", "host/serialproxy-not-running", "[serial_console] base_url"}},
		{&Error{Kind: KindRejected, Addr: "h:6083", Status: 403, Detail: "403 Forbidden"},
			[]string{"HTTP 403 Forbidden", "the console token was rejected or expired: ask for a new URL"}},
		{&Error{Kind: KindRejected, Addr: "h:6083"},
			[]string{"closed the console before sending anything", "the console token was rejected or expired: ask for a new URL"}},
		{&Error{Kind: KindTLS, Addr: "h:6083", Err: x509.UnknownAuthorityError{}},
			[]string{"TLS verification", "unknown authority", "--os-cacert"}},
		{&Error{Kind: KindTLS, Addr: "h:6083", Err: errNotTLS},
			[]string{"TLS handshake with nova-serialproxy at h:6083 failed: the server does not speak TLS"}},
		{&Error{Kind: KindProtocol, Addr: "h:6083", Status: 1009, Limit: 16 << 20},
			[]string{"nova-serialproxy at h:6083 sent a console frame over the 16 MiB limit", "status 1009"}},
		{DisabledError(errors.New("Unavailable console type serial.")).(*Error),
			[]string{"serial console is not available: Unavailable console type serial.", "host/serial-console-config"}},
	} {
		msg := tc.err.Error()
		if strings.Contains(msg, "\n") {
			t.Errorf("%q is not one line", msg)
		}
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%q lacks %q", msg, w)
			}
		}
	}
	if msg := (&Error{Kind: KindTLS, Err: errNotTLS}).Error(); strings.Contains(msg, "--os-cacert") {
		t.Errorf("CA advice for a non-TLS server: %q", msg)
	}
	if KindOf(fmt.Errorf("wrapped: %w", DisabledError(errors.New("x")))) != KindDisabled {
		t.Error("KindOf does not see through wrapping")
	}
	if KindOf(errors.New("plain")) != KindUnknown {
		t.Error("KindOf of a plain error")
	}
}
