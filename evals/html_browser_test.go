package evals

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/batonhq/baton/internal/browsertest"
)

// TestHTMLInARealBrowser opens the report page from a file in headless
// Chromium, as someone would from a CI artifact: the page renders, its
// charts and sections are there, the filter and the "open all failures"
// button work, and the browser makes no request but the file itself.
// The page is saved as a screenshot under testdata/out.
func TestHTMLInARealBrowser(t *testing.T) {
	exe := browsertest.Chromium(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(f, readFixture(t, "report_b.json"), readFixture(t, "report_a.json")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	page := "file://" + path

	var mu sync.Mutex
	var requests []string
	opts := browsertest.Options(exe, t.TempDir(), chromedp.WindowSize(1280, 1000))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithListener(func(ev any) {
		if r, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			requests = append(requests, r.Request.URL)
			mu.Unlock()
		}
	}))
	defer cancelBrowser()
	// The first Run starts the browser and must not carry a timeout (it
	// would bound the browser's life); the steps after it do.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()

	if err := chromedp.Do(ctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("#suite"))); err != nil {
		t.Fatalf("open the report: %v", err)
	}
	eval := func(js string) int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return n
	}
	// Rendered, not only present: the charts have a size.
	if n := eval(`[...document.querySelectorAll("svg.chart")].filter(s => s.getBoundingClientRect().height > 50).length`); n != 3 {
		t.Errorf("%d charts drawn, want 3 (headline, languages, triggers)", n)
	}
	if n := eval(`document.querySelectorAll("#intents tbody tr").length`); n != 3 {
		t.Errorf("confusion matrix rows %d, want 3", n)
	}
	if n := eval(`document.querySelectorAll("details.case.failed[open]").length`); n != 0 {
		t.Errorf("%d failed cases open before asking", n)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#expand"))); err != nil {
		t.Fatal(err)
	}
	if n := eval(`document.querySelectorAll("details.case.failed[open]").length`); n != 1 {
		t.Errorf("%d failed cases open after 'Open all failures', want 1", n)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#case-filter"), "whatsapp")); err != nil {
		t.Fatal(err)
	}
	if n := eval(`document.querySelectorAll("details.case:not([hidden])").length`); n != 1 {
		t.Errorf("%d cases shown for 'whatsapp', want 1", n)
	}
	shown, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#shown")))
	if err != nil || shown != "1 of 4 cases shown" {
		t.Errorf("filter status %q (%v)", shown, err)
	}
	// Back to every case for the picture, the failure left open.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`(() => { const i = document.getElementById("case-filter"); i.value = ""; i.dispatchEvent(new Event("input")); })()`)); err != nil {
		t.Fatal(err)
	}

	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join("testdata", "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	shotPath, _ := filepath.Abs(filepath.Join(out, "report.png"))
	if err := os.WriteFile(shotPath, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the report: %s", shotPath)

	mu.Lock()
	defer mu.Unlock()
	// The document itself is the one request: the listener works, and
	// nothing else was asked for (no stylesheet, script, font or image).
	if len(requests) != 1 || !strings.HasPrefix(requests[0], "file://") {
		t.Errorf("requests %q, want only the page's own file", requests)
	}
}
