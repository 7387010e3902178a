package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"path"

	"github.com/gofiber/fiber/v2"

	"github.com/batonhq/baton"
)

// The web inbox (/console) is a page and two assets; everything it shows
// and does goes through the agent API (/api/v1) with the agent's own token,
// so the server holds no logic of its own for it.

//go:embed console/index.html console/console.css console/console.js
var consoleFS embed.FS

// consoleCSP allows the page's own script and style only: no inline code,
// no other origin, no framing.
const consoleCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// assetType is an asset's content type.
func assetType(name string) string {
	if path.Ext(name) == ".css" {
		return "text/css; charset=utf-8"
	}
	return "text/javascript; charset=utf-8"
}

// consoleAssets are the embedded assets by name, with the short digest the
// page names them by, so that they can be cached for good.
type consoleAssets struct {
	page   *template.Template
	files  map[string][]byte
	digest map[string]string
}

func loadConsole() (*consoleAssets, error) {
	a := &consoleAssets{files: map[string][]byte{}, digest: map[string]string{}}
	for _, name := range []string{"console.css", "console.js"} {
		b, err := consoleFS.ReadFile("console/" + name)
		if err != nil {
			return nil, baton.Errorf(baton.EINTERNAL, "web: console asset %s: %w", name, err)
		}
		sum := sha256.Sum256(b)
		a.files[name], a.digest[name] = b, hex.EncodeToString(sum[:6])
	}
	page, err := template.ParseFS(consoleFS, "console/index.html")
	if err != nil {
		return nil, baton.Errorf(baton.EINTERNAL, "web: console page: %w", err)
	}
	a.page = page
	return a, nil
}

// consoleHeaders are the page's and the assets' security headers.
func consoleHeaders(c *fiber.Ctx) {
	c.Set("Content-Security-Policy", consoleCSP)
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("X-Frame-Options", "DENY")
	// The sign-in link carries the token in the fragment, which no request
	// sends; no Referer carries the address either.
	c.Set("Referrer-Policy", "no-referrer")
}

// consolePage: GET /console, the inbox's HTML shell.
func (s *server) consolePage(c *fiber.Ctx) error {
	consoleHeaders(c)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Type("html", "utf-8")
	return s.console.page.Execute(c.Response().BodyWriter(), map[string]any{
		"Version": s.cfg.Version,
		"CSS":     "/console/assets/console.css?v=" + s.console.digest["console.css"],
		"JS":      "/console/assets/console.js?v=" + s.console.digest["console.js"],
	})
}

// consoleAsset: GET /console/assets/:name. The page names each asset by
// its digest, so a cached copy is never stale.
func (s *server) consoleAsset(c *fiber.Ctx) error {
	name := c.Params("name")
	b, ok := s.console.files[name]
	if !ok {
		return baton.Errorf(baton.ENOTFOUND, "console: no asset %q", name)
	}
	consoleHeaders(c)
	c.Set(fiber.HeaderContentType, assetType(name))
	if c.Query("v") == s.console.digest[name] {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Set(fiber.HeaderCacheControl, "no-cache")
	}
	return c.Send(b)
}
