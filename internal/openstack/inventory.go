package openstack

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// InventoryOptions say which servers an audit reads.
type InventoryOptions struct {
	// Project is a project ID whose servers to read (an admin's view of
	// another project); "" is the token's own project.
	Project string
	// AllProjects reads every project's servers (admin).
	AllProjects bool
	// Progress is told after each round, as CollectOptions.Progress.
	Progress func(done, total int, what string)
}

// The audit's listings ask for pages of auditPageSize items (Nova's
// default max_limit), and follow up to auditMaxPages of them: a million
// ports, where a diagnosis stops at maxPages.
const (
	auditPageSize = 1000
	auditMaxPages = 1000
)

// Inventory is a whole project's (or cloud's) servers and everything
// around them, read with a constant number of paginated listings, never a
// request per server. Snapshot cuts one server's neighbourhood out of it,
// shaped as Collect would have read it, so the rules see the same input.
type Inventory struct {
	// Cloud holds the listings: Ports are every port seen, Networks every
	// network, and so on; Gaps are what could not be listed, for every
	// server. Server, ConsoleLog and Hosts stay empty.
	Cloud *snapshot.Snapshot
	// Servers are the servers read, in the order Nova listed them.
	Servers []snapshot.Server
	// Stats: Requests counts every request, pages and authentication
	// included; RoundTrips the parallel rounds after authentication.
	Stats InventoryStats

	hostHidden bool
	// admin and projectID decide which gaps a non-admin gets, as Collect.
	admin     bool
	projectID string

	portsByDevice  map[string][]int
	netPorts       map[string][]int // DHCP, router and distributed ports by network
	networks       map[string]int
	subnets        map[string][]int // by network
	groups         map[string]int
	routers        map[string]int
	fipsByPort     map[string][]int
	haRouters      map[string]bool
	availByNetwork map[string]int
}

// InventoryStats is what reading an inventory cost.
type InventoryStats struct {
	// Requests is every HTTP request, each page and the authentication
	// included.
	Requests int `json:"requests"`
	// Listings is the listings asked for (a listing of many pages is one).
	Listings int `json:"listings"`
	// Pages is every page read: Requests minus authentication.
	Pages      int           `json:"pages"`
	RoundTrips int           `json:"round_trips"`
	Duration   time.Duration `json:"duration_ns"`
}

