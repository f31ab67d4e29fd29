package fakeos

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// RecordedPassword is the password of the users LoadRecorded derives from
// recorded tokens (the recordings hold no secret).
const RecordedPassword = "recorded-pa55"

// Recording is one recorded response, as listed in index.json.
type Recording struct {
	Method string `json:"method"`
	// URL is the request URL (only its path matters); Path is accepted too.
	URL    string `json:"url"`
	Path   string `json:"path,omitempty"`
	Status int    `json:"status"`
	// File is the body's file, relative to the index.
	File string `json:"file"`
}

// envelopes maps a response's top-level key to the collection it feeds.
var envelopes = map[string]string{
	"server": "servers", "servers": "servers",
	"port": "ports", "ports": "ports",
	"network": "networks", "networks": "networks",
	"subnet": "subnets", "subnets": "subnets",
	"security_group": "security_groups", "security_groups": "security_groups",
	"floatingip": "floatingips", "floatingips": "floatingips",
	"router": "routers", "routers": "routers",
	"agent": "agents", "agents": "agents",
}

var (
	actionPath     = regexp.MustCompile(`/servers/([^/]+)/action/?$`)
	dhcpAgentsPath = regexp.MustCompile(`/networks/([^/]+)/dhcp-agents/?$`)
	l3AgentsPath   = regexp.MustCompile(`/routers/([^/]+)/l3-agents/?$`)
)

// LoadRecorded builds a World from responses recorded from a real cloud:
// dir holds index.json (a list of Recording, or {"recordings": [...]}) and
// the bodies. Objects are served as recorded (deduplicated by ID); hosting
// agent lists are mapped by their URL; each recorded token yields a user
// (password RecordedPassword) with the token's project and roles; a
// server's os-getConsoleOutput answer becomes its console log. Without
// an index, every *.json body in dir is read, and hosting lists are lost.
func LoadRecorded(dir string) (*World, error) {
	recs, err := readIndex(dir)
	if err != nil {
		return nil, err
	}
	w := &World{Raw: map[string][]map[string]any{}, DHCPHosting: map[string][]string{}, L3Hosting: map[string][]L3Host{}}
	seen := map[string]map[string]bool{}
	add := func(coll string, obj map[string]any) {
		id := fmt.Sprint(obj["id"])
		if seen[coll] == nil {
			seen[coll] = map[string]bool{}
		}
		if obj["id"] == nil {
			return
		}
		if seen[coll][id] {
			// A listing with fields= holds part of an object another
			// recording holds whole: what one lacks, the other gives.
			for _, have := range w.Raw[coll] {
				if fmt.Sprint(have["id"]) == id {
					for k, v := range obj {
						if _, ok := have[k]; !ok {
							have[k] = v
						}
					}
				}
			}
			return
		}
		seen[coll][id] = true
		w.Raw[coll] = append(w.Raw[coll], obj)
	}
	for _, r := range recs {
		if r.Status != 0 && (r.Status < 200 || r.Status > 299) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, r.File))
		if err != nil {
			return nil, fmt.Errorf("recording %s: %w", r.File, err)
		}
		var body map[string]json.RawMessage
		if err := json.Unmarshal(b, &body); err != nil {
			return nil, fmt.Errorf("recording %s: %w", r.File, err)
		}
		path := r.Path
		var query url.Values
		if u, err := url.Parse(r.URL); err == nil && u.Path != "" {
			path, query = u.Path, u.Query()
		}
		for key, raw := range body {
			if m := actionPath.FindStringSubmatch(path); m != nil && key == "output" {
				// os-getConsoleOutput's answer.
				var out string
				if err := json.Unmarshal(raw, &out); err != nil {
					return nil, fmt.Errorf("recording %s: output: %w", r.File, err)
				}
				if w.ConsoleOutputs == nil {
					w.ConsoleOutputs = map[string]string{}
				}
				w.ConsoleOutputs[m[1]] = out
				continue
			}
			if key == "token" {
				if err := w.addToken(raw); err != nil {
					return nil, fmt.Errorf("recording %s: %w", r.File, err)
				}
				continue
			}
			coll, ok := envelopes[key]
			if !ok {
				continue
			}
			objs, err := objects(raw)
			if err != nil {
				return nil, fmt.Errorf("recording %s: %s: %w", r.File, key, err)
			}
			for _, o := range objs {
				implied(o, query)
				if coll == "security_groups" {
					// Rules also form their own collection.
					rules, _ := o["security_group_rules"].([]any)
					for _, rule := range rules {
						if m, ok := rule.(map[string]any); ok {
							add("security_group_rules", m)
						}
					}
				}
				add(coll, o)
			}
			if coll != "agents" {
				continue
			}
			if m := dhcpAgentsPath.FindStringSubmatch(path); m != nil {
				w.DHCPHosting[m[1]] = []string{}
				for _, o := range objs {
					w.DHCPHosting[m[1]] = append(w.DHCPHosting[m[1]], fmt.Sprint(o["id"]))
				}
			}
			if m := l3AgentsPath.FindStringSubmatch(path); m != nil {
				w.L3Hosting[m[1]] = []L3Host{}
				for _, o := range objs {
					h := L3Host{AgentID: fmt.Sprint(o["id"])}
					if s, ok := o["ha_state"].(string); ok {
						h.HAState = s
					}
					w.L3Hosting[m[1]] = append(w.L3Hosting[m[1]], h)
				}
			}
		}
	}
	// ha_state belongs to the hosting list, not to the agent.
	for _, a := range w.Raw["agents"] {
		delete(a, "ha_state")
	}
	return w, nil
}

