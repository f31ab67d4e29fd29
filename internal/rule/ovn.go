package rule

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/shell"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// The OVN rules read what the checked hosts say of ML2/OVN: each chassis'
// Open vSwitch external_ids and ovn-controller's connection, and on the
// database host the Northbound and Southbound rows of the server's objects
// (host.OVNQuery names them as Neutron does).

// onlyOnOVN makes the OVN rules not applicable where the cloud does not run
// ML2/OVN.
func onlyOnOVN(s *snapshot.Snapshot) string {
	if IsOVN(s) {
		return ""
	}
	return "the cloud does not run ML2/OVN: no OVN agent is registered and no checked host runs an OVN chassis or database"
}

// ovnDB is the databases as read on their host.
type ovnDB struct {
	host string
	nb   *snapshot.OVNNorthbound
	sb   *snapshot.OVNSouthbound
}

// ovnDatabases returns the databases read on the checked hosts, recording
// why they could not be (never found, or failed on their host) as not
// checked; nil then.
func ovnDatabases(in *Input) *ovnDB {
	db, why := locateOVN(in.Snapshot)
	if db == nil {
		in.uncheck("%s", why)
	}
	return db
}

// locateOVN finds the checked host whose OVN databases were read, or says
// why there is none.
func locateOVN(s *snapshot.Snapshot) (*ovnDB, string) {
	var names []string
	for i := range s.Hosts {
		h := &s.Hosts[i]
		switch {
		case h.Unreachable != "":
			names = append(names, h.Name+": unreachable")
		case h.OVN == nil:
			names = append(names, h.Name+": OVN not read")
		case h.OVN.NoDatabase != "":
			names = append(names, h.Name+": "+h.OVN.NoDatabase)
		default:
			names = append(names, h.Name)
		}
		if h.Unreachable != "" || h.OVN == nil {
			continue
		}
		if h.OVN.NBError != "" {
			return nil, fmt.Sprintf("host %s: could not read the OVN Northbound database: %s", h.Name, h.OVN.NBError)
		}
		if h.OVN.NB == nil {
			continue
		}
		if h.OVN.SB == nil {
			return nil, fmt.Sprintf("host %s: could not read the OVN Southbound database: %s", h.Name, or(h.OVN.SBError, "not read"))
		}
		return &ovnDB{host: h.Name, nb: h.OVN.NB, sb: h.OVN.SB}, ""
	}
	return nil, fmt.Sprintf("the OVN databases were not found on the hosts checked (%s): hoofbeat reads them where their sockets (/run/ovn/ovnnb_db.sock, ovnsb_db.sock) are", strings.Join(names, "; "))
}

// ovnChassisHost returns the server's host as checked, with its OVN
// chassis side, or nil (recorded as not checked).
func ovnChassisHost(in *Input) *snapshot.Host {
	s := in.Snapshot
	if s.Server.Host == "" {
		in.uncheck("the server's host is hidden: cannot tell its OVN chassis")
		return nil
	}
	h := reachedNamed(in, s.Server.Host)
	if h == nil {
		if hostNamed(s, s.Server.Host) == nil {
			in.uncheck("host %s was not checked", s.Server.Host)
		}
		return nil
	}
	if h.OVN == nil {
		in.uncheck("host %s: OVN was not read", h.Name)
		return nil
	}
	return h
}

// ovnCheck is a Check that reads the OVN databases: without them it finds
// nothing, ovnDatabases having said why.
func ovnCheck(check func(in *Input, db *ovnDB) []Finding) func(*Input) []Finding {
	return func(in *Input) []Finding {
		db := ovnDatabases(in)
		if db == nil {
			return nil
		}
		return check(in, db)
	}
}

// first returns the first row that match accepts, or nil.
func first[T any](rows []T, match func(*T) bool) *T {
	for i := range rows {
		if match(&rows[i]) {
			return &rows[i]
		}
	}
	return nil
}

func (db *ovnDB) lsp(name string) *snapshot.OVNSwitchPort {
	return first(db.nb.SwitchPorts, func(p *snapshot.OVNSwitchPort) bool { return p.Name == name })
}

func (db *ovnDB) chassisByUUID(u string) *snapshot.OVNChassis {
	return first(db.sb.Chassis, func(c *snapshot.OVNChassis) bool { return c.UUID == u })
}

func (db *ovnDB) chassisByName(n string) *snapshot.OVNChassis {
	return first(db.sb.Chassis, func(c *snapshot.OVNChassis) bool { return c.Name == n })
}

func (db *ovnDB) chassisOfHost(host string) *snapshot.OVNChassis {
	return first(db.sb.Chassis, func(c *snapshot.OVNChassis) bool { return c.Hostname == host })
}

func (db *ovnDB) binding(logicalPort string) *snapshot.OVNPortBinding {
	return first(db.sb.PortBindings, func(b *snapshot.OVNPortBinding) bool { return b.LogicalPort == logicalPort })
}

func (db *ovnDB) router(id string) *snapshot.OVNRouter {
	return first(db.nb.Routers, func(r *snapshot.OVNRouter) bool { return r.Name == "neutron-"+id })
}

func (db *ovnDB) routerPort(uuid string) *snapshot.OVNRouterPort {
	return first(db.nb.RouterPorts, func(p *snapshot.OVNRouterPort) bool { return p.UUID == uuid })
}

// dbSyncFix is Neutron's own repair of NB from its database: the read-only
// log mode first, which lists what it would change.
func dbSyncFix(host string) []shell.Cmd {
	conf := []string{"--config-file", "/etc/neutron/neutron.conf", "--config-file", "/etc/neutron/plugins/ml2/ml2_conf.ini"}
	return cmds(
		onHost(cmd(append(append([]string{"neutron-ovn-db-sync-util"}, conf...), "--ovn-neutron_sync_mode", "log")...), host).Comment("read-only: lists what differs"),
		onHost(cmd(append(append([]string{"neutron-ovn-db-sync-util"}, conf...), "--ovn-neutron_sync_mode", "repair")...), host),
	)
}

// neutronHost is where neutron-server runs, for the fixes: the database
// host when known.
func neutronHost(db *ovnDB) string {
	if db != nil {
		return db.host
	}
	return "the neutron-server host"
}

