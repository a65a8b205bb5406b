package report

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/dora"
)

// These tests look at the report as a person would: Debian's chromium opens the written
// file headless and offline (every host name resolves to nothing, every request goes to a
// closed local port), runs its scripts, and hands back the DOM after they ran and a
// screenshot. The assertions read what the page shows: its text, what the charts drew
// (SVG elements, as the charts use the SVG renderer), and the screenshot's pixels.

// probeScript is added to the page under test (not to the report): once the page has
// loaded and drawn, it writes what a person would see into a JSON script element that
// --dump-dom prints.
//
// A fragment #open=<id> opens that section first, as a person clicking its summary would.
const probeScript = `<script>
window.addEventListener("load", function () {
  var open = location.hash.match(/open=([\w-]+)/);
  if (open) document.getElementById(open[1]).open = true;
  setTimeout(function () {
  var rect = function (el) { var r = el.getBoundingClientRect(); return { left: r.left + scrollX, top: r.top + scrollY, width: r.width, height: r.height }; };
  var out = {
    title: document.title,
    h1: document.querySelector("h1").innerText,
    errors: document.getElementById("errors").innerText,
    errorCount: Number(document.documentElement.getAttribute("data-errors") || 0),
    resources: performance.getEntriesByType("resource").map(function (e) { return e.name; }),
    pwned: typeof window.pwned !== "undefined",
    pwnElement: document.getElementById("pwn") !== null,
    height: document.documentElement.scrollHeight,
    sections: [], charts: []
  };
  document.querySelectorAll("section, details.path").forEach(function (el) {
    out.sections.push({ id: el.id, text: el.innerText, rect: rect(el) });
  });
  document.querySelectorAll(".chart").forEach(function (el) {
    var fills = {};
    el.querySelectorAll("svg path").forEach(function (p) {
      var f = p.getAttribute("fill"); fills[f] = (fills[f] || 0) + 1;
    });
    out.charts.push({ id: el.id, drawn: el.querySelector("svg") !== null, rect: rect(el), fills: fills,
      texts: Array.prototype.map.call(el.querySelectorAll("svg text"), function (t) { return t.textContent; }) });
  });
  var s = document.createElement("script");
  s.type = "application/json"; s.id = "probe";
  s.textContent = JSON.stringify(out).replace(/</g, "\\u003c");
  document.body.appendChild(s);
}, 200); });
</script>`

type box struct{ Left, Top, Width, Height float64 }

type probe struct {
	Title, H1, Errors string
	ErrorCount        int
	Resources         []string
	Pwned, PwnElement bool
	Height            int
	Sections          []struct {
		ID, Text string
		Rect     box
	}
	Charts []struct {
		ID    string
		Drawn bool
		Rect  box
		Fills map[string]int
		Texts []string
	}
}

func (p probe) section(t *testing.T, id string) string {
	t.Helper()
	for _, s := range p.Sections {
		if s.ID == id {
			return s.Text
		}
	}
	t.Fatalf("the page has no section %q", id)
	return ""
}

