package openstack

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// The walk is a table: each round is a list of fetches, {source, request,
// apply}, whose requests run in parallel; once all are in, each fetch's
// answer is applied to the snapshot, in the list's order, or its failure
// becomes a gap of its source. One function per source builds its fetch.

// fetch is one entry of a round.
type fetch struct {
	// source is what the request reads, and what its failure is a gap of.
	source source
	// request asks the cloud and keeps the answer for apply. A fetch
	// without one asks nothing: its apply records why (hidden).
	request func(ctx context.Context) error
	// apply puts the answer into the snapshot. A fetch without one is a
	// lookup whose caller reads err; it is never settled.
	apply func()
	// failed, when set, records a failure instead of the plain gap.
	failed func(err error)

	err error
}

// source says what a request reads, for the gap its failure leaves.
type source struct {
	name    string // snapshot.Source*
	subject string // the ID it is about; "" for a filtered list
	hidden  string // what a 403 hides
	list    bool   // a collection URL, whose 404 means the API is not deployed
}

// ok reports, after its round, whether the fetch was made and answered.
func (f *fetch) ok() bool { return f != nil && f.request != nil && f.err == nil }

// get makes a fetch whose request returns a T and whose apply is keep.
func get[T any](src source, request func(context.Context) (T, error), keep func(T)) *fetch {
	var v T
	return &fetch{
		source:  src,
		request: func(ctx context.Context) (err error) { v, err = request(ctx); return err },
		apply:   func() { keep(v) },
	}
}

// lookup is a fetch whose answer the caller takes itself (the server).
func lookup(request func(context.Context) error) *fetch { return &fetch{request: request} }

// list is the request for a Neutron collection filtered by q.
func list[T any](c *Client, path string, q url.Values, key string) func(context.Context) ([]T, error) {
	u := c.networkURL(path, q)
	return func(ctx context.Context) ([]T, error) { return listAll[T](ctx, c.network, u, key) }
}

// hidden is a fetch not made, as a non-admin cannot make it: a gap.
func (k *collection) hidden(src source) *fetch {
	return &fetch{source: src, apply: func() {
		k.addGap(snapshot.Gap{Source: src.name, Kind: snapshot.GapForbidden, Subject: src.subject, Reason: src.hidden})
	}}
}

// round runs the fetches' requests in parallel and waits for all of them:
// one round trip. Nil fetches are left out.
func (k *collection) round(ctx context.Context, fs ...*fetch) {
	var wg sync.WaitGroup
	asked := false
	for _, f := range fs {
		if f != nil && f.request != nil {
			asked = true
			wg.Go(func() { f.err = f.request(ctx) })
		}
	}
	wg.Wait()
	if asked {
		k.rounds++
		if k.o.Progress != nil {
			k.o.Progress(k.rounds, max(k.plan, k.rounds), RoundsDone)
		}
	}
}

// settle applies each fetch's answer, in order, or records its failure.
func (k *collection) settle(fs ...*fetch) {
	for _, f := range fs {
		switch {
		case f == nil:
		case f.err == nil:
			f.apply()
		case f.failed != nil:
			f.failed(f.err)
		default:
			k.gap(f.source, f.err)
		}
	}
}

func (k *collection) gap(s source, err error) { k.fail(s.name, s.subject, s.hidden, s.list, err) }

