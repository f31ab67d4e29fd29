package cli

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hoofbeat/hoofbeat/internal/config"
	"github.com/hoofbeat/hoofbeat/internal/rule"
)

// configFlag registers --config on a verb that evaluates rules.
func configFlag(fl *pflag.FlagSet, path *string) {
	fl.StringVar(path, "config", "", "configuration `FILE`: rules to exclude and severities to change (default $HOOFBEAT_CONFIG, else ~/.config/hoofbeat/config.yaml if it exists)")
}

// ruleOptions reads the configuration file and adds the --exclude flags.
func ruleOptions(path string, excludes []string, getenv func(string) string) (rule.Options, error) {
	must := path != ""
	if !must {
		path = config.DefaultPath(getenv)
	}
	c, err := config.Load(path, must)
	if err != nil {
		return rule.Options{}, usageError("%v", err)
	}
	opt := c.Options()
	for _, name := range excludes {
		if _, ok := rule.Lookup(name); !ok {
			return rule.Options{}, usageError("--exclude: no rule named %q; \"hoofbeat rules\" lists them", name)
		}
		opt.Exclude[name] = true
	}
	return opt, nil
}

// ruleFlags are --exclude and --config, which every verb that evaluates
// the whole catalogue takes alike.
type ruleFlags struct {
	Excludes []string
	Config   string
}

func (f *ruleFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.Excludes, "exclude", nil, "a rule not to run, by name (repeatable)")
	_ = cmd.RegisterFlagCompletionFunc("exclude", func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return completeRules(toComplete)
	})
	configFlag(fl, &f.Config)
}

func (f *ruleFlags) options(getenv func(string) string) (rule.Options, error) {
	return ruleOptions(f.Config, f.Excludes, getenv)
}
