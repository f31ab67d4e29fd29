// Package yamlerr phrases YAML decoding errors without quoting the file:
// yaml.v2's messages can hold a value (a password in secure.yaml), and an
// error message reaches terminals, logs and bug reports.
package yamlerr

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v2"
)

// Problem describes a YAML decoding error by line and kind of problem,
// without any value of the file: yaml.v2 quotes values in its messages
// ("cannot unmarshal !!str `hunter2...` into bool", "cannot decode !!str
// `…` as a !!int", anchors, map keys), and the file holds passwords.
func Problem(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var probs []string
		for _, e := range te.Errors {
			if p := yamlTypeProblem(e); !slices.Contains(probs, p) {
				probs = append(probs, p)
			}
		}
		if len(probs) > 0 {
			return strings.Join(probs, "; ")
		}
		return "a value of the wrong type"
	}
	// Syntax errors are "yaml: line N: PROBLEM" where PROBLEM is one of
	// libyaml's fixed sentences ("did not find expected key"); the other
	// messages without a line may quote the file, so only their line-less
	// kind is said.
	if m := yamlSyntaxRE.FindStringSubmatch(err.Error()); m != nil {
		return "line " + m[1] + ": " + m[2]
	}
	return "not valid YAML (the parser's message is not shown: it may quote the file)"
}

var (
	yamlSyntaxRE = regexp.MustCompile("^yaml: line ([0-9]+): ([a-zA-Z ,:<>()'-]+)$")
	yamlTypeRE   = regexp.MustCompile(`^line ([0-9]+): cannot unmarshal !!([a-z]+)\b.* into (\S+)$`)
)

// yamlTypeProblem rewrites one of yaml.TypeError's lines, "line N: cannot
// unmarshal !!TAG [`value`] into TYPE", as "line N: a TAG where TYPE is
// expected".
func yamlTypeProblem(e string) string {
	m := yamlTypeRE.FindStringSubmatch(e)
	if m == nil {
		if line, _, ok := strings.Cut(e, ":"); ok && strings.HasPrefix(line, "line ") {
			return line + ": a value of the wrong type"
		}
		return "a value of the wrong type"
	}
	got := map[string]string{"seq": "a list", "map": "a mapping", "str": "text", "int": "a number", "float": "a number",
		"bool": "true or false", "null": "null", "binary": "binary data", "timestamp": "a date"}[m[2]]
	if got == "" {
		got = "a value"
	}
	want := "another type"
	switch t := m[3]; {
	case t == "string":
		want = "text"
	case t == "bool" || t == "*bool":
		want = "true or false"
	case strings.HasPrefix(t, "[]"):
		want = "a list"
	case strings.HasPrefix(t, "map["), strings.Contains(t, "."):
		want = "a mapping"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"), strings.HasPrefix(t, "float"):
		want = "a number"
	}
	return fmt.Sprintf("line %s: %s where %s is expected", m[1], got, want)
}