// run is the walk: the server (and, when the query looks like an ID, its
// ports, its console log and the agents in the same round; if no server
// has the ID, the port that has it); for an address or a MAC, the ports and floating IPs it names
// with the agents, then the server of the port found; else a search by
// name, with the agents; then the ports and the console log if they were
// not asked for yet; then the neighbourhood. A port without a server is
// diagnosed alone.
func (k *collection) run(ctx context.Context, query string) error {
	lines := k.o.consoleLines()
	agents := k.agents()
	// pending is the agents' fetch until a round has carried it.
	pending := agents
	var srv *novaServer
	var ports, console *fetch
	kind, value := kindOf(query)
	byID := kind == queryID
	// By ID: the server with its ports, the neighbourhood, the routers.
	// By name, address or MAC: the search, then the server and its ports,
	// then the same two.
	k.plan = 3
	if !byID {
		k.plan = 4
	}
	if k.o.Progress != nil {
		k.o.Progress(0, k.plan, RoundsDone)
	}
	var res *found
	serverID := ""
	if kind == queryAddress || kind == queryMAC {
		l := k.lookupAddress(kind, value)
		k.round(ctx, append(l.fetches(), pending)...)
		pending = nil
		var err error
		if res, err = k.resolve(ctx, l); err != nil {
			return err
		}
		if res != nil {
			serverID = res.serverID
		}
	}
	if byID {
		serverID = query
	}
	if res != nil && serverID == "" && res.port != nil {
		k.snap.Target = &res.target
		k.plan--
		k.portOnly(ctx, res.port, agents)
		return nil
	}
	triedPort := false
	for serverID != "" {
		server := lookup(func(ctx context.Context) (err error) { srv, err = k.serverByID(ctx, serverID); return err })
		ports, console = k.ports(serverID), k.console(serverID, lines)
		k.round(ctx, server, ports, console, pending)
		pending = nil
		if err := server.err; err != nil && classify(err) != KindNotFound {
			return newError(fmt.Sprintf("get server %s", serverID), classify(err), describe(err))
		}
		if server.err == nil && srv.ID == serverID {
			if res != nil {
				k.snap.Target = &res.target
			}
			break
		}
		// The ports and the console were asked for with the query, not
		// the server's ID.
		srv, ports, console = nil, nil, nil
		serverID = ""
		if res != nil && res.port != nil {
			// The port's server is not visible: the port is what there is.
			k.snap.Target = &res.target
			k.portOnly(ctx, res.port, agents)
			return nil
		}
		if !byID || triedPort {
			break
		}
		// No server has that ID: a port may. Asked only now, so that a
		// diagnosis by server ID costs no request more; a port ID costs
		// one round more.
		triedPort = true
		byPort := k.lookupPortID(query)
		k.plan++
		k.round(ctx, byPort.fetches()...)
		r, err := k.resolve(ctx, byPort)
		if err != nil {
			return err
		}
		if r == nil {
			break
		}
		res, serverID = r, r.serverID
		if serverID == "" {
			k.snap.Target = &res.target
			k.portOnly(ctx, res.port, agents)
			return nil
		}
		k.plan++ // the port's server
	}
	if srv == nil {
		search := lookup(func(ctx context.Context) (err error) { srv, err = k.serverByName(ctx, query); return err })
		if pending == nil {
			k.plan++ // an ID-, address- or MAC-shaped name, or no such thing
		}
		k.round(ctx, search, pending)
		pending = nil
		if search.err == nil && srv == nil {
			srv, search.err = k.serverByNameAllProjects(ctx, query, notFound(kind, query))
		}
		if search.err != nil {
			return search.err
		}
	}
	k.snap.Server = srv.toSnapshot()
	if srv.hostHidden() {
		k.addGap(snapshot.Gap{Source: snapshot.SourceServerHost, Kind: snapshot.GapForbidden, Subject: srv.ID,
			Reason: "the server's host is hidden"})
	}
	if ports == nil {
		if byID {
			k.plan++
		}
		// The console log rides along with the ports: one more request, no
		// more round trips.
		ports, console = k.ports(srv.ID), k.console(srv.ID, lines)
		k.round(ctx, ports, console)
	}
	if lines == 0 {
		k.skip("--console-lines is 0", snapshot.SourceConsoleLog)
	}
	k.settle(console, agents, ports)
	if len(k.snap.Ports) == 0 {
		return nil // none, or they could not be listed
	}
	k.neighbourhood(ctx)
	return nil
}

// neighbourhood reads everything around the server's ports (one round),
// then the routers and the remote groups (routersAndGroups).
func (k *collection) neighbourhood(ctx context.Context) {
	var netIDs, sgIDs, portIDs, availNets []string
	for _, p := range k.snap.Ports {
		netIDs = uniq(netIDs, p.NetworkID)
		sgIDs = uniq(sgIDs, p.SecurityGroups...)
		portIDs = uniq(portIDs, p.ID)
		if len(p.FixedIPs) == 0 {
			availNets = uniq(availNets, p.NetworkID)
		}
	}
	groups, netPorts := k.securityGroups(sgIDs), k.networkPorts(netIDs)
	// The networks are applied before their ports, which a non-admin may
	// not see on another project's network.
	fs := slices.Concat(
		[]*fetch{groups, k.subnets(netIDs), k.networks(netIDs), netPorts, k.floatingIPs(portIDs), k.externalNetworks()},
		k.dhcpAgents(netIDs),
		k.ipAvailability(availNets),
	)
	k.round(ctx, fs...)
	k.settle(fs...)
	k.routersAndGroups(ctx, netPorts.ok(), groups.ok())
}

