package openstack

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/hoofbeat/hoofbeat/internal/yamlerr"
	"gopkg.in/yaml.v2"
)

// opLoad is the Op of every configuration error.
const opLoad = "load credentials"

// authConfig is everything Connect needs to authenticate: gophercloud's
// options, the endpoint selection and the TLS settings, plus a description
// of where they came from for messages.
type authConfig struct {
	ao  gophercloud.AuthOptions
	eo  gophercloud.EndpointOpts
	tls *tls.Config
	// method is password, token or application credential.
	method string
	// source is "environment" or `cloud "x" in /path/clouds.yaml`.
	source string
}

const (
	methodPassword = "password"
	methodToken    = "token"
	methodAppCred  = "application credential"
)

// who names the authenticating identity for messages, never a secret.
func (a *authConfig) who() string {
	switch a.method {
	case methodToken:
		return "the token"
	case methodAppCred:
		if a.ao.ApplicationCredentialID != "" {
			return "application credential " + a.ao.ApplicationCredentialID
		}
		return "application credential " + a.ao.ApplicationCredentialName
	}
	if a.ao.Username != "" {
		return "user " + a.ao.Username
	}
	return "user " + a.ao.UserID
}

func configError(format string, args ...any) *Error {
	return newError(opLoad, KindConfig, fmt.Errorf(format, args...))
}

// loadConfig reads the credentials the way the openstack client does:
// OS_CLOUD (or Options.Cloud) selects an entry of clouds.yaml, merged with
// secure.yaml; without a cloud, the OS_* variables are used.
func loadConfig(o Options) (*authConfig, error) {
	getenv := o.getenv()
	if name := coalesce(o.Cloud, getenv("OS_CLOUD")); name != "" {
		return loadCloud(name, o)
	}
	return loadEnv(o)
}

// envBool reads a boolean variable the way python does for OS_INSECURE.
func envBool(v string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "":
		return false, false
	case "1", "true", "yes", "on":
		return true, true
	case "0", "false", "no", "off":
		return false, true
	}
	b, err := strconv.ParseBool(v)
	return b, err == nil
}

// insecure resolves --insecure over OS_INSECURE; nil means "not said".
func (o Options) insecure() *bool {
	if o.Insecure != nil {
		return o.Insecure
	}
	if v, ok := envBool(o.getenv()("OS_INSECURE")); ok {
		return &v
	}
	return nil
}

// cloudsLocations is the clouds.yaml search path of python-openstackclient,
// read through Options.Getenv so that tests control it.
func cloudsLocations(getenv func(string) string) []string {
	if p := getenv("OS_CLIENT_CONFIG_FILE"); p != "" {
		return []string{p}
	}
	var locs []string
	if cwd, err := os.Getwd(); err == nil {
		locs = append(locs, filepath.Join(cwd, "clouds.yaml"))
	}
	userConfig := getenv("XDG_CONFIG_HOME")
	if userConfig == "" {
		home := getenv("HOME")
		if home == "" {
			home, _ = os.UserHomeDir()
		}
		if home != "" {
			userConfig = filepath.Join(home, ".config")
		}
	}
	if userConfig != "" {
		locs = append(locs, filepath.Join(userConfig, "openstack", "clouds.yaml"))
	}
	return append(locs, filepath.Join("/etc", "openstack", "clouds.yaml"))
}

