package run

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// A recording is a folder holding index.json and one file per command's
// standard output, so that the outputs stay readable and diffable:
//
//	testdata/hosts/ctl-healthy/index.json
//	testdata/hosts/ctl-healthy/003-iptables-save.txt

// Recorded is one command of a recording.
type Recorded struct {
	Argv []string `json:"argv"`
	// Stdout names the file holding the output, relative to the folder.
	Stdout   string `json:"stdout,omitempty"`
	Stderr   string `json:"stderr,omitempty"`
	ExitCode int    `json:"exit_code,omitempty"`
	// Kind is the failure recorded ("" when the command succeeded).
	Kind      Kind `json:"kind,omitempty"`
	Truncated bool `json:"truncated,omitempty"`
}

// Index is a recording's index.json.
type Index struct {
	Host     string     `json:"host"`
	Commands []Recorded `json:"commands"`
}

// Replay serves recorded outputs. A command without a recording fails with
// KindUnexpected and is remembered, so that a test can fail on it; Unused
// lists the recordings nobody asked for.
type Replay struct {
	name string
	// Delay is added to every command (respecting the deadline): benchmarks
	// use it to stand for a slow host.
	Delay time.Duration

	mu         sync.Mutex
	byCmd      map[string]replayed
	used       map[string]bool
	unexpected []string
}

type replayed struct {
	res  Result
	kind Kind
	err  string
}

// NewReplay returns an empty replay for host; add commands with Add.
func NewReplay(host string) *Replay {
	return &Replay{name: host, byCmd: map[string]replayed{}, used: map[string]bool{}}
}

// LoadReplay reads a recording folder.
func LoadReplay(dir string) (*Replay, error) {
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return nil, fmt.Errorf("load recording: %w", err)
	}
	var idx Index
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("load recording %s: %w", dir, err)
	}
	r := NewReplay(idx.Host)
	for _, c := range idx.Commands {
		var out []byte
		if c.Stdout != "" {
			if out, err = os.ReadFile(filepath.Join(dir, c.Stdout)); err != nil {
				return nil, fmt.Errorf("load recording %s: %w", dir, err)
			}
		}
		r.AddResult(c.Argv, Result{Stdout: out, Stderr: []byte(c.Stderr), ExitCode: c.ExitCode, Truncated: c.Truncated}, c.Kind)
	}
	return r, nil
}

// Add records a successful command printing stdout.
func (r *Replay) Add(argv []string, stdout string) *Replay {
	return r.AddResult(argv, Result{Stdout: []byte(stdout)}, "")
}

// Fail records a command that fails with kind (and stderr).
func (r *Replay) Fail(argv []string, kind Kind, stderr string) *Replay {
	code := 1
	switch kind {
	case KindNotFound:
		code = 127
	case KindPermission:
		code = 126
	}
	return r.AddResult(argv, Result{Stderr: []byte(stderr), ExitCode: code}, kind)
}

// AddResult records a command's result; kind "" means success.
func (r *Replay) AddResult(argv []string, res Result, kind Kind) *Replay {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byCmd[Quote(argv)] = replayed{res: res, kind: kind}
	return r
}

// Host returns the recorded host name.
func (r *Replay) Host() string { return r.name }

// Run serves the recording of cmd.
func (r *Replay) Run(ctx context.Context, cmd Command) (Result, error) {
	key := Quote(cmd.Argv)
	r.mu.Lock()
	rec, ok := r.byCmd[key]
	if ok {
		r.used[key] = true
	} else {
		r.unexpected = append(r.unexpected, key)
	}
	r.mu.Unlock()
	if !ok {
		return Result{}, &Error{Host: r.name, Argv: cmd.Argv, Kind: KindUnexpected}
	}
	if r.Delay > 0 || rec.kind == KindTimeout {
		ctx, cancel := context.WithTimeout(ctx, cmd.timeout())
		defer cancel()
		wait := r.Delay
		if rec.kind == KindTimeout {
			wait = cmd.timeout() + time.Hour // hangs until the deadline
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return Result{}, &Error{Host: r.name, Argv: cmd.Argv, Kind: KindTimeout, Err: ctx.Err()}
		}
	}
	res := rec.res
	if max := cmd.maxOutput(); len(res.Stdout) > max {
		res.Stdout, res.Truncated = res.Stdout[:max], true
	}
	if rec.kind != "" {
		return res, &Error{Host: r.name, Argv: cmd.Argv, Kind: rec.kind, Code: res.ExitCode, Stderr: firstLine(res.Stderr)}
	}
	return res, nil
}

// Unexpected lists the commands asked for that had no recording.
func (r *Replay) Unexpected() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.unexpected...)
}

