package cli

import (
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
)

func TestDiagnoseMarkdownAndHTML(t *testing.T) {
	w := fakeos.Standard()
	removeICMP(w)
	c := fakeos.Start(t, w)
	env := adminEnv(c)

	code, out, errOut := run(t, env, "diagnose", fakeos.ServerName, "--output", "markdown")
	if code != ExitFindings {
		t.Fatalf("markdown: exit %d\n%s", code, errOut)
	}
	for _, want := range []string{"# hoofbeat report: vm1\n", "| **By** | user admin (admin), project admin |", "## Path from the instance outward",
		"security-groups  ✗ PROBLEM", "◀━━ most likely cause", "### 1. ERROR `security-group/icmp-ingress-missing`", "```sh\nopenstack security group rule create"} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}

	code, out, _ = run(t, env, "diagnose", fakeos.ServerName, "-o", "html")
	if code != ExitFindings || !strings.HasPrefix(out, "<!DOCTYPE html>") || !strings.Contains(out, `data-hop="security-groups" data-status="PROBLEM"`) ||
		strings.Contains(out, "<script") || strings.Contains(out, "src=") {
		t.Errorf("html: exit %d\n%.400s", code, out)
	}
}

func TestDiagnoseRedact(t *testing.T) {
	w := fakeos.Standard()
	removeICMP(w)
	c := fakeos.Start(t, w)
	env := adminEnv(c)
	path := collectTo(t, c, t.TempDir(), "vm1.json")
	secrets := []string{fakeos.ServerIP, fakeos.FloatingAddress, fakeos.ComputeHost, fakeos.NetworkHost, fakeos.DemoProjectID, "10.0.0.1"}
	for _, args := range [][]string{
		{"diagnose", fakeos.ServerName, "--redact"},
		{"diagnose", fakeos.ServerName, "--redact", "-o", "json"},
		{"diagnose", fakeos.ServerName, "--redact", "-o", "markdown"},
		{"diagnose", "--from", path, "--redact", "-o", "html"},
	} {
		code, out, errOut := run(t, env, args...)
		if code != ExitFindings {
			t.Fatalf("%v: exit %d, want the unredacted verdict's 1\n%s", args, code, errOut)
		}
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%v shows %q", args, s)
			}
		}
		if !strings.Contains(out, "security-group/icmp-ingress-missing") || !strings.Contains(out, "host-1") || !strings.Contains(out, "ip-") {
			t.Errorf("%v: no masks or no finding:\n%.600s", args, out)
		}
	}
}
