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
}

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

	agentsForbidden bool
}

// round runs tasks in parallel and waits for all of them: one round trip.
func (k *collection) round(ctx context.Context, tasks ...func(context.Context)) {
	var wg sync.WaitGroup
	n := 0
	for _, t := range tasks {
		if t == nil {
			continue
		}
		n++
		wg.Add(1)
		go func() {
			defer wg.Done()
			t(ctx)
		}()
	}
	if n > 0 {
		k.rounds++
	}
	wg.Wait()
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

// result holds one task's outcome until the round is over.
type result[T any] struct {
	v   T
	err error
	ran bool
}

func (k *collection) run(ctx context.Context, query string) error {
	c := k.c
	var (
		srv     result[*novaServer]
		ports   result[[]neutronPort]
		agents  result[[]neutronAgent]
		console result[string]
	)
	getPorts := func(id string) func(context.Context) {
		return func(ctx context.Context) {
			ports.ran = true
			ports.v, ports.err = listAll[neutronPort](ctx, c.network, c.networkURL("ports", url.Values{"device_id": {id}}), "ports")
		}
	}
	// The console log rides along with the ports: one more request, no
	// more round trips.
	lines := k.o.consoleLines()
	getConsole := func(id string) func(context.Context) {
		if lines == 0 {
			return nil
		}
		return func(ctx context.Context) {
			console.ran = true
			console.v, console.err = k.consoleOutput(ctx, id, lines)
		}
	}
	getAgents := func(ctx context.Context) {
		agents.ran = true
		agents.v, agents.err = listAll[neutronAgent](ctx, c.network, c.networkURL("agents", nil), "agents")
	}

	// Round 1: the server; when the query looks like an ID, its ports, its
	// console log and the agents at the same time.
	byID := uuidRE.MatchString(query)
	if byID {
		k.round(ctx,
			func(ctx context.Context) { srv.v, srv.err = k.serverByID(ctx, query) },
			getPorts(query),
			getConsole(query),
			getAgents,
		)
		if srv.err != nil && classify(srv.err) != KindNotFound {
			return newError(fmt.Sprintf("get server %s", query), classify(srv.err), describe(srv.err))
		}
		if srv.err != nil || srv.v.ID != query {
			// The ports and the console were asked for with the query, not
			// the server's ID.
			ports = result[[]neutronPort]{}
			console = result[string]{}
		}
	}
	if srv.v == nil {
		var found *novaServer
		var err error
		search := func(ctx context.Context) { found, err = k.serverByName(ctx, query) }
		if agents.ran {
			k.round(ctx, search)
		} else {
			k.round(ctx, search, getAgents)
		}
		if err == nil && found == nil {
			found, err = k.serverByNameAllProjects(ctx, query, byID)
		}
		if err != nil {
			return err
		}
		srv.v = found
	}
	s := srv.v
	k.snap.Server = s.toSnapshot()
	if s.hostHidden() {
		k.addGap(snapshot.Gap{Source: snapshot.SourceServerHost, Kind: snapshot.GapForbidden, Subject: s.ID,
			Reason: "the server's host is hidden"})
	}
	if !ports.ran {
		k.round(ctx, getPorts(s.ID), getConsole(s.ID))
	}
	if lines == 0 {
		k.skip("--console-lines is 0", snapshot.SourceConsoleLog)
	}
	k.readConsole(console, s.ID, lines)

	k.readAgents(agents)
	if ports.err != nil {
		k.fail(snapshot.SourcePorts, s.ID, "the server's ports are hidden", true, ports.err)
		k.skip("the server's ports could not be listed",
			snapshot.SourceSecurityGroups, snapshot.SourceSubnets, snapshot.SourceNetworks,
			snapshot.SourceNetworkPorts, snapshot.SourceFloatingIPs, snapshot.SourceDHCPAgents,
			snapshot.SourceRouters, snapshot.SourceL3Agents)
		return nil
	}
	for i := range ports.v {
		k.snap.Ports = append(k.snap.Ports, ports.v[i].toSnapshot())
	}
	if len(k.snap.Ports) == 0 {
		return nil
	}
	k.neighbourhood(ctx)
	return nil
}

func (k *collection) readAgents(agents result[[]neutronAgent]) {
	switch {
	case agents.err != nil:
		k.fail(snapshot.SourceAgents, "", "agents are hidden", true, agents.err)
		// After a 401 the hosting agents are still asked for: they fail
		// as what they are, not as "needs admin".
		if ae, ok := asAPIError(agents.err); ok && ae.Status == http.StatusForbidden {
			k.agentsForbidden = true
		}
	case len(agents.v) == 0 && !k.c.cloud.Admin:
		// Neutron filters a list by policy instead of refusing it: a
		// non-admin sees no agents rather than a 403.
		k.addGap(snapshot.Gap{Source: snapshot.SourceAgents, Kind: snapshot.GapForbidden, Reason: "agents are hidden"})
		k.agentsForbidden = true
	default:
		k.snap.Agents = []snapshot.Agent{}
		for i := range agents.v {
			k.snap.Agents = append(k.snap.Agents, agents.v[i].toSnapshot())
		}
	}
}

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
func (k *collection) serverByNameAllProjects(ctx context.Context, name string, maybeID bool) (*novaServer, error) {
	what := fmt.Sprintf("no server named %q", name)
	if maybeID {
		what = fmt.Sprintf("no server with ID or name %q", name)
	}
	if !k.c.cloud.Admin {
		return nil, newError("find server", KindNotFound, fmt.Errorf("%s in project %s", what, k.c.cloud.Project))
	}
	k.c.debug.printf("note: no server named %q in project %s; searching all projects (admin)", name, k.c.cloud.Project)
	var found *novaServer
	var err error
	k.round(ctx, func(ctx context.Context) { found, err = k.searchName(ctx, name, true) })
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, newError("find server", KindNotFound, fmt.Errorf("%s in any project", what))
	}
	return found, nil
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
var networkPortOwners = append([]string{snapshot.OwnerDHCP, "network:distributed"}, snapshot.RouterInterfaceOwners...)

// uniq appends s to list unless present or empty.
func uniq(list []string, s ...string) []string {
	for _, x := range s {
		if x != "" && !slices.Contains(list, x) {
			list = append(list, x)
		}
	}
	return list
}

// neighbourhood reads everything around the server's ports: two rounds.
func (k *collection) neighbourhood(ctx context.Context) {
	c := k.c
	snap := k.snap
	var netIDs, sgIDs, portIDs, availNets []string
	for _, p := range snap.Ports {
		netIDs = uniq(netIDs, p.NetworkID)
		sgIDs = uniq(sgIDs, p.SecurityGroups...)
		portIDs = uniq(portIDs, p.ID)
		if len(p.FixedIPs) == 0 {
			availNets = uniq(availNets, p.NetworkID)
		}
	}

	var (
		sgs      result[[]neutronSecurityGroup]
		subnets  result[[]neutronSubnet]
		networks result[[]neutronNetwork]
		netPorts result[[]neutronPort]
		fips     result[[]neutronFloatingIP]
		dhcp     = make([]result[[]neutronAgent], len(netIDs))
		avail    = make([]result[neutronIPAvailability], len(availNets))
	)
	tasks := []func(context.Context){
		func(ctx context.Context) {
			subnets.ran = true
			subnets.v, subnets.err = listAll[neutronSubnet](ctx, c.network, c.networkURL("subnets", url.Values{"network_id": netIDs}), "subnets")
		},
		func(ctx context.Context) {
			networks.ran = true
			networks.v, networks.err = listAll[neutronNetwork](ctx, c.network, c.networkURL("networks", url.Values{"id": netIDs}), "networks")
		},
		func(ctx context.Context) {
			netPorts.ran = true
			q := url.Values{"network_id": netIDs, "device_owner": networkPortOwners}
			netPorts.v, netPorts.err = listAll[neutronPort](ctx, c.network, c.networkURL("ports", q), "ports")
		},
		func(ctx context.Context) {
			fips.ran = true
			fips.v, fips.err = listAll[neutronFloatingIP](ctx, c.network, c.networkURL("floatingips", url.Values{"port_id": portIDs}), "floatingips")
		},
	}
	if len(sgIDs) > 0 {
		tasks = append(tasks, func(ctx context.Context) {
			sgs.ran = true
			sgs.v, sgs.err = listAll[neutronSecurityGroup](ctx, c.network, c.networkURL("security-groups", url.Values{"id": sgIDs}), "security_groups")
		})
	}
	if !k.agentsForbidden {
		for i, id := range netIDs {
			tasks = append(tasks, func(ctx context.Context) {
				dhcp[i].ran = true
				dhcp[i].v, dhcp[i].err = listAll[neutronAgent](ctx, c.network, c.networkURL("networks/"+url.PathEscape(id)+"/dhcp-agents", nil), "agents")
			})
		}
	}
	for i, id := range availNets {
		tasks = append(tasks, func(ctx context.Context) {
			avail[i].ran = true
			avail[i].v, avail[i].err = getOne[neutronIPAvailability](ctx, c.network, c.networkURL("network-ip-availabilities/"+url.PathEscape(id), nil), "network_ip_availability")
		})
	}
	k.round(ctx, tasks...)

	// Security groups.
	if sgs.ran {
		if sgs.err != nil {
			k.fail(snapshot.SourceSecurityGroups, "", "the port's security groups are hidden", true, sgs.err)
		} else {
			for i := range sgs.v {
				snap.SecurityGroups = append(snap.SecurityGroups, sgs.v[i].toSnapshot())
			}
			for _, id := range sgIDs {
				if snap.SecurityGroup(id) == nil {
					k.addGap(snapshot.Gap{Source: snapshot.SourceSecurityGroups, Kind: snapshot.GapForbidden, Subject: id,
						Reason: fmt.Sprintf("security group %s of the server's port is not visible to this project", id)})
				}
			}
		}
	}
	// Subnets.
	if subnets.err != nil {
		k.fail(snapshot.SourceSubnets, "", "the subnets are hidden", true, subnets.err)
	} else {
		for i := range subnets.v {
			snap.Subnets = append(snap.Subnets, subnets.v[i].toSnapshot())
		}
	}
	// Networks, and whether their provider attributes were shown.
	if networks.err != nil {
		k.fail(snapshot.SourceNetworks, "", "the networks are hidden", true, networks.err)
		k.skip("the networks could not be listed", snapshot.SourceProviderFields)
	} else {
		for i := range networks.v {
			n := networks.v[i].toSnapshot()
			snap.Networks = append(snap.Networks, n)
			if n.Provider == nil {
				g := snapshot.Gap{Source: snapshot.SourceProviderFields, Kind: snapshot.GapForbidden, Subject: n.ID,
					Reason: "provider attributes of network " + coalesce(n.Name, n.ID) + " are hidden"}
				if c.cloud.Admin {
					g.Kind = snapshot.GapUnsupported
					g.Reason = "network " + coalesce(n.Name, n.ID) + " has no provider attributes (provider extension absent)"
				}
				k.addGap(g)
			}
		}
		for _, id := range netIDs {
			if snap.Network(id) == nil {
				k.addGap(snapshot.Gap{Source: snapshot.SourceNetworks, Kind: snapshot.GapForbidden, Subject: id,
					Reason: fmt.Sprintf("network %s of the server's port is not visible to this project", id)})
			}
		}
	}
	// DHCP and router ports on the networks.
	if netPorts.err != nil {
		k.fail(snapshot.SourceNetworkPorts, "", "the DHCP and router ports are hidden", true, netPorts.err)
	} else {
		snap.NetworkPorts = []snapshot.Port{}
		for i := range netPorts.v {
			snap.NetworkPorts = append(snap.NetworkPorts, netPorts.v[i].toSnapshot())
		}
		if !c.cloud.Admin && c.projectID != "" {
			// Neutron shows a non-admin only the ports of its own project
			// and of the networks it owns: on another project's network,
			// the DHCP and router ports may exist unseen.
			for _, n := range snap.Networks {
				if n.ProjectID != "" && n.ProjectID != c.projectID {
					k.addGap(snapshot.Gap{Source: snapshot.SourceNetworkPorts, Kind: snapshot.GapForbidden, Subject: n.ID,
						Reason: "DHCP and router ports of network " + coalesce(n.Name, n.ID) + ", owned by another project, are hidden"})
				}
			}
		}
	}
	// Floating IPs.
	if fips.err != nil {
		k.fail(snapshot.SourceFloatingIPs, "", "the floating IPs are hidden", true, fips.err)
	} else {
		for i := range fips.v {
			snap.FloatingIPs = append(snap.FloatingIPs, fips.v[i].toSnapshot())
		}
	}
	// DHCP agents hosting each network.
	for i, id := range netIDs {
		switch {
		case !dhcp[i].ran:
			k.addGap(snapshot.Gap{Source: snapshot.SourceDHCPAgents, Kind: snapshot.GapForbidden, Subject: id,
				Reason: "the DHCP agents hosting the network are hidden"})
		case dhcp[i].err != nil:
			k.fail(snapshot.SourceDHCPAgents, id, "the DHCP agents hosting the network are hidden", false, dhcp[i].err)
		default:
			if snap.DHCPAgents == nil {
				snap.DHCPAgents = map[string][]string{}
			}
			ids := []string{}
			for _, a := range dhcp[i].v {
				ids = append(ids, a.ID)
				k.addAgent(a)
			}
			snap.DHCPAgents[id] = ids
		}
	}
	// Address availability, for networks where a port got no address.
	for i, id := range availNets {
		if avail[i].err != nil {
			k.fail(snapshot.SourceIPAvailability, id, "IP availability is hidden", false, avail[i].err)
			continue
		}
		a := avail[i].v.toSnapshot()
		a.NetworkID = coalesce(a.NetworkID, id)
		snap.IPAvailability = append(snap.IPAvailability, a)
	}

	k.routersAndGroups(ctx, netPorts.err == nil, sgs.ran && sgs.err == nil)
}

// addAgent keeps an agent seen in a hosting list that the agent list did
// not show (it cannot normally happen, but the snapshot should be whole).
func (k *collection) addAgent(a neutronAgent) {
	if k.snap.Agents == nil || k.snap.Agent(a.ID) != nil {
		return
	}
	k.snap.Agents = append(k.snap.Agents, a.toSnapshot())
}

// routersAndGroups is the last round: the routers behind the router
// interface ports, their L3 agents, and the remote groups' members.
func (k *collection) routersAndGroups(ctx context.Context, haveNetPorts, haveGroups bool) {
	c := k.c
	snap := k.snap
	var routerIDs []string
	for _, p := range snap.NetworkPorts {
		if slices.Contains(snapshot.RouterInterfaceOwners, p.DeviceOwner) {
			routerIDs = uniq(routerIDs, p.DeviceID)
		}
	}
	for _, f := range snap.FloatingIPs {
		routerIDs = uniq(routerIDs, f.RouterID)
	}
	var remote []string
	if k.o.RemoteGroups && haveGroups {
		for _, g := range snap.SecurityGroups {
			for _, r := range g.Rules {
				remote = uniq(remote, r.RemoteGroupID)
			}
		}
	}

	var (
		routers result[[]neutronRouter]
		l3      = make([]result[[]neutronAgent], len(routerIDs))
		members result[[]neutronPort]
	)
	var tasks []func(context.Context)
	if len(routerIDs) > 0 {
		tasks = append(tasks, func(ctx context.Context) {
			routers.ran = true
			routers.v, routers.err = listAll[neutronRouter](ctx, c.network, c.networkURL("routers", url.Values{"id": routerIDs}), "routers")
		})
		if !k.agentsForbidden {
			for i, id := range routerIDs {
				tasks = append(tasks, func(ctx context.Context) {
					l3[i].ran = true
					l3[i].v, l3[i].err = listAll[neutronAgent](ctx, c.network, c.networkURL("routers/"+url.PathEscape(id)+"/l3-agents", nil), "agents")
				})
			}
		}
	}
	if len(remote) > 0 {
		tasks = append(tasks, func(ctx context.Context) {
			members.ran = true
			q := url.Values{"security_groups": remote, "fields": {"fixed_ips", "security_groups"}}
			members.v, members.err = listAll[neutronPort](ctx, c.network, c.networkURL("ports", q), "ports")
		})
	}
	k.round(ctx, tasks...)

	if !haveNetPorts {
		k.skip("the router interface ports could not be listed", snapshot.SourceRouters, snapshot.SourceL3Agents)
	}
	if k.o.RemoteGroups && !haveGroups && len(snap.Ports) > 0 {
		k.skip("the security groups could not be read", snapshot.SourceRemoteGroups)
	}
	if routers.ran {
		if routers.err != nil {
			k.fail(snapshot.SourceRouters, "", "the routers are hidden", true, routers.err)
		} else {
			for i := range routers.v {
				snap.Routers = append(snap.Routers, routers.v[i].toSnapshot())
			}
			for _, id := range routerIDs {
				if snap.Router(id) == nil {
					k.addGap(snapshot.Gap{Source: snapshot.SourceRouters, Kind: snapshot.GapForbidden, Subject: id,
						Reason: fmt.Sprintf("router %s, attached to the server's network, is not visible to this project", id)})
				}
			}
		}
	}
	for i, id := range routerIDs {
		switch {
		case !l3[i].ran:
			k.addGap(snapshot.Gap{Source: snapshot.SourceL3Agents, Kind: snapshot.GapForbidden, Subject: id,
				Reason: "the L3 agents hosting the router are hidden"})
		case l3[i].err != nil:
			k.fail(snapshot.SourceL3Agents, id, "the L3 agents hosting the router are hidden", false, l3[i].err)
		default:
			if snap.L3Agents == nil {
				snap.L3Agents = map[string][]snapshot.L3Hosting{}
			}
			hosting := []snapshot.L3Hosting{}
			for _, a := range l3[i].v {
				hosting = append(hosting, snapshot.L3Hosting{AgentID: a.ID, HAState: deref(a.HAState)})
				k.addAgent(a)
			}
			snap.L3Agents[id] = hosting
		}
	}
	if members.ran {
		if members.err != nil {
			k.fail(snapshot.SourceRemoteGroups, "", "the remote groups' ports are hidden", true, members.err)
			return
		}
		snap.RemoteGroupMembers = map[string][]string{}
		for _, g := range remote {
			snap.RemoteGroupMembers[g] = []string{}
		}
		for _, p := range members.v {
			for _, g := range p.SecurityGroups {
				if _, ok := snap.RemoteGroupMembers[g]; !ok {
					continue
				}
				for _, ip := range p.FixedIPs {
					snap.RemoteGroupMembers[g] = uniq(snap.RemoteGroupMembers[g], ip.IPAddress)
				}
			}
		}
		for g := range snap.RemoteGroupMembers {
			slices.Sort(snap.RemoteGroupMembers[g])
		}
	}
}
