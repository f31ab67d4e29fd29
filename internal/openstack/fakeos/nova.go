package fakeos

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// DefaultNovaMaxVersion is the highest microversion the fake Nova offers.
const DefaultNovaMaxVersion = "2.96"

type microversion struct{ major, minor int }

func parseMicroversion(s string) (microversion, bool) {
	maj, min, ok := strings.Cut(strings.TrimSpace(s), ".")
	if !ok {
		return microversion{}, false
	}
	a, err1 := strconv.Atoi(maj)
	b, err2 := strconv.Atoi(min)
	return microversion{a, b}, err1 == nil && err2 == nil
}

func (v microversion) less(o microversion) bool {
	return v.major < o.major || (v.major == o.major && v.minor < o.minor)
}

func (v microversion) String() string { return fmt.Sprintf("%d.%d", v.major, v.minor) }

func (c *Cloud) novaMax() microversion {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := parseMicroversion(orDefault(c.world.NovaMaxVersion, DefaultNovaMaxVersion))
	if !ok {
		return microversion{2, 96}
	}
	return v
}

func (c *Cloud) nova(w http.ResponseWriter, r *http.Request, path string) {
	max := c.novaMax()
	base := c.srv.URL + "/compute"
	v21 := map[string]any{
		"id": "v2.1", "status": "CURRENT", "version": max.String(), "min_version": "2.1", "updated": "2013-07-23T11:33:21Z",
		"links":       []any{map[string]any{"rel": "self", "href": base + "/v2.1/"}, map[string]any{"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"}},
		"media-types": []any{map[string]any{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}},
	}
	switch path {
	case "", "/":
		writeJSON(w, http.StatusOK, map[string]any{"versions": []any{map[string]any{
			"id": "v2.0", "status": "SUPPORTED", "version": "", "min_version": "", "updated": "2011-01-21T11:33:21Z",
			"links": []any{map[string]any{"rel": "self", "href": base + "/v2/"}},
		}, v21}})
		return
	case "/v2.1", "/v2.1/":
		writeJSON(w, http.StatusOK, map[string]any{"version": v21})
		return
	}
	t := c.authenticate(r)
	if t == nil {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf("Keystone uri=%q", c.srv.URL+"/identity"))
		serviceError(w, "/identity", http.StatusUnauthorized, "", unauthorized)
		return
	}
	mv := microversion{2, 1}
	asked := r.Header.Get("X-OpenStack-Nova-API-Version")
	if h := r.Header.Get("OpenStack-API-Version"); h != "" {
		if svc, ver, ok := strings.Cut(h, " "); ok && svc == "compute" {
			asked = ver
		}
	}
	switch {
	case asked == "latest":
		mv = max
	case asked != "":
		v, ok := parseMicroversion(asked)
		if !ok {
			serviceError(w, "/compute", http.StatusBadRequest, "", fmt.Sprintf("API Version String %s is of invalid format. Must be of format MajorNum.MinorNum.", asked))
			return
		}
		if v.less(microversion{2, 1}) || max.less(v) {
			serviceError(w, "/compute", http.StatusNotAcceptable, "computeFault", fmt.Sprintf("Version %s is not supported by the API. Minimum is 2.1 and maximum is %s.", v, max))
			return
		}
		mv = v
	}
	w.Header().Set("OpenStack-API-Version", "compute "+mv.String())
	w.Header().Set("X-OpenStack-Nova-API-Version", mv.String())
	w.Header().Set("Vary", "OpenStack-API-Version, X-OpenStack-Nova-API-Version")

	rest := strings.TrimPrefix(path, "/v2.1")
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	switch {
	case r.Method == http.MethodGet && rest == "/servers/detail":
		c.novaList(w, r, t, mv, true)
	case r.Method == http.MethodGet && rest == "/servers":
		c.novaList(w, r, t, mv, false)
	case r.Method == http.MethodGet && len(parts) == 2 && parts[0] == "servers":
		s := c.visibleServer(t, mv, parts[1])
		if s == nil {
			serviceError(w, "/compute", http.StatusNotFound, "", fmt.Sprintf("Instance %s could not be found.", parts[1]))
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"server": s})
	case r.Method == http.MethodPost && len(parts) == 3 && parts[0] == "servers" && parts[2] == "action":
		c.novaAction(w, r, t, mv, parts[1])
	case r.Method == http.MethodPost && len(parts) == 3 && parts[0] == "servers" && parts[2] == "remote-consoles":
		c.novaRemoteConsole(w, r, t, mv, parts[1])
	default:
		serviceError(w, "/compute", http.StatusNotFound, "", "The resource could not be found.")
	}
}