var ovnChassisDown = &Rule{
	Name:     "ovn/chassis-down",
	Severity: Error,
	Title:    "The server's OVN chassis is not registered or its ovn-controller is not connected",
	Doc: `Under ML2/OVN, ovn-controller on each hypervisor (the chassis) registers
itself in the Southbound database and programs Open vSwitch from the logical
flows. If it is stopped, or cannot reach the Southbound database, nothing on
that host is wired any more: new ports stay down and changes never arrive.

hoofbeat asks ovn-controller on the server's host for its connection-status
(ovn-appctl -t ovn-controller connection-status: "connected" is healthy; no
answer means the controller is not running) and looks for the host's Chassis
row in the Southbound database when that was read. When the host could not
be checked, the OVN Controller agent's liveness in the API stands in.`,
	Fix:           "Start ovn-controller on the host (systemctl restart ovn-controller) and check ovn-remote in Open vSwitch's external_ids reaches the Southbound database.",
	Needs:         []string{snapshot.SourcePorts},
	Hop:           HopHosts,
	NotApplicable: onlyOnOVN,
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		host := s.Server.Host
		if host == "" {
			in.uncheck("the server's host is hidden: cannot tell its OVN chassis")
			return nil
		}
		f := Finding{
			Subject: Subject{Kind: "host", Name: host},
			Remediation: cmds(
				onHost(cmd("systemctl", "restart", "ovn-controller"), host),
				onHost(cmd("ovs-vsctl", "get", "open", ".", "external_ids:ovn-remote"), host).Comment("must reach the Southbound database"),
			),
			Verify: cmds(
				onHost(cmd("ovn-appctl", "-t", "ovn-controller", "connection-status"), host).Comment("says connected"),
				cmd("openstack", "network", "agent", "list", "--host", host),
			),
		}
		h := hostNamed(s, host)
		if h != nil && h.Unreachable == "" && h.OVN != nil {
			o := h.OVN
			switch {
			case o.ExternalIDsError != "":
				in.uncheck("host %s: could not read Open vSwitch's external_ids: %s", host, o.ExternalIDsError)
			case !o.Chassis():
				f.Summary = fmt.Sprintf("host %s, where server %s runs, is no OVN chassis: Open vSwitch has no external_ids:ovn-remote, so ovn-controller does not know the Southbound database", host, s.Server.Name)
				f.Evidence = append(f.Evidence, "Open vSwitch external_ids: no ovn-remote")
			case o.ConnectionError != "":
				f.Summary = fmt.Sprintf("ovn-controller on host %s, where server %s runs, does not answer: it is not running, so nothing on the host is wired", host, s.Server.Name)
				f.Evidence = append(f.Evidence, "ovn-appctl -t ovn-controller connection-status: "+o.ConnectionError)
			case o.Connection != "connected":
				f.Summary = fmt.Sprintf("ovn-controller on host %s, where server %s runs, is not connected to the Southbound database (%s)", host, s.Server.Name, o.Connection)
				f.Evidence = append(f.Evidence, "connection-status: "+o.Connection, "ovn-remote: "+o.ExternalIDs["ovn-remote"])
			}
		}
		if db := ovnDBQuiet(s); db != nil && f.Summary == "" {
			if db.chassisOfHost(host) == nil {
				f.Summary = fmt.Sprintf("host %s, where server %s runs, has no Chassis in the OVN Southbound database: its ovn-controller never registered", host, s.Server.Name)
				f.Evidence = append(f.Evidence, fmt.Sprintf("Southbound Chassis with hostname %s: none (read on %s)", host, db.host))
			}
		}
		if f.Summary == "" && (h == nil || h.Unreachable != "" || h.OVN == nil) {
			for _, a := range agentsOn(s, host, agentTypeOVNController, agentTypeOVNGateway) {
				if !a.Alive {
					f.Subject = agentSubject(a)
					f.Summary = fmt.Sprintf("the %s on host %s, where server %s runs, is dead (the host itself was not checked)", a.AgentType, host, s.Server.Name)
					f.Evidence = append(f.Evidence, fmt.Sprintf("%s: %s", agentLabel(a), agentState(a)))
				}
			}
			if f.Summary == "" && (h == nil || h.OVN == nil) && len(agentsOn(s, host, agentTypeOVNController, agentTypeOVNGateway)) > 0 {
				in.uncheck("host %s: ovn-controller was not asked (check it with --hosts)", host)
			}
		}
		if f.Summary == "" {
			return nil
		}
		for _, a := range agentsOn(s, host, agentTypeOVNController, agentTypeOVNGateway) {
			if f.Subject.Kind == "host" {
				f.Evidence = append(f.Evidence, fmt.Sprintf("%s: %s", agentLabel(a), agentState(a)))
			}
		}
		return []Finding{f}
	},
}

// ovnDBQuiet is the databases when read, without noting why not: for rules
// to which they only add evidence.
func ovnDBQuiet(s *snapshot.Snapshot) *ovnDB {
	for _, h := range s.Hosts {
		if h.Unreachable == "" && h.OVN != nil && h.OVN.NB != nil && h.OVN.SB != nil {
			return &ovnDB{host: h.Name, nb: h.OVN.NB, sb: h.OVN.SB}
		}
	}
	return nil
}

var ovnNBCfgLag = &Rule{
	Name:     "ovn/nb-cfg-lag",
	Severity: Error,
	Title:    "OVN's Southbound or the server's chassis lags behind the Northbound database",
	Doc: `Neutron bumps NB_Global's nb_cfg with its changes; ovn-northd copies it into
SB_Global's nb_cfg once it has translated them into logical flows, and each
ovn-controller into its Chassis_Private row once it has programmed them.
When SB_Global lags, ovn-northd is stuck or stopped: no change made since
(a new port, a security-group rule, a router) reached any host. When only
the server's chassis lags, its ovn-controller is stuck.

hoofbeat compares the three numbers as read on the database host in one
transaction each; a change made in that very instant can show a lag of one
that resolves by itself: run it again before acting on a lag of one alone.`,
	Fix:           "Restart ovn-northd on the database host (northd lags), or ovn-controller on the chassis that lags.",
	Needs:         []string{snapshot.SourcePorts},
	Hop:           HopHosts,
	NotApplicable: onlyOnOVN,
	Causes:        []*Rule{ovnChassisDown},
	Check: ovnCheck(func(in *Input, db *ovnDB) []Finding {
		s := in.Snapshot
		nbCfg := db.nb.NBCfg
		if db.sb.NBCfg < nbCfg {
			return []Finding{{
				Subject: Subject{Kind: "host", Name: db.host},
				Summary: fmt.Sprintf("ovn-northd is behind: the Southbound database is at nb_cfg %d, the Northbound at %d, so Neutron's latest changes reach no host", db.sb.NBCfg, nbCfg),
				Evidence: []string{
					fmt.Sprintf("NB_Global nb_cfg: %d, sb_cfg: %d, hv_cfg: %d", nbCfg, db.nb.SBCfg, db.nb.HVCfg),
					fmt.Sprintf("SB_Global nb_cfg: %d", db.sb.NBCfg),
				},
				Remediation: cmds(onHost(cmd("systemctl", "restart", "ovn-northd"), db.host)),
				Verify: cmds(
					onHost(cmd("ovn-nbctl", "get", "NB_Global", ".", "nb_cfg"), db.host),
					onHost(cmd("ovn-sbctl", "get", "SB_Global", ".", "nb_cfg"), db.host).Comment("the same number"),
				),
			}}
		}
		if s.Server.Host == "" {
			return nil
		}
		ch := db.chassisOfHost(s.Server.Host)
		if ch == nil {
			return nil // ovn/chassis-down's business
		}
		for _, p := range db.sb.ChassisPrivate {
			if p.Name != ch.Name || p.NBCfg >= nbCfg {
				continue
			}
			return []Finding{{
				Subject: Subject{Kind: "host", Name: s.Server.Host},
				Summary: fmt.Sprintf("ovn-controller on host %s, where server %s runs, is behind: its chassis is at nb_cfg %d, the Northbound database at %d", s.Server.Host, s.Server.Name, p.NBCfg, nbCfg),
				Evidence: []string{
					fmt.Sprintf("NB_Global nb_cfg: %d; SB_Global nb_cfg: %d", nbCfg, db.sb.NBCfg),
					fmt.Sprintf("Chassis_Private %s nb_cfg: %d", p.Name, p.NBCfg),
				},
				Remediation: cmds(onHost(cmd("systemctl", "restart", "ovn-controller"), s.Server.Host)),
				Verify:      cmds(onHost(cmd("ovn-sbctl", "get", "Chassis_Private", p.Name, "nb_cfg"), db.host)),
			}}
		}
		return nil
	}),
}

