package cli

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hoofbeat/hoofbeat/internal/pipeline"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// diagnose --from takes either a flow source (an address or a prefix, with
// --check) or a snapshot file written by "hoofbeat collect": a value that
// is an address or a prefix is a source, anything else a file ("-" is
// stdin). One file at most; with it, diagnose reads no cloud.

// splitFroms separates the --from values into flow sources and the
// snapshot file.
func splitFroms(froms []string) (sources []string, file string, err error) {
	for _, f := range froms {
		if isSource(f) {
			sources = append(sources, f)
			continue
		}
		if file != "" {
			return nil, "", fmt.Errorf("--from: two snapshot files, %s and %s: diagnose reads one", file, f)
		}
		file = f
	}
	return sources, file, nil
}

// isSource reports whether a --from value is meant as an address or a
// prefix: it parses as one, or it is made only of the characters they are
// made of and no such file exists (a mistyped address is not a file).
func isSource(v string) bool {
	if _, err := netip.ParsePrefix(v); err == nil {
		return true
	}
	if _, err := netip.ParseAddr(v); err == nil {
		return true
	}
	if v == "-" {
		return false
	}
	if strings.Trim(v, "0123456789abcdefABCDEF.:/%") != "" {
		return false
	}
	_, err := os.Stat(v)
	return err != nil
}

// onlineFlags are the flags that mean nothing when diagnose reads a file.
var onlineFlags = []string{"os-cloud", "os-cacert", "insecure", "debug", "timeout", "console-lines", "hosts", "ssh", "no-token-cache"}

// source returns what diagnose reads the server from: the cloud, or the
// snapshot in o.FromFile.
func (o *DiagnoseOptions) source(ctx context.Context, cmd *cobra.Command) (pipeline.Collector, error) {
	if o.FromFile == "" {
		c, err := o.Connect(ctx, o.Cloud.options(cmd, o.IO))
		if err != nil {
			return nil, cloudError(err)
		}
		return c, nil
	}
	var set []string
	names := slices.Clone(onlineFlags)
	for _, of := range osFlags {
		names = append(names, of.name)
	}
	for _, name := range names {
		if f := cmd.Flags().Lookup(name); f != nil && f.Changed {
			set = append(set, "--"+name)
		}
	}
	if len(set) > 0 {
		return nil, usageError("--from %s reads a snapshot, not the cloud: %s would do nothing", o.FromFile, strings.Join(set, ", "))
	}
	snap, err := readSnapshotFile(o.FromFile, o.IO)
	if err != nil {
		return nil, err
	}
	return pipeline.Stored{Snapshot: snap, Name: o.FromFile}, nil
}

// readSnapshotFile reads a snapshot file ("-": stdin). Every failure is a
// usage error of one line naming the file.
func readSnapshotFile(path string, io *IOStreams) (*snapshot.Snapshot, error) {
	return readSnapshotAs("--from ", path, io)
}

// readSnapshotAs is readSnapshotFile with the errors' prefix given.
func readSnapshotAs(prefix, path string, io *IOStreams) (*snapshot.Snapshot, error) {
	name := path
	var s *snapshot.Snapshot
	var err error
	if path == "-" {
		name = "stdin"
		s, err = snapshot.Read(io.In)
	} else {
		f, oerr := os.Open(path)
		if oerr != nil {
			var pe *os.PathError
			if errors.As(oerr, &pe) {
				oerr = pe.Err
			}
			return nil, usageError("%s%s: %v", prefix, path, oerr)
		}
		defer f.Close()
		s, err = snapshot.Read(f)
	}
	if err != nil {
		return nil, usageError("%s%s: %v", prefix, name, err)
	}
	return s, nil
}

// writeSnapshotFile writes s to path ("-": stdout) whole or not at all: a
// temporary file beside it, renamed into place.
func writeSnapshotFile(path string, s *snapshot.Snapshot, io *IOStreams, compress bool) error {
	if path == "-" {
		return snapshot.Write(io.Out, s)
	}
	dir, base := ".", path
	if i := strings.LastIndexAny(path, `/\`); i >= 0 {
		dir, base = path[:i+1], path[i+1:]
	}
	tmp, err := os.CreateTemp(dir, "."+base+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	defer os.Remove(tmp.Name())
	if compress {
		zw := gzip.NewWriter(tmp)
		err = snapshot.Write(zw, s)
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
	} else {
		err = snapshot.Write(tmp, s)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	return nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
