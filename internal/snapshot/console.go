package snapshot

// ConsoleLog is the tail of a server's console output as Nova returns it.
type ConsoleLog struct {
	// Lines are the last lines asked for, oldest first, decoded as UTF-8
	// with invalid bytes replaced.
	Lines []string `json:"lines"`
}
