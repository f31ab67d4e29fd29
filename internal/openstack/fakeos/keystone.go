package fakeos

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// token is an issued Keystone token.
type token struct {
	ID        string
	UserID    string
	ProjectID string
	Roles     []string
	Methods   []string
	AppCred   *AppCred
	Expires   time.Time
}

func (t *token) admin() bool { return slices.Contains(t.Roles, "admin") }

// DefaultDomainID and DefaultDomainName are the only domain's.
const (
	DefaultDomainID   = "default"
	DefaultDomainName = "Default"
)

var unauthorized = "The request you have made requires authentication."

func (c *Cloud) keystone(w http.ResponseWriter, r *http.Request, path string) {
	base := c.srv.URL + "/identity"
	switch {
	case r.Method == http.MethodGet && (path == "" || path == "/"):
		writeJSON(w, http.StatusMultipleChoices, map[string]any{"versions": map[string]any{"values": []any{keystoneVersion(base)}}})
	case r.Method == http.MethodGet && (path == "/v3" || path == "/v3/"):
		writeJSON(w, http.StatusOK, map[string]any{"version": keystoneVersion(base)})
	case r.Method == http.MethodPost && path == "/v3/auth/tokens":
		c.issueToken(w, r)
	case r.Method == http.MethodGet && path == "/v3/auth/tokens":
		if c.authenticate(r) == nil {
			serviceError(w, "/identity", http.StatusUnauthorized, "", unauthorized)
			return
		}
		c.mu.Lock()
		t := c.tokens[r.Header.Get("X-Subject-Token")]
		c.mu.Unlock()
		if t == nil {
			serviceError(w, "/identity", http.StatusNotFound, "", "Could not find token: "+r.Header.Get("X-Subject-Token")+".")
			return
		}
		w.Header().Set("X-Subject-Token", t.ID)
		writeJSON(w, http.StatusOK, c.tokenBody(t))
	default:
		serviceError(w, "/identity", http.StatusNotFound, "", "The resource could not be found.")
	}
}

func keystoneVersion(base string) map[string]any {
	return map[string]any{
		"id":          "v3.14",
		"status":      "stable",
		"updated":     "2020-04-07T00:00:00Z",
		"links":       []any{map[string]any{"rel": "self", "href": base + "/v3/"}},
		"media-types": []any{map[string]any{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}},
	}
}

// authRequest is the part of POST /v3/auth/tokens the fake understands.
type authRequest struct {
	Auth struct {
		Identity struct {
			Methods  []string `json:"methods"`
			Password *struct {
				User authUser `json:"user"`
			} `json:"password"`
			Token *struct {
				ID string `json:"id"`
			} `json:"token"`
			ApplicationCredential *struct {
				ID     string    `json:"id"`
				Name   string    `json:"name"`
				Secret string    `json:"secret"`
				User   *authUser `json:"user"`
			} `json:"application_credential"`
		} `json:"identity"`
		Scope *struct {
			Project *struct {
				ID     string     `json:"id"`
				Name   string     `json:"name"`
				Domain *authNamed `json:"domain"`
			} `json:"project"`
		} `json:"scope"`
	} `json:"auth"`
}

type authNamed struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type authUser struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Password string     `json:"password"`
	Domain   *authNamed `json:"domain"`
}

func domainOK(d *authNamed) bool {
	return d != nil && (d.ID == DefaultDomainID || d.Name == DefaultDomainName)
}

// findUser finds a user by ID, or by name in the default domain.
func (w *World) findUser(u authUser) *User {
	for i := range w.Users {
		x := &w.Users[i]
		if (u.ID != "" && x.ID == u.ID) || (u.ID == "" && u.Name == x.Name && domainOK(u.Domain)) {
			return x
		}
	}
	return nil
}

func (c *Cloud) issueToken(w http.ResponseWriter, r *http.Request) {
	var req authRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		serviceError(w, "/identity", http.StatusBadRequest, "", "Expecting to find auth in request body: "+err.Error())
		return
	}
	t, status, msg := c.login(&req)
	if t == nil {
		serviceError(w, "/identity", status, "", msg)
		return
	}
	w.Header().Set("X-Subject-Token", t.ID)
	writeJSON(w, http.StatusCreated, c.tokenBody(t))
}