// Inventory lists the servers in scope and the whole network around them:
// round 1 lists servers, ports, networks, subnets, security groups with
// their rules, routers, floating IPs and agents, in parallel; round 2 asks
// each DHCP and L3 agent what it hosts (a request per agent, not per
// server) and, when a port has no address, the networks' IP availability.
// Only a failure to list the servers is an error; any other listing that
// fails is a gap of every server's snapshot.
func (c *Client) Inventory(ctx context.Context, o InventoryOptions) (*Inventory, error) {
	start := time.Now()
	before := c.requests.Load()
	k := &collection{c: c, o: CollectOptions{Progress: o.Progress},
		snap: &snapshot.Snapshot{Version: snapshot.Version, CollectedAt: start.UTC(), Cloud: c.cloud}}
	inv := &Inventory{Cloud: k.snap, admin: c.cloud.Admin, projectID: c.projectID}
	k.plan = 2
	if o.Progress != nil {
		o.Progress(0, k.plan, RoundsDone)
	}

	var servers []novaServer
	q := url.Values{"limit": {strconv.Itoa(auditPageSize)}}
	switch {
	case o.AllProjects:
		q.Set("all_tenants", "1")
	case o.Project != "" && o.Project != c.projectID:
		q.Set("all_tenants", "1")
		q.Set("project_id", o.Project)
	}
	serversURL := c.compute.ServiceURL("servers", "detail") + "?" + q.Encode()
	listServers := lookup(func(ctx context.Context) error {
		return k.withMicroversion(ctx, func() (err error) {
			servers, err = listPages[novaServer](ctx, c.compute, serversURL, "servers", auditMaxPages)
			return err
		})
	})
	agents := k.agents()
	fs := []*fetch{
		listServers,
		listing[neutronPort](k, snapshot.SourcePorts, "ports", "ports", "the ports are hidden", &k.snap.Ports),
		listing[neutronNetwork](k, snapshot.SourceNetworks, "networks", "networks", "the networks are hidden", &k.snap.Networks),
		listing[neutronSubnet](k, snapshot.SourceSubnets, "subnets", "subnets", "the subnets are hidden", &k.snap.Subnets),
		listing[neutronSecurityGroup](k, snapshot.SourceSecurityGroups, "security-groups", "security_groups", "the security groups are hidden", &k.snap.SecurityGroups),
		listing[neutronRouter](k, snapshot.SourceRouters, "routers", "routers", "the routers are hidden", &k.snap.Routers),
		listing[neutronFloatingIP](k, snapshot.SourceFloatingIPs, "floatingips", "floatingips", "the floating IPs are hidden", &k.snap.FloatingIPs),
		agents,
	}
	k.round(ctx, fs...)
	if err := listServers.err; err != nil {
		return nil, newError("list servers", classify(err), describe(err))
	}
	k.settle(fs[1:]...)
	for i := range servers {
		inv.Servers = append(inv.Servers, *servers[i].toSnapshot())
		inv.hostHidden = inv.hostHidden || servers[i].hostHidden()
	}
	inv.index()

	// Round 2: what each agent hosts, and the IP availability if needed.
	var round2 []*fetch
	if agents.ok() && !k.agentsForbidden {
		for _, a := range k.snap.Agents {
			switch a.AgentType {
			case snapshot.AgentTypeDHCP:
				round2 = append(round2, inv.hosting(k, a.ID, "dhcp-networks", "networks", snapshot.SourceDHCPAgents))
			case snapshot.AgentTypeL3:
				round2 = append(round2, inv.hosting(k, a.ID, "l3-routers", "routers", snapshot.SourceL3Agents))
			}
		}
		if k.snap.DHCPAgents == nil {
			k.snap.DHCPAgents = map[string][]string{}
		}
		if k.snap.L3Agents == nil {
			k.snap.L3Agents = map[string][]snapshot.L3Hosting{}
		}
	}
	if !agents.ok() && !k.agentsForbidden {
		k.skip("the agents could not be listed", snapshot.SourceDHCPAgents, snapshot.SourceL3Agents)
	}
	if inv.needsAvailability() {
		src := source{name: snapshot.SourceIPAvailability, hidden: "IP availability is hidden", list: true}
		u := c.networkURL("network-ip-availabilities", nil)
		round2 = append(round2, get(src, func(ctx context.Context) ([]neutronIPAvailability, error) {
			return listPages[neutronIPAvailability](ctx, c.network, u, "network_ip_availabilities", auditMaxPages)
		}, func(as []neutronIPAvailability) {
			k.snap.IPAvailability = appendSnapshots(k.snap.IPAvailability, as)
		}))
	}
	k.round(ctx, round2...)
	k.settle(round2...)
	inv.availByNetwork = map[string]int{}
	for i, a := range k.snap.IPAvailability {
		inv.availByNetwork[a.NetworkID] = i
	}
	if o.Progress != nil && k.plan != k.rounds {
		o.Progress(k.rounds, k.rounds, RoundsDone)
	}
	k.finish()
	requests := int(c.requests.Load() - before)
	inv.Stats = InventoryStats{
		Requests:   int(c.authRequests) + requests,
		Listings:   len(fs) + len(round2),
		Pages:      requests,
		RoundTrips: k.rounds + int(k.extraRounds.Load()),
		Duration:   time.Since(start),
	}
	return inv, nil
}

// listing lists a whole Neutron collection, page by page, into dst.
func listing[T, S any, P decoded[T, S]](k *collection, name, path, key, hidden string, dst *[]S) *fetch {
	u := k.c.networkURL(path, url.Values{"limit": {strconv.Itoa(auditPageSize)}})
	return get(source{name: name, hidden: hidden, list: true}, func(ctx context.Context) ([]T, error) {
		return listPages[T](ctx, k.c.network, u, key, auditMaxPages)
	}, func(items []T) { *dst = appendSnapshots[T, S, P](*dst, items) })
}

// hosting asks one agent what it hosts (agents/ID/dhcp-networks or
// l3-routers) and records it as the per-network and per-router hosting
// lists Collect reads.
func (inv *Inventory) hosting(k *collection, agentID, sub, key, name string) *fetch {
	src := source{name: name, hidden: "what the agents host is hidden"}
	u := k.c.networkURL("agents/"+url.PathEscape(agentID)+"/"+sub, url.Values{"limit": {strconv.Itoa(auditPageSize)}})
	type hosted struct {
		ID string `json:"id"`
	}
	return get(src, func(ctx context.Context) ([]hosted, error) {
		return listPages[hosted](ctx, k.c.network, u, key, auditMaxPages)
	}, func(items []hosted) {
		for _, it := range items {
			if sub == "dhcp-networks" {
				k.snap.DHCPAgents[it.ID] = append(k.snap.DHCPAgents[it.ID], agentID)
			} else if !inv.haRouters[it.ID] {
				k.snap.L3Agents[it.ID] = append(k.snap.L3Agents[it.ID], snapshot.L3Hosting{AgentID: agentID})
			}
		}
	})
}

