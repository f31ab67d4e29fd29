// Package shelltest judges printed command lines the way a shell would read
// them: tests use it to prove that a line is exactly one command whose words
// are the intended arguments, whatever the strings in it held.
package shelltest

import (
	"fmt"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// Line is what a shell reads from one printed line.
type Line struct {
	// Stages are the pipeline's commands, each as the words the shell
	// passes to it; none for a line that is only a comment.
	Stages [][]string
	// Comment is the comment's text after "#", or "".
	Comment string
}

// Parse reads line as bash would and fails unless it is at most one
// statement: one command or a pipeline of commands, without redirections,
// assignments, background jobs, substitutions, expansions or globs, and at
// most one trailing comment.
func Parse(line string) (Line, error) {
	if strings.ContainsAny(line, "\n\r") {
		return Line{}, fmt.Errorf("line break in %q", line)
	}
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash), syntax.KeepComments(true)).Parse(strings.NewReader(line), "")
	if err != nil {
		return Line{}, fmt.Errorf("parse %q: %w", line, err)
	}
	var out Line
	var comments []syntax.Comment
	comments = append(comments, f.Last...)
	switch len(f.Stmts) {
	case 0:
	case 1:
		st := f.Stmts[0]
		comments = append(comments, st.Comments...)
		if out.Stages, err = pipeline(st); err != nil {
			return Line{}, fmt.Errorf("%q: %w", line, err)
		}
	default:
		return Line{}, fmt.Errorf("%q is %d commands", line, len(f.Stmts))
	}
	if len(comments) > 1 {
		return Line{}, fmt.Errorf("%q has %d comments", line, len(comments))
	}
	if len(comments) == 1 {
		out.Comment = strings.TrimPrefix(comments[0].Text, " ")
	}
	return out, nil
}

func pipeline(st *syntax.Stmt) ([][]string, error) {
	if st.Negated || st.Background || st.Coprocess || len(st.Redirs) > 0 {
		return nil, fmt.Errorf("not a plain command")
	}
	switch c := st.Cmd.(type) {
	case *syntax.CallExpr:
		if len(c.Assigns) > 0 {
			return nil, fmt.Errorf("assignment")
		}
		words, err := literals(c.Args)
		if err != nil {
			return nil, err
		}
		return [][]string{words}, nil
	case *syntax.BinaryCmd:
		if c.Op != syntax.Pipe {
			return nil, fmt.Errorf("operator %s joins two commands", c.Op)
		}
		x, err := pipeline(c.X)
		if err != nil {
			return nil, err
		}
		y, err := pipeline(c.Y)
		if err != nil {
			return nil, err
		}
		return append(x, y...), nil
	default:
		return nil, fmt.Errorf("%T is not a simple command", st.Cmd)
	}
}

// literals returns the words' values, refusing any part a shell would
// expand.
func literals(ws []*syntax.Word) ([]string, error) {
	var out []string
	for _, w := range ws {
		for _, p := range w.Parts {
			switch p := p.(type) {
			case *syntax.SglQuoted:
			case *syntax.Lit:
				if expands(p.Value) {
					return nil, fmt.Errorf("unquoted %q would be expanded", p.Value)
				}
			case *syntax.DblQuoted:
				for _, q := range p.Parts {
					if _, ok := q.(*syntax.Lit); !ok {
						return nil, fmt.Errorf("%T inside double quotes", q)
					}
				}
			default:
				return nil, fmt.Errorf("%T would be expanded", p)
			}
		}
		fs, err := expand.Fields(nil, w)
		if err != nil {
			return nil, err
		}
		if len(fs) != 1 {
			return nil, fmt.Errorf("one word read as %d: %q", len(fs), fs)
		}
		out = append(out, fs[0])
	}
	return out, nil
}

// Expected is what a shell passes for argv printed by shell.Quote: the
// arguments themselves, but for NUL, which no argument can hold and which
// is printed as the text \x00.
func Expected(argv []string) []string {
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = strings.ReplaceAll(a, "\x00", `\x00`)
	}
	return out
}

// expands reports an unquoted character a shell would expand in a literal
// (a backslash quotes the character after it).
func expands(lit string) bool {
	for i := 0; i < len(lit); i++ {
		switch lit[i] {
		case '\\':
			i++
		case '*', '?', '[', ']', '{', '}', '~', '$', '`':
			return true
		}
	}
	return false
}
