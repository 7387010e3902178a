package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDemoPrintsAnInboxLink: the demo prints a link that signs Maya in to
// the inbox; the database keeps the token's digest, never the secret; a
// restart prints a new link and the old one stops working.
func TestDemoPrintsAnInboxLink(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	vars := map[string]string{"BATON_DATA_DIR": data}
	line := regexp.MustCompile(`Agent inbox, signed in as maya: (http://\S+)/console#token=(bat_\S+)`)
	me := func(r demoRun, secret string) (int, string) {
		status, body := get(t, r.url+"/api/v1/me", map[string]string{"Authorization": "Bearer " + secret})
		var out struct {
			Agent *struct{ ID string } `json:"agent"`
		}
		_ = json.Unmarshal([]byte(body), &out)
		if out.Agent == nil {
			return status, ""
		}
		return status, out.Agent.ID
	}
	var first string
	r := runDemo(t, vars, func(r demoRun) {
		m := line.FindStringSubmatch(r.stdoutNow())
		if m == nil {
			t.Fatalf("no inbox link in the demo's output:\n%s", r.stdoutNow())
		}
		if m[1] != r.url {
			t.Fatalf("the link is on %s, the demo on %s", m[1], r.url)
		}
		first = m[2]
		if status, agent := me(r, first); status != http.StatusOK || agent != "maya" {
			t.Fatalf("the link's token: %d as %q, want 200 as maya", status, agent)
		}
		if status, page := get(t, r.url+"/console", nil); status != http.StatusOK || !strings.Contains(page, "Baton inbox") {
			t.Fatalf("GET /console: %d", status)
		}
	})
	if strings.Contains(r.stderr, first) {
		t.Fatal("the token's secret is in the log")
	}
	err := filepath.Walk(data, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err == nil && strings.Contains(string(b), first) {
			t.Errorf("%s holds the token's secret", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	runDemo(t, vars, func(r demoRun) {
		m := line.FindStringSubmatch(r.stdoutNow())
		if m == nil || m[2] == first {
			t.Fatalf("after a restart: %v, want a new link", m)
		}
		if status, _ := me(r, first); status != http.StatusUnauthorized {
			t.Fatalf("the first start's link after a restart: %d, want 401", status)
		}
		if status, agent := me(r, m[2]); status != http.StatusOK || agent != "maya" {
			t.Fatalf("the new link: %d as %q", status, agent)
		}
	})
}