var ovnLSPMissing = &Rule{
	Name:     "ovn/lsp-missing",
	Severity: Error,
	Title:    "The server's port has no Logical_Switch_Port in the OVN Northbound database",
	Doc: `Under ML2/OVN every Neutron port is a Logical_Switch_Port named by the port's
ID on the Logical_Switch neutron-<network ID>. When it is missing (deleted
behind Neutron's back, or a failed sync), OVN knows nothing of the port: no
binding, no flows, no DHCP; Neutron still shows the port as it was.

hoofbeat selects the Logical_Switch_Port by name on the database host.
neutron-ovn-db-sync-util in log mode lists the differences between Neutron's
database and the Northbound database; repair mode recreates what is missing.`,
	Fix:           "Run neutron-ovn-db-sync-util in log mode, then in repair mode, on the neutron-server host.",
	Needs:         []string{snapshot.SourcePorts},
	Hop:           HopPort,
	NotApplicable: onlyOnOVN,
	Check: ovnCheck(func(in *Input, db *ovnDB) []Finding {
		var out []Finding
		for i := range in.Snapshot.Ports {
			p := &in.Snapshot.Ports[i]
			if db.lsp(p.ID) != nil {
				continue
			}
			ev := []string{fmt.Sprintf("Northbound Logical_Switch_Port named %s: none (read on %s)", p.ID, db.host)}
			if !slices.ContainsFunc(db.nb.Switches, func(ls snapshot.OVNSwitch) bool { return ls.Name == "neutron-"+p.NetworkID }) {
				ev = append(ev, fmt.Sprintf("Logical_Switch neutron-%s: none either", p.NetworkID))
			}
			out = append(out, Finding{
				Subject:     portSubject(p),
				Summary:     fmt.Sprintf("%s has no Logical_Switch_Port in OVN's Northbound database: OVN does not know the port, so nothing reaches it", portLabel(p)),
				Evidence:    ev,
				Remediation: dbSyncFix(neutronHost(db)),
				Verify:      cmds(onHost(cmd("ovn-nbctl", "lsp-get-up", p.ID), db.host)),
			})
		}
		return out
	}),
}

// lspFirstAddress splits an LSP addresses (or port_security) entry: the MAC,
// then the IPs (with or without a prefix length).
func lspAddress(entry string) (mac string, ips []string) {
	f := strings.Fields(entry)
	if len(f) == 0 {
		return "", nil
	}
	for _, w := range f[1:] {
		if p, err := netip.ParsePrefix(w); err == nil {
			ips = append(ips, p.Addr().String())
		} else if a, err := netip.ParseAddr(w); err == nil {
			ips = append(ips, a.String())
		}
	}
	return strings.ToLower(f[0]), ips
}

