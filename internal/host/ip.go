package host

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// ipLink is the part of `ip -d -json addr show` hoofbeat reads.
type ipLink struct {
	IfName    string   `json:"ifname"`
	Flags     []string `json:"flags"`
	OperState string   `json:"operstate"`
	MTU       int      `json:"mtu"`
	Master    string   `json:"master"`
	Address   string   `json:"address"`
	LinkInfo  *struct {
		InfoKind string `json:"info_kind"`
		InfoData *struct {
			ID    *int   `json:"id"`
			Local string `json:"local"`
			Port  int    `json:"port"`
			Link  string `json:"link"`
		} `json:"info_data"`
	} `json:"linkinfo"`
	AddrInfo []struct {
		Family    string `json:"family"`
		Local     string `json:"local"`
		PrefixLen int    `json:"prefixlen"`
	} `json:"addr_info"`
}

// ParseIPAddr reads `ip -d -json addr show` (or `ip -json addr`): devices
// with their kind, master, state and addresses.
func ParseIPAddr(b []byte) ([]snapshot.Link, error) {
	var raw []ipLink
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("read ip -json addr: %w", err)
	}
	out := make([]snapshot.Link, 0, len(raw))
	for _, r := range raw {
		if r.IfName == "" {
			continue
		}
		l := snapshot.Link{Name: r.IfName, Master: r.Master, MAC: r.Address, MTU: max(r.MTU, 0),
			Up: slices.Contains(r.Flags, "UP")}
		// ip prints NO-CARRIER for an up device without LOWER_UP.
		l.NoCarrier = l.Up && !slices.Contains(r.Flags, "LOWER_UP")
		if r.LinkInfo != nil {
			l.Kind = r.LinkInfo.InfoKind
			if d := r.LinkInfo.InfoData; d != nil && l.Kind == "vxlan" && d.ID != nil {
				port := d.Port
				if port == 0 {
					port = 8472 // the kernel's default when none is given
				}
				l.VXLAN = &snapshot.VXLAN{VNI: *d.ID, Local: d.Local, Port: port, Dev: d.Link}
			}
		}
		for _, a := range r.AddrInfo {
			if a.Local != "" {
				l.Addrs = append(l.Addrs, fmt.Sprintf("%s/%d", a.Local, a.PrefixLen))
			}
		}
		out = append(out, l)
	}
	return out, nil
}

// ParseIPRoute reads `ip -json route show`.
func ParseIPRoute(b []byte) ([]snapshot.Route, error) {
	var raw []struct {
		Dst     string `json:"dst"`
		Dev     string `json:"dev"`
		Gateway string `json:"gateway"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("read ip -json route: %w", err)
	}
	out := make([]snapshot.Route, 0, len(raw))
	for _, r := range raw {
		out = append(out, snapshot.Route{Dst: r.Dst, Dev: r.Dev, Gateway: r.Gateway})
	}
	return out, nil
}

// ParseFDB reads `bridge -json fdb show` and keeps the entries of vxlan
// devices that name a remote endpoint.
func ParseFDB(b []byte) ([]snapshot.FDBEntry, error) {
	var raw []struct {
		MAC    string `json:"mac"`
		IfName string `json:"ifname"`
		Dst    string `json:"dst"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("read bridge -json fdb: %w", err)
	}
	var out []snapshot.FDBEntry
	for _, r := range raw {
		if r.Dst != "" {
			out = append(out, snapshot.FDBEntry{Dev: r.IfName, MAC: r.MAC, Dst: r.Dst})
		}
	}
	return out, nil
}

// ParseNeighMAC reads `ip -json neigh show to IP` and returns the MAC of a
// resolved entry, or "".
func ParseNeighMAC(b []byte) string {
	var raw []struct {
		LLAddr string   `json:"lladdr"`
		State  []string `json:"state"`
	}
	if json.Unmarshal(b, &raw) != nil {
		return ""
	}
	for _, r := range raw {
		if r.LLAddr != "" && !slices.Contains(r.State, "FAILED") && !slices.Contains(r.State, "INCOMPLETE") {
			return r.LLAddr
		}
	}
	return ""
}
