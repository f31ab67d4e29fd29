// Command hoofbeat diagnoses why an OpenStack instance does not answer.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/hoofbeat/hoofbeat/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.System())
	stop()
	os.Exit(code)
}