// index maps the listings by the IDs a server's neighbourhood is found
// by, once, so that cutting out each server is linear in its own ports.
func (inv *Inventory) index() {
	s := inv.Cloud
	inv.portsByDevice = map[string][]int{}
	inv.netPorts = map[string][]int{}
	for i, p := range s.Ports {
		if p.DeviceID != "" {
			inv.portsByDevice[p.DeviceID] = append(inv.portsByDevice[p.DeviceID], i)
		}
		if slices.Contains(networkPortOwners, p.DeviceOwner) {
			inv.netPorts[p.NetworkID] = append(inv.netPorts[p.NetworkID], i)
		}
	}
	inv.networks = map[string]int{}
	for i, n := range s.Networks {
		inv.networks[n.ID] = i
	}
	inv.subnets = map[string][]int{}
	for i, sn := range s.Subnets {
		inv.subnets[sn.NetworkID] = append(inv.subnets[sn.NetworkID], i)
	}
	inv.groups = map[string]int{}
	for i, g := range s.SecurityGroups {
		inv.groups[g.ID] = i
	}
	inv.routers = map[string]int{}
	inv.haRouters = map[string]bool{}
	for i, r := range s.Routers {
		inv.routers[r.ID] = i
		if r.HA != nil && *r.HA {
			inv.haRouters[r.ID] = true
		}
	}
	inv.fipsByPort = map[string][]int{}
	for i, f := range s.FloatingIPs {
		if f.PortID != "" {
			inv.fipsByPort[f.PortID] = append(inv.fipsByPort[f.PortID], i)
		}
	}
}

// needsAvailability reports whether a server's port has no address: only
// then is the networks' IP availability read, as Collect does.
func (inv *Inventory) needsAvailability() bool {
	for _, srv := range inv.Servers {
		for _, i := range inv.portsByDevice[srv.ID] {
			if len(inv.Cloud.Ports[i].FixedIPs) == 0 {
				return true
			}
		}
	}
	return false
}