func portIPs(p *snapshot.Port) []string {
	var out []string
	for _, f := range p.FixedIPs {
		if a, err := netip.ParseAddr(f.IPAddress); err == nil {
			out = append(out, a.String())
		}
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

var ovnLSPDown = &Rule{
	Name:     "ovn/lsp-down",
	Severity: Error,
	Title:    "The server's Logical_Switch_Port is down, disabled, or does not match the port",
	Doc: `The Logical_Switch_Port of a Neutron port carries its state and its
addresses: "up" is set by ovn-controller once the port is wired on its
chassis; "enabled" false drops everything; "addresses" ("MAC IP…") is what
OVN answers ARP and DHCP with; "port_security" what it lets the port send
(its MAC, fixed IPs, and allowed address pairs). When these differ from the
Neutron port, traffic is dropped at the switch.

hoofbeat compares the LSP with the Neutron port: up and enabled (for an
admin-up port of an active server), the MAC and fixed IPs of the first
addresses entry, and that port_security holds the MAC, the fixed IPs and
every allowed address pair's IP (empty when port security is disabled).`,
	Fix:           "Restart ovn-controller on the server's host when the LSP is not up; repair NB from Neutron (neutron-ovn-db-sync-util) when addresses differ.",
	Needs:         []string{snapshot.SourcePorts},
	Hop:           HopPort,
	NotApplicable: onlyOnOVN,
	Causes:        []*Rule{ovnChassisDown, ovnNBCfgLag},
	Check: ovnCheck(func(in *Input, db *ovnDB) []Finding {
		s := in.Snapshot
		var out []Finding
		for i := range s.Ports {
			p := &s.Ports[i]
			lsp := db.lsp(p.ID)
			if lsp == nil {
				continue // ovn/lsp-missing
			}
			var problems, ev []string
			fix := dbSyncFix(neutronHost(db))
			if p.AdminStateUp && lsp.Enabled != nil && !*lsp.Enabled {
				problems = append(problems, "disabled (enabled=false) while the Neutron port is admin-up")
			}
			if s.Server.Status == "ACTIVE" && p.AdminStateUp && !isTrue(lsp.Up) {
				problems = append(problems, "not up: no ovn-controller has claimed it")
				fix = cmds(onHost(cmd("systemctl", "restart", "ovn-controller"), or(s.Server.Host, "the server's host")))
			}
			if len(lsp.Addresses) == 0 {
				problems = append(problems, "no addresses")
			} else if mac, ips := lspAddress(lsp.Addresses[0]); mac != strings.ToLower(p.MACAddress) || !sameSet(ips, portIPs(p)) {
				problems = append(problems, fmt.Sprintf("addresses %q differ from the port's MAC %s and IPs %s", lsp.Addresses[0], p.MACAddress, strings.Join(portIPs(p), " ")))
			}
			if p.PortSecurityEnabled == nil || *p.PortSecurityEnabled {
				want := append(portIPs(p), pairIPs(p)...)
				var macs, have []string
				for _, e := range lsp.PortSecurity {
					m, ips := lspAddress(e)
					macs, have = append(macs, m), append(have, ips...)
				}
				var lacking []string
				for _, w := range want {
					if !slices.Contains(have, w) {
						lacking = append(lacking, w)
					}
				}
				switch {
				case len(lsp.PortSecurity) == 0:
					problems = append(problems, "no port_security while port security is enabled")
				case !slices.Contains(macs, strings.ToLower(p.MACAddress)):
					problems = append(problems, fmt.Sprintf("port_security %q lacks the port's MAC %s", strings.Join(lsp.PortSecurity, ", "), p.MACAddress))
				case len(lacking) > 0:
					problems = append(problems, fmt.Sprintf("port_security %q lacks %s", strings.Join(lsp.PortSecurity, ", "), strings.Join(lacking, ", ")))
				}
			}
			if len(problems) == 0 {
				continue
			}
			ev = append(ev, fmt.Sprintf("Logical_Switch_Port %s: up=%s enabled=%s addresses=%q port_security=%q", lsp.Name, optBool(lsp.Up), optBool(lsp.Enabled), lsp.Addresses, lsp.PortSecurity))
			ev = append(ev, fmt.Sprintf("Neutron port: MAC %s, fixed IPs %s, admin_state_up %t", p.MACAddress, strings.Join(portIPs(p), " "), p.AdminStateUp))
			out = append(out, Finding{
				Subject:     portSubject(p),
				Summary:     fmt.Sprintf("the Logical_Switch_Port of %s is %s", portLabel(p), strings.Join(problems, "; ")),
				Evidence:    ev,
				Remediation: fix,
				Verify:      cmds(onHost(cmd("ovn-nbctl", "list", "Logical_Switch_Port", p.ID), db.host)),
			})
		}
		return out
	}),
}

func pairIPs(p *snapshot.Port) []string {
	var out []string
	for _, ap := range p.AllowedAddressPairs {
		if a, err := netip.ParseAddr(ap.IPAddress); err == nil {
			out = append(out, a.String())
		} else if pr, err := netip.ParsePrefix(ap.IPAddress); err == nil {
			out = append(out, pr.Addr().String())
		}
	}
	return out
}

var ovnBindingWrongChassis = &Rule{
	Name:     "ovn/binding-wrong-chassis",
	Severity: Error,
	Title:    "The server's Port_Binding is unbound or on another chassis than the server's host",
	Doc: `ovn-controller on the hypervisor claims a port by setting its Port_Binding's
chassis in the Southbound database, when it sees an Open vSwitch interface
whose external_ids:iface-id is the port's ID. A binding with no chassis (the
interface is missing, or the controller is down) or on another chassis than
the server's host (a stale claim after a migration, or two interfaces with the
same iface-id) sends the port's traffic to the wrong place or nowhere.

hoofbeat reads the Port_Binding of each server port and the Chassis it names.`,
	Fix:           "On the server's host, check the VIF's iface-id (ovs-vsctl find Interface external_ids:iface-id=PORT) and restart ovn-controller; a stale claim elsewhere goes once that chassis' controller releases it.",
	Needs:         []string{snapshot.SourcePorts},
	Hop:           HopPort,
	NotApplicable: onlyOnOVN,
	Causes:        []*Rule{ovnChassisDown, ovnNBCfgLag},
	Check: ovnCheck(func(in *Input, db *ovnDB) []Finding {
		s := in.Snapshot
		if s.Server.Host == "" {
			in.uncheck("the server's host is hidden: cannot tell which chassis should hold its ports")
			return nil
		}
		var out []Finding
		for i := range s.Ports {
			p := &s.Ports[i]
			if db.lsp(p.ID) == nil {
				continue // ovn/lsp-missing
			}
			pb := db.binding(p.ID)
			f := Finding{
				Subject: portSubject(p),
				Remediation: cmds(
					onHost(cmd("ovs-vsctl", "--columns=name,external_ids", "find", "Interface", "external_ids:iface-id="+p.ID), s.Server.Host).Comment("the VIF must be there"),
					onHost(cmd("systemctl", "restart", "ovn-controller"), s.Server.Host),
				),
				Verify: cmds(onHost(cmd("ovn-sbctl", "--columns=logical_port,chassis,up", "find", "Port_Binding", "logical_port="+p.ID), db.host)),
			}
			switch {
			case pb == nil:
				f.Summary = fmt.Sprintf("%s has no Port_Binding in the Southbound database: ovn-northd has not translated it", portLabel(p))
				f.Evidence = []string{fmt.Sprintf("Southbound Port_Binding %s: none (read on %s)", p.ID, db.host)}
			case pb.Chassis == "":
				f.Summary = fmt.Sprintf("%s is bound to no OVN chassis: ovn-controller on %s has not claimed it", portLabel(p), s.Server.Host)
				f.Evidence = []string{fmt.Sprintf("Port_Binding %s: chassis empty, up=%s", p.ID, optBool(pb.Up))}
			default:
				ch := db.chassisByUUID(pb.Chassis)
				if ch == nil {
					f.Summary = fmt.Sprintf("%s is bound to chassis %s, which is not registered", portLabel(p), shortID(pb.Chassis))
					f.Evidence = []string{fmt.Sprintf("Port_Binding %s: chassis %s, no such Chassis row", p.ID, pb.Chassis)}
				} else if ch.Hostname != s.Server.Host {
					f.Summary = fmt.Sprintf("%s is bound to chassis %s (host %s), not to the server's host %s", portLabel(p), ch.Name, ch.Hostname, s.Server.Host)
					f.Evidence = []string{fmt.Sprintf("Port_Binding %s: chassis %s, hostname %s", p.ID, ch.Name, ch.Hostname), "server host: " + s.Server.Host}
				}
			}
			if f.Summary != "" {
				out = append(out, f)
			}
		}
		return out
	}),
}

var ovnEncapMismatch = &Rule{
	Name:     "ovn/encap-mismatch",
	Severity: Error,
	Title:    "A chassis' tunnel endpoint (Encap IP) is not an address of its host",
	Doc: `Each chassis announces in the Southbound database the IP its peers send
Geneve tunnels to (Open vSwitch's external_ids:ovn-encap-ip, copied into the
chassis' Encap row). When that IP is not an address of the host (a typo, a
renumbered interface, a bond that moved), every tunnel to the host goes
nowhere: its instances are cut off from the other hosts, their router and
their DHCP.

hoofbeat compares, on each checked chassis, ovn-encap-ip with the host's own
addresses (ip addr), and with the Encap IP of its Chassis in the Southbound
database when that was read (the address its peers really use).`,
	Fix:           "Set ovn-encap-ip to the host's underlay address: ovs-vsctl set open . external_ids:ovn-encap-ip=ADDRESS (ovn-controller updates its Encap).",
	Needs:         []string{snapshot.SourcePorts},
	Hop:           HopHosts,
	NotApplicable: onlyOnOVN,
	Causes:        []*Rule{ovnChassisDown},
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		db := ovnDBQuiet(s)
		var out []Finding
		for _, h := range reached(in) {
			if h.OVN == nil || !h.OVN.Chassis() {
				continue
			}
			ips := strings.Split(h.OVN.ExternalIDs["ovn-encap-ip"], ",")
			var ev []string
			var wrong []string
			if h.LinksError != "" || len(h.Links) == 0 {
				in.uncheck("host %s: its addresses were not read: %s", h.Name, or(h.LinksError, "no device"))
			} else {
				for _, ip := range ips {
					if ip = strings.TrimSpace(ip); ip != "" && !hostHasAddr(h, ip) {
						wrong = append(wrong, ip)
					}
				}
				if len(wrong) > 0 {
					var addrs []string
					for _, a := range hostAddrs(h) {
						if !a.IsLoopback() && !a.IsLinkLocalUnicast() {
							addrs = append(addrs, a.String())
						}
					}
					ev = append(ev, fmt.Sprintf("ovn-encap-ip %s is not an address of %s (its addresses: %s)", strings.Join(wrong, ","), h.Name, strings.Join(addrs, " ")))
				}
			}
			if db != nil {
				if ch := db.chassisOfHost(h.Name); ch != nil {
					var encaps []string
					for _, e := range db.sb.Encaps {
						if e.ChassisName == ch.Name {
							encaps = append(encaps, e.IP)
						}
					}
					for _, e := range encaps {
						if !slices.Contains(ips, e) && !slices.Contains(wrong, e) {
							ev = append(ev, fmt.Sprintf("the Southbound Encap of chassis %s is %s, the host's ovn-encap-ip %s: its peers tunnel to %s", ch.Name, e, h.OVN.ExternalIDs["ovn-encap-ip"], e))
							wrong = append(wrong, e)
						}
					}
				}
			}
			if len(wrong) == 0 {
				continue
			}
			out = append(out, Finding{
				Subject:  Subject{Kind: "host", Name: h.Name},
				Summary:  fmt.Sprintf("chassis %s announces tunnel endpoint %s, which its peers cannot reach there: Geneve tunnels to %s go nowhere", h.Name, strings.Join(wrong, ","), h.Name),
				Evidence: append(ev, "ovn-encap-ip: "+h.OVN.ExternalIDs["ovn-encap-ip"]),
				Remediation: cmds(
					onHost(cmd("ip", "-brief", "addr", "show"), h.Name).Comment("find the underlay address"),
					onHost(cmd("ovs-vsctl", "set", "open", ".", "external_ids:ovn-encap-ip=ADDRESS"), h.Name).Comment("the underlay address for ADDRESS"),
				),
				Verify: cmds(onHost(cmd("ovs-vsctl", "get", "open", ".", "external_ids:ovn-encap-ip"), h.Name)),
			})
		}
		return out
	},
}

var ovnDHCPOptionsMissing = &Rule{
	Name:     "ovn/dhcp-options-missing",
	Severity: Error,
	Title:    "The subnet's OVN DHCP_Options are missing, unreferenced, or disagree with the subnet",
	Doc: `ML2/OVN answers DHCP natively, from the DHCP_Options row Neutron creates for
each DHCP-enabled subnet (external_ids:subnet_id), referenced by each port's
Logical_Switch_Port (dhcpv4_options). With no row, or an LSP that does not
reference one, the guest gets no lease; with a row whose router, MTU or DNS
servers differ from the subnet, it gets the wrong configuration.

hoofbeat reads the rows by subnet and by the LSP's reference, and compares
router with the subnet's gateway, mtu with the network's MTU and dns_server
with the subnet's DNS name servers (when set). It cannot see Neutron's
configured lease time (dhcp_lease_duration), so lease_time is shown, not
judged.`,
	Fix:           "Run neutron-ovn-db-sync-util in log mode, then repair mode (it recreates the DHCP_Options and the references).",
	Needs:         []string{snapshot.SourcePorts, snapshot.SourceSubnets},
	Hop:           HopDHCP,
	NotApplicable: onlyOnOVN,
	Check: ovnCheck(func(in *Input, db *ovnDB) []Finding {
		s := in.Snapshot
		var out []Finding
		for _, vp := range in.View().Ports {
			lsp := db.lsp(vp.ID)
			if lsp == nil {
				continue // ovn/lsp-missing
			}
			for _, sn := range vp.Subnets {
				if sn.Subnet == nil || !sn.EnableDHCP || sn.IPVersion != 4 {
					continue
				}
				var row *snapshot.OVNDHCPOptions
				for i := range db.nb.DHCPOptions {
					d := &db.nb.DHCPOptions[i]
					if d.ExternalIDs["subnet_id"] == sn.ID && (d.ExternalIDs["port_id"] == "" || d.ExternalIDs["port_id"] == vp.ID) {
						if row == nil || d.UUID == lsp.DHCPv4Options {
							row = d
						}
					}
				}
				f := Finding{
					Subject:     Subject{Kind: "subnet", ID: sn.ID, Name: sn.Name},
					Remediation: dbSyncFix(neutronHost(db)),
					Verify:      cmds(onHost(cmd("ovn-nbctl", "--columns=_uuid,cidr,options,external_ids", "find", "DHCP_Options", "external_ids:subnet_id="+sn.ID), db.host)),
				}
				switch {
				case row == nil:
					f.Summary = fmt.Sprintf("subnet %s has DHCP enabled but no DHCP_Options in OVN: OVN answers no DHCP request from %s", subnetLabel(sn.Subnet), portLabel(vp.Port))
					f.Evidence = []string{fmt.Sprintf("Northbound DHCP_Options with external_ids:subnet_id=%s: none (read on %s)", sn.ID, db.host), "enable_dhcp: true"}
				case lsp.DHCPv4Options != row.UUID:
					f.Summary = fmt.Sprintf("the Logical_Switch_Port of %s does not reference subnet %s's DHCP_Options: OVN answers none of its DHCP requests", portLabel(vp.Port), subnetLabel(sn.Subnet))
					f.Evidence = []string{fmt.Sprintf("Logical_Switch_Port %s dhcpv4_options: %s", lsp.Name, or(lsp.DHCPv4Options, "none")), fmt.Sprintf("DHCP_Options of subnet %s: %s", sn.ID, row.UUID)}
				default:
					diff := dhcpDiff(s, sn.Subnet, row)
					if len(diff) == 0 {
						continue
					}
					f.Summary = fmt.Sprintf("OVN's DHCP_Options of subnet %s disagree with the subnet: %s", subnetLabel(sn.Subnet), strings.Join(diff, "; "))
					f.Evidence = []string{fmt.Sprintf("DHCP_Options %s: cidr %s, router %s, mtu %s, dns_server %s, lease_time %s", row.UUID, row.CIDR, or(row.Options["router"], "-"), or(row.Options["mtu"], "-"), or(row.Options["dns_server"], "-"), or(row.Options["lease_time"], "-"))}
				}
				out = append(out, f)
			}
		}
		return out
	}),
}

// dhcpDiff lists where a DHCP_Options row disagrees with its subnet.
func dhcpDiff(s *snapshot.Snapshot, sn *snapshot.Subnet, row *snapshot.OVNDHCPOptions) []string {
	var out []string
	if row.CIDR != sn.CIDR {
		out = append(out, fmt.Sprintf("cidr %s, the subnet's %s", row.CIDR, sn.CIDR))
	}
	if sn.GatewayIP != "" && row.Options["router"] != sn.GatewayIP {
		out = append(out, fmt.Sprintf("router %s, the subnet's gateway %s", or(row.Options["router"], "unset"), sn.GatewayIP))
	}
	if n := s.Network(sn.NetworkID); n != nil && n.MTU > 0 && row.Options["mtu"] != "" && row.Options["mtu"] != strconv.Itoa(n.MTU) {
		out = append(out, fmt.Sprintf("mtu %s, the network's %d", row.Options["mtu"], n.MTU))
	}
	if len(sn.DNSNameservers) > 0 {
		have := strings.Fields(strings.NewReplacer("{", " ", "}", " ", ",", " ").Replace(row.Options["dns_server"]))
		if !sameSet(have, sn.DNSNameservers) {
			out = append(out, fmt.Sprintf("dns_server %s, the subnet's %s", or(row.Options["dns_server"], "unset"), strings.Join(sn.DNSNameservers, ",")))
		}
	}
	return out
}

// aclRuleID is the Neutron rule an ACL was made from.
func aclRuleID(a *snapshot.OVNACL) string { return a.ExternalIDs["neutron:security_group_rule_id"] }

var ovnACLMismatch = &Rule{
	Name:     "ovn/acl-mismatch",
	Severity: Error,
	Title:    "The security groups' OVN ACLs differ from the Neutron rules",
	Doc: `ML2/OVN turns each security group into a Port_Group (pg_<group ID with _ for
-> holding the member ports) and each rule into an ACL on it, named by the
rule in external_ids:neutron:security_group_rule_id. What OVN enforces is the
ACLs, not the rules: a rule without its ACL (deleted behind Neutron's back,
a failed sync) admits nothing, however right it looks in the API; an ACL
without its rule admits what nobody asked for.

hoofbeat reads the Port_Group of each of the server's groups and their
ACLs, and matches them with the rules by ID. It also reads each ACL's match
back into the rule it enforces (Neutron's shapes: direction, ethertype,
protocol, ports or ICMP type and code, remote prefix or remote group's
address set) and evaluates the default ping and each --check flow on those
exactly as on the rules: an ACL edited behind Neutron's back under its
rule's ID shows there. A flow from a single address that a remote group
whose members were not collected may admit is not judged.`,
	Fix:           "Run neutron-ovn-db-sync-util in log mode, then in repair mode: it recreates missing ACLs and removes stale ones.",
	Needs:         []string{snapshot.SourcePorts, snapshot.SourceSecurityGroups},
	Hop:           HopSecurityGroups,
	NotApplicable: onlyOnOVN,
	Check: ovnCheck(func(in *Input, db *ovnDB) []Finding {
		s := in.Snapshot
		var out []Finding
		for _, sg := range serverGroups(s) {
			pgName := "pg_" + strings.ReplaceAll(sg.ID, "-", "_")
			var pg *snapshot.OVNPortGroup
			for i := range db.nb.PortGroups {
				if db.nb.PortGroups[i].Name == pgName {
					pg = &db.nb.PortGroups[i]
				}
			}
			f := Finding{
				Subject:     Subject{Kind: "security-group", ID: sg.ID, Name: sg.Name},
				Remediation: dbSyncFix(neutronHost(db)),
				Verify:      cmds(onHost(cmd("ovn-nbctl", "acl-list", pgName), db.host)),
			}
			if pg == nil {
				f.Summary = fmt.Sprintf("security group %s has no Port_Group in OVN: none of its rules is enforced", sg.Name)
				f.Evidence = []string{fmt.Sprintf("Northbound Port_Group %s: none (read on %s)", pgName, db.host)}
				out = append(out, f)
				continue
			}
			byRule := map[string]bool{}
			var stale []string
			for i := range db.nb.ACLs {
				a := &db.nb.ACLs[i]
				if !slices.Contains(pg.ACLs, a.UUID) {
					continue
				}
				id := aclRuleID(a)
				byRule[id] = true
				if id != "" && !slices.ContainsFunc(sg.Rules, func(r snapshot.SecurityGroupRule) bool { return r.ID == id }) {
					stale = append(stale, fmt.Sprintf("ACL %s (rule %s, no longer in the group): %s %d %q %s", shortID(a.UUID), id, a.Direction, a.Priority, a.Match, a.Action))
				}
			}
			var missing []string
			for _, r := range sg.Rules {
				if !byRule[r.ID] {
					missing = append(missing, fmt.Sprintf("rule %s: %s", r.ID, ruleText(r)))
				}
			}
			if len(missing) == 0 && len(stale) == 0 {
				continue
			}
			var parts []string
			if len(missing) > 0 {
				parts = append(parts, fmt.Sprintf("%d rule(s) have no ACL, so OVN does not enforce them", len(missing)))
			}
			if len(stale) > 0 {
				parts = append(parts, fmt.Sprintf("%d ACL(s) belong to no rule", len(stale)))
			}
			f.Summary = fmt.Sprintf("security group %s's OVN ACLs differ from its rules: %s", sg.Name, strings.Join(parts, "; "))
			f.Evidence = append(append([]string{fmt.Sprintf("Port_Group %s: %d ACL(s) for %d rule(s) (read on %s)", pgName, len(pg.ACLs), len(sg.Rules), db.host)}, prefixAll("missing in OVN: ", missing)...), prefixAll("stale in OVN: ", stale)...)
			out = append(out, f)
		}
		// The flows, evaluated on the ACLs as on the rules.
		for k := range s.Ports {
			p := &s.Ports[k]
			diffs, unread := aclFlowDiff(in, db, p)
			for _, u := range unread {
				in.uncheck("%s: not evaluated (not a match Neutron writes)", u)
			}
			if len(diffs) == 0 {
				continue
			}
			j := slices.IndexFunc(out, func(f Finding) bool { return slices.Contains(p.SecurityGroups, f.Subject.ID) })
			if j >= 0 {
				out[j].Evidence = append(out[j].Evidence, diffs...)
				continue
			}
			out = append(out, Finding{
				Subject:     portSubject(p),
				Summary:     fmt.Sprintf("OVN's ACLs for %s decide otherwise than its security-group rules: %s", portLabel(p), diffs[0]),
				Evidence:    diffs,
				Remediation: dbSyncFix(neutronHost(db)),
				Verify:      cmds(onHost(cmd("ovn-nbctl", "acl-list", "pg_"+strings.ReplaceAll(p.SecurityGroups[0], "-", "_")), db.host)),
			})
		}
		return out
	}),
}

func prefixAll(p string, list []string) []string {
	out := make([]string, len(list))
	for i, l := range list {
		out[i] = p + l
	}
	return out
}

// serverGroups are the security groups of the server's ports, each once.
func serverGroups(s *snapshot.Snapshot) []*snapshot.SecurityGroup {
	var out []*snapshot.SecurityGroup
	for _, p := range s.Ports {
		for _, id := range p.SecurityGroups {
			if g := s.SecurityGroup(id); g != nil && !slices.Contains(out, g) {
				out = append(out, g)
			}
		}
	}
	return out
}

// ruleText renders a rule briefly: ingress IPv4 icmp from 0.0.0.0/0.
func ruleText(r snapshot.SecurityGroupRule) string {
	t := r.Direction + " " + r.Ethertype + " " + or(r.Protocol, "any")
	if r.PortRangeMin != nil {
		t += " " + strconv.Itoa(*r.PortRangeMin)
		if r.PortRangeMax != nil && *r.PortRangeMax != *r.PortRangeMin {
			t += "-" + strconv.Itoa(*r.PortRangeMax)
		}
	}
	switch {
	case r.RemoteIPPrefix != "":
		t += " from " + r.RemoteIPPrefix
	case r.RemoteGroupID != "":
		t += " from group " + shortID(r.RemoteGroupID)
	}
	return t
}

var ovnGatewayChassisMissing = &Rule{
	Name:     "ovn/gateway-chassis-missing",
	Severity: Error,
	Title:    "The router's gateway port is on no registered OVN chassis",
	Doc: `Under ML2/OVN a router's external (gateway) port is centralised on a gateway
chassis, chosen by priority among its Gateway_Chassis rows (or an
HA_Chassis_Group); the Southbound chassisredirect binding cr-lrp-<port>
names the chassis that carries it now. When none of the chassis named exists
(a renamed or removed node) or the binding is on none, the router has no way
out: SNAT and floating IPs stop working.

With several gateway chassis, ovn-controller runs BFD between them over the
Geneve tunnels to decide which is alive; a session that is down makes a
standby take over, or two claim the port.

hoofbeat reads the Logical_Router neutron-<router ID>, its ports, their
Gateway_Chassis / HA_Chassis rows, the named chassis in the Southbound
database and the cr-lrp binding; and on each checked gateway chassis, the
BFD state of its tunnels to the port's other chassis (Open vSwitch's
bfd_status). Chassis that were not checked are not asked.`,
	Fix:           "Reschedule the gateway onto live gateway chassis: ovn-nbctl lrp-set-gateway-chassis (Neutron does it when the router's gateway is set again).",
	Needs:         []string{snapshot.SourcePorts, snapshot.SourceRouters},
	Hop:           HopGateway,
	NotApplicable: onlyOnOVN,
	Causes:        []*Rule{ovnNBCfgLag},
	Check: ovnCheck(func(in *Input, db *ovnDB) []Finding {
		var out []Finding
		for _, l := range in.View().Routers {
			if l.Gateway() == nil {
				continue
			}
			lr := db.router(l.ID)
			name := routerLabel(l.Router)
			f := Finding{Subject: routerSubject(l.Router)}
			if lr == nil {
				f.Summary = fmt.Sprintf("router %s has no Logical_Router in OVN: nothing routes the server's subnet", name)
				f.Evidence = []string{fmt.Sprintf("Northbound Logical_Router neutron-%s: none (read on %s)", l.ID, db.host)}
				f.Remediation = dbSyncFix(neutronHost(db))
				out = append(out, f)
				continue
			}
			var gw *snapshot.OVNRouterPort
			for _, u := range lr.Ports {
				if p := db.routerPort(u); p != nil && (len(p.GatewayChassis) > 0 || p.HAChassisGroup != "") {
					gw = p
				}
			}
			if gw == nil {
				f.Summary = fmt.Sprintf("router %s has an external gateway but its Logical_Router has no port scheduled on a gateway chassis", name)
				f.Evidence = []string{fmt.Sprintf("Logical_Router %s: %d port(s), none with Gateway_Chassis or HA_Chassis_Group", lr.Name, len(lr.Ports))}
				f.Remediation = dbSyncFix(neutronHost(db))
				out = append(out, f)
				continue
			}
			var named []snapshot.OVNGatewayChassis
			for _, g := range db.nb.GatewayChassis {
				if slices.Contains(gw.GatewayChassis, g.UUID) {
					named = append(named, g)
				}
			}
			for _, grp := range db.nb.HAGroups {
				if grp.UUID == gw.HAChassisGroup {
					for _, h := range db.nb.HAChassis {
						if slices.Contains(grp.HAChassis, h.UUID) {
							named = append(named, h)
						}
					}
				}
			}
			var live, dead, deadNames []string
			for _, g := range named {
				if db.chassisByName(g.ChassisName) != nil {
					live = append(live, g.ChassisName)
				} else {
					dead = append(dead, fmt.Sprintf("%s (priority %d)", g.ChassisName, g.Priority))
					deadNames = append(deadNames, g.ChassisName)
				}
			}
			cr := db.binding("cr-" + gw.Name)
			f.Evidence = []string{fmt.Sprintf("gateway port %s: chassis named %d, registered: %s; not registered: %s", gw.Name, len(named), or(strings.Join(live, ", "), "none"), or(strings.Join(dead, ", "), "none"))}
			if cr != nil {
				where := "no chassis"
				if ch := db.chassisByUUID(cr.Chassis); ch != nil {
					where = "chassis " + ch.Name
				}
				f.Evidence = append(f.Evidence, fmt.Sprintf("Southbound binding cr-%s: on %s", gw.Name, where))
			}
			bfdDown := gatewayBFDDown(in.Snapshot, live)
			f.Evidence = append(f.Evidence, bfdDown...)
			switch {
			case len(live) == 0:
				f.Summary = fmt.Sprintf("router %s's gateway port %s is scheduled on no registered chassis (%s): the router has no way out, floating IPs and SNAT are dead", name, gw.Name, or(strings.Join(dead, ", "), "none named"))
			case cr != nil && cr.Chassis == "":
				f.Summary = fmt.Sprintf("router %s's gateway port %s is bound to no chassis: no gateway chassis has claimed it", name, gw.Name)
			case len(bfdDown) > 0:
				f.Summary = fmt.Sprintf("router %s's gateway chassis %s do not see each other over BFD: the gateway port %s may not fail over, or be claimed twice", name, strings.Join(live, ", "), gw.Name)
				f.Remediation = cmds(note("the underlay between the gateway chassis must pass Geneve (UDP 6081) both ways; check ovn-encap-ip on each"))
				f.Verify = nil
				for _, c := range live {
					f.Verify = append(f.Verify, onHost(cmd("ovs-vsctl", "--columns=name,bfd_status", "find", "Interface", "type=geneve"), c))
				}
				out = append(out, f)
				continue
			default:
				continue
			}
			for _, d := range deadNames {
				f.Remediation = append(f.Remediation, onHost(cmd("ovn-nbctl", "lrp-del-gateway-chassis", gw.Name, d), db.host))
			}
			f.Remediation = append(f.Remediation, onHost(cmd("ovn-nbctl", "lrp-set-gateway-chassis", gw.Name, "CHASSIS", "1"), db.host).Comment("a live gateway chassis: ovn-sbctl list Chassis, ovn-cms-options enable-chassis-as-gw"))
			f.Verify = cmds(onHost(cmd("ovn-nbctl", "lrp-get-gateway-chassis", gw.Name), db.host), onHost(cmd("ovn-sbctl", "find", "Port_Binding", "logical_port=cr-"+gw.Name), db.host))
			out = append(out, f)
		}
		return out
	}),
}

var ovnNATMissing = &Rule{
	Name:     "ovn/nat-missing",
	Severity: Error,
	Title:    "The router's SNAT or the floating IP's dnat_and_snat is missing in OVN",
	Doc: `ML2/OVN realises a router's source NAT as a snat NAT row (logical_ip the
subnet, external_ip the gateway address) and a floating IP as a
dnat_and_snat row (external_ip the floating IP, logical_ip the fixed IP);
a distributed floating IP also carries external_mac and logical_port so that
the compute host answers for it. Without them the server reaches nothing
outside, or nothing reaches its floating IP.

hoofbeat reads the Logical_Router's NAT rows and matches them with the
router's subnets (when SNAT is enabled) and the server's floating IPs.`,
	Fix:           "Run neutron-ovn-db-sync-util in log mode, then in repair mode; or re-associate the floating IP.",
	Needs:         []string{snapshot.SourcePorts, snapshot.SourceRouters, snapshot.SourceFloatingIPs},
	Hop:           HopFloatingIP,
	NotApplicable: onlyOnOVN,
	Check: ovnCheck(func(in *Input, db *ovnDB) []Finding {
		s := in.Snapshot
		nats := func(lr *snapshot.OVNRouter) []snapshot.OVNNAT {
			var out []snapshot.OVNNAT
			for _, n := range db.nb.NATs {
				if slices.Contains(lr.NAT, n.UUID) {
					out = append(out, n)
				}
			}
			return out
		}
		var out []Finding
		for _, l := range in.View().Routers {
			gw := l.Gateway()
			lr := db.router(l.ID)
			if gw == nil || lr == nil || l.Subnet == nil {
				continue // ovn/gateway-chassis-missing says when the router is missing
			}
			if gw.EnableSNAT == nil || *gw.EnableSNAT {
				if !slices.ContainsFunc(nats(lr), func(n snapshot.OVNNAT) bool { return n.Type == "snat" && n.LogicalIP == l.Subnet.CIDR }) {
					out = append(out, Finding{
						Subject:     routerSubject(l.Router),
						Summary:     fmt.Sprintf("router %s has SNAT enabled but no snat NAT for subnet %s in OVN: the server reaches nothing outside without a floating IP", routerLabel(l.Router), l.Subnet.CIDR),
						Evidence:    []string{fmt.Sprintf("Logical_Router %s NAT rows: %s", lr.Name, natList(nats(lr)))},
						Remediation: dbSyncFix(neutronHost(db)),
						Verify:      cmds(onHost(cmd("ovn-nbctl", "lr-nat-list", lr.Name), db.host)),
					})
				}
			}
		}
		for _, fl := range serverFloatingIPs(s) {
			if fl.RouterID == "" {
				continue
			}
			lr := db.router(fl.RouterID)
			if lr == nil {
				continue
			}
			i := slices.IndexFunc(nats(lr), func(n snapshot.OVNNAT) bool {
				return n.Type == "dnat_and_snat" && n.ExternalIP == fl.FloatingIPAddress
			})
			f := Finding{
				Subject:     fipSubject(fl),
				Remediation: dbSyncFix(neutronHost(db)),
				Verify:      cmds(onHost(cmd("ovn-nbctl", "lr-nat-list", lr.Name), db.host)),
			}
			if i < 0 {
				f.Summary = fmt.Sprintf("floating IP %s has no dnat_and_snat NAT in OVN: nothing reaches %s through it", fl.FloatingIPAddress, fl.FixedIPAddress)
				f.Evidence = []string{fmt.Sprintf("Logical_Router %s NAT rows: %s", lr.Name, natList(nats(lr)))}
				out = append(out, f)
				continue
			}
			n := nats(lr)[i]
			switch {
			case n.LogicalIP != fl.FixedIPAddress:
				f.Summary = fmt.Sprintf("floating IP %s's OVN NAT points at %s, not at the fixed IP %s", fl.FloatingIPAddress, n.LogicalIP, fl.FixedIPAddress)
			case n.ExternalMAC != "" && n.LogicalPort != fl.PortID:
				f.Summary = fmt.Sprintf("distributed floating IP %s's OVN NAT names logical port %s, not the server's port %s: its external MAC is answered nowhere", fl.FloatingIPAddress, or(n.LogicalPort, "none"), fl.PortID)
			default:
				continue
			}
			f.Evidence = []string{fmt.Sprintf("NAT %s: %s %s → %s external_mac %s logical_port %s", shortID(n.UUID), n.Type, n.ExternalIP, n.LogicalIP, or(n.ExternalMAC, "-"), or(n.LogicalPort, "-"))}
			out = append(out, f)
		}
		return out
	}),
}

// gatewayBFDDown lists, on the checked hosts that are among a gateway
// port's chassis, the BFD sessions to another of its chassis that are
// enabled and not up. ovn-controller runs BFD only between chassis that
// share a gateway port: one chassis alone has none.
func gatewayBFDDown(s *snapshot.Snapshot, chassis []string) []string {
	if len(chassis) < 2 {
		return nil
	}
	var out []string
	for _, h := range s.Hosts {
		if h.OVN == nil || !slices.Contains(chassis, h.OVN.ExternalIDs["system-id"]) {
			continue
		}
		for _, t := range h.OVN.Tunnels {
			if t.BFD && t.BFDState != "" && t.BFDState != "up" && slices.Contains(chassis, t.Peer) {
				out = append(out, fmt.Sprintf("host %s: BFD to gateway chassis %s over %s (%s) is %s: %s", h.Name, t.Peer, t.Name, t.RemoteIP, t.BFDState, or(t.BFDDiagnostic, "no diagnostic")))
			}
		}
	}
	return out
}

func natList(ns []snapshot.OVNNAT) string {
	return listOrNone(ns, func(n snapshot.OVNNAT) string { return fmt.Sprintf("%s %s↔%s", n.Type, n.ExternalIP, n.LogicalIP) })
}

var ovnMetadataMissing = &Rule{
	Name:     "ovn/metadata-missing",
	Severity: Warning,
	Title:    "The network's ovnmeta namespace or its haproxy is missing on the server's chassis",
	Doc: `Under ML2/OVN the OVN metadata agent on each chassis creates, for every
network with a port bound there, a namespace ovnmeta-<network ID> holding the
network's metadata port and an haproxy that answers 169.254.169.254 and
hands requests to the agent. Without them the guest's cloud-init times out:
no SSH key, no user data.

hoofbeat looks on the server's host for the namespace of each of the
server's networks that has a metadata port (device_owner network:distributed)
and for an haproxy whose command line names the network.`,
	Fix:           "Restart neutron-ovn-metadata-agent on the server's host: it recreates the namespace and haproxy.",
	Needs:         []string{snapshot.SourcePorts},
	Hop:           HopNetwork,
	NotApplicable: onlyOnOVN,
	Causes:        []*Rule{agentMetadataDown, ovnChassisDown},
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		h := ovnChassisHost(in)
		if h == nil {
			return nil
		}
		if !partOK(in, h, "namespaces", h.NamespacesError) || !partOK(in, h, "processes", h.ProcessesError) {
			return nil
		}
		var out []Finding
		for _, netID := range serverNetworkIDs(s) {
			if len(s.NetworkPortsByOwner(netID, snapshot.OwnerOVNMetadata)) == 0 {
				continue // no metadata port: Neutron serves no metadata on this network
			}
			ns := "ovnmeta-" + netID
			var problems []string
			if namespace(h, ns) == nil {
				problems = append(problems, "no namespace "+ns)
			}
			if !slices.ContainsFunc(h.Processes, func(p snapshot.Process) bool {
				return strings.Contains(p.Args, "haproxy") && strings.Contains(p.Args, netID)
			}) {
				problems = append(problems, "no haproxy for the network")
			}
			if len(problems) == 0 {
				continue
			}
			out = append(out, Finding{
				Subject:     serverSubject(s.Server),
				Summary:     fmt.Sprintf("host %s serves no metadata to server %s on network %s: %s", h.Name, s.Server.Name, netLabel(s, netID), strings.Join(problems, ", ")),
				Evidence:    []string{fmt.Sprintf("host %s: namespaces %s", h.Name, namespaceNames(h))},
				Remediation: cmds(onHost(cmd("systemctl", "restart", "neutron-ovn-metadata-agent"), h.Name)),
				Verify: cmds(
					onHost(cmd("ip", "netns", "exec", ns, "ip", "addr"), h.Name),
					cmd("curl", "-s", "http://169.254.169.254/openstack/latest/meta_data.json").Comment("inside the guest"),
				),
			})
		}
		return out
	},
}

