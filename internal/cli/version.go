package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// Release builds stamp these with -ldflags "-X
// github.com/hoofbeat/hoofbeat/internal/cli.Version=v1.2.3" (make dist
// does, with Commit and Date too): a build from a tarball or with
// -buildvcs=false has no VCS information of its own.
var (
	Version = ""
	Commit  = ""
	Date    = ""
)

// buildInfo is what is known of the running binary.
type buildInfo struct {
	Version  string // v1.2.3, a pseudo-version, or "dev"
	Commit   string // the full revision, "" when unknown
	Date     string // the commit's time (RFC 3339), "" when unknown
	Modified bool   // built from a tree with uncommitted changes
	Go       string // the toolchain, e.g. go1.26.8
}

// currentBuild reads the build information of the running binary.
func currentBuild() buildInfo {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return resolveBuild(bi, Version, Commit, Date)
}

// resolveBuild prefers what -ldflags stamped, then what the Go toolchain
// recorded (the module version of "go install …@v1.2.3", the vcs.*
// settings of a build in a git checkout); "dev" only when neither knows.
func resolveBuild(bi *debug.BuildInfo, version, commit, date string) buildInfo {
	b := buildInfo{Version: version, Commit: commit, Date: date, Go: runtime.Version()}
	if bi == nil {
		if b.Version == "" {
			b.Version = "dev"
		}
		return b
	}
	if bi.GoVersion != "" {
		b.Go = bi.GoVersion
	}
	vcsStamped := commit != ""
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if !vcsStamped {
				b.Commit = s.Value
			}
		case "vcs.time":
			if b.Date == "" {
				b.Date = s.Value
			}
		case "vcs.modified":
			if !vcsStamped {
				b.Modified = s.Value == "true"
			}
		}
	}
	if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		b.Version = bi.Main.Version
	}
	if b.Version == "" {
		b.Version = "dev"
		if b.Commit != "" {
			b.Version += "-" + short(b.Commit)
			if b.Modified {
				b.Version += "-dirty"
			}
		}
	}
	return b
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

// version is the one-word version reports carry.
func version() string { return currentBuild().Version }

// String is what "hoofbeat version" and --version print.
func (b buildInfo) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "hoofbeat %s\n", b.Version)
	commit := b.Commit
	if commit == "" {
		commit = "unknown"
	}
	if b.Modified {
		commit += " (modified)"
	}
	fmt.Fprintf(&sb, "commit   %s\n", commit)
	if b.Date != "" {
		fmt.Fprintf(&sb, "date     %s\n", b.Date)
	}
	fmt.Fprintf(&sb, "go       %s %s/%s\n", b.Go, runtime.GOOS, runtime.GOARCH)
	return sb.String()
}

// NewCmdVersion builds "hoofbeat version".
func NewCmdVersion(io *IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print hoofbeat's version, commit, commit date and Go version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprint(io.Out, currentBuild())
			return err
		},
	}
}
