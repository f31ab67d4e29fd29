package openstack

import (
	"context"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
)

// The --os-* flags override the OS_* variables, as in the openstack client.
func TestFlagsOverrideEnvironment(t *testing.T) {
	w := fakeos.Standard()
	w.Region = "RegionTwo"
	fc := fakeos.Start(t, w)
	dead := "http://" + closedPort(t) + "/identity/v3"
	env := with(fc.PasswordEnv(fakeos.DemoUser), "OS_REGION_NAME", "RegionOne", "OS_AUTH_URL", dead)

	if _, err := Connect(context.Background(), testOptions(env)); err == nil {
		t.Fatal("the environment alone (a dead auth URL, the wrong region) connected")
	}
	o := testOptions(env)
	o.Flags = map[string]string{"OS_AUTH_URL": fc.AuthURL(), "OS_REGION_NAME": "RegionTwo"}
	c, err := Connect(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Cloud(); got.Region != "RegionTwo" || got.AuthURL != fc.AuthURL() {
		t.Errorf("cloud = %+v, want region RegionTwo at %s", got, fc.AuthURL())
	}

	// The region flag picks the region: a wrong one fails where the
	// environment's would have worked.
	o = testOptions(with(env, "OS_AUTH_URL", fc.AuthURL(), "OS_REGION_NAME", "RegionTwo"))
	o.Flags = map[string]string{"OS_REGION_NAME": "RegionThree"}
	_, err = Connect(context.Background(), o)
	wantError(t, err, KindConfig, "no compute endpoint in the service catalog (region RegionThree, interface public)")

	// A user and a project named by flag are not overruled by the IDs
	// left in the environment.
	o = testOptions(with(env, "OS_AUTH_URL", fc.AuthURL(), "OS_REGION_NAME", "RegionTwo",
		"OS_USERNAME", "", "OS_USER_ID", "no-such-user", "OS_PROJECT_NAME", "", "OS_PROJECT_ID", "no-such-project"))
	o.Flags = map[string]string{"OS_USERNAME": "demo", "OS_PROJECT_NAME": "demo", "OS_PROJECT_DOMAIN_NAME": fakeos.DefaultDomainName}
	c, err = Connect(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Cloud(); got.User != "demo" || got.Project != "demo" {
		t.Errorf("cloud = %+v, want user and project demo", got)
	}

	// An interface the catalog lacks is refused by name.
	o = testOptions(with(env, "OS_AUTH_URL", fc.AuthURL(), "OS_REGION_NAME", "RegionTwo"))
	o.Flags = map[string]string{"OS_INTERFACE": "bogus"}
	_, err = Connect(context.Background(), o)
	wantError(t, err, KindConfig, `OS_INTERFACE: unknown interface "bogus"`)
}

// The flags override a clouds.yaml entry too.
func TestFlagsOverrideCloudsYAML(t *testing.T) {
	w := fakeos.Standard()
	w.Region = "RegionTwo"
	fc := fakeos.Start(t, w)
	dir := t.TempDir()
	path := writeFile(t, dir, "clouds.yaml", `clouds:
  stale:
    auth:
      auth_url: http://`+closedPort(t)+`/identity/v3
      user_id: no-such-user
      password: `+fakeos.DemoPassword+`
      project_id: no-such-project
    region_name: RegionOne
`)
	o := testOptions(map[string]string{"OS_CLOUD": "stale", "OS_CLIENT_CONFIG_FILE": path})
	o.Flags = map[string]string{
		"OS_AUTH_URL": fc.AuthURL(), "OS_REGION_NAME": "RegionTwo",
		"OS_USERNAME": "demo", "OS_USER_DOMAIN_NAME": fakeos.DefaultDomainName,
		"OS_PROJECT_NAME": "demo", "OS_PROJECT_DOMAIN_NAME": fakeos.DefaultDomainName,
	}
	c, err := Connect(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Cloud(); got.Region != "RegionTwo" || got.AuthURL != fc.AuthURL() || got.User != "demo" || got.Project != "demo" {
		t.Errorf("cloud = %+v", got)
	}

	o.Flags = map[string]string{"OS_AUTH_URL": fc.AuthURL(), "OS_REGION_NAME": "RegionTwo", "OS_USERNAME": "demo", "OS_PROJECT_ID": fakeos.DemoProjectID}
	if c, err = Connect(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if got := c.Cloud(); got.Project != "demo" {
		t.Errorf("--os-project-id: cloud = %+v", got)
	}
}