func (c *Cloud) visibleServer(t *token, mv microversion, id string) map[string]any {
	for _, s := range c.serverList(t, mv, func(sid, _, tenant string) bool {
		return sid == id && (t.admin() || tenant == t.ProjectID)
	}) {
		return s
	}
	return nil
}

func (c *Cloud) novaList(w http.ResponseWriter, r *http.Request, t *token, mv microversion, detail bool) {
	q := r.URL.Query()
	all := q.Get("all_tenants") != "" && q.Get("all_tenants") != "0" && !strings.EqualFold(q.Get("all_tenants"), "false")
	if all && !t.admin() {
		serviceError(w, "/compute", http.StatusForbidden, "", "Policy doesn't allow os_compute_api:servers:index:get_all_tenants to be performed.")
		return
	}
	var nameRE *regexp.Regexp
	if n := q.Get("name"); n != "" {
		re, err := regexp.Compile(n)
		if err != nil {
			serviceError(w, "/compute", http.StatusBadRequest, "", "Invalid filter field: name.")
			return
		}
		nameRE = re
	}
	project := q.Get("project_id")
	if project == "" {
		project = q.Get("tenant_id")
	}
	keep := func(id, name, tenant string) bool {
		switch {
		case !all && tenant != t.ProjectID, project != "" && tenant != project:
			return false
		}
		return nameRE == nil || nameRE.MatchString(name)
	}
	// The page is chosen before rendering: rendering a large world's every
	// server for each page would make the fake, not the client, the cost.
	var ids []string
	c.serverList(t, mv, func(id, name, tenant string) bool {
		if keep(id, name, tenant) {
			ids = append(ids, id)
		}
		return false
	})
	start, end, next, err := c.pageOf(r, ids)
	if err != nil {
		serviceError(w, "/compute", http.StatusBadRequest, "", err.Error())
		return
	}
	page := map[string]bool{}
	for _, id := range ids[start:end] {
		page[id] = true
	}
	out := []any{}
	for _, s := range c.serverList(t, mv, func(id, _, _ string) bool { return page[id] }) {
		if !detail {
			s = map[string]any{"id": s["id"], "name": s["name"], "links": s["links"]}
		}
		out = append(out, s)
	}
	writeList(w, "servers", out, next)
}

// serverList renders the servers keep admits, judged on their ID, name
// and project before rendering, so that a large world lists fast.
func (c *Cloud) serverList(t *token, mv microversion, keep func(id, name, tenant string) bool) []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []map[string]any
	for i := range c.world.Servers {
		s := &c.world.Servers[i]
		if keep(s.ID, s.Name, s.ProjectID) {
			out = append(out, c.renderServer(s, mv))
		}
	}
	for _, s := range c.coll["servers"] {
		if keep(fmt.Sprint(s["id"]), fmt.Sprint(s["name"]), fmt.Sprint(s["tenant_id"])) {
			out = append(out, s)
		}
	}
	if !t.admin() {
		for i, s := range out {
			out[i] = stripPrefixes(s, "OS-EXT-SRV-ATTR:", "host_status")
		}
	}
	return out
}

func (c *Cloud) novaAction(w http.ResponseWriter, r *http.Request, t *token, mv microversion, id string) {
	s := c.visibleServer(t, mv, id)
	if s == nil {
		serviceError(w, "/compute", http.StatusNotFound, "", fmt.Sprintf("Instance %s could not be found.", id))
		return
	}
	var body map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		serviceError(w, "/compute", http.StatusBadRequest, "", "Malformed request body")
		return
	}
	raw, ok := body["os-getConsoleOutput"]
	if !ok {
		serviceError(w, "/compute", http.StatusBadRequest, "", "There is no such action")
		return
	}
	var opts struct {
		Length json.RawMessage `json:"length"`
	}
	_ = json.Unmarshal(raw, &opts)
	output, onHost := c.consoleOutput(id)
	if !onHost {
		// Nova's check_instance_host: a server on no host (shelved
		// offloaded, never scheduled) has no console.
		serviceError(w, "/compute", http.StatusConflict, "conflictingRequest", fmt.Sprintf("Instance %s is not ready", id))
		return
	}
	if n, err := strconv.Atoi(strings.Trim(string(opts.Length), `"`)); err == nil && n >= 0 {
		lines := strings.SplitAfter(output, "\n")
		if lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		if len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		output = strings.Join(lines, "")
	}
	writeJSON(w, http.StatusOK, map[string]any{"output": output})
}

