//go:build unix

package console

import (
	"errors"
	"io"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// newPollReader reads a blocking descriptor after poll(2) says it is
// readable, polling a wake-up pipe too so that cancel can interrupt it. The
// descriptor's flags are left alone (setting O_NONBLOCK on a shared terminal
// would leak into the shell after we exit). It returns nil if f has no usable
// descriptor.
func newPollReader(f *os.File) *inputReader {
	fd, ok := fileFd(f)
	if !ok {
		return nil
	}
	wake, err := newPipe(true)
	if err != nil {
		return nil
	}
	read := func(p []byte) (int, error) {
		defer runtime.KeepAlive(f)
		for {
			fds := []unix.PollFd{
				{Fd: int32(fd), Events: unix.POLLIN},
				{Fd: int32(wake[0]), Events: unix.POLLIN},
			}
			if _, err := unix.Poll(fds, -1); err != nil {
				if errors.Is(err, unix.EINTR) {
					continue
				}
				return 0, err
			}
			if fds[1].Revents != 0 {
				return 0, errCanceled
			}
			ev := fds[0].Revents
			if ev&unix.POLLNVAL != 0 {
				return 0, os.ErrClosed
			}
			if ev&(unix.POLLIN|unix.POLLHUP|unix.POLLERR) == 0 {
				continue
			}
			n, err := unix.Read(fd, p)
			switch {
			case errors.Is(err, unix.EINTR), errors.Is(err, unix.EAGAIN):
				continue
			case err != nil:
				return 0, &os.PathError{Op: "read", Path: f.Name(), Err: err}
			case n == 0 && len(p) > 0:
				return 0, io.EOF
			}
			return n, nil
		}
	}
	return &inputReader{
		read:   read,
		cancel: func() { _, _ = unix.Write(wake[1], []byte{0}) },
		close: func() {
			_ = unix.Close(wake[0])
			_ = unix.Close(wake[1])
		},
		waitable: true,
	}
}
