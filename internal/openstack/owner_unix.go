//go:build unix

package openstack

import (
	"io/fs"
	"os"
	"syscall"
)

// ownedByMe reports whether a file belongs to the user running hoofbeat.
func ownedByMe(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}
