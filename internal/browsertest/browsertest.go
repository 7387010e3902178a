// Package browsertest finds the headless Chromium the browser tests run in,
// one convention for every package that has such a test: $BATON_CHROMIUM,
// else chromium on PATH; without one the test is skipped, unless
// BATON_REQUIRE_BROWSER=1 (CI) makes that a failure.
package browsertest

import (
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// Chromium returns the browser's path, or skips (or fails, in CI) t.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("BATON_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("BATON_REQUIRE_BROWSER") == "1" {
		t.Fatal("no chromium found and BATON_REQUIRE_BROWSER=1 (apt-get install chromium)")
	}
	t.Skip("no chromium on PATH; apt-get install chromium to run the browser test")
	return ""
}

// Options are the allocator options of a headless run of exe with a
// profile of its own in dir, then extra.
func Options(exe, dir string, extra ...chromedp.ExecAllocatorOption) []chromedp.ExecAllocatorOption {
	opts := append(append([]chromedp.ExecAllocatorOption(nil), chromedp.DefaultExecAllocatorOptions[:]...),
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // tests run as root in CI
		chromedp.DisableGPU,
		chromedp.UserDataDir(dir),
	)
	return append(opts, extra...)
}
