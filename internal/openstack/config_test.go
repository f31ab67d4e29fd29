package openstack

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
)

func TestEnvPassword(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	c := connect(t, fc, fakeos.DemoUser)
	got := c.Cloud()
	if got.User != "demo" || got.Project != "demo" || got.Admin || got.Region != "RegionOne" || got.AuthURL != fc.AuthURL() {
		t.Errorf("cloud = %+v", got)
	}
	if c.Requests() != 1 {
		t.Errorf("requests = %d, want 1 (the token)", c.Requests())
	}
	admin := connect(t, fc, fakeos.AdminUser)
	if !admin.Cloud().Admin {
		t.Errorf("admin token not seen as admin: %+v", admin.Cloud())
	}
}

func TestEnvPasswordVariants(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	base := map[string]string{"OS_AUTH_URL": fc.AuthURL(), "OS_PASSWORD": fakeos.DemoPassword}
	cases := map[string]map[string]string{
		"ids":                    with(base, "OS_USER_ID", fakeos.DemoUserID, "OS_PROJECT_ID", fakeos.DemoProjectID),
		"tenant variables":       with(base, "OS_USERNAME", "demo", "OS_TENANT_NAME", "demo"),
		"default domain":         with(base, "OS_USERNAME", "demo", "OS_PROJECT_NAME", "demo"),
		"domain variables":       with(base, "OS_USERNAME", "demo", "OS_PROJECT_NAME", "demo", "OS_DOMAIN_NAME", "Default"),
		"project domain by id":   with(base, "OS_USERNAME", "demo", "OS_PROJECT_NAME", "demo", "OS_USER_DOMAIN_ID", "default", "OS_PROJECT_DOMAIN_ID", "default"),
		"versionless auth URL":   with(base, "OS_AUTH_URL", fc.URL()+"/identity", "OS_USERNAME", "demo", "OS_PROJECT_ID", fakeos.DemoProjectID),
		"internal interface":     with(base, "OS_USERNAME", "demo", "OS_PROJECT_ID", fakeos.DemoProjectID, "OS_INTERFACE", "internal"),
		"explicit password type": with(base, "OS_USERNAME", "demo", "OS_PROJECT_ID", fakeos.DemoProjectID, "OS_AUTH_TYPE", "v3password"),
	}
	for name, env := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := Connect(context.Background(), testOptions(env))
			if err != nil {
				t.Fatal(err)
			}
			if c.Cloud().Project != "demo" || c.Cloud().User != "demo" {
				t.Errorf("cloud = %+v", c.Cloud())
			}
		})
	}
}

