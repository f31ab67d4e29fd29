package fakeos

import (
	"fmt"
	"math/big"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// neutronResources maps URL collections to their JSON keys.
var neutronResources = map[string]struct{ plural, singular, notFound string }{
	"ports":                     {"ports", "port", "PortNotFound"},
	"networks":                  {"networks", "network", "NetworkNotFound"},
	"subnets":                   {"subnets", "subnet", "SubnetNotFound"},
	"security-groups":           {"security_groups", "security_group", "SecurityGroupNotFound"},
	"security-group-rules":      {"security_group_rules", "security_group_rule", "SecurityGroupRuleNotFound"},
	"floatingips":               {"floatingips", "floatingip", "FloatingIPNotFound"},
	"routers":                   {"routers", "router", "RouterNotFound"},
	"agents":                    {"agents", "agent", "AgentNotFound"},
	"network-ip-availabilities": {"network_ip_availabilities", "network_ip_availability", "NetworkNotFound"},
}

// adminOnly are the collections Neutron's default policy keeps to admins.
var adminOnly = map[string]bool{"agents": true, "network-ip-availabilities": true}

// adminAttributes are hidden from non-admins, by collection key.
var adminAttributes = map[string][]string{
	"networks": {"provider:network_type", "provider:physical_network", "provider:segmentation_id", "segments"},
	"ports":    {"binding:host_id", "binding:vif_type", "binding:vif_details", "binding:profile"},
	"routers":  {"distributed", "ha"},
}

// reservedParams are list parameters that are not filters.
var reservedParams = map[string]bool{"fields": true, "limit": true, "marker": true, "sort_key": true, "sort_dir": true, "page_reverse": true}

// notFoundText is what Neutron answers for a URL no extension serves.
const notFoundText = "404 Not Found\n\nThe resource could not be found.\n\n   "

func (c *Cloud) neutron(w http.ResponseWriter, r *http.Request, path string) {
	if path == "" || path == "/" {
		writeJSON(w, http.StatusOK, map[string]any{"versions": []any{map[string]any{
			"id": "v2.0", "status": "CURRENT", "links": []any{map[string]any{"rel": "self", "href": c.srv.URL + "/networking/v2.0/"}}}}})
		return
	}
	t := c.authenticate(r)
	if t == nil {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf("Keystone uri=%q", c.srv.URL+"/identity"))
		serviceError(w, "/identity", http.StatusUnauthorized, "", unauthorized)
		return
	}
	rest, ok := strings.CutPrefix(path, "/v2.0/")
	if !ok || r.Method != http.MethodGet {
		notFoundPlain(w)
		return
	}
	parts := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	res, known := neutronResources[parts[0]]
	c.mu.Lock()
	disabled := c.world.Disabled[parts[0]]
	agentsEmpty := c.agentsEmpty
	c.mu.Unlock()
	if !known || disabled {
		notFoundPlain(w)
		return
	}
	q := r.URL.Query()
	switch len(parts) {
	case 1:
		if adminOnly[parts[0]] && !t.admin() {
			if parts[0] == "agents" && agentsEmpty {
				writeJSON(w, http.StatusOK, map[string]any{"agents": []any{}})
				return
			}
			forbidden(w, "get_"+res.singular)
			return
		}
		var items []map[string]any
		var idx map[string]map[string][]int
		if parts[0] == "network-ip-availabilities" {
			items = c.ipAvailabilities()
		} else {
			items = c.visible(t, res.plural)
			if t.admin() {
				idx = c.indexOf(res.plural)
			}
		}
		if c.unfilteredPage(w, r, res.plural, items, idx) {
			return
		}
		out, err := filter(items, idx, q)
		if err != nil {
			serviceError(w, "/networking", http.StatusBadRequest, "HTTPBadRequest", err.Error())
			return
		}
		c.writePage(w, r, res.plural, out)
	case 2:
		if adminOnly[parts[0]] && !t.admin() {
			forbidden(w, "get_"+res.singular)
			return
		}
		var items []map[string]any
		if parts[0] == "network-ip-availabilities" {
			items = c.ipAvailabilities()
		} else {
			items = c.visible(t, res.plural)
		}
		idKey := "id"
		if parts[0] == "network-ip-availabilities" {
			idKey = "network_id"
		}
		for _, it := range items {
			if it[idKey] == parts[1] {
				writeJSON(w, http.StatusOK, map[string]any{res.singular: project(it, q["fields"])})
				return
			}
		}
		what := strings.TrimSuffix(res.notFound, "NotFound")
		if what == "FloatingIP" {
			what = "Floating IP"
		}
		serviceError(w, "/networking", http.StatusNotFound, res.notFound, fmt.Sprintf("%s %s could not be found.", what, parts[1]))
	case 3:
		if parts[0] == "agents" {
			c.agentHosting(w, r, t, parts[1], parts[2])
			return
		}
		c.neutronHosting(w, t, parts)
	default:
		notFoundPlain(w)
	}
}

