package fakeos

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// login returns a token for user.
func login(t *testing.T, c *Cloud, user, password string) string {
	t.Helper()
	body := fmt.Sprintf(`{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": %q, "domain": {"id": "default"}, "password": %q}}},
		"scope": {"project": {"name": %q, "domain": {"name": "Default"}}}}}`, user, password, map[string]string{AdminUser: "admin", DemoUser: "demo"}[user])
	resp, err := http.Post(c.AuthURL()+"/auth/tokens", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("login %s: %d %s", user, resp.StatusCode, b)
	}
	return resp.Header.Get("X-Subject-Token")
}

// get does a GET with the token and decodes the JSON answer.
func get(t *testing.T, c *Cloud, token, path string, headers ...string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.URL()+path, nil)
	req.Header.Set("X-Auth-Token", token)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if m == nil {
		m = map[string]any{"_text": string(b)}
	}
	return resp.StatusCode, m, resp.Header
}

func ids(t *testing.T, body map[string]any, key string) []string {
	t.Helper()
	list, ok := body[key].([]any)
	if !ok {
		t.Fatalf("no %q list in %v", key, body)
	}
	var out []string
	for _, it := range list {
		out = append(out, fmt.Sprint(it.(map[string]any)["id"]))
	}
	sort.Strings(out)
	return out
}

func TestNeutronFiltering(t *testing.T) {
	c := Start(t, Standard())
	tok := login(t, c, AdminUser, AdminPassword)

	// Repeated keys are OR'd, different keys AND'ed.
	_, body, _ := get(t, c, tok, "/networking/v2.0/ports?network_id="+NetworkID+"&device_owner=network:dhcp&device_owner=network:router_interface")
	if got := ids(t, body, "ports"); !reflect.DeepEqual(got, []string{DHCPPortID, RouterPortID}) {
		t.Errorf("ports = %v", got)
	}
	_, body, _ = get(t, c, tok, "/networking/v2.0/networks?id="+NetworkID+"&id="+PublicNetworkID)
	if got := ids(t, body, "networks"); len(got) != 2 {
		t.Errorf("networks = %v", got)
	}
	_, body, _ = get(t, c, tok, "/networking/v2.0/networks?router:external=True")
	if got := ids(t, body, "networks"); !reflect.DeepEqual(got, []string{PublicNetworkID}) {
		t.Errorf("external networks = %v", got)
	}
	_, body, _ = get(t, c, tok, "/networking/v2.0/ports?fixed_ips=ip_address%3D"+ServerIP)
	if got := ids(t, body, "ports"); !reflect.DeepEqual(got, []string{PortID}) {
		t.Errorf("ports by address = %v", got)
	}
	_, body, _ = get(t, c, tok, "/networking/v2.0/ports?security_groups="+DefaultSGID+"&fields=fixed_ips&fields=security_groups")
	list := body["ports"].([]any)
	if len(list) != 1 || len(list[0].(map[string]any)) != 2 {
		t.Errorf("fields projection = %v", list)
	}
	_, body, _ = get(t, c, tok, "/networking/v2.0/ports?device_id=nothing")
	if got := body["ports"].([]any); len(got) != 0 {
		t.Errorf("no match = %v", got)
	}
	status, body, _ := get(t, c, tok, "/networking/v2.0/ports?devce_id=typo")
	want := map[string]any{"NeutronError": map[string]any{"type": "HTTPBadRequest", "message": "[devce_id] is invalid attribute for filtering", "detail": ""}}
	if status != 400 || !reflect.DeepEqual(body, want) {
		t.Errorf("unknown filter: %d %v", status, body)
	}
	// Security groups embed their rules.
	_, body, _ = get(t, c, tok, "/networking/v2.0/security-groups?id="+DefaultSGID)
	sg := body["security_groups"].([]any)[0].(map[string]any)
	if rules := sg["security_group_rules"].([]any); len(rules) != 6 {
		t.Errorf("rules = %d", len(rules))
	}
}

