package snapshot

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// FileFormat names hoofbeat's snapshot files in their "format" key.
const FileFormat = "hoofbeat-snapshot"

// MaxFileBytes bounds what Read accepts (after decompression): a snapshot
// is one server's neighbourhood, a few hundred kilobytes at most.
const MaxFileBytes = 64 << 20

// file is the document on disk: the snapshot's keys after "format".
type file struct {
	Format string `json:"format"`
	*Snapshot
}

// Write writes s as a snapshot file (docs/snapshot.md): one JSON object,
// two-space indented, with "format" and "version" first. It stamps the
// current Version.
func Write(w io.Writer, s *Snapshot) error {
	if s == nil {
		return errors.New("write snapshot: nothing to write")
	}
	c := *s
	c.Version = Version
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(file{Format: FileFormat, Snapshot: &c}); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// FileErrorKind says why a file is not a snapshot this hoofbeat reads.
type FileErrorKind string

const (
	// FileCorrupt: not JSON, truncated, a value of the wrong type.
	FileCorrupt FileErrorKind = "corrupt"
	// FileNotSnapshot: JSON, but not a snapshot (a report, another tool's).
	FileNotSnapshot FileErrorKind = "not-a-snapshot"
	// FileTooOld and FileTooNew: a snapshot of another version.
	FileTooOld FileErrorKind = "too-old"
	FileTooNew FileErrorKind = "too-new"
)

// FileError is why Read refused a file. Its message is one line.
type FileError struct {
	Kind FileErrorKind
	// Version is the file's version, when it has one.
	Version int
	Err     error
}

func (e *FileError) Error() string { return e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

func fileError(kind FileErrorKind, format string, args ...any) *FileError {
	return &FileError{Kind: kind, Err: fmt.Errorf(format, args...)}
}

// Read reads a snapshot file written by Write, gzip-compressed or not. It
// refuses, with a *FileError, anything else: a file that is not JSON or is
// cut short, a JSON document that is not a snapshot, a snapshot of another
// version (hoofbeat does not guess what an older or newer layout meant), a
// value of the wrong type. Unknown keys are ignored: a version only ever
// gains keys.
func Read(r io.Reader) (*Snapshot, error) {
	br := bufio.NewReader(r)
	var in io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fileError(FileCorrupt, "not a snapshot: broken gzip: %v", err)
		}
		defer zr.Close()
		in = zr
	}
	b, err := io.ReadAll(io.LimitReader(in, MaxFileBytes+1))
	if err != nil {
		if in != io.Reader(br) {
			return nil, fileError(FileCorrupt, "not a snapshot: broken gzip: %v", err)
		}
		return nil, fileError(FileCorrupt, "not a snapshot: %v", err)
	}
	if len(b) > MaxFileBytes {
		return nil, fileError(FileCorrupt, "not a snapshot: larger than %d MiB", MaxFileBytes>>20)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, fileError(FileCorrupt, "not a snapshot: the file is empty")
	}
	if !json.Valid(b) {
		return nil, fileError(FileCorrupt, "not a snapshot: %s", jsonProblem(b))
	}

	// The header first: what the file is and which version.
	var head struct {
		Format        *string          `json:"format"`
		Version       *json.RawMessage `json:"version"`
		SchemaVersion *int             `json:"schema_version"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fileError(FileNotSnapshot, "not a snapshot: the file holds JSON %s, not an object", jsonKind(b))
	}
	switch {
	case head.Format == nil && head.SchemaVersion != nil:
		return nil, fileError(FileNotSnapshot, "not a snapshot but a report (diagnose --output json): write a snapshot with hoofbeat collect SERVER --out FILE")
	case head.Format == nil:
		return nil, fileError(FileNotSnapshot, "not a snapshot: no \"format\": %q key (write one with hoofbeat collect SERVER --out FILE)", FileFormat)
	case *head.Format != FileFormat:
		return nil, fileError(FileNotSnapshot, "not a snapshot: format is %q, want %q", *head.Format, FileFormat)
	case head.Version == nil:
		return nil, fileError(FileCorrupt, "snapshot without a \"version\"")
	}
	var v int
	if err := json.Unmarshal(*head.Version, &v); err != nil {
		return nil, fileError(FileCorrupt, "snapshot version %s is not a whole number", oneLine(string(*head.Version)))
	}
	switch {
	case v > Version:
		return nil, &FileError{Kind: FileTooNew, Version: v,
			Err: fmt.Errorf("snapshot version %d is newer than this hoofbeat reads (%d): upgrade hoofbeat to read it", v, Version)}
	case v < Version:
		return nil, &FileError{Kind: FileTooOld, Version: v,
			Err: fmt.Errorf("snapshot version %d is older than this hoofbeat reads (%d): collect it again with hoofbeat collect", v, Version)}
	}

	s := &Snapshot{}
	if err := json.Unmarshal(b, &file{Snapshot: s}); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, fileError(FileCorrupt, "corrupt snapshot: %q holds %s where %s belongs", strings.TrimPrefix(te.Field, "Snapshot."), te.Value, typeName(te.Type.String()))
		}
		return nil, fileError(FileCorrupt, "corrupt snapshot: %s", oneLine(err.Error()))
	}
	if s.Server != nil && s.Server.ID == "" {
		return nil, fileError(FileCorrupt, "corrupt snapshot: the server has no id")
	}
	return s, nil
}

// jsonProblem says where and why b is not JSON, in one line.
func jsonProblem(b []byte) string {
	var v any
	err := json.Unmarshal(b, &v)
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		if strings.Contains(se.Error(), "unexpected end of JSON input") {
			return "the JSON is cut short (a truncated file?)"
		}
		return fmt.Sprintf("invalid JSON at byte %d: %s", se.Offset, se.Error())
	case err != nil:
		return oneLine(err.Error())
	}
	return "invalid JSON"
}

func jsonKind(b []byte) string {
	switch bytes.TrimSpace(b)[0] {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func typeName(t string) string {
	t = strings.TrimPrefix(t, "snapshot.")
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["), strings.HasPrefix(t, "*"), t == "Server", t == "Cloud", t == "Stats":
		return "an object"
	case t == "string":
		return "a string"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "int"), t == "time.Duration", t == "float64":
		return "a number"
	case t == "time.Time":
		return "an RFC 3339 time"
	}
	return t
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
