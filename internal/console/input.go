package console

import (
	"io"
	"os"
	"sync/atomic"
	"time"
)

// inputReader is Stdin made cancelable, so that the goroutine reading it can
// be ended when Run returns.
type inputReader struct {
	read   func(p []byte) (int, error)
	cancel func() // unblocks a pending read; later reads fail with errCanceled
	close  func() // releases resources; call after the reading goroutine ended
	// waitable reports that cancel really unblocks read, so Run can wait for
	// the reading goroutine. It is false only for an arbitrary io.Reader.
	waitable bool
}

type deadliner interface {
	SetReadDeadline(time.Time) error
}

// newInputReader picks how to interrupt reads from r:
//   - anything with working read deadlines (a pollable *os.File such as a
//     pipe or a pty opened by the process, a net.Conn): a deadline in the
//     past;
//   - an *os.File without deadlines (a blocking descriptor, typically the
//     process's own stdin): poll(2) on it and on a wake-up pipe (Unix);
//   - any other io.Reader: nothing can interrupt it; the reading goroutine
//     ends at the reader's next return, and Run does not wait for it.
func newInputReader(r io.Reader) *inputReader {
	if r == nil {
		return &inputReader{
			read:     func([]byte) (int, error) { return 0, io.EOF },
			cancel:   func() {},
			close:    func() {},
			waitable: true,
		}
	}
	if d, ok := r.(deadliner); ok && d.SetReadDeadline(time.Time{}) == nil {
		var canceled atomic.Bool
		return &inputReader{
			read: func(p []byte) (int, error) {
				if canceled.Load() {
					return 0, errCanceled
				}
				n, err := r.Read(p)
				if err != nil && canceled.Load() {
					return n, errCanceled
				}
				return n, err
			},
			cancel: func() {
				canceled.Store(true)
				_ = d.SetReadDeadline(time.Unix(1, 0))
			},
			close:    func() { _ = d.SetReadDeadline(time.Time{}) },
			waitable: true,
		}
	}
	if f, ok := r.(*os.File); ok {
		if ir := newPollReader(f); ir != nil {
			return ir
		}
	}
	var canceled atomic.Bool
	return &inputReader{
		read: func(p []byte) (int, error) {
			if canceled.Load() {
				return 0, errCanceled
			}
			return r.Read(p)
		},
		cancel: func() { canceled.Store(true) },
		close:  func() {},
	}
}
