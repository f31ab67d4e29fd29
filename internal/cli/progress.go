package cli

import (
	"fmt"
	"io"
	"sync"

	"github.com/hoofbeat/hoofbeat/internal/visible"
)

// progress shows how far collecting has got on one line of a terminal's
// stderr, rewritten in place and erased before anything else is written.
// Without a terminal there is none: a log or a pipe gets no carriage
// returns. A nil *progress is off.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	shown bool
}

// newProgress returns the progress line, or nil when stderr is not a
// terminal or off is set (-q, or --debug, whose lines it would cut).
func newProgress(io *IOStreams, off bool) *progress {
	if off || io.Progress == nil {
		return nil
	}
	return &progress{w: io.Progress}
}

// report is the callback of openstack.CollectOptions and host.Fanout; nil
// when off, so that the collectors skip it.
func (p *progress) report() func(done, total int, what string) {
	if p == nil {
		return nil
	}
	return p.show
}

func (p *progress) show(done, total int, what string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	// \r and erase to the end of the line: the line is rewritten in place.
	// The raw stderr: what is escaped, in case it ever names a host.
	fmt.Fprintf(p.w, "\r\x1b[Khoofbeat: %s %d/%d", visible.String(what), done, total)
	p.shown = true
}

// clear erases the line; the report or an error follows.
func (p *progress) clear() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}