// login checks the credentials and the scope and issues a token.
func (c *Cloud) login(req *authRequest) (*token, int, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	world := c.world
	id := req.Auth.Identity
	t := &token{ID: "gAAAAA" + newID() + newID(), Methods: id.Methods, Expires: time.Now().Add(time.Hour)}
	userByID := func(uid string) *User {
		for i := range world.Users {
			if world.Users[i].ID == uid {
				return &world.Users[i]
			}
		}
		return nil
	}
	var user *User
	switch {
	case slices.Contains(id.Methods, "password") && id.Password != nil:
		user = world.findUser(id.Password.User)
		if user == nil || user.Password != id.Password.User.Password {
			return nil, http.StatusUnauthorized, unauthorized
		}
	case slices.Contains(id.Methods, "token") && id.Token != nil:
		old := c.tokens[id.Token.ID]
		if old == nil {
			return nil, http.StatusUnauthorized, unauthorized
		}
		user = userByID(old.UserID)
		t.ProjectID, t.Roles = old.ProjectID, old.Roles
	case slices.Contains(id.Methods, "application_credential") && id.ApplicationCredential != nil:
		ac := id.ApplicationCredential
		for i := range world.AppCreds {
			x := &world.AppCreds[i]
			byName := ac.ID == "" && x.Name == ac.Name && ac.User != nil
			if byName {
				u := world.findUser(*ac.User)
				byName = u != nil && u.ID == x.UserID
			}
			if (ac.ID != "" && x.ID == ac.ID || byName) && x.Secret == ac.Secret {
				t.AppCred = x
			}
		}
		if t.AppCred == nil {
			return nil, http.StatusUnauthorized, unauthorized
		}
		user = userByID(t.AppCred.UserID)
		if user == nil {
			return nil, http.StatusUnauthorized, unauthorized
		}
		t.ProjectID, t.Roles = user.ProjectID, user.Roles
	default:
		return nil, http.StatusBadRequest, "Expecting to find identity in auth."
	}
	if user == nil {
		return nil, http.StatusUnauthorized, unauthorized
	}
	t.UserID = user.ID
	if s := req.Auth.Scope; s != nil && s.Project != nil && t.AppCred == nil {
		p := s.Project
		ok := false
		for _, x := range world.Projects {
			if x.ID == user.ProjectID && ((p.ID != "" && p.ID == x.ID) || (p.ID == "" && p.Name == x.Name && domainOK(p.Domain))) {
				ok = true
			}
		}
		if !ok {
			return nil, http.StatusUnauthorized, unauthorized
		}
		t.ProjectID, t.Roles = user.ProjectID, user.Roles
	}
	c.tokens[t.ID] = t
	return t, 0, ""
}

func (c *Cloud) tokenBody(t *token) map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tokenBodyLocked(t)
}

// tokenBodyLocked renders a token as Keystone does, with the catalog
// pointing at the fake itself.
func (c *Cloud) tokenBodyLocked(t *token) map[string]any {
	world := c.world
	domain := map[string]any{"id": DefaultDomainID, "name": DefaultDomainName}
	tok := map[string]any{
		"methods":    t.Methods,
		"audit_ids":  []any{newID()[:22]},
		"expires_at": t.Expires.UTC().Format("2006-01-02T15:04:05.000000Z"),
		"issued_at":  time.Now().UTC().Format("2006-01-02T15:04:05.000000Z"),
	}
	for _, u := range world.Users {
		if u.ID == t.UserID {
			tok["user"] = map[string]any{"domain": domain, "id": u.ID, "name": u.Name, "password_expires_at": nil}
		}
	}
	if t.ProjectID != "" {
		for _, p := range world.Projects {
			if p.ID == t.ProjectID {
				tok["project"] = map[string]any{"domain": domain, "id": p.ID, "name": p.Name}
				tok["is_domain"] = false
			}
		}
		roles := []any{}
		for _, r := range t.Roles {
			roles = append(roles, map[string]any{"id": "r-" + r, "name": r})
		}
		tok["roles"] = roles
		tok["catalog"] = c.catalog()
	}
	if t.AppCred != nil {
		tok["application_credential"] = map[string]any{"id": t.AppCred.ID, "name": t.AppCred.Name, "restricted": true}
	}
	return map[string]any{"token": tok}
}

func (c *Cloud) catalog() []any {
	region := orDefault(c.world.Region, "RegionOne")
	entry := func(typ, name, url string) map[string]any {
		var eps []any
		for _, iface := range []string{"public", "internal", "admin"} {
			eps = append(eps, map[string]any{"id": newID(), "interface": iface, "region_id": region, "region": region, "url": url})
		}
		return map[string]any{"id": newID(), "type": typ, "name": name, "endpoints": eps}
	}
	return []any{
		entry("identity", "keystone", c.srv.URL+"/identity"),
		entry("compute", "nova", c.srv.URL+"/compute/v2.1"),
		entry("network", "neutron", c.srv.URL+"/networking"),
	}
}

// authenticate returns the request's token, or nil.
func (c *Cloud) authenticate(r *http.Request) *token {
	id := strings.TrimSpace(r.Header.Get("X-Auth-Token"))
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.tokens[id]
	if t == nil || time.Now().After(t.Expires) {
		return nil
	}
	return t
}

// IssueToken creates a token for a user, as if it had authenticated, for
// OS_TOKEN tests.
func (c *Cloud) IssueToken(userName string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, u := range c.world.Users {
		if u.Name == userName {
			t := &token{ID: "gAAAAA" + newID(), UserID: u.ID, ProjectID: u.ProjectID, Roles: u.Roles, Methods: []string{"password"}, Expires: time.Now().Add(time.Hour)}
			c.tokens[t.ID] = t
			return t.ID
		}
	}
	return ""
}