// neutronHosting answers networks/{id}/dhcp-agents and routers/{id}/l3-agents.
func (c *Cloud) neutronHosting(w http.ResponseWriter, t *token, parts []string) {
	kind, id, sub := parts[0], parts[1], parts[2]
	if !(kind == "networks" && sub == "dhcp-agents") && !(kind == "routers" && sub == "l3-agents") {
		notFoundPlain(w)
		return
	}
	c.mu.Lock()
	disabled := c.world.Disabled[sub]
	c.mu.Unlock()
	if disabled {
		notFoundPlain(w)
		return
	}
	if !t.admin() {
		if sub == "dhcp-agents" {
			forbidden(w, "get_dhcp-agents")
		} else {
			forbidden(w, "get_l3-agents")
		}
		return
	}
	res := neutronResources[kind]
	exists := false
	for _, it := range c.visible(t, res.plural) {
		if it["id"] == id {
			exists = true
		}
	}
	if !exists {
		what := "Network"
		if kind == "routers" {
			what = "Router"
		}
		serviceError(w, "/networking", http.StatusNotFound, res.notFound, fmt.Sprintf("%s %s could not be found.", what, id))
		return
	}
	c.mu.Lock()
	agents := c.coll["agents"]
	var out []any
	if sub == "dhcp-agents" {
		for _, aid := range c.world.DHCPHosting[id] {
			for _, a := range agents {
				if a["id"] == aid {
					out = append(out, a)
				}
			}
		}
	} else {
		for _, h := range c.world.L3Hosting[id] {
			for _, a := range agents {
				if a["id"] == h.AgentID {
					b := make(map[string]any, len(a)+1)
					for k, v := range a {
						b[k] = v
					}
					if h.HAState != "" {
						b["ha_state"] = h.HAState
					}
					out = append(out, b)
				}
			}
		}
	}
	c.mu.Unlock()
	if out == nil {
		out = []any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"agents": out})
}

func notFoundPlain(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte(notFoundText))
}

func forbidden(w http.ResponseWriter, action string) {
	serviceError(w, "/networking", http.StatusForbidden, "PolicyNotAuthorized", fmt.Sprintf("rule:%s is disallowed by policy", action))
}

// indexedKeys are the attributes the fake indexes for admins' lists.
var indexedKeys = []string{"id", "network_id", "device_id", "port_id", "security_group_id"}

// indexOf returns the index of a collection, built on first use.
func (c *Cloud) indexOf(key string) map[string]map[string][]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.indexLocked(key)
}

// lookup returns the objects of a collection whose attribute k is v.
// Called with c.mu held.
func (c *Cloud) lookup(key, k, v string) []map[string]any {
	var out []map[string]any
	for _, i := range c.indexLocked(key)[k][v] {
		out = append(out, c.coll[key][i])
	}
	return out
}