// routersAndGroups is the last round: the routers behind the router
// interface ports and the floating IPs, their L3 agents, and the remote
// groups' members.
func (k *collection) routersAndGroups(ctx context.Context, haveNetPorts, haveGroups bool) {
	var routerIDs []string
	for _, p := range k.snap.NetworkPorts {
		if slices.Contains(snapshot.RouterInterfaceOwners, p.DeviceOwner) {
			routerIDs = uniq(routerIDs, p.DeviceID)
		}
	}
	for _, f := range k.snap.FloatingIPs {
		routerIDs = uniq(routerIDs, f.RouterID)
	}
	var remote []string
	if k.o.RemoteGroups && haveGroups {
		for _, g := range k.snap.SecurityGroups {
			for _, r := range g.Rules {
				remote = uniq(remote, r.RemoteGroupID)
			}
		}
	}
	fs := slices.Concat([]*fetch{k.routers(routerIDs)}, k.l3Agents(routerIDs), []*fetch{k.remoteGroupMembers(remote)})
	k.round(ctx, fs...)

	if !haveNetPorts {
		k.skip("the router interface ports could not be listed", snapshot.SourceRouters, snapshot.SourceL3Agents)
	}
	if k.o.RemoteGroups && !haveGroups && len(k.snap.Ports) > 0 {
		k.skip("the security groups could not be read", snapshot.SourceRemoteGroups)
	}
	k.settle(fs...)
}

// unseen records as hidden each of the IDs a listing was filtered by that
// it did not show: Neutron leaves out what the project may not see.
func unseen[T any](k *collection, source string, ids []string, find func(id string) *T, format string) {
	for _, id := range ids {
		if find(id) == nil {
			k.addGap(snapshot.Gap{Source: source, Kind: snapshot.GapForbidden, Subject: id, Reason: fmt.Sprintf(format, id)})
		}
	}
}

// agents lists every agent: the hosting lists name agents by ID only.
func (k *collection) agents() *fetch {
	src := source{name: snapshot.SourceAgents, hidden: "agents are hidden", list: true}
	f := get(src, list[neutronAgent](k.c, "agents", nil, "agents"), func(agents []neutronAgent) {
		if len(agents) == 0 && !k.c.cloud.Admin {
			// Neutron filters a list by policy instead of refusing it: a
			// non-admin sees no agents rather than a 403.
			k.addGap(snapshot.Gap{Source: snapshot.SourceAgents, Kind: snapshot.GapForbidden, Reason: "agents are hidden"})
			k.agentsForbidden = true
			return
		}
		k.snap.Agents = appendSnapshots([]snapshot.Agent{}, agents)
	})
	f.failed = func(err error) {
		k.gap(src, err)
		// After a 401 the hosting agents are still asked for: they fail
		// as what they are, not as "needs admin".
		if ae, ok := asAPIError(err); ok && ae.Status == http.StatusForbidden {
			k.agentsForbidden = true
		}
	}
	return f
}

// ports lists the server's ports; without them there is nothing around
// the server to read.
func (k *collection) ports(serverID string) *fetch {
	src := source{name: snapshot.SourcePorts, subject: serverID, hidden: "the server's ports are hidden", list: true}
	f := get(src, list[neutronPort](k.c, "ports", url.Values{"device_id": {serverID}}, "ports"), func(ports []neutronPort) {
		k.snap.Ports = appendSnapshots(k.snap.Ports, ports)
	})
	f.failed = func(err error) {
		k.gap(src, err)
		k.skip("the server's ports could not be listed",
			snapshot.SourceSecurityGroups, snapshot.SourceSubnets, snapshot.SourceNetworks,
			snapshot.SourceNetworkPorts, snapshot.SourceFloatingIPs, snapshot.SourceDHCPAgents,
			snapshot.SourceRouters, snapshot.SourceL3Agents)
	}
	return f
}

// console reads the tail of the guest's console log; nil when no line is
// asked for.
func (k *collection) console(serverID string, lines int) *fetch {
	if lines == 0 {
		return nil
	}
	f := get(source{name: snapshot.SourceConsoleLog, subject: serverID},
		func(ctx context.Context) (string, error) { return k.consoleOutput(ctx, serverID, lines) },
		func(out string) { k.snap.ConsoleLog = snapshot.NewConsoleLog(out, lines) })
	f.failed = func(err error) { k.consoleGap(serverID, err) }
	return f
}

// securityGroups reads the ports' security groups; nil when they have none.
func (k *collection) securityGroups(ids []string) *fetch {
	if len(ids) == 0 {
		return nil
	}
	src := source{name: snapshot.SourceSecurityGroups, hidden: "the port's security groups are hidden", list: true}
	return get(src, list[neutronSecurityGroup](k.c, "security-groups", url.Values{"id": ids}, "security_groups"), func(sgs []neutronSecurityGroup) {
		k.snap.SecurityGroups = appendSnapshots(k.snap.SecurityGroups, sgs)
		unseen(k, snapshot.SourceSecurityGroups, ids, k.snap.SecurityGroup, "security group %s of the server's port is not visible to this project")
	})
}

