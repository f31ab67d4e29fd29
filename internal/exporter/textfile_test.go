package exporter

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteTextfileFailureKeepsTheOldFile: a write that fails leaves the
// previous file whole and no temporary file behind.
func TestWriteTextfileFailureKeepsTheOldFile(t *testing.T) {
	dir := t.TempDir()
	if err := WriteTextfile(dir, TextfileName, func(w io.Writer) error { _, err := io.WriteString(w, "a 1\n"); return err }); err != nil {
		t.Fatal(err)
	}
	err := WriteTextfile(dir, TextfileName, func(w io.Writer) error {
		_, _ = io.WriteString(w, "a 2\nhalf")
		return errors.New("disk full")
	})
	if err == nil {
		t.Fatal("no error")
	}
	entries, _ := os.ReadDir(dir)
	b, _ := os.ReadFile(filepath.Join(dir, TextfileName))
	if len(entries) != 1 || string(b) != "a 1\n" {
		t.Errorf("after a failed write: %v, %q", entries, b)
	}
}
