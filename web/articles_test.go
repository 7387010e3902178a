package web_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/kb"
	"github.com/batonhq/baton/kb/hashembed"
	"github.com/batonhq/baton/web"
)

// articleAPI is a running app with the article API on a real SQLite store.
type articleAPI struct {
	url string
	st  baton.Store
	ret *kb.Retriever
}

func newArticleAPI(t *testing.T) *articleAPI {
	t.Helper()
	st := openStore(t)
	emb, err := hashembed.New(hashembed.Options{})
	if err != nil {
		t.Fatal(err)
	}
	url, _ := serve(t, web.Config{
		Store:      st,
		AdminToken: adminToken,
		KB:         &kb.Manager{Store: st, Embedder: emb},
		Bots:       []baton.Bot{{ID: "shop", Name: "Shop", Languages: []string{"en", "tr"}}},
	})
	return &articleAPI{url: url, st: st, ret: &kb.Retriever{Store: st, Embedder: emb}}
}

var bearer = map[string]string{"Authorization": "Bearer " + adminToken, "Content-Type": "application/json"}

// call sends an authorised request and decodes a JSON answer.
func (a *articleAPI) call(t *testing.T, method, path, body string) (int, map[string]any, []byte) {
	t.Helper()
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	status, _, data := do(t, method, a.url+path, b, bearer)
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%s %s: answer is not a JSON object: %q", method, path, data)
	}
	return status, out, data
}