// Unused lists the recorded commands nobody asked for, sorted.
func (r *Replay) Unused() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for k := range r.byCmd {
		if !r.used[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Record wraps a runner and keeps every command's result, to be written as
// a recording with Save.
type Record struct {
	Runner Runner
	// Redact rewrites an output before it is kept (secrets in config files).
	Redact func(cmd Command, stdout []byte) []byte

	mu   sync.Mutex
	recs []recorded
}

type recorded struct {
	argv []string
	res  Result
	kind Kind
}

// Host returns the wrapped runner's host.
func (r *Record) Host() string { return r.Runner.Host() }

// Run runs cmd through the wrapped runner and keeps the result.
func (r *Record) Run(ctx context.Context, cmd Command) (Result, error) {
	res, err := r.Runner.Run(ctx, cmd)
	kept := res
	if r.Redact != nil {
		kept.Stdout = r.Redact(cmd, res.Stdout)
	}
	r.mu.Lock()
	r.recs = append(r.recs, recorded{argv: cmd.Argv, res: kept, kind: KindOf(err)})
	r.mu.Unlock()
	return res, err
}

var slugRE = regexp.MustCompile(`[^a-z0-9]+`)

// A recording holds what a host's commands printed: config files,
// command lines, logs. It is for its owner only, however the umask is set.
const (
	recordDirMode  = 0o700
	recordFileMode = 0o600
)

// Save writes the recording into dir (created if needed; its mode and its
// files' are set to the owner's alone even when they existed).
func (r *Record) Save(dir string) error {
	if err := os.MkdirAll(dir, recordDirMode); err != nil {
		return fmt.Errorf("save recording: %w", err)
	}
	if err := os.Chmod(dir, recordDirMode); err != nil {
		return fmt.Errorf("save recording: %w", err)
	}
	r.mu.Lock()
	recs := append([]recorded(nil), r.recs...)
	r.mu.Unlock()
	sort.SliceStable(recs, func(i, j int) bool { return Quote(recs[i].argv) < Quote(recs[j].argv) })
	idx := Index{Host: r.Host()}
	seen := map[string]bool{}
	for i, rc := range recs {
		key := Quote(rc.argv)
		if seen[key] {
			continue
		}
		seen[key] = true
		c := Recorded{Argv: rc.argv, ExitCode: rc.res.ExitCode, Kind: rc.kind, Stderr: firstLine(rc.res.Stderr), Truncated: rc.res.Truncated}
		if len(rc.res.Stdout) > 0 {
			slug := strings.Trim(slugRE.ReplaceAllString(strings.ToLower(key), "-"), "-")
			if len(slug) > 48 {
				slug = slug[:48]
			}
			c.Stdout = fmt.Sprintf("%03d-%s.txt", i, slug)
			if err := writePrivate(filepath.Join(dir, c.Stdout), rc.res.Stdout); err != nil {
				return fmt.Errorf("save recording: %w", err)
			}
		}
		idx.Commands = append(idx.Commands, c)
	}
	b, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return fmt.Errorf("save recording: %w", err)
	}
	if err := writePrivate(filepath.Join(dir, "index.json"), append(b, '\n')); err != nil {
		return fmt.Errorf("save recording: %w", err)
	}
	return nil
}

// writePrivate writes a file only its owner can read. os.WriteFile keeps
// the mode of a file that exists (a recording saved again): set it.
func writePrivate(name string, b []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, recordFileMode)
	if err != nil {
		return err
	}
	if err := f.Chmod(recordFileMode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// maxPathElem bounds a host's folder name (file systems allow 255 bytes).
const maxPathElem = 128

// PathElem turns a host name into the name of its recording's folder: one
// path element, never ".", ".." or empty, whatever the cloud calls the
// host (an admin sets agent and hypervisor host names: "../../x" must not
// write outside the --record folder). Letters, digits, "-", "_" and "."
// (not leading) stay; any other byte is %XX, so that distinct names stay
// distinct; a name too long is cut and ends in a hash of the whole.
func PathElem(host string) (string, error) {
	if host == "" {
		return "", fmt.Errorf("a host without a name has no recording folder")
	}
	var b strings.Builder
	for i := 0; i < len(host); i++ {
		c := host[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' && i > 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	s := b.String()
	if s == "." || s == ".." { // cannot happen (a leading "." is escaped): kept as the invariant
		return "", fmt.Errorf("host name %q is no folder name", host)
	}
	if len(s) > maxPathElem {
		sum := sha256.Sum256([]byte(host))
		s = s[:maxPathElem-17] + "~" + hex.EncodeToString(sum[:8])
	}
	return s, nil
}
