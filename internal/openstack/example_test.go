package openstack_test

import (
	"context"
	"fmt"

	"github.com/hoofbeat/hoofbeat/internal/openstack"
	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
)

// Collecting a server from the fake cloud as a member of its project: what
// needs admin comes back as gaps with their reasons.
func Example() {
	fc := fakeos.New(fakeos.Standard())
	defer fc.Close()
	ctx := context.Background()

	c, err := openstack.Connect(ctx, openstack.Options{Getenv: fakeos.Getenv(fc.PasswordEnv(fakeos.DemoUser))})
	if err != nil {
		fmt.Println(err)
		return
	}
	snap, err := c.Collect(ctx, "vm1", openstack.CollectOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(snap.Server.Name, snap.Server.Status, snap.Ports[0].FixedIPs[0].IPAddress)
	for _, g := range snap.Gaps {
		fmt.Printf("%s (%s): %s\n", g.Source, g.Kind, g.Reason)
	}
	fmt.Printf("%d requests, %d round trips\n", snap.Stats.Requests, snap.Stats.RoundTrips)
	// Output:
	// vm1 ACTIVE 10.0.0.5
	// agents (forbidden): agents are hidden
	// dhcp-agents (forbidden): the DHCP agents hosting the network are hidden
	// l3-agents (forbidden): the L3 agents hosting the router are hidden
	// provider-fields (forbidden): provider attributes of network private are hidden
	// server-host (forbidden): the server's host is hidden
	// 12 requests, 4 round trips
}