// Snapshot is server i's neighbourhood as Collect would have read it: its
// ports, their security groups, subnets, networks, DHCP and router ports,
// floating IPs, routers and the agents hosting them, with the listings'
// gaps and those of what this server needed but could not be seen.
func (inv *Inventory) Snapshot(i int) *snapshot.Snapshot {
	c := inv.Cloud
	srv := inv.Servers[i]
	s := &snapshot.Snapshot{
		Version: snapshot.Version, CollectedAt: c.CollectedAt, Cloud: c.Cloud, Query: srv.ID,
		Server: &srv, Agents: c.Agents,
		Gaps: slices.Clone(c.Gaps),
	}
	gap := func(g snapshot.Gap) { s.Gaps = append(s.Gaps, g) }
	if srv.Host == "" && inv.hostHidden {
		gap(snapshot.Gap{Source: snapshot.SourceServerHost, Kind: snapshot.GapForbidden, Subject: srv.ID, Reason: "the server's host is hidden"})
	}
	// The console log is a request per server: the audit does not read it.
	gap(snapshot.Gap{Source: snapshot.SourceConsoleLog, Kind: snapshot.GapError, Subject: srv.ID,
		Reason: "not read by the audit (a request per server): hoofbeat diagnose reads it"})
	if c.Gap(snapshot.SourcePorts) != nil {
		for _, src := range []string{snapshot.SourceSecurityGroups, snapshot.SourceSubnets, snapshot.SourceNetworks,
			snapshot.SourceNetworkPorts, snapshot.SourceFloatingIPs, snapshot.SourceDHCPAgents, snapshot.SourceRouters, snapshot.SourceL3Agents} {
			gap(snapshot.Gap{Source: src, Kind: snapshot.GapError, Reason: "not read: the ports could not be listed"})
		}
		return s
	}
	var netIDs, sgIDs, routerIDs []string
	for _, pi := range inv.portsByDevice[srv.ID] {
		p := c.Ports[pi]
		s.Ports = append(s.Ports, p)
		netIDs = uniq(netIDs, p.NetworkID)
		sgIDs = uniq(sgIDs, p.SecurityGroups...)
		for _, fi := range inv.fipsByPort[p.ID] {
			f := c.FloatingIPs[fi]
			s.FloatingIPs = append(s.FloatingIPs, f)
			routerIDs = uniq(routerIDs, f.RouterID)
		}
	}
	if len(s.Ports) == 0 {
		return s
	}
	for _, id := range sgIDs {
		if gi, ok := inv.groups[id]; ok {
			s.SecurityGroups = append(s.SecurityGroups, c.SecurityGroups[gi])
		} else if c.Gap(snapshot.SourceSecurityGroups) == nil {
			gap(snapshot.Gap{Source: snapshot.SourceSecurityGroups, Kind: snapshot.GapForbidden, Subject: id,
				Reason: fmt.Sprintf("security group %s of the server's port is not visible to this project", id)})
		}
	}
	s.NetworkPorts = []snapshot.Port{}
	for _, id := range netIDs {
		if ni, ok := inv.networks[id]; ok {
			n := c.Networks[ni]
			s.Networks = append(s.Networks, n)
			if n.Provider == nil {
				g := snapshot.Gap{Source: snapshot.SourceProviderFields, Kind: snapshot.GapForbidden, Subject: n.ID,
					Reason: "provider attributes of network " + coalesce(n.Name, n.ID) + " are hidden"}
				if inv.admin {
					g.Kind = snapshot.GapUnsupported
					g.Reason = "network " + coalesce(n.Name, n.ID) + " has no provider attributes (provider extension absent)"
				}
				gap(g)
			}
			if !inv.admin && inv.projectID != "" && n.ProjectID != "" && n.ProjectID != inv.projectID {
				gap(snapshot.Gap{Source: snapshot.SourceNetworkPorts, Kind: snapshot.GapForbidden, Subject: n.ID,
					Reason: "DHCP and router ports of network " + coalesce(n.Name, n.ID) + ", owned by another project, are hidden"})
			}
		} else if c.Gap(snapshot.SourceNetworks) == nil {
			gap(snapshot.Gap{Source: snapshot.SourceNetworks, Kind: snapshot.GapForbidden, Subject: id,
				Reason: fmt.Sprintf("network %s of the server's port is not visible to this project", id)})
		}
		for _, si := range inv.subnets[id] {
			s.Subnets = append(s.Subnets, c.Subnets[si])
		}
		for _, pi := range inv.netPorts[id] {
			p := c.Ports[pi]
			s.NetworkPorts = append(s.NetworkPorts, p)
			if slices.Contains(snapshot.RouterInterfaceOwners, p.DeviceOwner) {
				routerIDs = uniq(routerIDs, p.DeviceID)
			}
		}
		if c.DHCPAgents != nil {
			if s.DHCPAgents == nil {
				s.DHCPAgents = map[string][]string{}
			}
			s.DHCPAgents[id] = append([]string{}, c.DHCPAgents[id]...)
		} else if c.Gap(snapshot.SourceDHCPAgents) == nil {
			gap(snapshot.Gap{Source: snapshot.SourceDHCPAgents, Kind: snapshot.GapForbidden, Subject: id,
				Reason: "the DHCP agents hosting the network are hidden"})
		}
		if ai, ok := inv.availByNetwork[id]; ok {
			s.IPAvailability = append(s.IPAvailability, c.IPAvailability[ai])
		}
	}
	for _, id := range routerIDs {
		if ri, ok := inv.routers[id]; ok {
			s.Routers = append(s.Routers, c.Routers[ri])
		} else if c.Gap(snapshot.SourceRouters) == nil {
			gap(snapshot.Gap{Source: snapshot.SourceRouters, Kind: snapshot.GapForbidden, Subject: id,
				Reason: fmt.Sprintf("router %s, attached to the server's network, is not visible to this project", id)})
		}
		switch {
		case inv.haRouters[id]:
			// The agents' router lists carry no HA state; without it an HA
			// router would look as if no agent were active.
			gap(snapshot.Gap{Source: snapshot.SourceL3Agents, Kind: snapshot.GapError, Subject: id,
				Reason: "not read by the audit: the HA state of router " + id + "'s agents (a request per router): hoofbeat diagnose reads it"})
		case c.L3Agents != nil:
			if s.L3Agents == nil {
				s.L3Agents = map[string][]snapshot.L3Hosting{}
			}
			s.L3Agents[id] = append([]snapshot.L3Hosting{}, c.L3Agents[id]...)
		case c.Gap(snapshot.SourceL3Agents) == nil:
			gap(snapshot.Gap{Source: snapshot.SourceL3Agents, Kind: snapshot.GapForbidden, Subject: id,
				Reason: "the L3 agents hosting the router are hidden"})
		}
	}
	return s
}