// findChromium is Debian's chromium. Without it the tests skip, saying how to install it,
// except in CI (CI=true), where .ci/run installs it and its absence is a failure.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "headless chromium is needed to look at the report: apt-get install -y chromium (Debian's package; .ci/run installs it)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// look writes in as report.html, opens it in headless chromium at 1280 wide (with fragment,
// if any) and returns what the page showed and its screenshot of the full page (height is
// a guess: a longer page is looked at again at its height).
func look(t *testing.T, in Input, fragment string, height int) (probe, image.Image, string) {
	t.Helper()
	bin := findChromium(t)
	dir := t.TempDir()
	html := write(t, in)
	report := filepath.Join(dir, "report.html")
	if err := os.WriteFile(report, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	end := strings.LastIndex(html, "</body>")
	page := filepath.Join(dir, "probed.html")
	if err := os.WriteFile(page, []byte(html[:end]+probeScript+html[end:]), 0o644); err != nil {
		t.Fatal(err)
	}
	for attempt := 0; ; attempt++ {
		p, img := chromiumLook(t, bin, dir, page+fragment, height)
		if p.Height <= height || attempt == 1 {
			return p, img, report
		}
		height = p.Height // the page is longer than guessed: look again at its height
	}
}

func chromiumLook(t *testing.T, bin, dir, page string, height int) (probe, image.Image) {
	t.Helper()
	shot := filepath.Join(dir, "shot.png")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=1",
		"--user-data-dir="+filepath.Join(dir, "profile"),
		fmt.Sprintf("--window-size=1280,%d", height),
		"--virtual-time-budget=10000",
		// Offline: nothing resolves and any request goes to a closed port on this machine.
		`--host-resolver-rules=MAP * ~NOTFOUND`, "--proxy-server=http://127.0.0.1:9",
		"--no-first-run", "--disable-background-networking", "--disable-component-update",
		"--dump-dom", "--screenshot="+shot, "file://"+page)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	dom, err := cmd.Output()
	t.Logf("chromium start + render + screenshot (1280×%d): %.2fs", height, time.Since(start).Seconds())
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	m := regexp.MustCompile(`<script type="application/json" id="probe">(.*?)</script>`).FindSubmatch(dom)
	if m == nil {
		t.Fatalf("the page did not finish drawing (no probe in the DOM; %d bytes); chromium said:\n%s", len(dom), stderr.String())
	}
	var p probe
	if err := json.Unmarshal(m[1], &p); err != nil {
		t.Fatalf("probe: %v", err)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v\n%s", err, stderr.String())
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	return p, img
}

// colourCount counts the pixels of r within a small distance of colour (#rrggbb).
func colourCount(img image.Image, r image.Rectangle, colour string) int {
	v, _ := strconv.ParseUint(colour[1:], 16, 32)
	cr, cg, cb := int(v>>16), int(v>>8&0xff), int(v&0xff)
	n := 0
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			pr, pg, pb, _ := img.At(x, y).RGBA()
			if abs(int(pr>>8)-cr) <= 6 && abs(int(pg>>8)-cg) <= 6 && abs(int(pb>>8)-cb) <= 6 {
				n++
			}
		}
	}
	return n
}

func abs(x int) int { return max(x, -x) }

func (b box) rect() image.Rectangle {
	return image.Rect(int(b.Left), int(b.Top), int(b.Left+b.Width), int(b.Top+b.Height))
}

// pageSeen checks what every rendering must show: no script error, nothing fetched, the
// title, and a page that is not blank.
func pageSeen(t *testing.T, in Input, p probe, img image.Image) {
	t.Helper()
	if p.ErrorCount != 0 || p.Errors != "" {
		t.Errorf("script errors on the page (%d): %s", p.ErrorCount, p.Errors)
	}
	if len(p.Resources) != 0 {
		t.Errorf("the page fetched %v; it must load nothing", p.Resources)
	}
	if p.Title != in.Title+": delivery report" || p.H1 != in.Title {
		t.Errorf("the page is titled %q with heading %q, want %q", p.Title, p.H1, in.Title)
	}
	// Not blank: a good share of the page is neither the background nor white.
	b := img.Bounds()
	ink := 0
	for y := b.Min.Y; y < min(b.Max.Y, p.Height); y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 < 200 || g>>8 < 200 || bl>>8 < 200 {
				ink++
			}
		}
	}
	if share := float64(ink) / float64(b.Dx()/2*min(b.Dy(), p.Height)/2); share < 0.01 {
		t.Errorf("the page looks blank: %.2f%% of it is drawn", share*100)
	}
}