func TestEnvToken(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	tok := fc.IssueToken(fakeos.AdminUser)
	for name, env := range map[string]map[string]string{
		"auth type token":     {"OS_AUTH_URL": fc.AuthURL(), "OS_AUTH_TYPE": "token", "OS_TOKEN": tok},
		"inferred from token": {"OS_AUTH_URL": fc.AuthURL(), "OS_TOKEN": tok},
		"rescoped":            {"OS_AUTH_URL": fc.AuthURL(), "OS_AUTH_TYPE": "v3token", "OS_TOKEN": tok, "OS_PROJECT_ID": fakeos.AdminProjectID},
		"stray user name":     {"OS_AUTH_URL": fc.AuthURL(), "OS_AUTH_TYPE": "token", "OS_TOKEN": tok, "OS_USERNAME": "admin", "OS_USER_DOMAIN_NAME": "Default"},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := Connect(context.Background(), testOptions(env))
			if err != nil {
				t.Fatal(err)
			}
			if !c.Cloud().Admin || c.Cloud().User != "admin" || c.Cloud().Project != "admin" {
				t.Errorf("cloud = %+v", c.Cloud())
			}
			if _, err := c.Collect(context.Background(), fakeos.ServerID, CollectOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
	_, err := Connect(context.Background(), testOptions(map[string]string{"OS_AUTH_URL": fc.AuthURL(), "OS_AUTH_TYPE": "token", "OS_TOKEN": "gAAAAAexpired"}))
	wantError(t, err, KindAuth, "authentication failed for the token at "+fc.AuthURL())
}

func TestEnvApplicationCredential(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	base := map[string]string{"OS_AUTH_URL": fc.AuthURL(), "OS_AUTH_TYPE": "v3applicationcredential", "OS_APPLICATION_CREDENTIAL_SECRET": fakeos.AppCredSecret}
	for name, env := range map[string]map[string]string{
		"by id":   with(base, "OS_APPLICATION_CREDENTIAL_ID", fakeos.AppCredID),
		"by name": with(base, "OS_APPLICATION_CREDENTIAL_NAME", fakeos.AppCredName, "OS_USERNAME", "demo", "OS_USER_DOMAIN_NAME", "Default"),
		// A project left in the environment is ignored: the credential has one.
		"stray project": with(base, "OS_APPLICATION_CREDENTIAL_ID", fakeos.AppCredID, "OS_PROJECT_NAME", "admin", "OS_PASSWORD", "x"),
	} {
		t.Run(name, func(t *testing.T) {
			c, err := Connect(context.Background(), testOptions(env))
			if err != nil {
				t.Fatal(err)
			}
			if c.Cloud().User != "demo" || c.Cloud().Project != "demo" || c.Cloud().Admin {
				t.Errorf("cloud = %+v", c.Cloud())
			}
		})
	}
	_, err := Connect(context.Background(), testOptions(with(base, "OS_APPLICATION_CREDENTIAL_ID", fakeos.AppCredID, "OS_APPLICATION_CREDENTIAL_SECRET", "wrong")))
	e := wantError(t, err, KindAuth, "authentication failed for application credential "+fakeos.AppCredID, "401")
	if strings.Contains(e.Error(), "wrong") {
		t.Errorf("secret echoed: %v", e)
	}
}

func TestEnvMissing(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"nothing", nil, []string{"no credentials", "OS_CLOUD"}},
		{"password", map[string]string{"OS_AUTH_URL": "http://127.0.0.1:1/v3", "OS_USERNAME": "u", "OS_PROJECT_NAME": "p"}, []string{"missing OS_PASSWORD"}},
		{"project and password", map[string]string{"OS_AUTH_URL": "http://127.0.0.1:1/v3", "OS_USERNAME": "u"}, []string{"missing OS_PASSWORD; OS_PROJECT_NAME or OS_PROJECT_ID"}},
		{"auth url", map[string]string{"OS_USERNAME": "u", "OS_PASSWORD": "p", "OS_PROJECT_NAME": "p"}, []string{"missing OS_AUTH_URL"}},
		{"user", map[string]string{"OS_AUTH_URL": "http://127.0.0.1:1/v3", "OS_PASSWORD": "p", "OS_PROJECT_NAME": "p"}, []string{"missing OS_USERNAME or OS_USER_ID"}},
		{"token", map[string]string{"OS_AUTH_URL": "http://127.0.0.1:1/v3", "OS_AUTH_TYPE": "token", "OS_PROJECT_NAME": "p"}, []string{"missing OS_TOKEN"}},
		{"app cred secret", map[string]string{"OS_AUTH_URL": "http://127.0.0.1:1/v3", "OS_AUTH_TYPE": "v3applicationcredential", "OS_APPLICATION_CREDENTIAL_ID": "x"}, []string{"missing OS_APPLICATION_CREDENTIAL_SECRET"}},
		{"app cred user", map[string]string{"OS_AUTH_URL": "http://127.0.0.1:1/v3", "OS_AUTH_TYPE": "v3applicationcredential", "OS_APPLICATION_CREDENTIAL_NAME": "x", "OS_APPLICATION_CREDENTIAL_SECRET": "s"}, []string{"missing OS_USERNAME or OS_USER_ID"}},
		{"unknown auth type", map[string]string{"OS_AUTH_URL": "http://127.0.0.1:1/v3", "OS_AUTH_TYPE": "v3oidcpassword"}, []string{`auth type "v3oidcpassword" is not supported`}},
		{"bad interface", map[string]string{"OS_AUTH_URL": "http://127.0.0.1:1/v3", "OS_USERNAME": "u", "OS_PASSWORD": "p", "OS_PROJECT_NAME": "p", "OS_INTERFACE": "private"}, []string{`unknown interface "private"`}},
		{"client certificate without key", map[string]string{"OS_AUTH_URL": "http://127.0.0.1:1/v3", "OS_USERNAME": "u", "OS_PASSWORD": "p", "OS_PROJECT_NAME": "p", "OS_CERT": "/nonexistent/cert.pem"}, []string{"OS_CERT is set but OS_KEY is missing"}},
		{"missing CA bundle", map[string]string{"OS_AUTH_URL": "http://127.0.0.1:1/v3", "OS_USERNAME": "u", "OS_PASSWORD": "p", "OS_PROJECT_NAME": "p", "OS_CACERT": "/nonexistent/ca.pem"}, []string{"CA bundle", "/nonexistent/ca.pem"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Connect(context.Background(), testOptions(tc.env))
			e := wantError(t, err, KindConfig, tc.want...)
			if e.Op != "load credentials" {
				t.Errorf("op = %q", e.Op)
			}
			if msg := e.Error(); msg != strings.ToLower(msg[:1])+msg[1:] {
				t.Errorf("message starts with a capital: %q", msg)
			}
		})
	}
}