func (c *Cloud) indexLocked(key string) map[string]map[string][]int {
	if idx, ok := c.index[key]; ok {
		return idx
	}
	idx := map[string]map[string][]int{}
	for _, k := range indexedKeys {
		byValue := map[string][]int{}
		for i, it := range c.coll[key] {
			if v, ok := it[k].(string); ok {
				byValue[v] = append(byValue[v], i)
			}
		}
		idx[k] = byValue
	}
	if c.index == nil {
		c.index = map[string]map[string]map[string][]int{}
	}
	c.index[key] = idx
	return idx
}

// visible returns the objects of a collection the token may see, without
// the attributes its role may not.
func (c *Cloud) visible(t *token, key string) []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	items := c.coll[key]
	if t.admin() {
		return items
	}
	netOwner := map[any]any{}
	netOpen := map[any]bool{}
	for _, n := range c.coll["networks"] {
		netOwner[n["id"]] = n["project_id"]
		netOpen[n["id"]] = n["shared"] == true || n["router:external"] == true
	}
	var out []map[string]any
	for _, it := range items {
		own := it["project_id"] == t.ProjectID || it["tenant_id"] == t.ProjectID
		switch key {
		case "networks":
			own = own || it["shared"] == true || it["router:external"] == true
		case "subnets":
			own = own || netOpen[it["network_id"]]
		case "ports":
			own = own || netOwner[it["network_id"]] == t.ProjectID
		}
		if !own {
			continue
		}
		if attrs := adminAttributes[key]; len(attrs) > 0 {
			it = stripPrefixes(it, attrs...)
		}
		out = append(out, it)
	}
	return out
}

// ipAvailabilities computes network-ip-availabilities from the pools and
// the ports' addresses.
func (c *Cloud) ipAvailabilities() []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	used := map[string]int64{}
	for _, p := range c.coll["ports"] {
		fixed, _ := p["fixed_ips"].([]any)
		for _, f := range fixed {
			used[fmt.Sprint(f.(map[string]any)["subnet_id"])]++
		}
	}
	var out []map[string]any
	for _, n := range c.coll["networks"] {
		var subs []any
		var total, usedTotal big.Int
		for _, s := range c.coll["subnets"] {
			if s["network_id"] != n["id"] {
				continue
			}
			var size big.Int
			pools, _ := s["allocation_pools"].([]any)
			for _, p := range pools {
				pm := p.(map[string]any)
				size.Add(&size, rangeSize(fmt.Sprint(pm["start"]), fmt.Sprint(pm["end"])))
			}
			u := big.NewInt(used[fmt.Sprint(s["id"])])
			total.Add(&total, &size)
			usedTotal.Add(&usedTotal, u)
			subs = append(subs, map[string]any{
				"subnet_id": s["id"], "subnet_name": s["name"], "cidr": s["cidr"], "ip_version": s["ip_version"],
				"total_ips": new(big.Int).Set(&size), "used_ips": u,
			})
		}
		if subs == nil {
			subs = []any{}
		}
		out = append(out, map[string]any{
			"network_id": n["id"], "network_name": n["name"], "project_id": n["project_id"], "tenant_id": n["tenant_id"],
			"subnet_ip_availability": subs, "total_ips": &total, "used_ips": &usedTotal,
		})
	}
	return out
}

func rangeSize(start, end string) *big.Int {
	a, err1 := netip.ParseAddr(start)
	b, err2 := netip.ParseAddr(end)
	if err1 != nil || err2 != nil {
		return new(big.Int)
	}
	x := new(big.Int).SetBytes(a.AsSlice())
	y := new(big.Int).SetBytes(b.AsSlice())
	d := new(big.Int).Sub(y, x)
	return d.Add(d, big.NewInt(1))
}

