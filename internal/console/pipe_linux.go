package console

import "golang.org/x/sys/unix"

// newPipe returns a close-on-exec pipe, non-blocking if asked, created
// atomically with pipe2(2).
func newPipe(nonblock bool) ([2]int, error) {
	var p [2]int
	flags := unix.O_CLOEXEC
	if nonblock {
		flags |= unix.O_NONBLOCK
	}
	err := unix.Pipe2(p[:], flags)
	return p, err
}
