package openstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/utils"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// CollectOptions say what to fetch beyond the server's neighbourhood.
type CollectOptions struct {
	// RemoteGroups fetches the member IPs of the security groups that rules
	// name in remote_group_id (only flow checks need them).
	RemoteGroups bool
	// ConsoleLines is how many lines of the guest's console log to read:
	// 0 means DefaultConsoleLines, a negative number none.
	ConsoleLines int
	// Progress, when set, is told when the walk starts and after each
	// round of requests how many rounds are done of how many the walk
	// expects (what is RoundsDone), and once more, done == total, when the
	// walk ends early or late. It is called from
	// the collecting goroutine, never concurrently.
	Progress func(done, total int, what string)
}

// RoundsDone is what CollectOptions.Progress counts.
const RoundsDone = "API rounds"

// maxPages bounds how many "next" links a list follows.
const maxPages = 50

// Collect reads the server (by ID, or by exact name) and everything around
// it into a snapshot. Only a failure to find the server is an error (an
// *Error); any other source that cannot be read is recorded as a Gap and
// the collection goes on.
//
// The walk is a few rounds of parallel, filtered requests: the server (and,
// when the query looks like an ID, its ports, its console log and the agents
// at the same time); then its security groups, subnets, networks, DHCP and router
// ports, floating IPs and hosting DHCP agents; then its routers, their L3
// agents and, on request, the remote groups' members. Nothing is listed
// unfiltered, so the cost does not grow with the size of the project.
//
// Stats.Requests counts what the diagnosis cost, the authentication's
// requests included; Stats.RoundTrips counts the sequential rounds after
// authentication.
func (c *Client) Collect(ctx context.Context, server string, o CollectOptions) (*snapshot.Snapshot, error) {
	if strings.TrimSpace(server) == "" {
		return nil, newError("find server", KindNotFound, errors.New("no server named \"\": give a server ID or name"))
	}
	start := time.Now()
	before := c.requests.Load()
	k := &collection{
		c: c,
		o: o,
		snap: &snapshot.Snapshot{
			Version:     snapshot.Version,
			CollectedAt: start.UTC(),
			Cloud:       c.cloud,
			Query:       server,
		},
	}
	if err := k.run(ctx, server); err != nil {
		return nil, err
	}
	if o.Progress != nil && k.plan != k.rounds {
		// The walk ended early (no ports, no router) or took more rounds.
		o.Progress(k.rounds, k.rounds, RoundsDone)
	}
	k.finish()
	k.snap.Stats = snapshot.Stats{
		Requests:   int(c.authRequests + c.requests.Load() - before),
		RoundTrips: k.rounds + int(k.extraRounds.Load()),
		Duration:   time.Since(start),
	}
	return k.snap, nil
}

// collection is the state of one Collect.
type collection struct {
	c    *Client
	o    CollectOptions
	snap *snapshot.Snapshot

	gapMu       sync.Mutex
	rounds      int
	extraRounds atomic.Int32
	// plan is how many rounds the walk expects, for Progress: it grows
	// when a lookup takes a round it did not plan.
	plan int

	agentsForbidden bool
}

func (k *collection) addGap(g snapshot.Gap) {
	k.gapMu.Lock()
	defer k.gapMu.Unlock()
	k.snap.Gaps = append(k.snap.Gaps, g)
}

// fail records that source could not be read. hidden says what a 403
// hides (the rule engine puts "needs admin: " before it); list says
// whether the URL was a collection, whose 404 means the API is not
// deployed.
func (k *collection) fail(source, subject, hidden string, list bool, err error) {
	g := snapshot.Gap{Source: source, Subject: subject}
	if ae, ok := asAPIError(err); ok {
		g.Status = ae.Status
		switch {
		case ae.Status == http.StatusForbidden:
			g.Kind = snapshot.GapForbidden
			g.Reason = hidden
		case ae.Status == http.StatusUnauthorized:
			// Not a lack of rights: the token (or its renewal) was rejected.
			g.Kind = snapshot.GapUnauthorized
			g.Reason = unauthorizedReason(ae)
		case ae.Status == http.StatusNotFound && (list || ae.Type == "" || ae.Type == "HTTPNotFound"):
			g.Kind = snapshot.GapUnsupported
			g.Reason = fmt.Sprintf("not deployed in this cloud (%s)", ae)
		case ae.Status == http.StatusNotFound:
			g.Kind = snapshot.GapNotFound
			g.Reason = coalesce(ae.Message, ae.Error())
		default:
			g.Kind = snapshot.GapError
			g.Reason = ae.Error()
		}
	} else {
		g.Kind = snapshot.GapError
		g.Reason = oneLine(describe(err).Error())
	}
	k.addGap(g)
}

// unauthorizedReason explains a 401 met after authentication.
func unauthorizedReason(ae *apiError) string {
	return "the token was rejected (expired or revoked): " + ae.Error()
}

