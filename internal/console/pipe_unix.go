//go:build unix && !linux

package console

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// newPipe returns a close-on-exec pipe, non-blocking if asked. Without
// pipe2(2) (macOS), the flags are set after pipe(2), under the fork lock
// so that no child started meanwhile inherits the descriptors.
func newPipe(nonblock bool) ([2]int, error) {
	var p [2]int
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	if err := unix.Pipe(p[:]); err != nil {
		return p, err
	}
	for _, fd := range p {
		unix.CloseOnExec(fd)
		if nonblock {
			if err := unix.SetNonblock(fd, true); err != nil {
				unix.Close(p[0])
				unix.Close(p[1])
				return p, err
			}
		}
	}
	return p, nil
}
