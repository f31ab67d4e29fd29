package openstack

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
)

// Progress sees the walk start and every round of it end, against the rounds
// the walk expects, and ends at done == total; asking for it costs no
// request.
func TestCollectProgress(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	admin, demo := connect(t, fc, fakeos.AdminUser), connect(t, fc, fakeos.DemoUser)
	w := fakeos.Standard()
	w.Servers = append(w.Servers, fakeos.Server{ID: "6a1b2c3d-0000-4000-8000-000000000001", Name: "portless", ProjectID: fakeos.DemoProjectID, Host: fakeos.ComputeHost})
	portless := fakeos.Start(t, w)
	for _, tc := range []struct {
		name   string
		c      *Client
		server string
		want   string
	}{
		{"by ID", admin, fakeos.ServerID, "0/3 1/3 2/3 3/3"},
		{"by name", demo, "vm1", "0/4 1/4 2/4 3/4 4/4"},
		// The admin's project does not hold vm1: one more round, all projects.
		{"by name, all projects", admin, "vm1", "0/4 1/4 2/5 3/5 4/5 5/5"},
		{"no ports", connect(t, portless, fakeos.DemoUser), "portless", "0/4 1/4 2/4 2/2"},
	} {
		var got []string
		var what []string
		requests := collect(t, tc.c, tc.server, CollectOptions{}).Stats.Requests
		s := collect(t, tc.c, tc.server, CollectOptions{Progress: func(done, total int, w string) {
			got = append(got, fmt.Sprintf("%d/%d", done, total))
			what = append(what, w)
		}})
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s: progress %q, want %q", tc.name, strings.Join(got, " "), tc.want)
		}
		if len(what) == 0 || what[0] != RoundsDone {
			t.Errorf("%s: what %q", tc.name, what)
		}
		if s.Stats.Requests != requests {
			t.Errorf("%s: %d requests with progress, %d without", tc.name, s.Stats.Requests, requests)
		}
	}
}