func namespaceNames(h *snapshot.Host) string {
	return listOrNone(h.Namespaces, func(n snapshot.Namespace) string { return n.Name })
}

var ovnTraceDrop = &Rule{
	Name:     "ovn/trace-drop",
	Severity: Error,
	Title:    "ovn-trace drops the checked packet in OVN's logical pipelines",
	Doc: `ovn-trace follows a packet through OVN's logical flows as the Southbound
database holds them, without sending anything, and says where it is
delivered or dropped: the pipeline (ingress or egress of a logical switch or
router), the table and stage (ls_out_acl, ls_in_check_port_sec…) and the
logical flow. That is OVN's own answer to "where does the packet die".

hoofbeat traces, on the database host, the default ping and each --check
flow as the first packet of a new connection: to each IPv4 address of the
server's ports, entering the network from the router's interface (or the
network's metadata port); and to each floating IP from outside (203.0.113.1
or the flow's --from), entering the router by its gateway port. A drop is
mapped back to what Neutron calls it: an ACL stage dropping by OVN's default
drop group (neutron_pg_drop) means no rule of the port's security groups
admits the flow; an ACL of a port group names that security group and the
rule of the ACL; a port-security stage names the port; a router stage the
router. ovn-trace has no chassis: it takes every port as resident, so a
gateway port on no live chassis shows in ovn/gateway-chassis-missing, not
here.`,
	Fix:           "Fix what the dropping stage names: the security group's rules (or their ACLs, ovn/acl-mismatch), the port's addresses and port security, or the router.",
	Needs:         []string{snapshot.SourcePorts},
	Hop:           HopOVN,
	NotApplicable: onlyOnOVN,
	Causes:        []*Rule{ovnACLMismatch, sgIcmpIngressMissing, sgIngressMissing, ovnLSPMissing, ovnLSPDown, ovnNBCfgLag},
	Check: ovnCheck(func(in *Input, db *ovnDB) []Finding {
		s := in.Snapshot
		h := hostNamed(s, db.host)
		var out []Finding
		for _, t := range h.OVN.Traces {
			if t.Error != "" {
				in.uncheck("ovn-trace of %s: %s", t.Label, t.Error)
				continue
			}
			if t.Delivered {
				continue
			}
			why, ev := traceMeaning(s, db, t)
			out = append(out, Finding{
				Subject: serverSubject(s.Server),
				Summary: fmt.Sprintf("ovn-trace drops %s at %s table %d (%s): %s", t.Label, pipelineName(t.Pipeline), t.Table, t.Stage, why),
				Evidence: append([]string{
					fmt.Sprintf("datapath %s, microflow %s", t.Datapath, t.Microflow),
					fmt.Sprintf("last logical flow: %s, match %s, actions %s", t.Stage, t.Match, t.Actions),
				}, ev...),
				Remediation: cmds(note("fix what the dropping stage names; then trace again")),
				Verify:      cmds(onHost(cmd("ovn-trace", "--ct=new", "--ct=new", "--ct=new", t.Datapath, t.Microflow), db.host)),
			})
		}
		return out
	}),
}

