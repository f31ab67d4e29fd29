package openstack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	tokens3 "github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
)

// The token cache spares a repeated diagnosis (and each round of
// diagnose --watch started anew) its authentication: Keystone's answer is
// kept, token and catalog, in a file only its owner can read, under the
// user's cache directory, one per auth URL, user, project and scope. A
// token is used until tokenMargin before it expires; one the cloud
// refuses (401, revoked) is dropped and authentication is redone, once.
// A token given by the operator (OS_TOKEN) is never cached: it is theirs
// to manage.

// tokenMargin is how long before its expiry a cached token is no longer
// used: a diagnosis must not outlive its token.
const tokenMargin = 5 * time.Minute

// cachedToken is the file's content: Keystone's answer to the token
// request, as it came.
type cachedToken struct {
	Token     string          `json:"token"`
	ExpiresAt time.Time       `json:"expires_at"`
	Body      json.RawMessage `json:"body"`
}

// tokenCache is a directory of cached tokens.
type tokenCache struct {
	dir string
	key string
}

// newTokenCache returns the cache of the identity cfg authenticates as,
// or nil when it must not be used: no directory, or a token given.
func newTokenCache(dir string, cfg *authConfig) *tokenCache {
	if dir == "" || cfg.method == methodToken {
		return nil
	}
	ao := cfg.ao
	// The secret is part of the key: a wrong or changed password never
	// finds the token a right one got. Only the key's hash is written, as
	// the file's name, in a directory no one else can list.
	parts := []string{"v1", cfg.method, ao.IdentityEndpoint,
		ao.UserID, ao.Username, ao.DomainID, ao.DomainName,
		ao.ApplicationCredentialID, ao.ApplicationCredentialName, ao.Password, ao.ApplicationCredentialSecret}
	if s := ao.Scope; s != nil {
		parts = append(parts, "project", s.ProjectID, s.ProjectName, s.DomainID, s.DomainName, fmt.Sprint(s.System))
	} else {
		parts = append(parts, "project", ao.TenantID, ao.TenantName)
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return &tokenCache{dir: dir, key: hex.EncodeToString(sum[:16])}
}

func (t *tokenCache) path() string { return filepath.Join(t.dir, "token-"+t.key+".json") }

// load returns the cached token when it is safe to use: a regular file of
// ours that only we can read, in a directory only we can enter, not
// within tokenMargin of its expiry.
func (t *tokenCache) load(now time.Time) (*cachedToken, error) {
	if err := private(t.dir, true); err != nil {
		return nil, err
	}
	p := t.path()
	if err := private(p, false); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var c cachedToken
	if err := json.Unmarshal(b, &c); err != nil || c.Token == "" || len(c.Body) == 0 {
		return nil, errors.New("unreadable cache entry")
	}
	if !now.Add(tokenMargin).Before(c.ExpiresAt) {
		return nil, errors.New("expired")
	}
	return &c, nil
}

// private checks that a path is ours and closed to others.
func private(p string, dir bool) error {
	fi, err := os.Lstat(p)
	if err != nil {
		return err
	}
	switch {
	case dir && !fi.IsDir(), !dir && !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular %s", p, map[bool]string{true: "directory", false: "file"}[dir])
	case fi.Mode().Perm()&0o077 != 0:
		return fmt.Errorf("%s is open to other users (%v)", p, fi.Mode().Perm())
	case !ownedByMe(fi):
		return fmt.Errorf("%s belongs to another user", p)
	}
	return nil
}

// save writes Keystone's answer: a temporary file (0600) renamed into
// place, in a directory created 0700.
func (t *tokenCache) save(r gophercloud.AuthResult) error {
	cr, ok := r.(tokens3.CreateResult)
	if !ok {
		return nil
	}
	tok, err := cr.ExtractToken()
	if err != nil || tok.ID == "" {
		return err
	}
	body, err := json.Marshal(cr.Body)
	if err != nil {
		return err
	}
	b, err := json.Marshal(cachedToken{Token: tok.ID, ExpiresAt: tok.ExpiresAt, Body: body})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(t.dir, 0o700); err != nil {
		return err
	}
	if err := private(t.dir, true); err != nil {
		return err
	}
	f, err := os.CreateTemp(t.dir, ".token-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), t.path())
}

// drop forgets the cached token.
func (t *tokenCache) drop() {
	if err := os.Remove(t.path()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return
	}
}

// authenticate signs in through the cache: with a cached token, no
// request at all; else as usual, keeping the new token.
func (c *Client) authenticate(ctx context.Context, cfg *authConfig, cache *tokenCache) error {
	pc := c.provider
	if cache != nil {
		if ent, err := cache.load(time.Now()); err == nil && c.useCached(ctx, cfg, cache, ent) == nil {
			c.debug.printf("note: using the cached token (expires %s)", ent.ExpiresAt.UTC().Format(time.RFC3339))
			return nil
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			c.debug.printf("note: token cache not used: %v", err)
		}
	}
	if err := openstack.Authenticate(ctx, pc, cfg.ao); err != nil {
		return err
	}
	if cache != nil {
		if err := cache.save(pc.GetAuthResult()); err != nil {
			c.debug.printf("note: token not cached: %v", err)
		}
	}
	return nil
}

// useCached makes the provider client use a cached token: its catalog
// locates the endpoints, and a 401 drops it and authenticates afresh (once
// per request, as gophercloud retries).
func (c *Client) useCached(ctx context.Context, cfg *authConfig, cache *tokenCache, ent *cachedToken) error {
	pc := c.provider
	var r tokens3.CreateResult
	var body any
	if err := json.Unmarshal(ent.Body, &body); err != nil {
		return err
	}
	r.Body = body
	r.Header = http.Header{"X-Subject-Token": {ent.Token}}
	catalog, err := r.ExtractServiceCatalog()
	if err != nil {
		return err
	}
	if err := pc.SetTokenAndAuthResult(r); err != nil {
		return err
	}
	pc.EndpointLocator = func(eo gophercloud.EndpointOpts) (string, error) {
		return openstack.V3Endpoint(context.TODO(), pc, catalog, eo)
	}
	pc.ReauthFunc = func(ctx context.Context) error {
		cache.drop()
		c.debug.printf("note: the cached token was refused; authenticating again")
		fresh, err := openstack.NewClient(cfg.ao.IdentityEndpoint)
		if err != nil {
			return err
		}
		fresh.HTTPClient = pc.HTTPClient
		fresh.UserAgent = pc.UserAgent
		fresh.RetryFunc = pc.RetryFunc
		ao := cfg.ao
		ao.AllowReauth = false
		if err := openstack.Authenticate(ctx, fresh, ao); err != nil {
			return err
		}
		pc.CopyTokenFrom(fresh)
		if err := cache.save(fresh.GetAuthResult()); err != nil {
			c.debug.printf("note: token not cached: %v", err)
		}
		return nil
	}
	return nil
}
