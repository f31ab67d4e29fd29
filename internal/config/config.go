// Package config reads hoofbeat's own configuration file: the rules to
// leave out and the severities to change, for a cloud whose operators know
// that a finding is expected there (popeye's spinach.yaml is the model).
//
//	rules:
//	  exclude:
//	    - floating-ip/none        # our servers never have floating IPs
//	  severity:
//	    network/mtu-mismatch: error
package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"gopkg.in/yaml.v2"

	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/yamlerr"
)

// MaxSize bounds the file read: a configuration is a few lines.
const MaxSize = 1 << 20

// Config is the file's meaning.
type Config struct {
	// Path is the file read; empty when there was none.
	Path string
	// Exclude names rules not to run.
	Exclude map[string]bool
	// Severity overrides rules' default severities.
	Severity map[string]rule.Severity
}

// Options are the evaluation options the configuration gives.
func (c Config) Options() rule.Options {
	return rule.Options{Exclude: c.Exclude, Severity: c.Severity}
}

type file struct {
	Rules struct {
		Exclude  []string          `yaml:"exclude"`
		Severity map[string]string `yaml:"severity"`
	} `yaml:"rules"`
}

// DefaultPath is where hoofbeat looks when --config is not given:
// $HOOFBEAT_CONFIG, else hoofbeat/config.yaml in the user's configuration
// directory ($XDG_CONFIG_HOME or ~/.config).
func DefaultPath(getenv func(string) string) string {
	if p := getenv("HOOFBEAT_CONFIG"); p != "" {
		return p
	}
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			return ""
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "hoofbeat", "config.yaml")
}

// Load reads the file at path. A missing file is no configuration when
// the path is the default one (must is false) and an error when the
// operator named it.
func Load(path string, must bool) (Config, error) {
	c := Config{Exclude: map[string]bool{}, Severity: map[string]rule.Severity{}}
	if path == "" {
		return c, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && !must {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("read configuration: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return c, fmt.Errorf("read configuration %s: %w", path, err)
	}
	if len(b) > MaxSize {
		return c, fmt.Errorf("configuration %s is larger than %d bytes", path, MaxSize)
	}
	var raw file
	if err := yaml.UnmarshalStrict(b, &raw); err != nil {
		return c, fmt.Errorf("configuration %s is malformed: %s", path, yamlerr.Problem(err))
	}
	c.Path = path
	for _, name := range raw.Rules.Exclude {
		if _, ok := rule.Lookup(name); !ok {
			return c, fmt.Errorf("configuration %s: rules.exclude: no rule named %q; \"hoofbeat rules\" lists them", path, name)
		}
		c.Exclude[name] = true
	}
	names := make([]string, 0, len(raw.Rules.Severity))
	for name := range raw.Rules.Severity {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, ok := rule.Lookup(name); !ok {
			return c, fmt.Errorf("configuration %s: rules.severity: no rule named %q; \"hoofbeat rules\" lists them", path, name)
		}
		sev, err := rule.ParseSeverity(raw.Rules.Severity[name])
		if err != nil {
			return c, fmt.Errorf("configuration %s: rules.severity of %s: want info, warning or error", path, name)
		}
		c.Severity[name] = sev
	}
	return c, nil
}
