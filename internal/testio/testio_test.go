package testio

import (
	"sync"
	"testing"
)

// Concurrent writers and readers (run under -race by make unit).
func TestSyncBuffer(t *testing.T) {
	var b SyncBuffer
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(2)
		go func() { defer wg.Done(); b.Write([]byte("ab")) }()
		go func() { defer wg.Done(); _ = b.String(); _ = b.Len() }()
	}
	wg.Wait()
	if b.Len() != 8 || b.String() != "abababab" {
		t.Errorf("got %q (%d bytes)", b.String(), b.Len())
	}
}