func (k *collection) subnets(netIDs []string) *fetch {
	src := source{name: snapshot.SourceSubnets, hidden: "the subnets are hidden", list: true}
	return get(src, list[neutronSubnet](k.c, "subnets", url.Values{"network_id": netIDs}, "subnets"), func(subnets []neutronSubnet) {
		k.snap.Subnets = appendSnapshots(k.snap.Subnets, subnets)
	})
}

// networks reads the ports' networks, and whether their provider
// attributes were shown.
func (k *collection) networks(ids []string) *fetch {
	src := source{name: snapshot.SourceNetworks, hidden: "the networks are hidden", list: true}
	f := get(src, list[neutronNetwork](k.c, "networks", url.Values{"id": ids}, "networks"), func(networks []neutronNetwork) {
		for i := range networks {
			n := networks[i].toSnapshot()
			k.snap.Networks = append(k.snap.Networks, n)
			if n.Provider == nil {
				g := snapshot.Gap{Source: snapshot.SourceProviderFields, Kind: snapshot.GapForbidden, Subject: n.ID,
					Reason: "provider attributes of network " + coalesce(n.Name, n.ID) + " are hidden"}
				if k.c.cloud.Admin {
					g.Kind = snapshot.GapUnsupported
					g.Reason = "network " + coalesce(n.Name, n.ID) + " has no provider attributes (provider extension absent)"
				}
				k.addGap(g)
			}
		}
		unseen(k, snapshot.SourceNetworks, ids, k.snap.Network, "network %s of the server's port is not visible to this project")
	})
	f.failed = func(err error) {
		k.gap(src, err)
		k.skip("the networks could not be listed", snapshot.SourceProviderFields)
	}
	return f
}

// networkPorts reads the DHCP and router ports on the networks.
func (k *collection) networkPorts(netIDs []string) *fetch {
	src := source{name: snapshot.SourceNetworkPorts, hidden: "the DHCP and router ports are hidden", list: true}
	q := url.Values{"network_id": netIDs, "device_owner": networkPortOwners}
	return get(src, list[neutronPort](k.c, "ports", q, "ports"), func(ports []neutronPort) {
		k.snap.NetworkPorts = appendSnapshots([]snapshot.Port{}, ports)
		if k.c.cloud.Admin || k.c.projectID == "" {
			return
		}
		// Neutron shows a non-admin only the ports of its own project and
		// of the networks it owns: on another project's network, the DHCP
		// and router ports may exist unseen.
		for _, n := range k.snap.Networks {
			if n.ProjectID != "" && n.ProjectID != k.c.projectID {
				k.addGap(snapshot.Gap{Source: snapshot.SourceNetworkPorts, Kind: snapshot.GapForbidden, Subject: n.ID,
					Reason: "DHCP and router ports of network " + coalesce(n.Name, n.ID) + ", owned by another project, are hidden"})
			}
		}
	})
}

func (k *collection) floatingIPs(portIDs []string) *fetch {
	src := source{name: snapshot.SourceFloatingIPs, hidden: "the floating IPs are hidden", list: true}
	return get(src, list[neutronFloatingIP](k.c, "floatingips", url.Values{"port_id": portIDs}, "floatingips"), func(fips []neutronFloatingIP) {
		k.snap.FloatingIPs = appendSnapshots(k.snap.FloatingIPs, fips)
	})
}

// dhcpAgents reads the DHCP agents hosting each network: one request per
// network, which a non-admin cannot make.
func (k *collection) dhcpAgents(netIDs []string) []*fetch {
	var fs []*fetch
	for _, id := range netIDs {
		src := source{name: snapshot.SourceDHCPAgents, subject: id, hidden: "the DHCP agents hosting the network are hidden"}
		if k.agentsForbidden {
			fs = append(fs, k.hidden(src))
			continue
		}
		fs = append(fs, get(src, list[neutronAgent](k.c, "networks/"+url.PathEscape(id)+"/dhcp-agents", nil, "agents"), func(agents []neutronAgent) {
			if k.snap.DHCPAgents == nil {
				k.snap.DHCPAgents = map[string][]string{}
			}
			ids := []string{}
			for _, a := range agents {
				ids = append(ids, a.ID)
				k.addAgent(a)
			}
			k.snap.DHCPAgents[id] = ids
		}))
	}
	return fs
}