// skip records sources not read because what they depend on failed.
func (k *collection) skip(why string, sources ...string) {
	for _, s := range sources {
		k.addGap(snapshot.Gap{Source: s, Kind: snapshot.GapError, Reason: "not read: " + why})
	}
}

func (k *collection) finish() {
	sort.SliceStable(k.snap.Gaps, func(i, j int) bool {
		a, b := k.snap.Gaps[i], k.snap.Gaps[j]
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		return a.Subject < b.Subject
	})
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$`)

// serverByID reads GET /servers/{id}.
func (k *collection) serverByID(ctx context.Context, id string) (*novaServer, error) {
	var body struct {
		Server *novaServer `json:"server"`
	}
	if err := k.novaGet(ctx, k.c.compute.ServiceURL("servers", url.PathEscape(id)), &body); err != nil {
		return nil, err
	}
	if body.Server == nil {
		return nil, fmt.Errorf("GET server %s: the answer has no server", id)
	}
	return body.Server, nil
}

// serverByName searches the token's project; nil, nil when nothing matches.
func (k *collection) serverByName(ctx context.Context, name string) (*novaServer, error) {
	return k.searchName(ctx, name, false)
}

// serverByNameAllProjects widens a fruitless search to every project, for
// an admin: an operator diagnosing a tenant's server by name expects to
// find it. It says so in the debug log, and the error names the scope.
//
// what says what was not found ("no server named …").
func (k *collection) serverByNameAllProjects(ctx context.Context, name, what string) (*novaServer, error) {
	if !k.c.cloud.Admin {
		return nil, newError("find server", KindNotFound, fmt.Errorf("%s in project %s", what, k.c.cloud.Project))
	}
	k.c.debug.printf("note: no server named %q in project %s; searching all projects (admin)", name, k.c.cloud.Project)
	var found *novaServer
	search := lookup(func(ctx context.Context) (err error) { found, err = k.searchName(ctx, name, true); return err })
	k.plan++
	k.round(ctx, search)
	if search.err != nil {
		return nil, search.err
	}
	if found == nil {
		return nil, newError("find server", KindNotFound, fmt.Errorf("%s in any project", what))
	}
	return found, nil
}

// notFound says what a query that found nothing was looked for as.
func notFound(kind queryKind, name string) string {
	switch kind {
	case queryID:
		return fmt.Sprintf("no server or port with ID, nor server named, %q", name)
	case queryAddress:
		return fmt.Sprintf("no port or floating IP with address, nor server named, %q", name)
	case queryMAC:
		return fmt.Sprintf("no port with MAC address, nor server named, %q", name)
	}
	return fmt.Sprintf("no server named %q", name)
}

// searchName lists /servers/detail?name=^NAME$ (Nova filters names by
// regular expression) and keeps exact matches.
func (k *collection) searchName(ctx context.Context, name string, allProjects bool) (*novaServer, error) {
	q := url.Values{"name": {"^" + regexp.QuoteMeta(name) + "$"}}
	if allProjects {
		q.Set("all_tenants", "1")
	}
	u := k.c.compute.ServiceURL("servers", "detail") + "?" + q.Encode()
	var list []novaServer
	err := k.withMicroversion(ctx, func() error {
		var err error
		list, err = listAll[novaServer](ctx, k.c.compute, u, "servers")
		return err
	})
	if err != nil {
		return nil, newError(fmt.Sprintf("find server %q", name), classify(err), describe(err))
	}
	var exact []novaServer
	for _, s := range list {
		if s.Name == name {
			exact = append(exact, s)
		}
	}
	switch len(exact) {
	case 0:
		return nil, nil
	case 1:
		return &exact[0], nil
	}
	e := newError("find server", KindAmbiguous, fmt.Errorf("%d servers are named %q", len(exact), name))
	for _, s := range exact {
		e.Candidates = append(e.Candidates, fmt.Sprintf("%s (%s, %s)", s.Name, s.ID, s.Status))
	}
	return nil, e
}

// novaGet is a GET to Nova that falls back to an older microversion when
// the cloud refuses ours.
func (k *collection) novaGet(ctx context.Context, u string, into any) error {
	return k.withMicroversion(ctx, func() error {
		_, err := k.c.compute.Get(ctx, u, into, nil)
		return err
	})
}

func (k *collection) withMicroversion(ctx context.Context, f func() error) error {
	err := f()
	if ae, ok := asAPIError(err); ok && ae.Status == http.StatusNotAcceptable {
		k.extraRounds.Add(1)
		if k.c.negotiate(ctx) {
			k.extraRounds.Add(1)
			return f()
		}
	}
	return err
}

// negotiate reads Nova's version document and settles on the highest
// microversion up to ours (2.1 when it cannot be read). It reports
// whether the microversion changed.
func (c *Client) negotiate(ctx context.Context) bool {
	c.mvMu.Lock()
	defer c.mvMu.Unlock()
	old := c.compute.Microversion
	mv := "2.1"
	if v, err := utils.GetSupportedMicroversions(ctx, c.compute); err == nil {
		_, want, _ := utils.ParseMicroversion(computeMicroversion)
		if v.MaxMajor == 2 && v.MaxMinor < want {
			mv = fmt.Sprintf("%d.%d", v.MaxMajor, v.MaxMinor)
		} else if v.MaxMajor > 0 {
			mv = computeMicroversion
		}
	}
	if mv == old {
		return false
	}
	c.compute.Microversion = mv
	c.debug.printf("note: compute microversion %s refused; using %s", old, mv)
	return true
}

// networkURL builds a Neutron URL; repeated values of a key are OR'd by
// Neutron.
func (c *Client) networkURL(path string, q url.Values) string {
	u := c.network.ServiceURL(path)
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// listAll GETs a collection and follows its "next" links, if the cloud
// paginates. A link off the endpoint's scheme, host and port is an error,
// not followed: the token would go along. So is a listing with more than
// maxPages pages: what was read is not the whole list. An item seen twice
// (same ID, as a cloud paginating by offset shows when the list changes
// under it) is kept once.
func listAll[T any](ctx context.Context, sc *gophercloud.ServiceClient, u, key string) ([]T, error) {
	return listPages[T](ctx, sc, u, key, maxPages)
}

// listPages is listAll with its own bound on the pages followed.
func listPages[T any](ctx context.Context, sc *gophercloud.ServiceClient, u, key string, maxPages int) ([]T, error) {
	home, err := url.Parse(sc.Endpoint)
	if err != nil || home.Host == "" {
		if home, err = url.Parse(u); err != nil {
			return nil, fmt.Errorf("GET %s: %w", redactURL(u), err)
		}
	}
	first := u
	var out []T
	seen := map[string]bool{}
	for page := 1; ; page++ {
		var body map[string]json.RawMessage
		if _, err := sc.Get(ctx, u, &body, nil); err != nil {
			return out, err
		}
		raw, ok := body[key]
		if !ok {
			return out, fmt.Errorf("GET %s: the answer has no %q", redactURL(u), key)
		}
		var items []T
		if err := json.Unmarshal(raw, &items); err != nil {
			return out, fmt.Errorf("GET %s: decode %s: %w", redactURL(u), key, err)
		}
		for _, it := range items {
			if x, ok := any(it).(interface{ itemID() string }); ok && x.itemID() != "" {
				if seen[x.itemID()] {
					continue
				}
				seen[x.itemID()] = true
			}
			out = append(out, it)
		}
		next := nextLink(body[key+"_links"])
		if next == "" {
			return out, nil
		}
		if page == maxPages {
			return out, &ListCutError{URL: redactURL(first), Pages: maxPages}
		}
		// Neutron and Nova give absolute links; a relative one is read
		// against the page it came from.
		base, err := url.Parse(u)
		if err != nil {
			return out, fmt.Errorf("GET %s: %w", redactURL(u), err)
		}
		nu, err := base.Parse(next)
		if err != nil {
			return out, fmt.Errorf("GET %s: the next page link is not a URL", redactURL(u))
		}
		if origin(nu) != origin(home) {
			return out, fmt.Errorf("GET %s: %w", redactURL(u), &ForeignURLError{What: "next page link", Endpoint: origin(home), URL: redactURL(nu.String()), From: redactURL(u)})
		}
		u = nu.String()
	}
}

// ListCutError is a listing that still had a "next" page after maxPages
// pages: what was read is not everything, so it is not used.
type ListCutError struct {
	URL   string
	Pages int
}

func (e *ListCutError) Error() string {
	return fmt.Sprintf("GET %s: listing cut at %d pages, the cloud has more: not used, as it is not the whole list", e.URL, e.Pages)
}

func nextLink(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var links []struct {
		Href string `json:"href"`
		Rel  string `json:"rel"`
	}
	if json.Unmarshal(raw, &links) != nil {
		return ""
	}
	for _, l := range links {
		if l.Rel == "next" {
			return l.Href
		}
	}
	return ""
}

// getOne GETs a single object under key.
func getOne[T any](ctx context.Context, sc *gophercloud.ServiceClient, u, key string) (T, error) {
	var zero T
	var body map[string]json.RawMessage
	if _, err := sc.Get(ctx, u, &body, nil); err != nil {
		return zero, err
	}
	raw, ok := body[key]
	if !ok {
		return zero, fmt.Errorf("GET %s: the answer has no %q", redactURL(u), key)
	}
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return zero, fmt.Errorf("GET %s: decode %s: %w", redactURL(u), key, err)
	}
	return v, nil
}

// networkPortOwners are the device owners of the network ports fetched:
// DHCP, the router interfaces, and OVN's "network:distributed" port (which
// serves DHCP and metadata where there is no DHCP agent).
var networkPortOwners = append([]string{snapshot.OwnerDHCP, snapshot.OwnerOVNMetadata}, snapshot.RouterInterfaceOwners...)

// uniq appends s to list unless present or empty.
func uniq(list []string, s ...string) []string {
	for _, x := range s {
		if x != "" && !slices.Contains(list, x) {
			list = append(list, x)
		}
	}
	return list
}