// pipelineName shortens ovn-trace's pipeline header: ingress(dp="private", …).
func pipelineName(p string) string {
	if i := strings.Index(p, ","); i > 0 {
		return p[:i] + ")"
	}
	return or(p, "its pipeline")
}

// traceMeaning maps a dropping logical flow back to the Neutron object it
// comes from.
func traceMeaning(s *snapshot.Snapshot, db *ovnDB, t snapshot.OVNTrace) (string, []string) {
	switch {
	case strings.Contains(t.Stage, "_acl") && strings.Contains(t.Match, "@neutron_pg_drop"):
		var names []string
		for _, g := range serverGroups(s) {
			names = append(names, g.Name)
		}
		return fmt.Sprintf("no ACL of the port's security groups (%s) admits it, so OVN's default drop for ports with security groups applies", strings.Join(names, ", ")),
			[]string{"neutron_pg_drop is the port group Neutron puts every port with port security in: what no security-group ACL allows, it drops"}
	case strings.Contains(t.Stage, "_acl"):
		for i := range db.nb.ACLs {
			a := &db.nb.ACLs[i]
			if a.Match != "" && strings.Contains(t.Match, a.Match) {
				return fmt.Sprintf("the ACL %q (%s) of security-group rule %s drops it", a.Match, a.Action, or(aclRuleID(a), "unknown")), nil
			}
		}
		return "an ACL drops it", nil
	case strings.Contains(t.Stage, "port_sec"):
		return "port security drops it: the packet's addresses are not the port's (Logical_Switch_Port port_security)", nil
	case strings.HasPrefix(t.Stage, "lr_"):
		return "the router's pipeline drops it", nil
	}
	return "the logical flow above drops it", nil
}