// consoleOutput is a server's console log, and whether the server is on a
// host (and so has one).
func (c *Cloud) consoleOutput(id string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.world.Servers {
		if s.ID == id {
			return s.ConsoleOutput, s.Host != ""
		}
	}
	for _, s := range c.world.Raw["servers"] {
		if s["id"] == id {
			// Recorded by a non-admin, the host is not shown: assume one.
			host, _ := s["OS-EXT-SRV-ATTR:host"].(string)
			_, shown := s["OS-EXT-SRV-ATTR:host"]
			return c.world.ConsoleOutputs[id], host != "" || !shown
		}
	}
	return "", true
}

func (c *Cloud) novaRemoteConsole(w http.ResponseWriter, r *http.Request, t *token, mv microversion, id string) {
	if mv.less(microversion{2, 6}) {
		serviceError(w, "/compute", http.StatusNotFound, "", "The resource could not be found.")
		return
	}
	if c.visibleServer(t, mv, id) == nil {
		serviceError(w, "/compute", http.StatusNotFound, "", fmt.Sprintf("Instance %s could not be found.", id))
		return
	}
	var srv Server
	c.mu.Lock()
	for _, s := range c.world.Servers {
		if s.ID == id {
			srv = s
		}
	}
	c.mu.Unlock()
	var body struct {
		RemoteConsole struct {
			Protocol string `json:"protocol"`
			Type     string `json:"type"`
		} `json:"remote_console"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		serviceError(w, "/compute", http.StatusBadRequest, "", "Malformed request body")
		return
	}
	rc := body.RemoteConsole
	var url string
	switch rc.Protocol {
	case "serial":
		if srv.SerialDisabled {
			serviceError(w, "/compute", http.StatusBadRequest, "", "Unavailable console type serial.")
			return
		}
		url = orDefault(srv.SerialURL, "ws://127.0.0.1:6083/?token="+newID())
	case "vnc":
		url = c.srv.URL + "/vnc_auto.html?path=%3Ftoken%3D" + newID()
	default:
		serviceError(w, "/compute", http.StatusBadRequest, "", fmt.Sprintf("Invalid input for field/attribute protocol. Value: %s.", rc.Protocol))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"remote_console": map[string]any{"protocol": rc.Protocol, "type": rc.Type, "url": url}})
}

// renderServer shapes a server as Nova does at microversion mv. Called
// with c.mu held.
func (c *Cloud) renderServer(s *Server, mv microversion) map[string]any {
	base := c.srv.URL + "/compute/v2.1"
	status := orDefault(s.Status, "ACTIVE")
	vm := s.VMState
	if vm == "" {
		vm = map[string]string{"ACTIVE": "active", "SHUTOFF": "stopped", "ERROR": "error", "BUILD": "building", "PAUSED": "paused", "SUSPENDED": "suspended"}[status]
	}
	power := map[string]int{"active": 1, "stopped": 4, "paused": 3, "suspended": 4}[vm]

	// Addresses come from the server's ports and their floating IPs.
	addresses := map[string]any{}
	var sgNames []any
	seen := map[string]bool{}
	for _, p := range c.lookup("ports", "device_id", s.ID) {
		name := fmt.Sprint(p["network_id"])
		for _, n := range c.lookup("networks", "id", name) {
			name = fmt.Sprint(n["name"])
		}
		var list []any
		if l, ok := addresses[name].([]any); ok {
			list = l
		}
		fixed, _ := p["fixed_ips"].([]any)
		for _, f := range fixed {
			ip := fmt.Sprint(f.(map[string]any)["ip_address"])
			ver := 4
			if strings.Contains(ip, ":") {
				ver = 6
			}
			list = append(list, map[string]any{"version": ver, "addr": ip, "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": p["mac_address"]})
			for _, fip := range c.lookup("floatingips", "port_id", fmt.Sprint(p["id"])) {
				if fip["fixed_ip_address"] == ip {
					list = append(list, map[string]any{"version": 4, "addr": fip["floating_ip_address"], "OS-EXT-IPS:type": "floating", "OS-EXT-IPS-MAC:mac_addr": p["mac_address"]})
				}
			}
		}
		addresses[name] = list
		groups, _ := p["security_groups"].([]any)
		for _, g := range groups {
			for _, sg := range c.lookup("security_groups", "id", fmt.Sprint(g)) {
				n := fmt.Sprint(sg["name"])
				// Nova lists a group once per port.
				sgNames = append(sgNames, map[string]any{"name": n})
				seen[n] = true
			}
		}
	}
	for _, n := range s.SecurityGroups {
		if !seen[n] {
			sgNames = append(sgNames, map[string]any{"name": n})
		}
	}

	hostID := ""
	if s.Host != "" {
		h := sha256.Sum224([]byte(s.ProjectID + s.Host))
		hostID = hex.EncodeToString(h[:])
	}
	links := []any{
		map[string]any{"rel": "self", "href": base + "/servers/" + s.ID},
		map[string]any{"rel": "bookmark", "href": c.srv.URL + "/compute/servers/" + s.ID},
	}
	m := map[string]any{
		"id":        s.ID,
		"name":      s.Name,
		"status":    status,
		"tenant_id": s.ProjectID,
		"user_id":   orDefault(s.UserID, "e8a3c1b2d4f64a5b9c7d8e9f0a1b2c3d"),
		"metadata":  map[string]any{},
		"hostId":    hostID,
		"image": map[string]any{"id": "5c2a3b1e-9d7f-4a8b-8c6d-2e1f0a9b8c7d", "links": []any{
			map[string]any{"rel": "bookmark", "href": c.srv.URL + "/compute/images/5c2a3b1e-9d7f-4a8b-8c6d-2e1f0a9b8c7d"}}},
		"created":                              ts(s.Created),
		"updated":                              ts(s.Created),
		"addresses":                            addresses,
		"accessIPv4":                           "",
		"accessIPv6":                           "",
		"links":                                links,
		"OS-DCF:diskConfig":                    "MANUAL",
		"progress":                             0,
		"OS-EXT-AZ:availability_zone":          orDefault(s.AZ, "nova"),
		"config_drive":                         "",
		"key_name":                             nil,
		"OS-SRV-USG:launched_at":               "2026-11-02T09:30:12.000000",
		"OS-SRV-USG:terminated_at":             nil,
		"OS-EXT-SRV-ATTR:host":                 nullable(s.Host),
		"OS-EXT-SRV-ATTR:instance_name":        "instance-00000001",
		"OS-EXT-SRV-ATTR:hypervisor_hostname":  nullable(s.Host),
		"OS-EXT-STS:task_state":                nullable(s.TaskState),
		"OS-EXT-STS:vm_state":                  vm,
		"OS-EXT-STS:power_state":               power,
		"os-extended-volumes:volumes_attached": []any{},
	}
	if len(sgNames) > 0 {
		m["security_groups"] = sgNames
	}
	if !mv.less(microversion{2, 3}) {
		m["OS-EXT-SRV-ATTR:reservation_id"] = "r-3fhpjulh"
		m["OS-EXT-SRV-ATTR:launch_index"] = 0
		m["OS-EXT-SRV-ATTR:hostname"] = s.Name
		m["OS-EXT-SRV-ATTR:kernel_id"] = ""
		m["OS-EXT-SRV-ATTR:ramdisk_id"] = ""
		m["OS-EXT-SRV-ATTR:root_device_name"] = "/dev/vda"
		m["OS-EXT-SRV-ATTR:user_data"] = nil
	}
	if !mv.less(microversion{2, 9}) {
		m["locked"] = false
	}
	if !mv.less(microversion{2, 16}) {
		m["host_status"] = "UP"
		if s.Host == "" {
			m["host_status"] = ""
		}
	}
	if !mv.less(microversion{2, 19}) {
		m["description"] = nil
	}
	if !mv.less(microversion{2, 26}) {
		m["tags"] = []any{}
	}
	if mv.less(microversion{2, 47}) {
		m["flavor"] = map[string]any{"id": "1", "links": []any{map[string]any{"rel": "bookmark", "href": c.srv.URL + "/compute/flavors/1"}}}
	} else {
		m["flavor"] = map[string]any{"vcpus": 1, "ram": 512, "disk": 1, "ephemeral": 0, "swap": 0, "original_name": "m1.tiny", "extra_specs": map[string]any{}}
	}
	if f := s.Fault; f != nil {
		m["fault"] = map[string]any{"code": f.Code, "message": f.Message, "details": f.Details, "created": ts(s.Created)}
	}
	return normalise(m)
}

// stripPrefixes copies m without the keys starting with any prefix.
func stripPrefixes(m map[string]any, prefixes ...string) map[string]any {
	out := make(map[string]any, len(m))
outer:
	for k, v := range m {
		for _, p := range prefixes {
			if strings.HasPrefix(k, p) {
				continue outer
			}
		}
		out[k] = v
	}
	return out
}