// objects reads one object or a list of them.
func objects(raw json.RawMessage) ([]map[string]any, error) {
	var list []map[string]any
	if err := json.Unmarshal(raw, &list); err == nil {
		return list, nil
	}
	var one map[string]any
	if err := json.Unmarshal(raw, &one); err != nil {
		return nil, err
	}
	return []map[string]any{one}, nil
}

// addToken turns a recorded token into a project and a user.
func (w *World) addToken(raw json.RawMessage) error {
	var tok struct {
		User struct {
			ID, Name string
		} `json:"user"`
		Project *struct {
			ID, Name string
		} `json:"project"`
		Roles []struct {
			Name string `json:"name"`
		} `json:"roles"`
		Catalog []struct {
			Endpoints []struct {
				Region string `json:"region"`
			} `json:"endpoints"`
		} `json:"catalog"`
	}
	if err := json.Unmarshal(raw, &tok); err != nil {
		return err
	}
	if tok.Project == nil || tok.User.Name == "" {
		return nil
	}
	for _, u := range w.Users {
		if u.ID == tok.User.ID {
			return nil
		}
	}
	u := User{ID: tok.User.ID, Name: tok.User.Name, Password: RecordedPassword, ProjectID: tok.Project.ID}
	for _, r := range tok.Roles {
		u.Roles = append(u.Roles, r.Name)
	}
	w.Users = append(w.Users, u)
	known := false
	for _, p := range w.Projects {
		known = known || p.ID == tok.Project.ID
	}
	if !known {
		w.Projects = append(w.Projects, Project{ID: tok.Project.ID, Name: tok.Project.Name})
	}
	for _, c := range tok.Catalog {
		for _, e := range c.Endpoints {
			if w.Region == "" && e.Region != "" {
				w.Region = e.Region
			}
		}
	}
	return nil
}

// readIndex lists the recordings of dir, from index.json or, without one,
// from the *.json files.
func readIndex(dir string) ([]Recording, error) {
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err == nil {
		var recs []Recording
		if err := json.Unmarshal(b, &recs); err != nil {
			var wrapped struct {
				Recordings []Recording `json:"recordings"`
			}
			if err2 := json.Unmarshal(b, &wrapped); err2 != nil {
				return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "index.json"), err)
			}
			recs = wrapped.Recordings
		}
		return recs, nil
	}
	if !os.IsNotExist(err) {
		return nil, err
	}
	var recs []Recording
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".json") {
			rel, _ := filepath.Rel(dir, p)
			recs = append(recs, Recording{File: rel})
		}
		return nil
	})
	sort.Slice(recs, func(i, j int) bool { return recs[i].File < recs[j].File })
	return recs, err
}

// implied adds to an object of a filtered listing what the filter says of
// it and a fields= projection left out: an object listed for
// router:external=True is external, though only its ID and name came.
func implied(o map[string]any, q url.Values) {
	if len(q["fields"]) == 0 {
		return
	}
	for k, vs := range q {
		if reservedParams[k] || len(vs) != 1 || strings.Contains(vs[0], "=") {
			continue
		}
		if _, ok := o[k]; ok {
			continue
		}
		if b, err := strconv.ParseBool(vs[0]); err == nil {
			o[k] = b
		} else {
			o[k] = vs[0]
		}
	}
}
