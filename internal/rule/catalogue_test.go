package rule

import (
	"regexp"
	"strings"
	"testing"
)

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9-]*/[a-z0-9][a-z0-9-]*$`)

// TestCatalogue pins the catalogue's invariants: unique, well-formed names in
// a known domain, every rule documented with a severity and a check.
func TestCatalogue(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Catalogue() {
		if !namePattern.MatchString(r.Name) {
			t.Errorf("%q: name is not domain/what-is-wrong", r.Name)
		}
		if seen[r.Name] {
			t.Errorf("%q: duplicate name", r.Name)
		}
		seen[r.Name] = true
		if domainRank(r.Domain()) == len(Domains) {
			t.Errorf("%q: unknown domain %q", r.Name, r.Domain())
		}
		if r.Severity < Info || r.Severity > Error {
			t.Errorf("%q: invalid severity %d", r.Name, r.Severity)
		}
		if strings.TrimSpace(r.Title) == "" || strings.TrimSpace(r.Doc) == "" || strings.TrimSpace(r.Fix) == "" {
			t.Errorf("%q: title, doc and fix are all required", r.Name)
		}
		if r.Check == nil {
			t.Errorf("%q: no check", r.Name)
		}
	}
}

func TestEveryRuleIsOnThePath(t *testing.T) {
	for _, r := range Catalogue() {
		found := false
		for _, h := range Hops {
			if r.PathHop() == h {
				found = true
			}
		}
		if !found {
			t.Errorf("%q: hop %q is not on the path view", r.Name, r.PathHop())
		}
	}
}
