package output

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"image/png"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/outputtest"
	"github.com/geoloc-dev/geoloc/internal/style"
)

var updateImage = flag.Bool("update-image", false, "rewrite the golden screenshot testdata/map-traces.png from headless Chromium")

// expectRoutes counts the route lines the map draws for results.
func expectRoutes(rs []*geoloc.TraceResult) (routes, hops int) {
	for _, r := range rs {
		routes += len(style.Lines(r))
		for i := range r.Hops {
			if style.Located(&r.Hops[i]) {
				hops++
			}
		}
	}
	return routes, hops
}

var urlRE = regexp.MustCompile(`(?i)\b(?:https?|ftp|wss?)://[^\s"'<>]*`)

func TestHTMLSelfContained(t *testing.T) {
	for name, rs := range map[string][]*geoloc.TraceResult{"traces": outputtest.Traces(), "hostile": outputtest.Hostile(), "many": outputtest.Many(100)} {
		t.Run(name, func(t *testing.T) {
			out := render(t, "html", rs, Options{Circles: true})
			s := string(out)
			assert.Contains(t, s, `<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;`)
			assert.Empty(t, urlRE.FindAllString(s, -1), "no URL at all in the page")
			for _, bad := range []string{"<link", "<iframe", "<img", "@import", "url(", "<object", "<embed"} {
				assert.NotContains(t, s, bad)
			}
			// Parse as a browser would: exactly our two scripts and no
			// element the data could have smuggled in.
			doc, err := html.Parse(bytes.NewReader(out))
			require.NoError(t, err)
			counts := map[string]int{}
			var walk func(n *html.Node)
			walk = func(n *html.Node) {
				if n.Type == html.ElementNode {
					counts[n.Data]++
					for _, a := range n.Attr {
						if strings.HasPrefix(strings.ToLower(a.Key), "on") {
							t.Errorf("event handler attribute %s=%q on <%s>", a.Key, a.Val, n.Data)
						}
					}
				}
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					walk(c)
				}
			}
			walk(doc)
			assert.Equal(t, 2, counts["script"])
			assert.Equal(t, 1, counts["style"])
			assert.Zero(t, counts["b"], "<b> from the organisation name must stay text")
			assert.Zero(t, counts["i"])
			routes, hops := expectRoutes(rs)
			// Every located hop is a circle, besides the legend's swatches
			// and the two of the marker key.
			assert.Equal(t, hops, counts["circle"]-countSwatches(s)-2)
			_ = routes
		})
	}
}

// countSwatches counts the legend's AS colour circles.
func countSwatches(s string) int {
	return strings.Count(s, `<svg width="12" height="12"><circle`)
}

func chromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("headless Chromium tests are slow; skipped with -short")
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium not installed (Debian chromium)")
	return ""
}

// sink is a loopback "proxy" that records the host of every request sent
// to it and answers none. Chromium is told to send all http(s) traffic
// there, so every attempt the page makes is seen.
type sink struct {
	addr  string
	mu    sync.Mutex
	hosts []string
	wg    sync.WaitGroup
}

func proxySink(t *testing.T) *sink {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	s := &sink{addr: ln.Addr().String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				line, _ := bufio.NewReader(c).ReadString('\n')
				// "GET http://host/path HTTP/1.1" or "CONNECT host:443 HTTP/1.1"
				f := strings.Fields(line)
				if len(f) == 0 {
					// Chromium opens spare connections to its proxy ahead
					// of need; one that never says anything asked for
					// nothing.
					return
				}
				host := "?"
				if len(f) >= 2 {
					host = f[1]
					if u, err := url.Parse(f[1]); err == nil && u.Host != "" {
						host = u.Host
					}
					if h, _, err := net.SplitHostPort(host); err == nil {
						host = h
					}
				}
				s.mu.Lock()
				s.hosts = append(s.hosts, host)
				s.mu.Unlock()
			}()
		}
	}()
	return s
}

// chromiumOwn are the hosts Chromium itself calls in spite of
// --disable-background-networking (time, updates, accounts): not the page.
var chromiumOwn = regexp.MustCompile(`(^|\.)(google\.com|googleapis\.com|gvt1\.com|gstatic\.com|googleusercontent\.com)$`)

// pageHosts waits for pending connections and returns, and forgets, the
// hosts requested other than Chromium's own.
func (s *sink) pageHosts() []string {
	time.Sleep(300 * time.Millisecond)
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, h := range s.hosts {
		if !chromiumOwn.MatchString(h) {
			out = append(out, h)
		}
	}
	s.hosts = nil
	return out
}

// runChromium loads file in headless Chromium with all network access sent
// to the sink, and returns the DOM after the page's scripts ran (or the
// screenshot path's contents with shot set).
func runChromium(t *testing.T, bin, file string, proxy *sink, extra ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
		"--disable-default-apps", "--mute-audio", "--disable-dev-shm-usage",
		"--user-data-dir=" + t.TempDir(),
		"--proxy-server=http://" + proxy.addr, "--proxy-bypass-list=<-loopback>",
		"--virtual-time-budget=3000",
	}
	args = append(args, extra...)
	args = append(args, "file://"+file)
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "chromium: %s", stderr.String())
	return out
}

