package report

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// positionScript writes, into a copy of the report, where each station's
// status dot is drawn: the report itself holds no script.
const positionScript = `<script>
const out = [];
for (const g of document.querySelectorAll("g.station")) {
  const r = g.querySelector("circle.dot").getBoundingClientRect();
  out.push({host: g.dataset.host, devices: g.dataset.devices, status: g.dataset.status, x: Math.round(r.x + r.width / 2), y: Math.round(r.y + r.height / 2)});
}
const pre = document.createElement("pre");
pre.id = "hb-positions";
pre.textContent = JSON.stringify(out);
document.body.appendChild(pre);
</script>`

var positionsRE = regexp.MustCompile(`<pre id="hb-positions">([^<]*)</pre>`)

// chromium runs Debian's headless chromium on a local file: no network,
// a throwaway profile, one device pixel per CSS pixel.
func chromium(t *testing.T, bin, dir string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
		"--force-device-scale-factor=1", "--hide-scrollbars", "--window-size=1000,2400", "--user-data-dir=" + filepath.Join(dir, "profile")}
	out, err := exec.CommandContext(ctx, bin, append(base, args...)...).Output()
	if err != nil && ctx.Err() != nil {
		t.Fatalf("chromium %q: %v", args, ctx.Err())
	}
	return out
}

// TestPathPictureInBrowser renders the vif-down example (vm1's VIF set
// down on ctl, recorded in the lab) as HTML in a real browser, takes a
// screenshot and reads the colour of each device's status dot where the
// browser drew it: the VIF's is the problem red, every other device's the
// ok green. The dots' positions come from the same page with a script
// added that writes them out (--dump-dom).
func TestPathPictureInBrowser(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (apt-get install --no-install-recommends chromium): the path picture is not checked in a browser")
	}
	var page bytes.Buffer
	if err := HTML(&page, exampleReport(t, "vif-down")); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	report := filepath.Join(dir, "report.html")
	probe := filepath.Join(dir, "positions.html")
	if err := os.WriteFile(report, page.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(probe, []byte(strings.Replace(page.String(), "</body>", positionScript+"</body>", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	m := positionsRE.FindSubmatch(chromium(t, bin, dir, "--dump-dom", "file://"+probe))
	if m == nil {
		t.Fatal("chromium wrote no positions")
	}
	var dots []struct {
		Host, Devices, Status string
		X, Y                  int
	}
	if err := json.Unmarshal(m[1], &dots); err != nil {
		t.Fatalf("positions %s: %v", m[1], err)
	}
	shot := filepath.Join(dir, "shot.png")
	chromium(t, bin, dir, "--screenshot="+shot, "file://"+report)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	// The stylesheet's --error #c62828 and --ok #2e7d32.
	red := func(r, g, b uint32) bool { return r > 150 && g < 90 && b < 90 }
	green := func(r, g, b uint32) bool { return r < 90 && g > 90 && b < 100 }
	const vif = "tap9dd0cd83-4e"
	if len(dots) < 5 {
		t.Fatalf("stations: %+v", dots)
	}
	seen := false
	for _, d := range dots {
		r, g, b, _ := img.At(d.X, d.Y).RGBA()
		r, g, b = r>>8, g>>8, b>>8
		switch {
		case d.Host == "ctl" && d.Devices == vif:
			seen = true
			if d.Status != "problem" || !red(r, g, b) {
				t.Errorf("the broken VIF %s: status %s, dot at (%d,%d) is rgb(%d,%d,%d), not red", vif, d.Status, d.X, d.Y, r, g, b)
			}
		case d.Status != "ok" || !green(r, g, b):
			t.Errorf("%s on %s: status %s, dot at (%d,%d) is rgb(%d,%d,%d), not green", d.Devices, d.Host, d.Status, d.X, d.Y, r, g, b)
		}
	}
	if !seen {
		t.Errorf("no station for the VIF %s: %+v", vif, dots)
	}
}
