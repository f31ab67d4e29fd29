//go:build unix

package console

import (
	"os"
	"testing"
)

// blockingPipe is a pipe whose read end is a blocking descriptor, as a
// process's inherited stdin usually is: os.NewFile leaves it unpollable.
func blockingPipe(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	fds, err := newPipe(false)
	if err != nil {
		t.Fatal(err)
	}
	r, w := os.NewFile(uintptr(fds[0]), "blocking-r"), os.NewFile(uintptr(fds[1]), "blocking-w")
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}