// readOptional reads path; a missing file is (nil, nil).
func readOptional(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

func loadCloud(name string, o Options) (*authConfig, error) {
	getenv := o.getenv()
	locs := cloudsLocations(getenv)
	var path string
	var cloudsYAML []byte
	for _, p := range locs {
		b, err := readOptional(p)
		if err != nil {
			return nil, configError("read %s: %v", p, err)
		}
		if b != nil {
			path, cloudsYAML = p, b
			break
		}
	}
	if path == "" {
		return nil, configError("cloud %q: no clouds.yaml found (searched %s)", name, strings.Join(locs, ", "))
	}
	var all clouds.Clouds
	if err := yaml.Unmarshal(cloudsYAML, &all); err != nil {
		return nil, configError("%s is malformed: %s", path, yamlerr.Problem(err))
	}
	entry, ok := all.Clouds[name]
	if !ok {
		known := make([]string, 0, len(all.Clouds))
		for k := range all.Clouds {
			known = append(known, k)
		}
		slices.Sort(known)
		if len(known) == 0 {
			return nil, configError("cloud %q is not in %s, which defines no clouds", name, path)
		}
		return nil, configError("cloud %q is not in %s (known: %s)", name, path, strings.Join(known, ", "))
	}

	securePath := filepath.Join(filepath.Dir(path), "secure.yaml")
	secureYAML, err := readOptional(securePath)
	if err != nil {
		return nil, configError("read %s: %v", securePath, err)
	}
	var secureEntry clouds.Cloud
	if secureYAML != nil {
		var sec clouds.Clouds
		if err := yaml.Unmarshal(secureYAML, &sec); err != nil {
			return nil, configError("%s is malformed: %s", securePath, yamlerr.Problem(err))
		}
		secureEntry = sec.Clouds[name]
	}

	// clouds.Parse reads some variables with os.Getenv; pass every one
	// explicitly so that Options.Getenv is the only source.
	popts := []clouds.ParseOption{
		clouds.WithCloudName(name),
		clouds.WithCloudsYAML(bytes.NewReader(cloudsYAML)),
		clouds.WithRegion(getenv("OS_REGION_NAME")),
		clouds.WithEndpointType(getenv("OS_INTERFACE")),
	}
	if secureYAML != nil {
		popts = append(popts, clouds.WithSecureYAML(bytes.NewReader(secureYAML)))
	}
	if ca := coalesce(o.CACert, getenv("OS_CACERT")); ca != "" {
		popts = append(popts, clouds.WithCACertPath(ca))
	}
	if cert := getenv("OS_CERT"); cert != "" {
		popts = append(popts, clouds.WithClientCertPath(cert))
	}
	if key := getenv("OS_KEY"); key != "" {
		popts = append(popts, clouds.WithClientKeyPath(key))
	}
	if v := o.insecure(); v != nil {
		popts = append(popts, clouds.WithInsecure(*v))
	}
	if pw := getenv("OS_PASSWORD"); pw != "" {
		// As in the openstack client, OS_PASSWORD fills in (or overrides)
		// the password of a clouds.yaml entry kept without one.
		popts = append(popts, clouds.WithPassword(pw))
	}
	source := fmt.Sprintf("cloud %q in %s", name, path)
	ao, eo, tlsConfig, err := clouds.Parse(popts...)
	if err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) || strings.Contains(err.Error(), "yaml:") {
			// Both files were decoded above, so this is not expected; if
			// it happens, its message may hold a value of the file.
			return nil, configError("%s is malformed: %s", source, yamlerr.Problem(err))
		}
		return nil, configError("%s: %v", source, oneLine(err.Error()))
	}

	auth := func(f func(*clouds.AuthInfo) string) string {
		var s, c string
		if secureEntry.AuthInfo != nil {
			s = f(secureEntry.AuthInfo)
		}
		if entry.AuthInfo != nil {
			c = f(entry.AuthInfo)
		}
		return coalesce(s, c)
	}
	// Keep one user domain, in openstacksdk's order of preference.
	if ao.DomainID != "" && ao.DomainName != "" {
		if auth(func(a *clouds.AuthInfo) string { return a.UserDomainID }) == "" &&
			auth(func(a *clouds.AuthInfo) string { return a.UserDomainName }) != "" {
			ao.DomainID = ""
		} else {
			ao.DomainName = ""
		}
	}
	flagsOverCloud(&ao, o.Flags)
	if eo.Region == "" && len(entry.Regions) > 0 {
		// openstacksdk uses the first of the listed regions.
		eo.Region = entry.Regions[0].Name
	}
	authType := string(coalesce(secureEntry.AuthType, entry.AuthType))
	method, err := methodFor(authType, ao)
	if err != nil {
		return nil, configError("%s: %v", source, err)
	}
	cfg := &authConfig{ao: ao, eo: eo, tls: tlsConfig, method: method, source: source}
	cfg.normalise(coalesce(auth(func(a *clouds.AuthInfo) string { return a.DefaultDomain }), getenv("OS_DEFAULT_DOMAIN"), "default"))
	if missing := cfg.missing(cloudNames); len(missing) > 0 {
		return nil, configError("%s: missing %s", source, strings.Join(missing, "; "))
	}
	return cfg, nil
}

// flagsOverCloud applies the --os-* flags that name the identity, user and
// project to what a clouds.yaml entry said (region, interface, cert and key
// already came through getenv): each replaces the entry's setting, and
// the ID or name it competes with.
func flagsOverCloud(ao *gophercloud.AuthOptions, flags map[string]string) {
	if v := flags["OS_AUTH_URL"]; v != "" {
		ao.IdentityEndpoint = v
	}
	if v := flags["OS_USERNAME"]; v != "" {
		ao.Username, ao.UserID = v, ""
	}
	if v := flags["OS_USER_DOMAIN_NAME"]; v != "" {
		ao.DomainName, ao.DomainID = v, ""
	}
	if v := flags["OS_PROJECT_NAME"]; v != "" {
		s := &gophercloud.AuthScope{ProjectName: v}
		if old := ao.Scope; old != nil && old.ProjectName != "" {
			s.DomainID, s.DomainName = old.DomainID, old.DomainName
		}
		ao.Scope, ao.TenantID, ao.TenantName = s, "", v
	}
	if v := flags["OS_PROJECT_ID"]; v != "" {
		ao.Scope, ao.TenantID, ao.TenantName = &gophercloud.AuthScope{ProjectID: v}, v, ""
	}
	if v := flags["OS_PROJECT_DOMAIN_NAME"]; v != "" && ao.Scope != nil && ao.Scope.ProjectName != "" {
		ao.Scope.DomainName, ao.Scope.DomainID = v, ""
	}
}

// methodFor maps an auth_type / OS_AUTH_TYPE to one of the methods
// hoofbeat supports; an empty type is inferred like keystoneauth does.
func methodFor(authType string, ao gophercloud.AuthOptions) (string, error) {
	switch strings.ToLower(authType) {
	case "", "password", "v3password", "v2password":
		if authType == "" && ao.Password == "" {
			if ao.ApplicationCredentialSecret != "" {
				return methodAppCred, nil
			}
			if ao.TokenID != "" {
				return methodToken, nil
			}
		}
		return methodPassword, nil
	case "token", "v3token", "v2token", "admin_token":
		return methodToken, nil
	case "v3applicationcredential", "applicationcredential", "application_credential":
		return methodAppCred, nil
	}
	return "", fmt.Errorf("auth type %q is not supported (use password, token or v3applicationcredential)", authType)
}

// normalise drops what the chosen method does not use (gophercloud refuses
// a token together with a user name, and prefers a password over anything
// else) and applies the default domain as the openstack client does.
func (a *authConfig) normalise(defaultDomain string) {
	ao := &a.ao
	switch a.method {
	case methodToken:
		ao.Username, ao.UserID, ao.DomainID, ao.DomainName = "", "", "", ""
		ao.Password = ""
		ao.ApplicationCredentialID, ao.ApplicationCredentialName, ao.ApplicationCredentialSecret = "", "", ""
		ao.AllowReauth = false
	case methodAppCred:
		ao.Password, ao.TokenID = "", ""
		ao.Scope = nil
		ao.TenantID, ao.TenantName = "", ""
		if ao.ApplicationCredentialID != "" {
			ao.Username, ao.UserID, ao.DomainID, ao.DomainName = "", "", "", ""
		}
		ao.AllowReauth = true
	default:
		ao.TokenID = ""
		ao.ApplicationCredentialID, ao.ApplicationCredentialName, ao.ApplicationCredentialSecret = "", "", ""
		ao.AllowReauth = true
	}
	if ao.UserID != "" {
		ao.Username, ao.DomainID, ao.DomainName = "", "", ""
	}
	if ao.Username != "" && ao.DomainID == "" && ao.DomainName == "" {
		ao.DomainID = defaultDomain
	}
	if s := ao.Scope; s != nil && s.ProjectName != "" && s.ProjectID == "" && s.DomainID == "" && s.DomainName == "" {
		s.DomainID = defaultDomain
	}
	if s := ao.Scope; s != nil && s.ProjectID != "" {
		s.ProjectName, s.DomainID, s.DomainName = "", "", ""
	}
	if s := ao.Scope; s != nil && s.DomainID != "" && s.DomainName != "" {
		s.DomainName = ""
	}
}

// names of the settings in messages, by where the settings come from.
type settingNames struct {
	authURL, user, password, project, token, appCred, appCredSecret string
}

var envNames = settingNames{
	authURL:       "OS_AUTH_URL",
	user:          "OS_USERNAME or OS_USER_ID",
	password:      "OS_PASSWORD",
	project:       "OS_PROJECT_NAME or OS_PROJECT_ID",
	token:         "OS_TOKEN",
	appCred:       "OS_APPLICATION_CREDENTIAL_ID or OS_APPLICATION_CREDENTIAL_NAME",
	appCredSecret: "OS_APPLICATION_CREDENTIAL_SECRET",
}

var cloudNames = settingNames{
	authURL:       "auth.auth_url",
	user:          "auth.username or auth.user_id",
	password:      "auth.password (in clouds.yaml, secure.yaml or OS_PASSWORD)",
	project:       "auth.project_name or auth.project_id",
	token:         "auth.token",
	appCred:       "auth.application_credential_id or auth.application_credential_name",
	appCredSecret: "auth.application_credential_secret",
}

// missing lists the essential settings that are absent.
func (a *authConfig) missing(n settingNames) []string {
	ao := a.ao
	var m []string
	if ao.IdentityEndpoint == "" {
		m = append(m, n.authURL)
	}
	switch a.method {
	case methodToken:
		if ao.TokenID == "" {
			m = append(m, n.token)
		}
	case methodAppCred:
		if ao.ApplicationCredentialID == "" && ao.ApplicationCredentialName == "" {
			m = append(m, n.appCred)
		}
		if ao.ApplicationCredentialID == "" && ao.ApplicationCredentialName != "" && ao.Username == "" && ao.UserID == "" {
			m = append(m, n.user)
		}
		if ao.ApplicationCredentialSecret == "" {
			m = append(m, n.appCredSecret)
		}
	default:
		if ao.Username == "" && ao.UserID == "" {
			m = append(m, n.user)
		}
		if ao.Password == "" {
			m = append(m, n.password)
		}
		if s := ao.Scope; s == nil || (s.ProjectID == "" && s.ProjectName == "" && !s.System && s.TrustID == "") {
			m = append(m, n.project)
		}
	}
	return m
}

func loadEnv(o Options) (*authConfig, error) {
	getenv := o.getenv()
	env := func(keys ...string) string {
		for _, k := range keys {
			if v := getenv(k); v != "" {
				return v
			}
		}
		return ""
	}
	ao := gophercloud.AuthOptions{
		IdentityEndpoint:            env("OS_AUTH_URL"),
		Username:                    env("OS_USERNAME"),
		UserID:                      env("OS_USER_ID"),
		Password:                    env("OS_PASSWORD"),
		TokenID:                     env("OS_TOKEN", "OS_AUTH_TOKEN"),
		ApplicationCredentialID:     env("OS_APPLICATION_CREDENTIAL_ID"),
		ApplicationCredentialName:   env("OS_APPLICATION_CREDENTIAL_NAME"),
		ApplicationCredentialSecret: env("OS_APPLICATION_CREDENTIAL_SECRET"),
		DomainID:                    env("OS_USER_DOMAIN_ID", "OS_DOMAIN_ID"),
		DomainName:                  env("OS_USER_DOMAIN_NAME", "OS_DOMAIN_NAME"),
	}
	if ao.DomainID != "" {
		ao.DomainName = ""
	}
	switch {
	case strings.EqualFold(env("OS_SYSTEM_SCOPE"), "all"):
		ao.Scope = &gophercloud.AuthScope{System: true}
	case env("OS_PROJECT_ID", "OS_TENANT_ID") != "":
		ao.Scope = &gophercloud.AuthScope{ProjectID: env("OS_PROJECT_ID", "OS_TENANT_ID")}
	case env("OS_PROJECT_NAME", "OS_TENANT_NAME") != "":
		ao.Scope = &gophercloud.AuthScope{
			ProjectName: env("OS_PROJECT_NAME", "OS_TENANT_NAME"),
			DomainID:    env("OS_PROJECT_DOMAIN_ID", "OS_DOMAIN_ID"),
			DomainName:  env("OS_PROJECT_DOMAIN_NAME", "OS_DOMAIN_NAME"),
		}
	}
	method, err := methodFor(env("OS_AUTH_TYPE"), ao)
	if err != nil {
		return nil, configError("OS_AUTH_TYPE: %v", err)
	}
	cfg := &authConfig{ao: ao, method: method, source: "environment"}
	cfg.normalise(coalesce(env("OS_DEFAULT_DOMAIN_ID", "OS_DEFAULT_DOMAIN"), "default"))
	if ao.IdentityEndpoint == "" && ao.Username == "" && ao.UserID == "" && ao.TokenID == "" &&
		ao.ApplicationCredentialID == "" && ao.ApplicationCredentialName == "" {
		return nil, configError("no credentials: set OS_CLOUD (or --os-cloud) to use clouds.yaml, or the OS_* variables (source an openrc file)")
	}
	if missing := cfg.missing(envNames); len(missing) > 0 {
		return nil, configError("missing %s", strings.Join(missing, "; "))
	}
	iface := getenv("OS_INTERFACE")
	avail, err := availability(iface)
	if err != nil {
		return nil, configError("OS_INTERFACE: %v", err)
	}
	cfg.eo = gophercloud.EndpointOpts{Region: getenv("OS_REGION_NAME"), Availability: avail}
	cfg.tls, err = envTLS(o)
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

// availability maps OS_INTERFACE to gophercloud's endpoint interface.
func availability(iface string) (gophercloud.Availability, error) {
	switch strings.TrimSuffix(strings.ToLower(iface), "url") {
	case "", "public":
		return gophercloud.AvailabilityPublic, nil
	case "internal":
		return gophercloud.AvailabilityInternal, nil
	case "admin":
		return gophercloud.AvailabilityAdmin, nil
	}
	return "", fmt.Errorf("unknown interface %q (want public, internal or admin)", iface)
}

// envTLS builds the TLS settings from --os-cacert/--insecure and OS_CACERT,
// OS_CERT, OS_KEY, OS_INSECURE. Certificates are verified by default.
func envTLS(o Options) (*tls.Config, error) {
	getenv := o.getenv()
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca := coalesce(o.CACert, getenv("OS_CACERT")); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, configError("CA bundle: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(bytes.TrimSpace(pem)) {
			return nil, configError("CA bundle %s holds no PEM certificate", ca)
		}
		cfg.RootCAs = pool
	}
	cert, key := getenv("OS_CERT"), getenv("OS_KEY")
	switch {
	case cert != "" && key != "":
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, configError("client certificate: %v", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	case cert != "":
		return nil, configError("OS_CERT is set but OS_KEY is missing")
	case key != "":
		return nil, configError("OS_KEY is set but OS_CERT is missing")
	}
	if v := o.insecure(); v != nil {
		cfg.InsecureSkipVerify = *v
	}
	return cfg, nil
}

// coalesce returns the first non-zero argument.
func coalesce[T comparable](items ...T) T {
	var zero T
	for _, it := range items {
		if it != zero {
			return it
		}
	}
	return zero
}
