package report

import (
	"bytes"
	"testing"
)

// TestWriteDoc: every JSON document of the package keeps <, > and &
// readable, is indented by two spaces, and is written whole or not at all.
func TestWriteDoc(t *testing.T) {
	var b bytes.Buffer
	if err := writeDoc(&b, map[string]string{"evidence": "<script>&"}); err != nil {
		t.Fatal(err)
	}
	if want := "{\n  \"evidence\": \"<script>&\"\n}\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
	b.Reset()
	if err := writeDoc(&b, map[string]any{"a": "x", "b": make(chan int)}); err == nil || b.Len() != 0 {
		t.Errorf("unencodable: %v, wrote %q", err, b.String())
	}
}