// ipAvailability reads the address availability of the networks where a
// port got no address.
func (k *collection) ipAvailability(netIDs []string) []*fetch {
	var fs []*fetch
	for _, id := range netIDs {
		src := source{name: snapshot.SourceIPAvailability, subject: id, hidden: "IP availability is hidden"}
		u := k.c.networkURL("network-ip-availabilities/"+url.PathEscape(id), nil)
		fs = append(fs, get(src, func(ctx context.Context) (neutronIPAvailability, error) {
			return getOne[neutronIPAvailability](ctx, k.c.network, u, "network_ip_availability")
		}, func(v neutronIPAvailability) {
			a := v.toSnapshot()
			a.NetworkID = coalesce(a.NetworkID, id)
			k.snap.IPAvailability = append(k.snap.IPAvailability, a)
		}))
	}
	return fs
}

// addAgent keeps an agent seen in a hosting list that the agent list did
// not show (it cannot normally happen, but the snapshot should be whole).
func (k *collection) addAgent(a neutronAgent) {
	if k.snap.Agents == nil || k.snap.Agent(a.ID) != nil {
		return
	}
	k.snap.Agents = append(k.snap.Agents, a.toSnapshot())
}

// routers reads the routers; nil when there are none to read.
func (k *collection) routers(ids []string) *fetch {
	if len(ids) == 0 {
		return nil
	}
	src := source{name: snapshot.SourceRouters, hidden: "the routers are hidden", list: true}
	return get(src, list[neutronRouter](k.c, "routers", url.Values{"id": ids}, "routers"), func(routers []neutronRouter) {
		k.snap.Routers = appendSnapshots(k.snap.Routers, routers)
		unseen(k, snapshot.SourceRouters, ids, k.snap.Router, "router %s, attached to the server's network, is not visible to this project")
	})
}

// l3Agents reads the L3 agents hosting each router, with their HA state:
// one request per router, which a non-admin cannot make.
func (k *collection) l3Agents(routerIDs []string) []*fetch {
	var fs []*fetch
	for _, id := range routerIDs {
		src := source{name: snapshot.SourceL3Agents, subject: id, hidden: "the L3 agents hosting the router are hidden"}
		if k.agentsForbidden {
			fs = append(fs, k.hidden(src))
			continue
		}
		fs = append(fs, get(src, list[neutronAgent](k.c, "routers/"+url.PathEscape(id)+"/l3-agents", nil, "agents"), func(agents []neutronAgent) {
			if k.snap.L3Agents == nil {
				k.snap.L3Agents = map[string][]snapshot.L3Hosting{}
			}
			hosting := []snapshot.L3Hosting{}
			for _, a := range agents {
				hosting = append(hosting, snapshot.L3Hosting{AgentID: a.ID, HAState: deref(a.HAState)})
				k.addAgent(a)
			}
			k.snap.L3Agents[id] = hosting
		}))
	}
	return fs
}

// remoteGroupMembers reads the addresses of the ports in the groups that
// rules name as remote; nil when no rule does.
func (k *collection) remoteGroupMembers(groups []string) *fetch {
	if len(groups) == 0 {
		return nil
	}
	src := source{name: snapshot.SourceRemoteGroups, hidden: "the remote groups' ports are hidden", list: true}
	q := url.Values{"security_groups": groups, "fields": {"fixed_ips", "security_groups"}}
	return get(src, list[neutronPort](k.c, "ports", q, "ports"), func(ports []neutronPort) {
		members := map[string][]string{}
		for _, g := range groups {
			members[g] = []string{}
		}
		for _, p := range ports {
			for _, g := range p.SecurityGroups {
				if _, ok := members[g]; !ok {
					continue
				}
				for _, ip := range p.FixedIPs {
					members[g] = uniq(members[g], ip.IPAddress)
				}
			}
		}
		for g := range members {
			slices.Sort(members[g])
		}
		k.snap.RemoteGroupMembers = members
	})
}

// externalNetworks lists the cloud's external networks, ID and name: a
// router's gateway is on one, which the gateway hop names. Asked in the
// neighbourhood's round, before the routers are known: one request more,
// no round trip more; a cloud has few external networks.
func (k *collection) externalNetworks() *fetch {
	src := source{name: snapshot.SourceExternalNetworks, hidden: "the external networks are hidden", list: true}
	q := url.Values{"router:external": {"True"}, "fields": {"id", "name"}}
	return get(src, list[neutronNetwork](k.c, "networks", q, "networks"), func(networks []neutronNetwork) {
		for i := range networks {
			k.snap.ExternalNetworks = append(k.snap.ExternalNetworks, snapshot.Network{ID: networks[i].ID, Name: networks[i].Name, External: true})
		}
	})
}
