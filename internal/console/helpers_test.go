package console

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/testio"
)

// syncBuffer is a bytes.Buffer safe for a writer and a polling reader.
type syncBuffer = testio.SyncBuffer

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// runAsync runs Run in a goroutine; the returned function waits for its
// result (failing the test after d) and checks that no session goroutine
// outlived it.
func runAsync(t *testing.T, ctx context.Context, o Options) func(d time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, o) }()
	return func(d time.Duration) error {
		t.Helper()
		select {
		case err := <-done:
			checkNoLeaks(t)
			return err
		case <-time.After(d):
			t.Fatalf("Run did not return within %v", d)
			return nil
		}
	}
}

// checkNoLeaks fails if a goroutine of this package's session is still
// alive: Run must have ended them all.
func checkNoLeaks(t *testing.T) {
	t.Helper()
	var stacks string
	for range 100 {
		buf := make([]byte, 1<<20)
		stacks = string(buf[:runtime.Stack(buf, true)])
		leaked := false
		for _, g := range strings.Split(stacks, "\n\n") {
			if strings.Contains(g, "internal/console.(*session)") ||
				strings.Contains(g, "internal/console.newPollReader") {
				leaked = true
			}
		}
		if !leaked {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("session goroutines outlived Run:\n%s", stacks)
}