func TestScreenshot(t *testing.T) {
	in := sampleInput()
	p, img, _ := look(t, in, "", 4400)
	pageSeen(t, in, p, img)
	html := write(t, in)

	// The organisation's figures, as Summarise computes them over every readable
	// environment of each name.
	org := p.section(t, "org")
	for _, name := range []string{"dev", "stg", "prd"} {
		var events []dora.Event
		for _, path := range in.Paths {
			for _, e := range path.Envs {
				if e.Name == name && e.Problem == "" {
					events = append(events, e.Metrics.Events...)
				}
			}
		}
		s := dora.Summarise(events, in.Window)
		want := []string{fmt.Sprintf("%d · %.1f per week", s.Deployments, s.PerWeek()),
			fmt.Sprintf("%s median · %s p90", duration(s.LeadTime.Median), duration(s.LeadTime.P90))}
		if rate, ok := s.ChangeFailureRate(); ok {
			want = append(want, fmt.Sprintf("%.0f%% (%d/%d)", rate*100, s.Failures, s.Attempts))
		}
		if s.Restore.N > 0 {
			want = append(want, fmt.Sprintf("%s median · %s p90", duration(s.Restore.Median), duration(s.Restore.P90)))
		}
		if s.Unrestored > 0 {
			want = append(want, fmt.Sprintf("%d still open", s.Unrestored))
		}
		for _, w := range want {
			if !strings.Contains(org, w) {
				t.Errorf("the organisation's %s shows no %q:\n%s", name, w, org)
			}
		}
	}
	for _, w := range []string{"leave out 1 unreadable environment: identity/login", "payments/ledger prd"} {
		if !strings.Contains(org, w) {
			t.Errorf("the organisation does not say %q", w)
		}
	}

	for i, path := range in.Paths {
		text := p.section(t, fmt.Sprintf("path-%d", i+1))
		for _, e := range path.Envs {
			if e.Problem != "" {
				if !strings.Contains(text, "unreadable: "+e.Problem) {
					t.Errorf("%s does not show %s unreadable: %s", path.Name, e.Name, text)
				}
				continue
			}
			s := e.Metrics.Summary
			rate, _ := s.ChangeFailureRate()
			if w := fmt.Sprintf("%s\t%d · %.1f per week", e.Name, s.Deployments, s.PerWeek()); !strings.Contains(text, w) {
				t.Errorf("%s shows no %q:\n%s", path.Name, w, text)
			}
			if w := fmt.Sprintf("%.0f%% (%d/%d)", rate*100, s.Failures, s.Attempts); !strings.Contains(text, w) {
				t.Errorf("%s %s shows no %q", path.Name, e.Name, w)
			}
		}
	}

	// What each chart drew: its legend names the readable environments; every failure is
	// a red symbol; each environment's points and bars are in its colour.
	colour := map[string]string{"dev": envPalette[0], "stg": envPalette[1], "prd": envPalette[2]}
	if len(p.Charts) != 1+len(in.Paths) {
		t.Fatalf("the page has %d charts, want %d", len(p.Charts), 1+len(in.Paths))
	}
	for _, c := range p.Charts {
		if !c.Drawn {
			t.Errorf("%s was not drawn", c.ID)
			continue
		}
		opt := chartOption(t, html, c.ID)
		names := opt["legend"].(map[string]any)["data"].([]any)
		wantFills := map[string]int{}
		failures := 0
		for _, s := range opt["series"].([]any) {
			s := s.(map[string]any)
			data, _ := s["data"].([]any) // nil: a series with nothing to draw
			n := len(data)
			switch strings.Split(s["id"].(string), "-")[0] {
			case seriesRestore, seriesOpen:
				failures += n
			case seriesLead, seriesDeploys, seriesFailures:
				wantFills[colour[s["name"].(string)]] += n
			}
		}
		if got := c.Fills[failureColour]; got != failures {
			t.Errorf("%s drew %d red symbols, want one per failure (the organisation: per week and open failure): %d", c.ID, got, failures)
		}
		for _, n := range names {
			name := n.(string)
			if !contains(c.Texts, name) {
				t.Errorf("%s's legend does not name %s (text drawn: %v)", c.ID, name, c.Texts)
			}
			if got, want := c.Fills[colour[name]], wantFills[colour[name]]; got != want {
				t.Errorf("%s drew %d shapes in %s's colour, want %d (its deploys, its weeks' bars)", c.ID, got, name, want)
			}
			if px := colourCount(img, c.Rect.rect(), colour[name]); px < 50 {
				t.Errorf("%s shows %s's colour %s on %d pixels of the screenshot", c.ID, name, colour[name], px)
			}
		}
		if px := colourCount(img, c.Rect.rect(), failureColour); (failures > 0) != (px > 20) {
			t.Errorf("%s has %d failures and shows the failure colour on %d pixels", c.ID, failures, px)
		}
	}

	if out := os.Getenv("REPORT_PICTURE"); out != "" {
		picture(t, p, img, out)
	}
}