func TestHTMLInChromium(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	proxy := proxySink(t)

	// Control: a page that does load a remote image must reach the sink,
	// or the check below proves nothing.
	control := filepath.Join(dir, "control.html")
	require.NoError(t, os.WriteFile(control, []byte(`<!DOCTYPE html><html><body><img src="http://tiles.example.test/0/0/0.png"></body></html>`), 0o644))
	runChromium(t, bin, control, proxy, "--dump-dom")
	require.Contains(t, proxy.pageHosts(), "tiles.example.test", "the control page's request did not reach the sink")

	for name, rs := range map[string][]*geoloc.TraceResult{"traces": outputtest.Traces(), "many": outputtest.Many(100), "hostile": outputtest.Hostile()} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name+".html")
			require.NoError(t, os.WriteFile(path, render(t, "html", rs, Options{Circles: true}), 0o644))
			dom := string(runChromium(t, bin, path, proxy, "--dump-dom"))
			routes, hops := expectRoutes(rs)
			body := regexp.MustCompile(`<body[^>]*>`).FindString(dom)
			require.Contains(t, body, `data-ready="1"`, "the map's script ran to the end")
			assert.Contains(t, body, `data-routes="`+strconv.Itoa(routes)+`"`)
			assert.Contains(t, body, `data-hops="`+strconv.Itoa(hops)+`"`)
			assert.Equal(t, routes, strings.Count(dom, `class="route"`)+strings.Count(dom, `class="route ecmp"`))
			assert.Equal(t, 2, strings.Count(dom, "<script"), "no script element injected")
			assert.NotContains(t, dom, "<img")
			assert.Empty(t, proxy.pageHosts(), "the page attempted a network request")
		})
	}
}

// TestHTMLScreenshot renders the multi-trace map and checks the picture is
// a real map (many colours, not a blank page). The README's picture comes
// from scripts/hero.sh (real traces), not from here.
func TestHTMLScreenshot(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	proxy := proxySink(t)
	path := filepath.Join(dir, "map.html")
	rs := outputtest.Many(40)
	require.NoError(t, os.WriteFile(path, render(t, "html", rs, Options{Title: "geoloc: 40 traces from Oslo"}), 0o644))
	shot := filepath.Join(dir, "map.png")
	runChromium(t, bin, path, proxy, "--screenshot="+shot, "--window-size=1280,720", "--hide-scrollbars")
	b, err := os.ReadFile(shot)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	assert.Equal(t, 1280, img.Bounds().Dx())
	colours := map[uint32]bool{}
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y += 3 {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x += 3 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[r>>11<<10|g>>11<<5|b>>11] = true
		}
	}
	assert.Greater(t, len(colours), 40, "a rendered map has many colours")
	assert.Empty(t, proxy.pageHosts())
}

