package openstack

import (
	"bytes"
	"context"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
)

func TestWrongPassword(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	env := with(fc.PasswordEnv(fakeos.DemoUser), "OS_PASSWORD", "hunter2-wrong")
	_, err := Connect(context.Background(), testOptions(env))
	e := wantError(t, err, KindAuth,
		"authenticate: authentication failed for user demo at "+fc.AuthURL()+": 401 The request you have made requires authentication.")
	if strings.Contains(e.Error(), "hunter2") {
		t.Errorf("password echoed: %v", e)
	}
	if n := fc.Count("POST /identity/v3/auth/tokens"); n != 1 {
		t.Errorf("token requests = %d, want 1 (a refused password is not retried)", n)
	}
}

func TestUnknownProject(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	_, err := Connect(context.Background(), testOptions(with(fc.PasswordEnv(fakeos.DemoUser), "OS_PROJECT_NAME", "admin")))
	wantError(t, err, KindAuth, "authentication failed for user demo", "401")
}

// closedPort returns an address on 127.0.0.1 where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestUnreachable(t *testing.T) {
	addr := closedPort(t)
	env := map[string]string{"OS_AUTH_URL": "http://" + addr + "/identity/v3", "OS_USERNAME": "demo", "OS_PASSWORD": "x", "OS_PROJECT_NAME": "demo"}
	start := time.Now()
	_, err := Connect(context.Background(), testOptions(env))
	wantError(t, err, KindUnreachable, "authenticate: identity service at http://"+addr+"/identity/v3", "connection refused")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	// A versionless URL is probed with a GET, which is retried, boundedly.
	env["OS_AUTH_URL"] = "http://" + addr + "/identity"
	_, err = Connect(context.Background(), testOptions(env))
	wantError(t, err, KindUnreachable, "connection refused")
}

func TestAuthTimeout(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	fc.Inject(fakeos.Fault{Method: "POST", Path: "/identity/v3/auth/tokens", Hang: true})
	o := testOptions(fc.PasswordEnv(fakeos.DemoUser))
	o.Timeout = 200 * time.Millisecond
	start := time.Now()
	_, err := Connect(context.Background(), o)
	wantError(t, err, KindTimeout, "authenticate:", "no answer in time")
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v, want about the 200ms deadline", d)
	}
}

func TestConnectContextCancelled(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	fc.Inject(fakeos.Fault{Path: "/identity", Hang: true})
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Connect(ctx, testOptions(fc.PasswordEnv(fakeos.DemoUser)))
	wantError(t, err, KindTimeout)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestAuthServerError(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	fc.Inject(fakeos.Fault{Method: "POST", Path: "/identity/v3/auth/tokens", Status: 503})
	_, err := Connect(context.Background(), testOptions(fc.PasswordEnv(fakeos.DemoUser)))
	wantError(t, err, KindAPI, "POST "+fc.AuthURL()+"/auth/tokens: 503")
}

var debugLine = regexp.MustCompile(`^(GET|POST) http://127\.0\.0\.1:\d+/\S* \d{3} [0-9.]+(µs|ms|s)$`)

func TestDebugLog(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	var buf bytes.Buffer
	c := connect(t, fc, fakeos.AdminUser, func(o *Options) { o.Debug = &buf })
	if _, err := c.Collect(context.Background(), fakeos.ServerID, CollectOptions{}); err != nil {
		t.Fatal(err)
	}
	log := buf.String()
	lines := strings.Split(strings.TrimSpace(log), "\n")
	if len(lines) != c.Requests() {
		t.Errorf("%d log lines for %d requests:\n%s", len(lines), c.Requests(), log)
	}
	for _, l := range lines {
		if !debugLine.MatchString(l) {
			t.Errorf("malformed debug line %q", l)
		}
	}
	if !strings.Contains(log, "POST "+fc.AuthURL()+"/auth/tokens 201 ") {
		t.Errorf("no token request in the log:\n%s", log)
	}
	if !strings.Contains(log, "/networking/v2.0/ports?device_id="+fakeos.ServerID+" 200 ") {
		t.Errorf("no ports request in the log:\n%s", log)
	}
	token := c.provider.Token()
	for _, secret := range []string{fakeos.AdminPassword, token, "X-Auth-Token", "X-Subject-Token"} {
		if secret != "" && strings.Contains(log, secret) {
			t.Errorf("debug log holds %q:\n%s", secret, log)
		}
	}
}

func TestDebugLogErrorsAndRedaction(t *testing.T) {
	addr := closedPort(t)
	var buf bytes.Buffer
	o := testOptions(map[string]string{
		"OS_AUTH_URL": "http://admin:t0p-s3cret@" + addr + "/identity/v3", "OS_USERNAME": "admin", "OS_PASSWORD": "t0p-s3cret", "OS_PROJECT_NAME": "admin",
	})
	o.Debug = &buf
	_, err := Connect(context.Background(), o)
	e := wantError(t, err, KindUnreachable)
	for _, s := range []string{buf.String(), e.Error()} {
		if strings.Contains(s, "t0p-s3cret") {
			t.Errorf("secret leaked: %q", s)
		}
	}
	if !strings.Contains(buf.String(), "POST http://admin:REDACTED@"+addr+"/identity/v3/auth/tokens error: ") {
		t.Errorf("debug log = %q", buf.String())
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1/v2.0/ports?device_id=x":          "http://127.0.0.1/v2.0/ports?device_id=x",
		"http://u:pw@127.0.0.1/v3":                         "http://u:REDACTED@127.0.0.1/v3",
		"http://127.0.0.1/x?password=pw&name=n":            "http://127.0.0.1/x?name=n&password=REDACTED",
		"http://127.0.0.1/x?application_secret=1&Secret=2": "http://127.0.0.1/x?Secret=REDACTED&application_secret=1",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReauthentication(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	c := connect(t, fc, fakeos.AdminUser)
	fc.ExpireTokens()
	s, err := c.Collect(context.Background(), fakeos.ServerID, CollectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	noGaps(t, s)
	if n := fc.Count("POST /identity/v3/auth/tokens"); n != 2 {
		t.Errorf("token requests = %d, want 2 (one re-authentication shared by parallel requests)", n)
	}
}

func TestErrorFormat(t *testing.T) {
	e := &Error{Op: "find server", Kind: KindAmbiguous, Err: errString("2 servers are named \"x\"\nsecond line")}
	if got := e.Error(); got != `find server: 2 servers are named "x" second line` {
		t.Errorf("Error() = %q", got)
	}
	if e.Unwrap() == nil {
		t.Error("Unwrap() = nil")
	}
	for k := KindConfig; k <= KindAPI; k++ {
		if strings.HasPrefix(k.String(), "kind(") {
			t.Errorf("kind %d has no name", k)
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }
