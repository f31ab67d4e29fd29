// Package openstack reads what hoofbeat needs from an OpenStack cloud: it
// loads credentials the way the openstack client does (clouds.yaml with
// secure.yaml, or the OS_* variables), authenticates with Keystone through
// gophercloud, and collects one server's neighbourhood from Nova and
// Neutron into a snapshot with a handful of filtered, parallel requests.
//
// What could not be read becomes a snapshot Gap with its reason; only the
// server itself is essential.
package openstack

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	tokens3 "github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// Defaults of Options.
const (
	DefaultTimeout = 30 * time.Second
	DefaultRetries = 2
)

// computeMicroversion is the Nova microversion asked for: 2.47 embeds the
// flavor and still shows OS-EXT-SRV-ATTR:host to admins.
const computeMicroversion = "2.47"

// Options say how to reach and authenticate against the cloud.
type Options struct {
	// Cloud is --os-cloud; it overrides OS_CLOUD.
	Cloud string
	// Getenv reads the environment; nil means os.Getenv (tests inject).
	Getenv func(string) string
	// Timeout is the deadline of each API request (--timeout, default 30s).
	Timeout time.Duration
	// Debug, when non-nil, receives one line per API request: method, URL,
	// status and duration. Tokens and passwords are never written.
	Debug io.Writer
	// Insecure is --insecure; it overrides OS_INSECURE and clouds.yaml verify.
	Insecure *bool
	// CACert is --os-cacert; it overrides OS_CACERT and clouds.yaml cacert.
	CACert string
	// Flags are the openstack client's other --os-* flags, keyed by the
	// variable each stands for (FlagVars): as in the openstack client, a
	// flag overrides its variable and the clouds.yaml entry.
	Flags map[string]string
	// TokenCache is the directory of the token cache (tokencache.go); ""
	// leaves it off. A token given (OS_TOKEN) is never cached.
	TokenCache string
	// Retries bounds the retries of idempotent requests on 5xx, timeouts
	// and connection errors (0 means the default, 2; negative means none).
	Retries int

	// backoff is the first retry's delay; tests shorten it.
	backoff time.Duration
}

// FlagVars are the variables Options.Flags may set, each with the
// variables its flag hides: a project named by flag is not overruled by an
// OS_PROJECT_ID left in the environment, nor a user by OS_USER_ID.
var FlagVars = map[string][]string{
	"OS_AUTH_URL":            nil,
	"OS_REGION_NAME":         nil,
	"OS_INTERFACE":           nil,
	"OS_PROJECT_ID":          {"OS_TENANT_ID"},
	"OS_PROJECT_NAME":        {"OS_PROJECT_ID", "OS_TENANT_ID", "OS_TENANT_NAME"},
	"OS_USERNAME":            {"OS_USER_ID"},
	"OS_USER_DOMAIN_NAME":    {"OS_USER_DOMAIN_ID"},
	"OS_PROJECT_DOMAIN_NAME": {"OS_PROJECT_DOMAIN_ID"},
	"OS_CERT":                nil,
	"OS_KEY":                 nil,
}

// getenv reads a variable, the --os-* flags first.
func (o Options) getenv() func(string) string {
	env := o.Getenv
	if env == nil {
		env = os.Getenv
	}
	if len(o.Flags) == 0 {
		return env
	}
	return func(k string) string {
		if v := o.Flags[k]; v != "" {
			return v
		}
		for flagged, hides := range FlagVars {
			if o.Flags[flagged] != "" && slices.Contains(hides, k) {
				return ""
			}
		}
		return env(k)
	}
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	switch {
	case o.Retries == 0:
		o.Retries = DefaultRetries
	case o.Retries < 0:
		o.Retries = 0
	}
	if o.backoff <= 0 {
		o.backoff = 200 * time.Millisecond
	}
	return o
}

// Client is an authenticated connection to one cloud.
type Client struct {
	provider *gophercloud.ProviderClient
	compute  *gophercloud.ServiceClient
	network  *gophercloud.ServiceClient
	cloud    snapshot.Cloud
	// projectID is the token's project, to tell the server's own project
	// from another one.
	projectID string

	// tls is the cloud's TLS configuration (CA, client certificate,
	// verification), reused for the serial console's websocket.
	tls *tls.Config

	requests     *atomic.Int64
	authRequests int64
	debug        *debugLog

	// mvOnce guards the fallback to an older compute microversion.
	mvMu sync.Mutex
}

// Connect loads the configuration, authenticates and finds the compute and
// network endpoints. Errors are *Error.
func Connect(ctx context.Context, o Options) (*Client, error) {
	o = o.withDefaults()
	cfg, err := loadConfig(o)
	if err != nil {
		return nil, err
	}
	c := &Client{requests: new(atomic.Int64), tls: cfg.tls}
	if o.Debug != nil {
		c.debug = &debugLog{w: o.Debug}
	}

	base := http.DefaultTransport.(*http.Transport).Clone()
	base.TLSClientConfig = cfg.tls
	base.MaxIdleConnsPerHost = 16
	pc, err := openstack.NewClient(cfg.ao.IdentityEndpoint)
	if err != nil {
		return nil, configError("%s: auth URL %q: %v", cfg.source, redactURL(cfg.ao.IdentityEndpoint), err)
	}
	pc.HTTPClient = http.Client{
		Transport:     &transport{base: base, count: c.requests, log: c.debug},
		Timeout:       o.Timeout,
		CheckRedirect: checkRedirect,
	}
	pc.UserAgent.Prepend("hoofbeat")
	pc.RetryFunc = retrier{max: o.Retries, backoff: o.backoff}.retry
	c.provider = pc

	if err := c.authenticate(ctx, cfg, newTokenCache(o.TokenCache, cfg)); err != nil {
		return nil, authError(cfg, err)
	}
	c.authRequests = c.requests.Load()
	c.cloud = snapshot.Cloud{AuthURL: redactURL(cfg.ao.IdentityEndpoint), Region: cfg.eo.Region}
	c.readToken(cfg)

	eo := cfg.eo
	if eo.Availability == "" {
		eo.Availability = gophercloud.AvailabilityPublic
	}
	computeURL, err := c.endpoint("compute", eo)
	if err != nil {
		return nil, err
	}
	networkURL, err := c.endpoint("network", eo)
	if err != nil {
		return nil, err
	}
	c.compute = &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: computeURL, Type: "compute", Microversion: computeMicroversion}
	c.network = &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: networkURL, Type: "network"}
	if !strings.HasSuffix(networkURL, "/v2.0/") {
		c.network.ResourceBase = networkURL + "v2.0/"
	}
	if c.cloud.Region == "" {
		c.cloud.Region = c.regionOf(computeURL)
	}
	return c, nil
}

// regionOf finds the region of a catalog endpoint, for a cloud configured
// without one.
func (c *Client) regionOf(endpoint string) string {
	var r interface {
		ExtractServiceCatalog() (*tokens3.ServiceCatalog, error)
	}
	switch ar := c.provider.GetAuthResult().(type) {
	case tokens3.CreateResult:
		r = ar
	case tokens3.GetResult:
		r = ar
	default:
		return ""
	}
	cat, err := r.ExtractServiceCatalog()
	if err != nil || cat == nil {
		return ""
	}
	for _, e := range cat.Entries {
		for _, ep := range e.Endpoints {
			if gophercloud.NormalizeURL(ep.URL) == endpoint {
				return coalesce(ep.RegionID, ep.Region)
			}
		}
	}
	return ""
}

// endpoint finds a service in the catalog without the version discovery
// request gophercloud's NewComputeV2/NewNetworkV2 would make.
func (c *Client) endpoint(service string, eo gophercloud.EndpointOpts) (string, error) {
	eo.Type = service
	eo.Version = 0
	eo.ApplyDefaults(service)
	u, err := c.provider.EndpointLocator(eo)
	if err != nil {
		where := "interface " + string(eo.Availability)
		if eo.Region != "" {
			where = "region " + eo.Region + ", " + where
		}
		return "", newError("find endpoints", KindConfig, fmt.Errorf("no %s endpoint in the service catalog (%s): check OS_REGION_NAME and OS_INTERFACE", service, where))
	}
	return u, nil
}

// readToken fills the user, project and admin flag from the token.
func (c *Client) readToken(cfg *authConfig) {
	c.cloud.User = coalesce(cfg.ao.Username, cfg.ao.UserID)
	if s := cfg.ao.Scope; s != nil {
		c.cloud.Project = coalesce(s.ProjectName, s.ProjectID)
		c.projectID = s.ProjectID
	}
	var r interface {
		ExtractUser() (*tokens3.User, error)
		ExtractProject() (*tokens3.Project, error)
		ExtractRoles() ([]tokens3.Role, error)
	}
	switch ar := c.provider.GetAuthResult().(type) {
	case tokens3.CreateResult:
		r = ar
	case tokens3.GetResult:
		r = ar
	default:
		return
	}
	if u, err := r.ExtractUser(); err == nil && u != nil && (u.Name != "" || u.ID != "") {
		c.cloud.User = coalesce(u.Name, u.ID)
	}
	if p, err := r.ExtractProject(); err == nil && p != nil && (p.Name != "" || p.ID != "") {
		c.cloud.Project = coalesce(p.Name, p.ID)
		c.projectID = p.ID
	}
	if roles, err := r.ExtractRoles(); err == nil {
		for _, role := range roles {
			if strings.EqualFold(role.Name, "admin") {
				c.cloud.Admin = true
			}
		}
	}
}

// authError explains a failed authentication without echoing a secret.
func authError(cfg *authConfig, err error) error {
	const op = "authenticate"
	at := redactURL(cfg.ao.IdentityEndpoint)
	var reauth *gophercloud.ErrUnableToReauthenticate
	if errors.As(err, &reauth) {
		err = reauth.ErrOriginal
	}
	if ae, ok := asAPIError(err); ok {
		switch ae.Status {
		case http.StatusUnauthorized, http.StatusForbidden:
			msg := fmt.Sprintf("authentication failed for %s at %s: %d", cfg.who(), at, ae.Status)
			if ae.Message != "" {
				msg += " " + ae.Message
			}
			return newError(op, KindAuth, errors.New(msg))
		case http.StatusNotFound:
			if cfg.method == methodToken {
				return newError(op, KindAuth, fmt.Errorf("authentication failed for %s at %s: %s", cfg.who(), at, ae))
			}
			return newError(op, KindConfig, fmt.Errorf("no identity API at %s (%s): check the auth URL", at, ae))
		}
		return newError(op, classify(err), ae)
	}
	var big *BodyTooLargeError
	var foreign *ForeignURLError
	if errors.As(err, &big) || errors.As(err, &foreign) {
		return newError(op, KindAPI, fmt.Errorf("identity service at %s: %w", at, describe(err)))
	}
	switch k := classify(err); k {
	case KindTimeout, KindUnreachable:
		return newError(op, k, fmt.Errorf("identity service at %s: %w", at, describe(err)))
	}
	// gophercloud's own checks of the options (user without domain…).
	return newError(op, KindConfig, fmt.Errorf("%s: %v", cfg.source, err))
}

// Requests is the number of API requests made so far, authentication and
// retries included.
func (c *Client) Requests() int { return int(c.requests.Load()) }

// Compute is the Nova client, with the microversion negotiated for the
// collection; copy it before changing Microversion.
func (c *Client) Compute() *gophercloud.ServiceClient { return c.compute }

// Network is the Neutron client.
func (c *Client) Network() *gophercloud.ServiceClient { return c.network }

// Cloud describes the connection: auth URL, region, user, project, admin.
func (c *Client) Cloud() snapshot.Cloud { return c.cloud }
