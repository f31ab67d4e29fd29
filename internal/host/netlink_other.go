//go:build !linux

package host

import (
	"context"
	"errors"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// Netlink is only available on Linux.
type Netlink struct{ Dir string }

// Namespaces fails: network namespaces are a Linux feature.
func (Netlink) Namespaces(context.Context) ([]snapshot.Namespace, error) {
	return nil, errors.New("network namespaces need Linux")
}