// TestHTMLGoldenImage compares a headless Chromium screenshot of the map
// of the four test traces with testdata/map-traces.png (-update-image
// rewrites it): what a person sees — start markers, arrows, hop numbers,
// hollow uncertain hops, city and country labels — must not change
// unnoticed. Font rendering differs a little between machines, so the
// picture may differ in at most 1.5% of its pixels (a pixel differs when
// a channel is off by more than 40 of 255).
func TestHTMLGoldenImage(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	proxy := proxySink(t)
	path := filepath.Join(dir, "map.html")
	require.NoError(t, os.WriteFile(path, render(t, "html", outputtest.Traces(), Options{Title: "geoloc: four traces"}), 0o644))
	shot := filepath.Join(dir, "map.png")
	runChromium(t, bin, path, proxy, "--screenshot="+shot, "--window-size=1200,800", "--hide-scrollbars", "--force-device-scale-factor=1")
	got, err := os.ReadFile(shot)
	require.NoError(t, err)
	golden := filepath.Join("testdata", "map-traces.png")
	if *updateImage {
		require.NoError(t, os.WriteFile(golden, got, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run go test -run TestHTMLGoldenImage -update-image ./output/")
	gi, err := png.Decode(bytes.NewReader(got))
	require.NoError(t, err)
	wi, err := png.Decode(bytes.NewReader(want))
	require.NoError(t, err)
	require.Equal(t, wi.Bounds(), gi.Bounds())
	differ, total := 0, 0
	for y := wi.Bounds().Min.Y; y < wi.Bounds().Max.Y; y++ {
		for x := wi.Bounds().Min.X; x < wi.Bounds().Max.X; x++ {
			total++
			r1, g1, b1, _ := wi.At(x, y).RGBA()
			r2, g2, b2, _ := gi.At(x, y).RGBA()
			if max(absDiff(r1, r2), absDiff(g1, g2), absDiff(b1, b2)) > 40<<8 {
				differ++
			}
		}
	}
	share := float64(differ) / float64(total)
	if share > 0.015 {
		failed := filepath.Join(t.TempDir(), "map-traces-got.png")
		_ = os.WriteFile(failed, got, 0o644)
		t.Errorf("screenshot differs from %s in %.2f%% of its pixels (allowed 1.5%%); got %s", golden, 100*share, failed)
	}
	assert.Empty(t, proxy.pageHosts())
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

// interactionScript clicks a hop, a route and a network legend entry and
// records what the page did in attributes of <body> for --dump-dom.
const interactionScript = `(function () {
  var b = document.body, svg = document.querySelector("#mapbox svg");
  function rec(k, v) { b.setAttribute("data-test-" + k, String(v)); }
  var hop = svg.querySelector(".hop[data-t='0'][data-h='1']");
  hop.dispatchEvent(new MouseEvent("click", { bubbles: true }));
  rec("hop-details", document.querySelector("#details h2").textContent);
  rec("hop-dd", Array.prototype.map.call(document.querySelectorAll("#details dd"), function (e) { return e.textContent; }).join("|"));
  rec("hop-selecting", svg.classList.contains("selecting"));
  rec("hop-sel", svg.querySelectorAll(".hop.sel").length);
  var route = svg.querySelector(".route[data-t='1']");
  route.dispatchEvent(new MouseEvent("click", { bubbles: true }));
  rec("route-details", document.querySelector("#details h2").textContent);
  rec("route-items", document.querySelectorAll("#details li").length);
  rec("route-sel", svg.querySelectorAll(".route.sel").length);
  var as = document.querySelector("#legend-orgs li[data-as='1299']");
  as.dispatchEvent(new MouseEvent("click", { bubbles: true }));
  rec("as-sel", svg.querySelectorAll(".hop.sel").length);
  var cc = document.querySelector("#legend-countries li[data-cc='SE']");
  cc.dispatchEvent(new MouseEvent("click", { bubbles: true }));
  rec("cc-land", svg.querySelectorAll(".land path.sel").length);
  rec("cc-routes", svg.querySelectorAll(".route.sel").length);
  svg.dispatchEvent(new MouseEvent("click", { bubbles: true }));
  rec("cleared", !svg.classList.contains("selecting"));
  var vb = svg.getAttribute("viewBox");
  svg.dispatchEvent(new WheelEvent("wheel", { deltaY: -100, clientX: 200, clientY: 150, bubbles: true, cancelable: true }));
  rec("zoomed", svg.getAttribute("viewBox") !== vb);
  rec("done", 1);
})();`

// TestHTMLInteraction drives the page's script in headless Chromium: the
// page under test is the real output with one more script (allowed by its
// hash in the page's own policy) that clicks and records.
func TestHTMLInteraction(t *testing.T) {
	bin := chromium(t)
	proxy := proxySink(t)
	page := string(render(t, "html", outputtest.Traces(), Options{}))
	i := strings.Index(page, "script-src ")
	require.Positive(t, i)
	i += len("script-src ")
	page = page[:i] + strings.ReplaceAll(cspHash(interactionScript), "'", "&#39;") + " " + page[i:]
	page = strings.Replace(page, "</body>", "<script>"+interactionScript+"</script></body>", 1)
	path := filepath.Join(t.TempDir(), "interact.html")
	require.NoError(t, os.WriteFile(path, []byte(page), 0o644))
	dom := string(runChromium(t, bin, path, proxy, "--dump-dom"))
	body := regexp.MustCompile(`<body[^>]*>`).FindString(dom)
	attr := func(k string) string {
		m := regexp.MustCompile(`data-test-` + k + `="([^"]*)"`).FindStringSubmatch(body)
		if m == nil {
			return "<missing>"
		}
		return html.UnescapeString(m[1])
	}
	require.Equal(t, "1", attr("done"), "the test script ran to the end: %s", body)
	assert.Equal(t, "2 ti0001c360-ae1.ti.telenor.net", attr("hop-details"))
	assert.Contains(t, attr("hop-dd"), "AS2119 Telenor Norge AS")
	assert.Contains(t, attr("hop-dd"), "1.204 ms")
	assert.Equal(t, "true", attr("hop-selecting"))
	assert.Equal(t, "1", attr("hop-sel"))
	assert.Equal(t, "ns1.example.no (203.0.113.53)", attr("route-details"))
	assert.Equal(t, "4", attr("route-items"), "the trace's hops are listed")
	assert.Equal(t, "1", attr("route-sel"))
	assert.Equal(t, "5", attr("as-sel"), "the five located Arelion hops")
	assert.Equal(t, "1", attr("cc-land"))
	assert.Equal(t, "1", attr("cc-routes"), "one route crosses Sweden")
	assert.Equal(t, "true", attr("cleared"))
	assert.Equal(t, "true", attr("zoomed"))
	assert.Empty(t, proxy.pageHosts())
}
