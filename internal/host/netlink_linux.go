//go:build linux

package host

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// Netlink reads the named network namespaces of this machine through
// netlink: two dumps (links, addresses) per namespace, no process started.
type Netlink struct {
	// Dir holds the namespaces' bind mounts (default /run/netns).
	Dir string
}

// Namespaces lists the namespaces in Dir with their devices.
func (n Netlink) Namespaces(ctx context.Context) ([]snapshot.Namespace, error) {
	dir := n.Dir
	if dir == "" {
		dir = "/run/netns"
	}
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list namespaces: %w", err)
	}
	var names []string
	for _, e := range ents {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	out := make([]snapshot.Namespace, 0, len(names))
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		ns := snapshot.Namespace{Name: name}
		links, err := nsLinks(filepath.Join(dir, name))
		if err != nil {
			ns.Error = err.Error()
		}
		ns.Links = links
		out = append(out, ns)
	}
	return out, nil
}

func nsLinks(path string) ([]snapshot.Link, error) {
	h, err := netns.GetFromPath(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer h.Close()
	nl, err := netlink.NewHandleAt(h)
	if err != nil {
		return nil, fmt.Errorf("netlink in %s: %w", path, err)
	}
	defer nl.Close()
	links, err := nl.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list devices in %s: %w", path, err)
	}
	addrs, err := nl.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("list addresses in %s: %w", path, err)
	}
	byIndex := map[int]string{}
	for _, l := range links {
		byIndex[l.Attrs().Index] = l.Attrs().Name
	}
	addrsOf := map[int][]string{}
	for _, a := range addrs {
		if a.IPNet != nil {
			addrsOf[a.LinkIndex] = append(addrsOf[a.LinkIndex], a.IPNet.String())
		}
	}
	out := make([]snapshot.Link, 0, len(links))
	for _, l := range links {
		at := l.Attrs()
		up := at.RawFlags&unix.IFF_UP != 0
		sl := snapshot.Link{Name: at.Name, Up: up, NoCarrier: up && at.RawFlags&unix.IFF_LOWER_UP == 0,
			MTU: at.MTU, Master: byIndex[at.MasterIndex], Addrs: addrsOf[at.Index]}
		if at.HardwareAddr != nil {
			sl.MAC = at.HardwareAddr.String()
		}
		switch t := l.Type(); t {
		case "device":
		default:
			sl.Kind = t
		}
		if vx, ok := l.(*netlink.Vxlan); ok {
			sl.VXLAN = &snapshot.VXLAN{VNI: vx.VxlanId, Port: vx.Port}
			if vx.SrcAddr != nil {
				sl.VXLAN.Local = vx.SrcAddr.String()
			}
		}
		out = append(out, sl)
	}
	return out, nil
}
