package cli

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/spf13/cobra"
)

// RulesOptions holds "hoofbeat rules"'s flags.
type RulesOptions struct {
	IO     *IOStreams
	Output string
}

// NewCmdRules builds "hoofbeat rules": the catalogue, one rule a line.
func NewCmdRules(io *IOStreams) *cobra.Command {
	o := &RulesOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List every rule hoofbeat checks",
		Long: `List the catalogue of rules: their stable names (domain/what-is-wrong),
default severities and titles, in the order hoofbeat ranks them. Use
"hoofbeat explain NAME" for what a rule means and how it is detected.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return rulesRun(o) },
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "text", "output format: text or json")
	return cmd
}

type ruleJSON struct {
	Name     string        `json:"name"`
	Domain   string        `json:"domain"`
	Severity rule.Severity `json:"severity"`
	Title    string        `json:"title"`
	Doc      string        `json:"doc,omitempty"`
	Fix      string        `json:"fix,omitempty"`
}

func toJSON(r *rule.Rule, full bool) ruleJSON {
	j := ruleJSON{Name: r.Name, Domain: r.Domain(), Severity: r.Severity, Title: r.Title}
	if full {
		j.Doc, j.Fix = r.Doc, r.Fix
	}
	return j
}

func rulesRun(o *RulesOptions) error {
	cat := rule.Catalogue()
	switch o.Output {
	case "json":
		out := make([]ruleJSON, 0, len(cat))
		for _, r := range cat {
			out = append(out, toJSON(r, false))
		}
		return writeJSON(o.IO, out)
	case "text":
		tw := tabwriter.NewWriter(o.IO.Out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "RULE\tSEVERITY\tTITLE")
		for _, r := range cat {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Name, r.Severity, r.Title)
		}
		return tw.Flush()
	default:
		return usageError("unknown output format %q (want text or json)", o.Output)
	}
}

// NewCmdExplain builds "hoofbeat explain RULE".
func NewCmdExplain(io *IOStreams) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "explain RULE",
		Short: "Explain what a rule means, how it is detected and how to fix it",
		Args:  cobra.ExactArgs(1),
		ValidArgsFunction: func(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return completeRules(toComplete)
		},
		RunE: func(_ *cobra.Command, args []string) error {
			r, ok := rule.Lookup(args[0])
			if !ok {
				if near := nearRules(args[0]); len(near) > 0 {
					return usageError("no rule named %q; did you mean %s?", args[0], strings.Join(near, ", "))
				}
				return usageError("no rule named %q; \"hoofbeat rules\" lists them", args[0])
			}
			switch output {
			case "json":
				return writeJSON(io, toJSON(r, true))
			case "text":
				_, err := fmt.Fprintf(io.Out, "%s (%s)\n%s\n\n%s\n\nFix: %s\n", r.Name, r.Severity, r.Title, strings.TrimSpace(r.Doc), strings.TrimSpace(r.Fix))
				return err
			default:
				return usageError("unknown output format %q (want text or json)", output)
			}
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

// nearRules suggests catalogue names sharing the query's domain or its
// what-is-wrong part, so "explain icmp-ingress-missing" finds the rule.
func nearRules(q string) []string {
	dom, what, hasSlash := strings.Cut(q, "/")
	var out []string
	for _, r := range rule.Catalogue() {
		d, w, _ := strings.Cut(r.Name, "/")
		switch {
		case !hasSlash && (strings.Contains(w, q) || d == q):
			out = append(out, r.Name)
		case hasSlash && (w == what || (d == dom && strings.Contains(w, what))):
			out = append(out, r.Name)
		}
	}
	sort.Strings(out)
	return out
}

// completeRules completes a rule name from the catalogue, with its title
// as the description the shells show beside it.
func completeRules(prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	for _, r := range rule.Catalogue() {
		if strings.HasPrefix(r.Name, prefix) {
			out = append(out, cobra.CompletionWithDesc(r.Name, r.Title))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

func writeJSON(io *IOStreams, v any) error {
	enc := json.NewEncoder(io.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
