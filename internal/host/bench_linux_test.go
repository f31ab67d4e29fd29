//go:build linux

package host

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/hoofbeat/hoofbeat/internal/run"
)

// makeNamespaces creates n network namespaces bind-mounted under dir (a
// private tree, not /run/netns), each with lo and a veth pair (3 devices),
// one end with an address. It needs root.
func makeNamespaces(b *testing.B, dir string, n int) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		b.Fatal(err)
	}
	defer orig.Close()
	defer netns.Set(orig)
	for i := 0; i < n; i++ {
		ns, err := netns.New() // unshares this thread into a new namespace
		if err != nil {
			b.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("qdhcp-bench-%04d", i))
		if err := os.WriteFile(p, nil, 0o444); err != nil {
			b.Fatal(err)
		}
		if err := unix.Mount(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()), p, "", unix.MS_BIND, ""); err != nil {
			b.Fatal(err)
		}
		ns.Close()
		veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: fmt.Sprintf("ns-%06d", i)}, PeerName: fmt.Sprintf("tap-%05d", i)}
		if err := netlink.LinkAdd(veth); err != nil {
			b.Fatal(err)
		}
		addr := &netlink.Addr{IPNet: &net.IPNet{IP: net.IPv4(10, byte(i>>8), byte(i), 2), Mask: net.CIDRMask(24, 32)}}
		if err := netlink.AddrAdd(veth, addr); err != nil {
			b.Fatal(err)
		}
	}
}

func cleanNamespaces(dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		unix.Unmount(p, unix.MNT_DETACH)
		os.Remove(p)
	}
}

// BenchmarkHost1000Namespaces is "hoofbeat host" on a host with 1,000
// network namespaces of 3 devices each: the whole local collection, the
// namespaces read through netlink. forks/op counts the processes started
// (a fixed set of commands, none per namespace).
func BenchmarkHost1000Namespaces(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root to create network namespaces")
	}
	dir, err := os.MkdirTemp("", "hoofbeat-netns")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	defer cleanNamespaces(dir)
	const n = 1000
	start := time.Now()
	makeNamespaces(b, dir, n)
	b.Logf("created %d namespaces in %s", n, time.Since(start).Round(time.Millisecond))
	b.ResetTimer()
	var forks int64
	for i := 0; i < b.N; i++ {
		l := &run.Local{Name: "bench"}
		h := Collect(context.Background(), l, "bench", Options{Namespaces: Netlink{Dir: dir}, Logs: []string{}})
		if len(h.Namespaces) != n || h.NamespacesError != "" {
			b.Fatalf("read %d namespaces: %s", len(h.Namespaces), h.NamespacesError)
		}
		for _, ns := range h.Namespaces {
			if len(ns.Links) != 3 || ns.Error != "" {
				b.Fatalf("%s: %d devices %s", ns.Name, len(ns.Links), ns.Error)
			}
		}
		forks += l.Forks()
	}
	b.ReportMetric(float64(forks)/float64(b.N), "forks/op")
	b.ReportMetric(n, "namespaces")
}

// BenchmarkNetlinkNamespaces is the namespace part alone.
func BenchmarkNetlinkNamespaces(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root to create network namespaces")
	}
	dir, _ := os.MkdirTemp("", "hoofbeat-netns")
	defer os.RemoveAll(dir)
	defer cleanNamespaces(dir)
	makeNamespaces(b, dir, 1000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := (Netlink{Dir: dir}).Namespaces(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
