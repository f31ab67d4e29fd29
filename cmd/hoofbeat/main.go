// Command hoofbeat diagnoses why an OpenStack instance does not answer.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/cli"
)

// grace is how long a verb has to wind down after Ctrl-C or SIGTERM before
// the process ends anyway: an operator's Ctrl-C must not wait for a slow
// API, a hung SSH host or a long rendering.
const grace = time.Second

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		cancel(cli.Interrupted{Signal: sig})
		// A second Ctrl-C ends the process at once (the default action).
		signal.Stop(sigs)
		time.Sleep(grace)
		os.Exit(cli.Interrupted{Signal: sig}.ExitCode())
	}()
	os.Exit(cli.Main(ctx, os.Args[1:], cli.System()))
}