// filter applies Neutron's list filters: values of one key are OR'd,
// keys are AND'ed; an attribute no object has is refused (as with
// filter validation on); fields= projects.
//
// idx, when not nil, indexes items by the values of some attributes; it
// only narrows the candidates, so that a large world stays fast.
func filter(items []map[string]any, idx map[string]map[string][]int, q url.Values) ([]any, error) {
	for key := range q {
		if reservedParams[key] || len(items) == 0 {
			continue
		}
		known := false
		for _, it := range items {
			if _, ok := it[key]; ok {
				known = true
				break
			}
		}
		if !known {
			return nil, fmt.Errorf("[%s] is invalid attribute for filtering", key)
		}
	}
	candidates := items
	for _, key := range sortedKeys(q) {
		byValue, ok := idx[key]
		if !ok {
			continue
		}
		var pos []int
		for _, v := range q[key] {
			pos = append(pos, byValue[v]...)
		}
		slices.Sort(pos)
		pos = slices.Compact(pos)
		candidates = make([]map[string]any, 0, len(pos))
		for _, p := range pos {
			candidates = append(candidates, items[p])
		}
		break
	}
	out := []any{}
	for _, it := range candidates {
		keep := true
		for key, vals := range q {
			if reservedParams[key] {
				continue
			}
			if !matchAny(it[key], vals) {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, project(it, q["fields"]))
		}
	}
	return out, nil
}

// project keeps only the requested fields.
func project(it map[string]any, fields []string) map[string]any {
	if len(fields) == 0 {
		return it
	}
	out := map[string]any{}
	for _, f := range fields {
		if v, ok := it[f]; ok {
			out[f] = v
		}
	}
	return out
}

func matchAny(v any, vals []string) bool {
	for _, want := range vals {
		if match(v, want) {
			return true
		}
	}
	return false
}

func match(v any, want string) bool {
	switch x := v.(type) {
	case string:
		return x == want
	case bool:
		b, err := strconv.ParseBool(want)
		return err == nil && b == x
	case float64:
		f, err := strconv.ParseFloat(want, 64)
		return err == nil && f == x
	case []any:
		for _, e := range x {
			switch y := e.(type) {
			case string:
				if y == want {
					return true
				}
			case map[string]any:
				// fixed_ips=ip_address=10.0.0.5 or subnet_id=…
				k, val, ok := strings.Cut(want, "=")
				if ok && fmt.Sprint(y[k]) == val {
					return true
				}
			}
		}
	case nil:
		return slices.Contains([]string{"", "None", "null"}, want)
	}
	return false
}

// agentHosting answers agents/{id}/dhcp-networks and agents/{id}/l3-routers:
// what one agent hosts, admin-only, as Neutron's agent scheduler extension
// does.
func (c *Cloud) agentHosting(w http.ResponseWriter, r *http.Request, t *token, id, sub string) {
	if sub != "dhcp-networks" && sub != "l3-routers" {
		notFoundPlain(w)
		return
	}
	if !t.admin() {
		forbidden(w, "get_"+sub)
		return
	}
	c.mu.Lock()
	found := false
	for _, a := range c.world.Agents {
		found = found || a.ID == id
	}
	var ids []string
	if sub == "dhcp-networks" {
		for _, nid := range sortedKeys(c.world.DHCPHosting) {
			if slices.Contains(c.world.DHCPHosting[nid], id) {
				ids = append(ids, nid)
			}
		}
	} else {
		for _, rid := range sortedKeys(c.world.L3Hosting) {
			for _, h := range c.world.L3Hosting[rid] {
				if h.AgentID == id {
					ids = append(ids, rid)
				}
			}
		}
	}
	kind := map[string]string{"dhcp-networks": "networks", "l3-routers": "routers"}[sub]
	out := []any{}
	for _, x := range ids {
		for _, it := range c.lookup(kind, "id", x) {
			out = append(out, it)
		}
	}
	c.mu.Unlock()
	if !found {
		serviceError(w, "/networking", http.StatusNotFound, "AgentNotFound", fmt.Sprintf("Agent %s could not be found.", id))
		return
	}
	c.writePage(w, r, kind, out)
}

