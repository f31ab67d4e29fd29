package cli

import (
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// unknownCommand is the root's argument check: a word that names no verb is
// a usage error with the verbs it is close to, not a reason to print help
// and succeed (a script with a typo must fail).
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := "unknown command " + quote(args[0]) + " for " + quote(cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		return usageError("%s; did you mean %s?", msg, strings.Join(s, " or "))
	}
	return usageError("%s; \"hoofbeat --help\" lists the commands", msg)
}

// newCmdHelp replaces cobra's help verb, which prints the root's help and
// succeeds for a topic it does not know ("hoofbeat help diagnos").
func newCmdHelp() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		ValidArgsFunction: func(c *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			var names []string
			for _, sub := range c.Root().Commands() {
				if sub.IsAvailableCommand() {
					names = append(names, sub.Name())
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			target, _, err := c.Root().Find(args)
			if len(args) > 0 && (err != nil || target == c.Root()) {
				return unknownCommand(c.Root(), args)
			}
			target.InitDefaultHelpFlag()
			return target.Help()
		},
	}
}

func quote(s string) string { return `"` + s + `"` }

var unknownFlagRE = regexp.MustCompile(`^unknown flag: --([^\s=]+)`)

// suggestFlag adds the flags of cmd close to an unknown one to pflag's
// error, so that "--regin" points at "--os-region-name"'s neighbours.
func suggestFlag(cmd *cobra.Command, err error) error {
	m := unknownFlagRE.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	var near []string
	visit := func(f *pflag.Flag) {
		if !f.Hidden && closeTo(m[1], f.Name) && !containsString(near, "--"+f.Name) {
			near = append(near, "--"+f.Name)
		}
	}
	cmd.Flags().VisitAll(visit)
	cmd.InheritedFlags().VisitAll(visit)
	if len(near) == 0 {
		return err
	}
	return suggestion{err, "did you mean " + strings.Join(near, " or ") + "?"}
}

type suggestion struct {
	error
	hint string
}

func (s suggestion) Error() string { return s.error.Error() + "; " + s.hint }
func (s suggestion) Unwrap() error { return s.error }

// closeTo says whether a mistyped name is meant as name: within two edits
// (as cobra suggests commands), or a prefix or suffix of it ("--region"
// for "--os-region-name" is not, but "--region-name" is).
func closeTo(typed, name string) bool {
	if len(typed) >= 3 && (strings.HasPrefix(name, typed) || strings.HasSuffix(name, typed)) {
		return true
	}
	return editDistance(typed, name) <= 2
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
