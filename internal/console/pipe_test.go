//go:build unix

package console

import (
	"testing"

	"golang.org/x/sys/unix"
)

// newPipe has one file per platform (pipe2 on Linux, pipe and fcntl
// elsewhere); both must give the same flags.
func TestNewPipeFlags(t *testing.T) {
	for _, nonblock := range []bool{false, true} {
		p, err := newPipe(nonblock)
		if err != nil {
			t.Fatal(err)
		}
		for _, fd := range p {
			fdFlags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
			if err != nil {
				t.Fatal(err)
			}
			flFlags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
			if err != nil {
				t.Fatal(err)
			}
			if fdFlags&unix.FD_CLOEXEC == 0 {
				t.Errorf("nonblock %v: fd %d is not close-on-exec", nonblock, fd)
			}
			if got := flFlags&unix.O_NONBLOCK != 0; got != nonblock {
				t.Errorf("nonblock %v: fd %d has O_NONBLOCK %v", nonblock, fd, got)
			}
			unix.Close(fd)
		}
	}
}