// unfilteredPage answers a page of a whole collection from the index, in
// time and garbage proportional to the page, not to the collection: a
// fake that copied 100,000 ports per page would measure its own garbage
// collector, not the client. It reports false when the request filters,
// projects or is not paged, or the collection is not indexed.
func (c *Cloud) unfilteredPage(w http.ResponseWriter, r *http.Request, key string, items []map[string]any, idx map[string]map[string][]int) bool {
	q := r.URL.Query()
	for k := range q {
		if k != "limit" && k != "marker" {
			return false
		}
	}
	c.mu.Lock()
	maxLimit := c.pageCap
	c.mu.Unlock()
	limit, _ := strconv.Atoi(q.Get("limit"))
	if maxLimit > 0 && (limit <= 0 || limit > maxLimit) {
		limit = maxLimit
	}
	if idx == nil || limit <= 0 {
		return false
	}
	start := 0
	if m := q.Get("marker"); m != "" {
		pos := idx["id"][m]
		if len(pos) == 0 {
			return false // the slow path says why
		}
		start = pos[0] + 1
	}
	end := min(start+limit, len(items))
	page := make([]any, 0, end-start)
	for _, it := range items[start:end] {
		page = append(page, it)
	}
	next := ""
	if end < len(items) {
		u := *r.URL
		nq := u.Query()
		nq.Set("limit", strconv.Itoa(limit))
		nq.Set("marker", fmt.Sprint(items[end-1]["id"]))
		u.RawQuery = nq.Encode()
		next = c.srv.URL + u.RequestURI()
	}
	writeList(w, key, page, next)
	return true
}

// writePage writes a list answer, one page of it when the request has a
// limit (or the cloud a page cap): Neutron's and Nova's limit and marker
// pagination, with a "next" link in <key>_links while items remain.
func (c *Cloud) writePage(w http.ResponseWriter, r *http.Request, key string, items []any) {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i], _ = it.(map[string]any)["id"].(string)
	}
	start, end, next, err := c.pageOf(r, ids)
	if err != nil {
		serviceError(w, r.URL.Path, http.StatusBadRequest, "HTTPBadRequest", err.Error())
		return
	}
	writeList(w, key, items[start:end], next)
}

func writeList(w http.ResponseWriter, key string, items []any, next string) {
	body := map[string]any{key: items}
	if next != "" {
		body[key+"_links"] = []any{map[string]any{"rel": "next", "href": next}}
	}
	writeJSON(w, http.StatusOK, body)
}

// pageOf is the page a request asks for among items with these IDs, in
// order: ids[start:end], and the link to the next page ("" at the end).
func (c *Cloud) pageOf(r *http.Request, ids []string) (start, end int, next string, err error) {
	q := r.URL.Query()
	c.mu.Lock()
	maxLimit := c.pageCap
	c.mu.Unlock()
	limit, _ := strconv.Atoi(q.Get("limit"))
	if maxLimit > 0 && (limit <= 0 || limit > maxLimit) {
		limit = maxLimit
	}
	if limit <= 0 {
		return 0, len(ids), "", nil
	}
	if m := q.Get("marker"); m != "" {
		start = -1
		for i, id := range ids {
			if id == m {
				start = i + 1
				break
			}
		}
		if start < 0 {
			return 0, 0, "", fmt.Errorf("marker [%s] not found", m)
		}
	}
	end = min(start+limit, len(ids))
	if end < len(ids) {
		u := *r.URL
		nq := u.Query()
		nq.Set("limit", strconv.Itoa(limit))
		nq.Set("marker", ids[end-1])
		u.RawQuery = nq.Encode()
		next = c.srv.URL + u.RequestURI()
	}
	return start, end, next, nil
}