func TestNeutronShapes(t *testing.T) {
	c := Start(t, Standard())
	tok := login(t, c, AdminUser, AdminPassword)
	_, body, _ := get(t, c, tok, "/networking/v2.0/subnets/"+PublicSubnetID)
	sub := body["subnet"].(map[string]any)
	for _, k := range []string{"ipv6_ra_mode", "ipv6_address_mode", "subnetpool_id", "segment_id"} {
		if v, ok := sub[k]; !ok || v != nil {
			t.Errorf("subnet %s = %v, %v; want null", k, v, ok)
		}
	}
	_, body, _ = get(t, c, tok, "/networking/v2.0/networks/"+PublicNetworkID)
	n := body["network"].(map[string]any)
	if n["router:external"] != true || n["provider:network_type"] != "flat" || n["provider:segmentation_id"] != nil || n["provider:physical_network"] != "public" {
		t.Errorf("network = %v", n)
	}
	_, body, _ = get(t, c, tok, "/networking/v2.0/routers/"+RouterID+"/l3-agents")
	if got := ids(t, body, "agents"); !reflect.DeepEqual(got, []string{AgentL3}) {
		t.Errorf("l3 agents = %v", got)
	}
	_, body, _ = get(t, c, tok, "/networking/v2.0/agents?agent_type=Open%20vSwitch%20agent")
	a := body["agents"].([]any)[0].(map[string]any)
	if a["heartbeat_timestamp"] == "" || a["configurations"].(map[string]any)["tunneling_ip"] == "" {
		t.Errorf("agent = %v", a)
	}
	_, body, _ = get(t, c, tok, "/networking/v2.0/network-ip-availabilities/"+NetworkID)
	av := body["network_ip_availability"].(map[string]any)
	if av["total_ips"] != float64(61) || av["used_ips"] != float64(3) {
		t.Errorf("availability = %v", av)
	}

	status, body, _ := get(t, c, tok, "/networking/v2.0/ports/0000")
	want := map[string]any{"NeutronError": map[string]any{"type": "PortNotFound", "message": "Port 0000 could not be found.", "detail": ""}}
	if status != 404 || !reflect.DeepEqual(body, want) {
		t.Errorf("missing port: %d %v", status, body)
	}
	status, body, _ = get(t, c, tok, "/networking/v2.0/bgp-speakers")
	if status != 404 || !strings.Contains(fmt.Sprint(body["_text"]), "The resource could not be found.") {
		t.Errorf("unknown collection: %d %v", status, body)
	}
	status, _, _ = get(t, c, "bogus", "/networking/v2.0/ports")
	if status != 401 {
		t.Errorf("bad token: %d", status)
	}
}

func TestNonAdminView(t *testing.T) {
	w := Standard()
	w.Networks = append(w.Networks, Network{ID: "other-net", Name: "other", ProjectID: AdminProjectID})
	c := Start(t, w)
	tok := login(t, c, DemoUser, DemoPassword)
	_, body, _ := get(t, c, tok, "/networking/v2.0/networks")
	if got := ids(t, body, "networks"); !reflect.DeepEqual(got, []string{NetworkID, PublicNetworkID}) {
		t.Errorf("visible networks = %v", got)
	}
	for _, n := range body["networks"].([]any) {
		if _, ok := n.(map[string]any)["provider:network_type"]; ok {
			t.Errorf("provider attributes shown to a member: %v", n)
		}
	}
	_, body, _ = get(t, c, tok, "/networking/v2.0/ports?device_id="+ServerID)
	p := body["ports"].([]any)[0].(map[string]any)
	if _, ok := p["binding:host_id"]; ok {
		t.Errorf("binding shown to a member: %v", p)
	}
	status, body, _ := get(t, c, tok, "/networking/v2.0/agents")
	want := map[string]any{"NeutronError": map[string]any{"type": "PolicyNotAuthorized", "message": "rule:get_agent is disallowed by policy", "detail": ""}}
	if status != 403 || !reflect.DeepEqual(body, want) {
		t.Errorf("agents: %d %v", status, body)
	}
	if status, _, _ := get(t, c, tok, "/networking/v2.0/networks/"+NetworkID+"/dhcp-agents"); status != 403 {
		t.Errorf("dhcp-agents: %d", status)
	}
	_, body, _ = get(t, c, tok, "/compute/v2.1/servers/"+ServerID)
	for k := range body["server"].(map[string]any) {
		if strings.HasPrefix(k, "OS-EXT-SRV-ATTR:") {
			t.Errorf("%s shown to a member", k)
		}
	}
	status, body, _ = get(t, c, tok, "/compute/v2.1/servers/detail?all_tenants=1")
	if status != 403 || body["forbidden"] == nil {
		t.Errorf("all_tenants: %d %v", status, body)
	}
}

