package console

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
)

// helperEnv makes the test binary run one console session on its own
// stdio instead of the tests: the signal tests start it on a pseudo-terminal.
const helperEnv = "HOOFBEAT_CONSOLE_HELPER_URL"

func TestMain(m *testing.M) {
	if url := os.Getenv(helperEnv); url != "" {
		os.Exit(helperMain(url))
	}
	os.Exit(m.Run())
}

// helperIgnoreHUP makes the helper ignore SIGHUP first, as under nohup.
const helperIgnoreHUP = "HOOFBEAT_CONSOLE_HELPER_NOHUP"

// helperMain exits 0 after a normal end, 3 when interrupted, 1 otherwise.
func helperMain(url string) int {
	if os.Getenv(helperIgnoreHUP) != "" {
		signal.Ignore(syscall.SIGHUP)
	}
	err := Run(context.Background(), Options{
		URL: url, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Escape: DefaultEscape,
	})
	if err == nil {
		return 0
	}
	fmt.Fprintf(os.Stderr, "helper: %v\n", err)
	if KindOf(err) == KindInterrupted {
		return 3
	}
	return 1
}
