package pipeline

import (
	"context"
	"fmt"

	"github.com/hoofbeat/hoofbeat/internal/openstack"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// Stored is a snapshot collected earlier ("hoofbeat collect"'s file): it
// answers for its own server, as the cloud did when it was collected.
type Stored struct {
	Snapshot *snapshot.Snapshot
	// Name says where it was read from, for errors.
	Name string
}

// Collect returns the snapshot when server is empty or names its server.
// The options are ignored: what was collected then is all there is.
func (s Stored) Collect(_ context.Context, server string, _ openstack.CollectOptions) (*snapshot.Snapshot, error) {
	if server != "" && !holds(s.Snapshot, server) {
		held := s.Snapshot.Query
		if s.Snapshot.Server != nil {
			held = fmt.Sprintf("%s (%s)", s.Snapshot.Server.Name, s.Snapshot.Server.ID)
		}
		return nil, &MismatchError{Name: s.Name, Held: held, Server: server}
	}
	return s.Snapshot, nil
}

// holds reports whether the snapshot is of the server the operator named.
func holds(s *snapshot.Snapshot, server string) bool {
	if s.Query == server {
		return true
	}
	return s.Server != nil && (s.Server.ID == server || s.Server.Name == server)
}

// MismatchError is a stored snapshot asked for another server than its own.
type MismatchError struct {
	Name   string // where the snapshot was read from
	Held   string // the server it holds
	Server string // the server asked for
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("%s holds server %s, not %s", e.Name, e.Held, e.Server)
}