func TestNova(t *testing.T) {
	w := Standard()
	w.NovaMaxVersion = "2.60"
	c := Start(t, w)
	tok := login(t, c, AdminUser, AdminPassword)

	status, body, h := get(t, c, tok, "/compute/v2.1/servers/"+ServerID, "X-OpenStack-Nova-API-Version", "2.47")
	s := body["server"].(map[string]any)
	if status != 200 || h.Get("OpenStack-API-Version") != "compute 2.47" || s["OS-EXT-SRV-ATTR:host"] != ComputeHost ||
		s["flavor"].(map[string]any)["original_name"] != "m1.tiny" || s["fault"] != nil {
		t.Errorf("server at 2.47: %d %v %v", status, h, s)
	}
	_, body, _ = get(t, c, tok, "/compute/v2.1/servers/"+ServerID)
	if f := body["server"].(map[string]any)["flavor"].(map[string]any); f["id"] != "1" {
		t.Errorf("flavor at 2.1 = %v", f)
	}
	status, body, _ = get(t, c, tok, "/compute/v2.1/servers/"+ServerID, "OpenStack-API-Version", "compute 2.61")
	if status != 406 || !strings.Contains(fmt.Sprint(body), "maximum is 2.60") {
		t.Errorf("2.61: %d %v", status, body)
	}
	status, body, _ = get(t, c, tok, "/compute/v2.1/servers/nope")
	want := map[string]any{"itemNotFound": map[string]any{"code": float64(404), "message": "Instance nope could not be found."}}
	if status != 404 || !reflect.DeepEqual(body, want) {
		t.Errorf("missing server: %d %v", status, body)
	}
	_, body, _ = get(t, c, tok, "/compute/v2.1/servers/detail?all_tenants=1&name=%5Evm%5B0-9%5D%24")
	if got := ids(t, body, "servers"); !reflect.DeepEqual(got, []string{ServerID}) {
		t.Errorf("regex search = %v", got)
	}
	_, body, _ = get(t, c, tok, "/compute/v2.1/servers/detail?name=vm1")
	if got := body["servers"].([]any); len(got) != 0 {
		t.Errorf("admin's own project holds no server, got %v", got)
	}
	_, body, _ = get(t, c, tok, "/compute/v2.1/")
	if v := body["version"].(map[string]any); v["version"] != "2.60" || v["min_version"] != "2.1" {
		t.Errorf("version document = %v", v)
	}

	post := func(path, body string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, c.URL()+path, strings.NewReader(body))
		req.Header.Set("X-Auth-Token", tok)
		req.Header.Set("X-OpenStack-Nova-API-Version", "2.47")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	status, out := post("/compute/v2.1/servers/"+ServerID+"/action", `{"os-getConsoleOutput": {"length": 2}}`)
	if status != 200 || out["output"] != "login as 'cirros' user. default password: 'gocubsgo'. use 'sudo' for root.\nvm1 login: " {
		t.Errorf("console output: %d %q", status, out["output"])
	}
	status, out = post("/compute/v2.1/servers/"+ServerID+"/remote-consoles", `{"remote_console": {"protocol": "serial", "type": "serial"}}`)
	rc, _ := out["remote_console"].(map[string]any)
	if status != 200 || !strings.HasPrefix(fmt.Sprint(rc["url"]), "ws://127.0.0.1:6083/?token=") {
		t.Errorf("remote console: %d %v", status, out)
	}
}

func TestKeystone(t *testing.T) {
	c := Start(t, Standard())
	resp, err := http.Post(c.AuthURL()+"/auth/tokens", "application/json", strings.NewReader(
		`{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "demo", "domain": {"name": "Default"}, "password": "wrong"}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	want := map[string]any{"error": map[string]any{"code": float64(401), "title": "Unauthorized", "message": "The request you have made requires authentication."}}
	if resp.StatusCode != 401 || !reflect.DeepEqual(body, want) {
		t.Errorf("wrong password: %d %v", resp.StatusCode, body)
	}

	tok := login(t, c, DemoUser, DemoPassword)
	status, body, _ := get(t, c, tok, "/identity/v3/auth/tokens", "X-Subject-Token", tok)
	token := body["token"].(map[string]any)
	if status != 200 || token["project"].(map[string]any)["name"] != "demo" || len(token["roles"].([]any)) != 2 {
		t.Errorf("token: %d %v", status, token)
	}
	catalog := token["catalog"].([]any)
	urls := map[string]string{}
	for _, e := range catalog {
		e := e.(map[string]any)
		urls[fmt.Sprint(e["type"])] = fmt.Sprint(e["endpoints"].([]any)[0].(map[string]any)["url"])
	}
	if urls["compute"] != c.URL()+"/compute/v2.1" || urls["network"] != c.URL()+"/networking" {
		t.Errorf("catalog = %v", urls)
	}
}

func TestFaults(t *testing.T) {
	c := Start(t, Standard())
	tok := login(t, c, AdminUser, AdminPassword)
	c.Inject(Fault{Method: "GET", Path: "/networking/v2.0/subnets", Status: 500, Times: 2})
	for i, want := range []int{500, 500, 200} {
		if status, _, _ := get(t, c, tok, "/networking/v2.0/subnets"); status != want {
			t.Errorf("request %d: %d, want %d", i, status, want)
		}
	}
	c.SetLatency(30 * time.Millisecond)
	start := time.Now()
	get(t, c, tok, "/networking/v2.0/subnets")
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("latency not applied: %v", d)
	}
	c.SetLatency(0)
	if n := c.Count("GET /networking/v2.0/subnets"); n != 4 {
		t.Errorf("count = %d", n)
	}

	// A hanging request is released when the fake closes.
	c.Inject(Fault{Path: "/networking/v2.0/agents", Hang: true})
	done := make(chan int)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, c.URL()+"/networking/v2.0/agents", nil)
		req.Header.Set("X-Auth-Token", tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	select {
	case <-done:
		t.Fatal("the hanging request was answered")
	case <-time.After(100 * time.Millisecond):
	}
	c.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not release the hanging request")
	}
}
