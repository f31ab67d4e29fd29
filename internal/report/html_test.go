package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// parseHTML renders r and parses it as a browser would.
func parseHTML(t *testing.T, r *Report) *html.Node {
	t.Helper()
	var b bytes.Buffer
	if err := HTML(&b, r); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(&b)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

// find returns the elements for which match is true, in document order.
func find(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func byTag(tag string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Data == tag }
}

// text is the text content of n.
func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// TestHTMLContent reads the page as a person would: what it says where.
func TestHTMLContent(t *testing.T) {
	r := icmpAndNoRouter()
	doc := parseHTML(t, r)

	if got := text(find(doc, byTag("title"))[0]); got != "hoofbeat: web1 — 2 errors: most likely cause: security-group/icmp-ingress-missing" {
		t.Errorf("title = %q", got)
	}
	if got := text(find(doc, byTag("h1"))[0]); got != "hoofbeat report: web1" {
		t.Errorf("h1 = %q", got)
	}
	meta := map[string]string{}
	for _, tr := range find(find(doc, func(n *html.Node) bool { return hasClass(n, "meta") })[0], byTag("tr")) {
		meta[text(find(tr, byTag("th"))[0])] = text(find(tr, byTag("td"))[0])
	}
	for k, want := range map[string]string{
		"Server":        "web1 (" + serverID + ") ACTIVE on cmp1",
		"Checked":       "2026-03-14 02:47:09 UTC with hoofbeat 0.4.0",
		"By":            "user admin (admin), project demo",
		"Cloud":         "region RegionOne, http://192.0.2.10:5000/v3",
		"Flows checked": "tcp/22 from 203.0.113.7/32",
	} {
		if meta[k] != want {
			t.Errorf("meta %s = %q, want %q", k, meta[k], want)
		}
	}
	verdict := find(doc, func(n *html.Node) bool { return attr(n, "id") == "verdict" })
	if len(verdict) != 1 || !hasClass(verdict[0], "error") || !strings.Contains(text(verdict[0]), "most likely cause: security-group/icmp-ingress-missing") {
		t.Errorf("verdict %v", verdict)
	}

	// The path: one diagram, a row per hop, the failing hops marked and the
	// cause singled out.
	svgs := find(doc, byTag("svg"))
	if len(svgs) != 1 {
		t.Fatalf("%d diagrams", len(svgs))
	}
	var hops, problems, causes []string
	for _, g := range find(svgs[0], func(n *html.Node) bool { return hasClass(n, "hop-row") }) {
		hops = append(hops, attr(g, "data-hop")+"="+attr(g, "data-status"))
		if attr(g, "data-status") == "PROBLEM" {
			problems = append(problems, attr(g, "data-hop"))
			if !hasClass(g, "error") {
				t.Errorf("%s: a problem not drawn as an error", attr(g, "data-hop"))
			}
		}
		if hasClass(g, "cause") {
			causes = append(causes, attr(g, "data-hop"))
			if !strings.Contains(text(g), "MOST LIKELY CAUSE: no rule in default, lab-sg admits ICMP") {
				t.Errorf("cause row says %q", text(g))
			}
		}
	}
	if got := strings.Join(hops, " "); got != "instance=ok port=ok security-groups=PROBLEM subnet=ok network=ok dhcp=ok router=PROBLEM gateway=n/a floating-ip=n/a" {
		t.Errorf("hops: %s", got)
	}
	if strings.Join(causes, ",") != "security-groups" || strings.Join(problems, ",") != "security-groups,router" {
		t.Errorf("cause %v, problems %v", causes, problems)
	}

	// The findings, in rank order, with their evidence and commands.
	arts := find(doc, byTag("article"))
	if len(arts) != 3 {
		t.Fatalf("%d findings", len(arts))
	}
	var rules []string
	for _, a := range arts {
		rules = append(rules, attr(a, "data-rule"))
	}
	if strings.Join(rules, " ") != "security-group/icmp-ingress-missing router/missing floating-ip/none" {
		t.Errorf("findings %v", rules)
	}
	first := arts[0]
	if !hasClass(first, "error") || !strings.Contains(text(first), "pings are dropped at the port") {
		t.Errorf("first finding %q", text(first))
	}
	if ev := find(first, byTag("li")); len(ev) != 3 || text(ev[2]) != "lab-sg: ingress IPv4 tcp 22 from 0.0.0.0/0" {
		t.Errorf("evidence %d items", len(ev))
	}
	fix := find(first, func(n *html.Node) bool { return hasClass(n, "fix") })
	if len(fix) != 1 || text(fix[0]) != "openstack security group rule create --ingress --ethertype IPv4 --protocol icmp --remote-ip 0.0.0.0/0 lab-sg" {
		t.Errorf("fix %q", text(fix[0]))
	}
	verify := find(first, func(n *html.Node) bool { return hasClass(n, "verify") })
	if len(verify) != 1 || strings.Count(text(verify[0]), "\n") != 1 {
		t.Errorf("verify is not two lines: %q", text(verify[0]))
	}
	if foot := text(find(doc, byTag("footer"))[0]); !strings.Contains(foot, "22 checks: 19 passed, 3 with findings, 0 skipped.") {
		t.Errorf("footer %q", foot)
	}
}

func TestHTMLSkipped(t *testing.T) {
	doc := parseHTML(t, nonAdmin())
	rows := find(find(doc, func(n *html.Node) bool { return attr(n, "id") == "skipped" })[0], byTag("tr"))
	if len(rows) < 2 || !strings.Contains(text(rows[1]), "needs admin") {
		t.Fatalf("skipped table: %d rows", len(rows))
	}
	for _, g := range find(doc, func(n *html.Node) bool { return hasClass(n, "hop-row") }) {
		if attr(g, "data-hop") == "instance" && !strings.Contains(text(g), "host hidden") {
			t.Errorf("instance row %q", text(g))
		}
	}
}

// TestHTMLSelfContained: one file, nothing fetched, nothing run.
func TestHTMLSelfContained(t *testing.T) {
	for _, c := range cases {
		doc := parseHTML(t, c.rep())
		for _, n := range find(doc, func(*html.Node) bool { return true }) {
			switch n.Data {
			case "script", "link", "iframe", "object", "embed", "img", "base", "form":
				t.Errorf("%s: <%s>", c.name, n.Data)
			}
			for _, a := range n.Attr {
				v := strings.ToLower(strings.TrimSpace(a.Val))
				if (a.Key == "src" || a.Key == "href" || a.Key == "xlink:href" || a.Key == "action") && v != "" && !strings.HasPrefix(v, "#") {
					t.Errorf("%s: <%s %s=%q>", c.name, n.Data, a.Key, a.Val)
				}
				if strings.HasPrefix(a.Key, "on") {
					t.Errorf("%s: event handler %s", c.name, a.Key)
				}
			}
		}
		for _, st := range find(doc, byTag("style")) {
			if css := text(st); strings.Contains(css, "url(") || strings.Contains(css, "@import") {
				t.Errorf("%s: CSS fetches something", c.name)
			}
		}
		if len(find(doc, byTag("style"))) != 1 {
			t.Errorf("%s: want one inline style sheet", c.name)
		}
	}
}

// TestHTMLEscapes: what the cloud says is text, never markup.
func TestHTMLEscapes(t *testing.T) {
	r := icmpAndNoRouter()
	r.Snapshot.Server.Name = `<img src=x onerror=alert(1)>`
	r.Result.Findings[0].Evidence = append(r.Result.Findings[0].Evidence, `console line 3/9: <script>alert("x")</script> & "quotes"`)
	doc := parseHTML(t, r)
	if len(find(doc, byTag("img"))) != 0 || len(find(doc, byTag("script"))) != 0 {
		t.Fatal("markup from the cloud was rendered")
	}
	li := find(find(doc, byTag("article"))[0], byTag("li"))
	if got := text(li[len(li)-1]); got != `console line 3/9: <script>alert("x")</script> & "quotes"` {
		t.Errorf("evidence = %q", got)
	}
	var b bytes.Buffer
	if err := Markdown(&b, r); err != nil {
		t.Fatal(err)
	}
	// Outside code blocks (where it is shown as it is) markup is escaped.
	var prose []string
	inCode := false
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(l, "```") {
			inCode = !inCode
			continue
		}
		if !inCode {
			prose = append(prose, l)
		}
	}
	if p := strings.Join(prose, "\n"); regexp.MustCompile(`(^|[^\\])<(img|script)`).MatchString(p) || !strings.Contains(p, `\<script\>`) {
		t.Errorf("markdown passes markup through:\n%s", p)
	}
}
