package openstack

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// DefaultConsoleLines is how many lines of the console log Collect reads
// when CollectOptions.ConsoleLines is 0.
const DefaultConsoleLines = 200

// consoleLines is the number of lines to ask for, 0 for none.
func (o CollectOptions) consoleLines() int {
	switch {
	case o.ConsoleLines < 0:
		return 0
	case o.ConsoleLines == 0:
		return DefaultConsoleLines
	case o.ConsoleLines > snapshot.MaxConsoleLines:
		return snapshot.MaxConsoleLines
	}
	return o.ConsoleLines
}

// consoleOutput asks Nova for the tail of the server's console log
// (POST /servers/{id}/action {"os-getConsoleOutput": {"length": n}}). The
// action only reads: Nova reads the log file of the guest's serial port.
func (k *collection) consoleOutput(ctx context.Context, id string, n int) (string, error) {
	req := map[string]any{"os-getConsoleOutput": map[string]any{"length": n}}
	var resp struct {
		Output *string `json:"output"`
	}
	// The action is as old as the compute API: ask at 2.1, which every
	// Nova accepts, rather than negotiate (the server's own GET, running
	// at the same time, does that).
	sc := &gophercloud.ServiceClient{ProviderClient: k.c.provider, Endpoint: k.c.compute.Endpoint, Type: "compute", Microversion: "2.1"}
	_, err := sc.Post(ctx, sc.ServiceURL("servers", url.PathEscape(id), "action"), req, &resp,
		&gophercloud.RequestOpts{OkCodes: []int{http.StatusOK}})
	if err != nil {
		return "", err
	}
	if resp.Output == nil {
		return "", fmt.Errorf("POST server %s action os-getConsoleOutput: the answer has no \"output\"", id)
	}
	return *resp.Output, nil
}

// consoleGap records why the console log could not be read, in Nova's
// terms: a server on no host, a driver that keeps no log.
func (k *collection) consoleGap(serverID string, err error) {
	g := snapshot.Gap{Source: snapshot.SourceConsoleLog, Subject: serverID, Kind: snapshot.GapError}
	ae, ok := asAPIError(err)
	if !ok {
		g.Reason = oneLine(describe(err).Error())
		k.addGap(g)
		return
	}
	g.Status = ae.Status
	said := ""
	if ae.Message != "" {
		said = " (Nova: " + ae.Message + ")"
	}
	switch ae.Status {
	case http.StatusConflict:
		// InstanceNotReady: the server is on no host (shelved offloaded,
		// never scheduled) or in a task that forbids it (migrating, deleting).
		g.Kind = snapshot.GapNotFound
		g.Reason = "the server has no console log now: it is on no host (shelved or never scheduled) or in the middle of a task" + said
	case http.StatusNotFound:
		// ConsoleNotAvailable: the driver keeps no log for this guest.
		g.Kind = snapshot.GapNotFound
		g.Reason = "the hypervisor keeps no console log for this server" + said
	case http.StatusNotImplemented:
		g.Kind = snapshot.GapUnsupported
		g.Reason = "the compute driver cannot return console logs" + said
	case http.StatusForbidden:
		g.Kind = snapshot.GapForbidden
		g.Reason = "the console log is hidden by policy (os_compute_api:os-console-output)" + said
	case http.StatusUnauthorized:
		g.Kind = snapshot.GapUnauthorized
		g.Reason = unauthorizedReason(ae)
	default:
		g.Reason = ae.Error()
	}
	k.addGap(g)
}