// found reports whether a search finds the article among its passages.
func (a *articleAPI) found(t *testing.T, question, slug string) bool {
	t.Helper()
	res, err := a.ret.Search(context.Background(), kb.Query{BotID: "shop", Text: question, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Chunk.Slug == slug {
			return true
		}
	}
	return false
}

func article(t *testing.T, out map[string]any) map[string]any {
	t.Helper()
	a, ok := out["article"].(map[string]any)
	if !ok {
		t.Fatalf("no article in %v", out)
	}
	return a
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

const (
	deliveryV1      = `{"title":"How long does delivery take?","body":"Standard delivery takes three to five working days.\n","language":"en","tags":["shipping"],"status":"published","url":"https://help.example.com/delivery"}`
	deliveryV2      = `{"title":"How long does delivery take?","body":"Standard delivery takes two to four working days.\n\n## Express\n\nExpress delivery arrives the next day.\n","language":"en","tags":["shipping"],"status":"published","url":"https://help.example.com/delivery"}`
	deliveryV2Draft = `{"title":"How long does delivery take?","body":"Standard delivery takes two to four working days.\n\n## Express\n\nExpress delivery arrives the next day.\n","language":"en","tags":["shipping"],"status":"draft","url":"https://help.example.com/delivery"}`
)

// TestArticleLifecycle drives create, update, publication, versions,
// restore, unpublish and drafts through the HTTP API, and checks through
// retrieval that only the published version answers.
func TestArticleLifecycle(t *testing.T) {
	a := newArticleAPI(t)
	const art = "/api/v1/bots/shop/articles/delivery-times"
	steps := []struct {
		name      string
		method    string
		path      string
		body      string
		status    int
		change    string
		version   int    // of the newest version in the answer
		published int    // published_version in the answer
		bodyHas   string // in the article body of the answer
	}{
		{"create", "PUT", art, deliveryV1, 201, "created", 1, 1, "three to five"},
		{"same content is no new version", "PUT", art, deliveryV1, 200, "unchanged", 1, 1, "three to five"},
		{"changed content is a new version", "PUT", art, deliveryV2, 200, "updated", 2, 2, "two to four"},
		{"status alone unpublishes", "PUT", art, deliveryV2Draft, 200, "unpublished", 2, 0, "two to four"},
		{"publish an old version", "POST", art + "/publish", `{"version":1}`, 200, "published", 2, 1, "two to four"},
		{"publishing it again changes nothing", "POST", art + "/publish", `{"version":1}`, 200, "unchanged", 2, 1, "two to four"},
		{"restore makes a new version from an old one", "POST", art + "/restore", `{"version":1,"publish":true,"author":"dana"}`, 200, "updated", 3, 3, "three to five"},
		{"unpublish", "POST", art + "/unpublish", "", 200, "unpublished", 3, 0, "three to five"},
		{"unpublish again changes nothing", "DELETE", art, "", 200, "unchanged", 3, 0, "three to five"},
		{"publish the newest", "POST", art + "/publish", `{"version":3}`, 200, "published", 3, 3, "three to five"},
		{"DELETE unpublishes", "DELETE", art, "", 200, "unpublished", 3, 0, "three to five"},
		{"restore as a draft", "POST", art + "/restore", `{"version":2}`, 200, "updated", 4, 0, "two to four"},
		{"restoring the newest content only publishes", "POST", art + "/restore", `{"version":2,"publish":true}`, 200, "published", 4, 4, "two to four"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			status, out, raw := a.call(t, st.method, st.path, st.body)
			if status != st.status {
				t.Fatalf("status %d, want %d: %s", status, st.status, raw)
			}
			art := article(t, out)
			if out["change"] != st.change || num(art["version"]) != st.version || num(out["published_version"]) != st.published {
				t.Errorf("change %v, version %v, published %v; want %s, %d, %d", out["change"], art["version"], out["published_version"], st.change, st.version, st.published)
			}
			if body, _ := art["body"].(string); !strings.Contains(body, st.bodyHas) {
				t.Errorf("body %q lacks %q", body, st.bodyHas)
			}
			// Only a published version answers.
			if got := a.found(t, "how many working days does standard delivery take", "delivery-times"); got != (st.published > 0) {
				t.Errorf("retrieval finds the article: %v, published version %d", got, st.published)
			}
		})
	}

	t.Run("versions oldest first, with their authors", func(t *testing.T) {
		status, out, raw := a.call(t, "GET", art+"/versions", "")
		if status != 200 {
			t.Fatalf("status %d: %s", status, raw)
		}
		vs, _ := out["versions"].([]any)
		var got []string
		for _, v := range vs {
			m := v.(map[string]any)
			if _, ok := m["body"]; ok {
				t.Errorf("version list carries bodies")
			}
			got = append(got, m["author"].(string))
			if num(m["version"]) != len(got) {
				t.Errorf("version %v at position %d", m["version"], len(got))
			}
		}
		if strings.Join(got, ",") != "admin-api,admin-api,dana,admin-api" {
			t.Errorf("authors %v", got)
		}
	})
	t.Run("get one version", func(t *testing.T) {
		_, out, _ := a.call(t, "GET", art+"?version=2", "")
		if got := article(t, out); num(got["version"]) != 2 || !strings.Contains(got["body"].(string), "Express") {
			t.Errorf("version 2: %v", got)
		}
	})

	t.Run("translation and list", func(t *testing.T) {
		tr := `{"title":"Teslimat ne kadar sürer?","body":"Standart teslimat iki ila dört iş günü sürer.\n","language":"tr","translation_of":"delivery-times"}`
		status, out, raw := a.call(t, "PUT", "/api/v1/bots/shop/articles/delivery-times-tr", tr)
		if got := article(t, out); status != 201 || got["translation_of"] != "delivery-times" || got["status"] != "draft" {
			t.Fatalf("status %d: %s", status, raw)
		}
		tests := []struct {
			query string
			slugs string
		}{
			{"", "delivery-times,delivery-times-tr"},
			{"?published=true", "delivery-times"},
			{"?language=tr", "delivery-times-tr"},
			{"?limit=1", "delivery-times"},
		}
		for _, tc := range tests {
			_, out, _ := a.call(t, "GET", "/api/v1/bots/shop/articles"+tc.query, "")
			var slugs []string
			for _, v := range out["articles"].([]any) {
				slugs = append(slugs, v.(map[string]any)["slug"].(string))
			}
			if strings.Join(slugs, ",") != tc.slugs {
				t.Errorf("list%s: %v, want %s", tc.query, slugs, tc.slugs)
			}
		}
	})

	t.Run("draft from an agent's reply", func(t *testing.T) {
		body := `{"question":"Can I pay with a gift card?","reply":"Yes: enter the gift card code at checkout.","author":"agent ana"}`
		status, out, raw := a.call(t, "POST", "/api/v1/bots/shop/drafts/from-reply", body)
		if status != 201 {
			t.Fatalf("status %d: %s", status, raw)
		}
		d := article(t, out)
		if d["status"] != "draft" || d["language"] != "en" || d["author"] != "agent ana" || !strings.HasPrefix(d["slug"].(string), "draft-") {
			t.Errorf("draft %v", d)
		}
		if a.found(t, "pay with a gift card code at checkout", d["slug"].(string)) {
			t.Errorf("an unpublished draft answers")
		}
		// The same question again gets its own slug, not a new version.
		_, again, _ := a.call(t, "POST", "/api/v1/bots/shop/drafts/from-reply", body)
		if s := article(t, again)["slug"]; s == d["slug"] {
			t.Errorf("second draft reused slug %v", s)
		}
	})
}

// TestArticleErrors: 401 without the token, 404 for unknown bots, slugs and
// versions, 400 with the reason for invalid input; a rejected request
// changes nothing.
func TestArticleErrors(t *testing.T) {
	a := newArticleAPI(t)
	const art = "/api/v1/bots/shop/articles/delivery-times"
	if status, _, raw := a.call(t, "PUT", art, deliveryV1); status != 201 {
		t.Fatalf("seed: %d %s", status, raw)
	}
	before := len(a.versions(t, "delivery-times"))

	noToken := map[string]string{"Content-Type": "application/json"}
	wrongToken := map[string]string{"Authorization": "Bearer not-the-token", "Content-Type": "application/json"}
	tests := []struct {
		name    string
		method  string
		path    string
		body    string
		header  map[string]string
		status  int
		code    string
		message string
	}{
		{"list without token", "GET", "/api/v1/bots/shop/articles", "", noToken, 401, "unauthorized", "bearer token"},
		{"put without token", "PUT", art, deliveryV2, noToken, 401, "unauthorized", "bearer token"},
		{"publish with a wrong token", "POST", art + "/publish", `{"version":1}`, wrongToken, 401, "unauthorized", "bearer token"},
		{"delete with a wrong token", "DELETE", art, "", wrongToken, 401, "unauthorized", "bearer token"},
		{"draft without token", "POST", "/api/v1/bots/shop/drafts/from-reply", `{"question":"q","reply":"r"}`, noToken, 401, "unauthorized", "bearer token"},

		{"unknown bot", "GET", "/api/v1/bots/nobot/articles", "", bearer, 404, "not_found", `no bot "nobot"`},
		{"put for an unknown bot", "PUT", "/api/v1/bots/nobot/articles/delivery-times", deliveryV2, bearer, 404, "not_found", `no bot "nobot"`},
		{"unknown slug", "GET", "/api/v1/bots/shop/articles/nothing-here", "", bearer, 404, "not_found", ""},
		{"versions of an unknown slug", "GET", "/api/v1/bots/shop/articles/nothing-here/versions", "", bearer, 404, "not_found", `no article "nothing-here"`},
		{"unknown version", "GET", art + "?version=9", "", bearer, 404, "not_found", ""},
		{"publish an unknown version", "POST", art + "/publish", `{"version":9}`, bearer, 404, "not_found", ""},
		{"publish an unknown slug", "POST", "/api/v1/bots/shop/articles/nothing-here/publish", `{"version":1}`, bearer, 404, "not_found", ""},
		{"unpublish an unknown slug", "DELETE", "/api/v1/bots/shop/articles/nothing-here", "", bearer, 404, "not_found", ""},
		{"restore an unknown version", "POST", art + "/restore", `{"version":9}`, bearer, 404, "not_found", ""},

		{"empty body", "PUT", art, "", bearer, 400, "invalid", "want a JSON object, got nothing"},
		{"not JSON", "PUT", art, `{"title":`, bearer, 400, "invalid", "request body"},
		{"unknown field", "PUT", art, `{"title":"T","body":"B","headline":"x"}`, bearer, 400, "invalid", `unknown field "headline"`},
		{"wrong type", "PUT", art, `{"title":"T","body":"B","tags":"shipping"}`, bearer, 400, "invalid", "tags"},
		{"two objects", "PUT", art, deliveryV2 + deliveryV2, bearer, 400, "invalid", "data after the JSON object"},
		{"unknown language", "PUT", art, `{"title":"T","body":"Some text.","language":"xx"}`, bearer, 400, "invalid", `unknown language "xx"`},
		{"empty article body", "PUT", art, `{"title":"T","body":"  \n"}`, bearer, 400, "invalid", "empty body"},
		{"missing title", "PUT", art, `{"body":"Some text."}`, bearer, 400, "invalid", "title is empty"},
		{"unknown status", "PUT", art, `{"title":"T","body":"Some text.","status":"live"}`, bearer, 400, "invalid", `unknown status "live"`},
		{"bad slug", "PUT", "/api/v1/bots/shop/articles/Bad_Slug", `{"title":"T","body":"Some text."}`, bearer, 400, "invalid", `bad slug "Bad_Slug"`},
		{"slug differs from the path", "PUT", art, `{"slug":"other","title":"T","body":"Some text."}`, bearer, 400, "invalid", `slug "other" in the body differs`},
		{"bad url", "PUT", art, `{"title":"T","body":"Some text.","url":"help/delivery"}`, bearer, 400, "invalid", `bad url "help/delivery"`},
		{"translation of nothing", "PUT", "/api/v1/bots/shop/articles/x-tr", `{"title":"T","body":"Metin.","language":"tr","translation_of":"nothing-here"}`, bearer, 400, "invalid", `translation_of "nothing-here": no article`},
		{"translation in the same language", "PUT", "/api/v1/bots/shop/articles/x-en", `{"title":"T","body":"Text.","translation_of":"delivery-times"}`, bearer, 400, "invalid", "a translation is in another language"},
		{"author on two lines", "PUT", art, `{"title":"T","body":"Some text.","author":"a\nb"}`, bearer, 400, "invalid", "author"},
		{"publish without a version", "POST", art + "/publish", `{}`, bearer, 400, "invalid", "give the version to publish"},
		{"restore without a version", "POST", art + "/restore", `{"publish":true}`, bearer, 400, "invalid", "give the version to restore"},
		{"bad version parameter", "GET", art + "?version=two", "", bearer, 400, "invalid", `query parameter version: want a version number`},
		{"bad published parameter", "GET", "/api/v1/bots/shop/articles?published=maybe", "", bearer, 400, "invalid", "query parameter published"},
		{"bad limit", "GET", "/api/v1/bots/shop/articles?limit=0", "", bearer, 400, "invalid", "query parameter limit"},
		{"draft without a reply", "POST", "/api/v1/bots/shop/drafts/from-reply", `{"question":"Do you ship to Norway?","reply":" "}`, bearer, 400, "invalid", "must not be empty"},
		{"draft in an unknown language", "POST", "/api/v1/bots/shop/drafts/from-reply", `{"question":"Q?","reply":"R.","language":"zz"}`, bearer, 400, "invalid", `unknown language "zz"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body)
			}
			status, _, raw := do(t, tc.method, a.url+tc.path, body, tc.header)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, raw)
			}
			if code := errorCode(t, raw); code != tc.code {
				t.Errorf("code %q, want %q", code, tc.code)
			}
			var e struct{ Error struct{ Message string } }
			if err := json.Unmarshal(raw, &e); err != nil || !strings.Contains(e.Error.Message, tc.message) {
				t.Errorf("message lacks %q: %s", tc.message, raw)
			}
		})
	}
	if after := len(a.versions(t, "delivery-times")); after != before {
		t.Errorf("rejected requests changed the versions: %d → %d", before, after)
	}
	arts, err := a.st.ListArticles(context.Background(), baton.ArticleFilter{BotID: "shop"})
	if err != nil || len(arts) != 1 {
		t.Errorf("articles after rejected requests: %d (%v)", len(arts), err)
	}
	if arts, _ := a.st.ListArticles(context.Background(), baton.ArticleFilter{BotID: "nobot"}); len(arts) != 0 {
		t.Errorf("an article was stored for an unknown bot")
	}
}

func (a *articleAPI) versions(t *testing.T, slug string) []*baton.Article {
	t.Helper()
	vs, err := a.st.ListArticleVersions(context.Background(), "shop", slug)
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

// TestArticleAPIOff: without a KB manager the article routes do not exist.
func TestArticleAPIOff(t *testing.T) {
	url, _ := serve(t, web.Config{Store: openStore(t), AdminToken: adminToken})
	status, _, raw := do(t, "GET", url+"/api/v1/bots/shop/articles", nil, bearer)
	if status != 404 {
		t.Errorf("status %d: %s", status, raw)
	}
}

// TestArticleExportMatchesAPI: what the API stored exports to a file that
// imports as unchanged, so both ways of authoring agree.
func TestArticleExportMatchesAPI(t *testing.T) {
	a := newArticleAPI(t)
	if status, _, raw := a.call(t, "PUT", "/api/v1/bots/shop/articles/delivery-times", deliveryV2); status != 201 {
		t.Fatalf("%d %s", status, raw)
	}
	dir := t.TempDir()
	ctx := context.Background()
	if _, err := kb.Export(ctx, a.st, "shop", dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "en", "delivery-times.md")); err != nil {
		t.Fatal(err)
	}
	rep, err := kb.Import(ctx, a.st, a.ret.Embedder, "shop", dir, kb.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Unchanged != 1 || len(rep.Created)+len(rep.Updated)+len(rep.Published) != 0 {
		t.Errorf("import of the export: %+v", rep)
	}
}