// cloudsYAML is a clouds.yaml for the fake at url, with the password kept
// in secure.yaml.
func cloudsYAML(url string) string {
	return fmt.Sprintf(`clouds:
  fake:
    auth:
      auth_url: %s
      username: demo
      project_name: demo
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: public
    identity_api_version: 3
  alpha:
    auth:
      auth_url: http://127.0.0.1:1/v3
      username: someone
      password: x
      project_id: abc
`, url)
}

const secureYAML = `clouds:
  fake:
    auth:
      password: ` + fakeos.DemoPassword + `
`

func TestCloudsYAML(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	dir := t.TempDir()
	path := writeFile(t, dir, "clouds.yaml", cloudsYAML(fc.AuthURL()))
	writeFile(t, dir, "secure.yaml", secureYAML)

	t.Run("OS_CLOUD and OS_CLIENT_CONFIG_FILE", func(t *testing.T) {
		c, err := Connect(context.Background(), testOptions(map[string]string{"OS_CLOUD": "fake", "OS_CLIENT_CONFIG_FILE": path}))
		if err != nil {
			t.Fatal(err)
		}
		if c.Cloud().User != "demo" || c.Cloud().Project != "demo" || c.Cloud().Region != "RegionOne" {
			t.Errorf("cloud = %+v", c.Cloud())
		}
	})
	t.Run("--os-cloud overrides OS_CLOUD", func(t *testing.T) {
		o := testOptions(map[string]string{"OS_CLOUD": "alpha", "OS_CLIENT_CONFIG_FILE": path})
		o.Cloud = "fake"
		if _, err := Connect(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("XDG config directory", func(t *testing.T) {
		xdg := t.TempDir()
		writeFile(t, xdg, "openstack/clouds.yaml", cloudsYAML(fc.AuthURL()))
		writeFile(t, xdg, "openstack/secure.yaml", secureYAML)
		if _, err := Connect(context.Background(), testOptions(map[string]string{"OS_CLOUD": "fake", "XDG_CONFIG_HOME": xdg})); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("HOME config directory", func(t *testing.T) {
		home := t.TempDir()
		writeFile(t, home, ".config/openstack/clouds.yaml", cloudsYAML(fc.AuthURL()))
		writeFile(t, home, ".config/openstack/secure.yaml", secureYAML)
		if _, err := Connect(context.Background(), testOptions(map[string]string{"OS_CLOUD": "fake", "HOME": home})); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("OS_PASSWORD fills a clouds.yaml without password", func(t *testing.T) {
		dir := t.TempDir()
		p := writeFile(t, dir, "clouds.yaml", cloudsYAML(fc.AuthURL()))
		if _, err := Connect(context.Background(), testOptions(map[string]string{"OS_CLOUD": "fake", "OS_CLIENT_CONFIG_FILE": p, "OS_PASSWORD": fakeos.DemoPassword})); err != nil {
			t.Fatal(err)
		}
		_, err := Connect(context.Background(), testOptions(map[string]string{"OS_CLOUD": "fake", "OS_CLIENT_CONFIG_FILE": p}))
		wantError(t, err, KindConfig, `cloud "fake" in `+p, "missing auth.password")
	})
	t.Run("wrong password in secure.yaml", func(t *testing.T) {
		dir := t.TempDir()
		p := writeFile(t, dir, "clouds.yaml", cloudsYAML(fc.AuthURL()))
		writeFile(t, dir, "secure.yaml", strings.ReplaceAll(secureYAML, fakeos.DemoPassword, "nope-nope"))
		_, err := Connect(context.Background(), testOptions(map[string]string{"OS_CLOUD": "fake", "OS_CLIENT_CONFIG_FILE": p}))
		e := wantError(t, err, KindAuth, "authentication failed for user demo at "+fc.AuthURL()+": 401")
		if strings.Contains(e.Error(), "nope-nope") {
			t.Errorf("password echoed: %v", e)
		}
	})
}

func TestCloudsYAMLAuthTypes(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	dir := t.TempDir()
	p := writeFile(t, dir, "clouds.yaml", fmt.Sprintf(`clouds:
  appcred:
    auth_type: v3applicationcredential
    auth:
      auth_url: %[1]s
      application_credential_id: %[2]s
      application_credential_secret: %[3]s
  token:
    auth_type: token
    auth:
      auth_url: %[1]s
      token: %[4]s
      project_id: %[5]s
  regions:
    regions:
      - RegionOne
      - RegionTwo
    auth:
      auth_url: %[1]s
      username: admin
      password: %[6]s
      project_name: admin
      user_domain_id: default
      project_domain_id: default
`, fc.AuthURL(), fakeos.AppCredID, fakeos.AppCredSecret, fc.IssueToken("admin"), fakeos.AdminProjectID, fakeos.AdminPassword))
	for _, name := range []string{"appcred", "token", "regions"} {
		t.Run(name, func(t *testing.T) {
			c, err := Connect(context.Background(), testOptions(map[string]string{"OS_CLOUD": name, "OS_CLIENT_CONFIG_FILE": p}))
			if err != nil {
				t.Fatal(err)
			}
			if c.Cloud().Region != "RegionOne" {
				t.Errorf("region = %q", c.Cloud().Region)
			}
		})
	}
	t.Run("region absent from the catalog", func(t *testing.T) {
		_, err := Connect(context.Background(), testOptions(map[string]string{"OS_CLOUD": "regions", "OS_CLIENT_CONFIG_FILE": p, "OS_REGION_NAME": "RegionTwo"}))
		wantError(t, err, KindConfig, "no compute endpoint in the service catalog (region RegionTwo, interface public)")
	})
}

func TestCloudsYAMLErrors(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good/clouds.yaml", cloudsYAML("http://127.0.0.1:1/v3"))
	bad := writeFile(t, dir, "bad/clouds.yaml", "clouds:\n  fake:\n    auth: [unclosed\n")
	writeFile(t, dir, "badsecure/clouds.yaml", cloudsYAML("http://127.0.0.1:1/v3"))
	badSecure := writeFile(t, dir, "badsecure/secure.yaml", "clouds:\n\tfake: {}\n")
	empty := writeFile(t, dir, "empty/clouds.yaml", "# nothing\n")
	cases := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"malformed", map[string]string{"OS_CLOUD": "fake", "OS_CLIENT_CONFIG_FILE": bad}, []string{bad + " is malformed", "yaml"}},
		{"malformed secure.yaml", map[string]string{"OS_CLOUD": "fake", "OS_CLIENT_CONFIG_FILE": filepath.Join(dir, "badsecure/clouds.yaml")}, []string{badSecure + " is malformed"}},
		{"unknown cloud", map[string]string{"OS_CLOUD": "prod", "OS_CLIENT_CONFIG_FILE": good}, []string{`cloud "prod" is not in ` + good + " (known: alpha, fake)"}},
		{"no clouds", map[string]string{"OS_CLOUD": "prod", "OS_CLIENT_CONFIG_FILE": empty}, []string{"defines no clouds"}},
		{"no file", map[string]string{"OS_CLOUD": "prod", "OS_CLIENT_CONFIG_FILE": filepath.Join(dir, "none/clouds.yaml")}, []string{"no clouds.yaml found", filepath.Join(dir, "none/clouds.yaml")}},
		{"CA bundle", map[string]string{"OS_CLOUD": "fake", "OS_CLIENT_CONFIG_FILE": good, "OS_PASSWORD": "p", "OS_CACERT": filepath.Join(dir, "none.pem")}, []string{`cloud "fake"`, "CA cert"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Connect(context.Background(), testOptions(tc.env))
			wantError(t, err, KindConfig, tc.want...)
		})
	}
}

func TestTLS(t *testing.T) {
	fc := fakeos.NewTLS(fakeos.Standard())
	t.Cleanup(fc.Close)
	env := fc.PasswordEnv(fakeos.DemoUser)

	_, err := Connect(context.Background(), testOptions(env))
	wantError(t, err, KindUnreachable, "certificate")

	ca := writeFile(t, t.TempDir(), "ca.pem", string(fc.CACertPEM()))
	if _, err := Connect(context.Background(), testOptions(with(env, "OS_CACERT", ca))); err != nil {
		t.Errorf("with OS_CACERT: %v", err)
	}
	o := testOptions(env)
	o.CACert = ca
	if _, err := Connect(context.Background(), o); err != nil {
		t.Errorf("with --os-cacert: %v", err)
	}
	if _, err := Connect(context.Background(), testOptions(with(env, "OS_INSECURE", "true"))); err != nil {
		t.Errorf("with OS_INSECURE: %v", err)
	}
	o = testOptions(with(env, "OS_INSECURE", "true"))
	no := false
	o.Insecure = &no
	_, err = Connect(context.Background(), o)
	wantError(t, err, KindUnreachable, "certificate")

	// clouds.yaml: verify false, and --os-cacert over it.
	dir := t.TempDir()
	writeFile(t, dir, "secure.yaml", secureYAML)
	p := writeFile(t, dir, "clouds.yaml", strings.Replace(cloudsYAML(fc.AuthURL()), "    identity_api_version: 3\n", "    identity_api_version: 3\n    verify: false\n", 1))
	if _, err := Connect(context.Background(), testOptions(map[string]string{"OS_CLOUD": "fake", "OS_CLIENT_CONFIG_FILE": p})); err != nil {
		t.Errorf("clouds.yaml verify: false: %v", err)
	}
	o = testOptions(map[string]string{"OS_CLOUD": "fake", "OS_CLIENT_CONFIG_FILE": p})
	o.Insecure = &no
	_, err = Connect(context.Background(), o)
	wantError(t, err, KindUnreachable, "certificate")
	o.CACert = ca
	if _, err := Connect(context.Background(), o); err != nil {
		t.Errorf("clouds.yaml with --os-cacert: %v", err)
	}
}

// TestYAMLErrorsHideValues: a value put where another type belongs (a
// password as a list, a mapping at the place of auth…) must not reach the
// message, which ends up on a terminal, in CI logs and bug reports.
func TestYAMLErrorsHideValues(t *testing.T) {
	const secret = "Sup3rS3cr3tPassw0rd"
	clouds := cloudsYAML("http://127.0.0.1:1/v3")
	cases := []struct {
		name, file, content string
		want                []string
	}{
		{"password list", "secure.yaml", "clouds:\n  fake:\n    auth:\n      password: [" + secret + "]\n", []string{"line 4: a list where text is expected"}},
		{"password mapping", "secure.yaml", "clouds:\n  fake:\n    auth:\n      password:\n        " + secret + ": " + secret + "\n", []string{"line 5: a mapping where text is expected"}},
		{"auth is the password", "secure.yaml", "clouds:\n  fake:\n    auth: " + secret + "\n", []string{"line 3: text where a mapping is expected"}},
		{"verify is the password", "clouds.yaml", "clouds:\n  fake:\n    verify: " + secret + "\n", []string{"line 3: text where true or false is expected"}},
		{"regions is the password", "clouds.yaml", "clouds:\n  fake:\n    regions: " + secret + "\n", []string{"line 3: text where a list is expected"}},
		{"tagged", "secure.yaml", "clouds:\n  fake:\n    auth:\n      password: !!int " + secret + "\n", []string{"not valid YAML"}},
		{"anchor", "secure.yaml", "clouds:\n  fake:\n    auth:\n      password: *" + secret + "\n", []string{"not valid YAML"}},
		{"syntax", "secure.yaml", "clouds:\n  fake:\n    auth:\n      password: \"" + secret + "\n", []string{"line 5: found unexpected end of stream"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.file == "clouds.yaml" {
				writeFile(t, dir, "clouds.yaml", tc.content)
			} else {
				writeFile(t, dir, "clouds.yaml", clouds)
				writeFile(t, dir, tc.file, tc.content)
			}
			env := map[string]string{"OS_CLOUD": "fake", "OS_CLIENT_CONFIG_FILE": filepath.Join(dir, "clouds.yaml")}
			_, err := Connect(context.Background(), testOptions(env))
			e := wantError(t, err, KindConfig, append(tc.want, filepath.Join(dir, tc.file)+" is malformed")...)
			for _, leak := range []string{secret, secret[:7], "Sup3r"} {
				if strings.Contains(e.Error(), leak) {
					t.Errorf("the message echoes the value (%q): %s", leak, e)
				}
			}
		})
	}
}
