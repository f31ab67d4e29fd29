//go:build !unix

package console

import "os"

// newPollReader is not available here: reads from a blocking file cannot be
// interrupted.
func newPollReader(*os.File) *inputReader { return nil }