// The negative control: with no failures in the input there is no red anywhere on the
// page; and names that try to break out of the page show as text.
func TestScreenshotWithoutFailures(t *testing.T) {
	in := quietInput()
	p, img, _ := look(t, in, "", 4400)
	pageSeen(t, in, p, img)
	if px := colourCount(img, img.Bounds(), failureColour); px != 0 {
		t.Errorf("the failure colour shows on %d pixels of a report with no failures", px)
	}
	for _, c := range p.Charts {
		if c.Fills[failureColour] != 0 {
			t.Errorf("%s drew %d red symbols with no failures", c.ID, c.Fills[failureColour])
		}
		for i, name := range []string{"dev", "stg", "prd"} {
			if px := colourCount(img, c.Rect.rect(), envPalette[i]); px < 50 {
				t.Errorf("%s shows %s's colour on %d pixels", c.ID, name, px)
			}
		}
	}
	if p.Pwned || p.PwnElement {
		t.Errorf("the input's markup ran or was parsed: window.pwned %v, #pwn %v", p.Pwned, p.PwnElement)
	}
	if !strings.Contains(p.section(t, "path-1"), `team/<b id="pwn">svc</b>`) {
		t.Errorf("the path's name is not shown as written: %s", p.section(t, "path-1"))
	}
}

// Fifty paths stay usable: the page opens with only the organisation's chart drawn (the
// sections start closed), and opening a section draws its chart.
func TestScreenshotFiftyPaths(t *testing.T) {
	in := fiftyPaths()
	p, img, _ := look(t, in, "#open=path-7", 6700)
	pageSeen(t, in, p, img)
	var drawn []string
	for _, c := range p.Charts {
		if c.Drawn {
			drawn = append(drawn, c.ID)
		}
	}
	if len(p.Charts) != 51 || fmt.Sprint(drawn) != "[chart-org chart-7]" {
		t.Errorf("of %d charts, drawn: %v; want the organisation's and the opened path's", len(p.Charts), drawn)
	}
	if !strings.Contains(p.section(t, "index"), in.Paths[49].Name) {
		t.Error("the index does not list the 50th path")
	}
	t.Logf("page height with 50 closed paths: %dpx", p.Height)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// picture writes the README's picture: the page from the top to the end of the first path,
// as a person would see it at 1280 wide.
func picture(t *testing.T, p probe, img image.Image, out string) {
	t.Helper()
	var bottom float64
	for _, s := range p.Sections {
		if s.ID == "path-1" {
			bottom = s.Rect.Top + s.Rect.Height + 16
		}
	}
	crop := image.NewRGBA(image.Rect(0, 0, img.Bounds().Dx(), int(bottom)))
	for y := 0; y < crop.Bounds().Dy(); y++ {
		for x := 0; x < crop.Bounds().Dx(); x++ {
			crop.Set(x, y, img.At(x, y))
		}
	}
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(f, crop); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(out)
	t.Logf("wrote %s: %d×%d, %d bytes", out, crop.Bounds().Dx(), crop.Bounds().Dy(), st.Size())
}
