package openstack

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// serialMicroversion is the first compute microversion of the
// remote-consoles API, which is the only one that hands out serial consoles.
const serialMicroversion = "2.6"

// ErrConsoleUnavailable is wrapped by SerialConsoleURL when Nova refuses a
// serial console: [serial_console] enabled is false on the server's
// compute host, or its driver has none.
var ErrConsoleUnavailable = errors.New("serial console unavailable")

// TLSConfig is the cloud's TLS configuration (CA bundle, verification,
// client certificate), for connections hoofbeat makes outside the APIs.
func (c *Client) TLSConfig() *tls.Config {
	if c.tls == nil {
		return nil
	}
	return c.tls.Clone()
}

// FindServer resolves a server by ID or exact name, as Collect does.
func (c *Client) FindServer(ctx context.Context, query string) (*snapshot.Server, error) {
	if strings.TrimSpace(query) == "" {
		return nil, newError("find server", KindNotFound, errors.New("no server named \"\": give a server ID or name"))
	}
	k := &collection{c: c, snap: &snapshot.Snapshot{}}
	if uuidRE.MatchString(query) {
		s, err := k.serverByID(ctx, query)
		if err == nil {
			return s.toSnapshot(), nil
		}
		if classify(err) != KindNotFound {
			return nil, newError(fmt.Sprintf("get server %s", query), classify(err), describe(err))
		}
	}
	s, err := k.serverByName(ctx, query)
	if err == nil && s == nil {
		what := fmt.Sprintf("no server named %q", query)
		if uuidRE.MatchString(query) {
			what = fmt.Sprintf("no server with ID or name %q", query)
		}
		s, err = k.serverByNameAllProjects(ctx, query, what)
	}
	if err != nil {
		return nil, err
	}
	return s.toSnapshot(), nil
}

// SerialConsoleURL asks Nova for a serial console of the server
// (POST /servers/{id}/remote-consoles, protocol serial). The URL carries a
// short-lived token: it is a credential and must not be logged.
func (c *Client) SerialConsoleURL(ctx context.Context, serverID string) (string, error) {
	sc := *c.compute
	sc.Microversion = serialMicroversion
	req := map[string]any{"remote_console": map[string]string{"protocol": "serial", "type": "serial"}}
	var resp struct {
		RemoteConsole struct {
			URL string `json:"url"`
		} `json:"remote_console"`
	}
	op := fmt.Sprintf("get serial console of %s", serverID)
	_, err := sc.Post(ctx, sc.ServiceURL("servers", url.PathEscape(serverID), "remote-consoles"), req, &resp,
		&gophercloud.RequestOpts{OkCodes: []int{http.StatusOK}})
	if err != nil {
		if ae, ok := asAPIError(err); ok {
			switch ae.Status {
			case http.StatusBadRequest, http.StatusNotImplemented:
				// Nova answers 400 "Unavailable console type serial." when
				// [serial_console] enabled=false, 501 when the driver has none.
				return "", newError(op, KindAPI, fmt.Errorf("%w: %v", ErrConsoleUnavailable, describe(err)))
			case http.StatusConflict:
				return "", newError(op, KindAPI, fmt.Errorf("the server is not in a state that has a console: %v", describe(err)))
			}
		}
		return "", newError(op, classify(err), describe(err))
	}
	if resp.RemoteConsole.URL == "" {
		return "", newError(op, KindAPI, errors.New("nova answered without a URL"))
	}
	return resp.RemoteConsole.URL, nil
}
