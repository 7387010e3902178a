package handoff_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/handoff"
	"github.com/batonhq/baton/kb"
	"github.com/batonhq/baton/kb/hashembed"
)

// answered is a conversation ann owns in which the customer asked a
// question and ann answered it.
func (f *fixture) answered(question, answer string) int64 {
	f.t.Helper()
	f.agent("ann", baton.AgentOnline, 5, "en")
	id := f.escalate("general", "en", baton.PriorityNormal)
	f.run()
	if c := f.conv(id); c.AgentID != "ann" {
		if _, err := f.desk.Assign(f.ctx, id, "ann", admin); err != nil {
			f.t.Fatal(err)
		}
	}
	c := f.conv(id)
	if _, err := f.st.InsertMessage(f.ctx, &baton.Message{ConversationID: id, BotID: bot, Channel: c.Channel, Direction: baton.DirectionIn,
		Author: baton.AuthorCustomer, Type: baton.TypeText, Text: question, ProviderID: "wamid.q" + strings.ReplaceAll(question, " ", "")}); err != nil {
		f.t.Fatal(err)
	}
	if answer != "" {
		if _, err := f.desk.Reply(f.ctx, id, baton.AgentReply{Text: answer}, agentActor("ann")); err != nil {
			f.t.Fatal(err)
		}
	}
	return id
}

// versions is every version of every article of the test bot.
func (f *fixture) versions() []*baton.Article {
	f.t.Helper()
	arts, err := f.st.ListArticles(f.ctx, baton.ArticleFilter{BotID: bot})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []*baton.Article
	for _, a := range arts {
		vs, err := f.st.ListArticleVersions(f.ctx, bot, a.Slug)
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, vs...)
	}
	return out
}

const (
	question = "How do I reset my  password?\nI forgot it"
	answer   = "Open **Settings → Security** and press *Reset password*:\n\n1. check your mail\n2. follow the link\n"
)

// TestDraftArticleFromTheReply: with no field given, the draft is the
// agent's last reply, titled with the customer's question, slugged from
// the title, in the conversation's language, by the agent, tagged with
// the conversation; a draft only (no chunks, nothing published), with an
// event on the conversation; `baton kb export` writes it and importing
// the export changes nothing.
func TestDraftArticleFromTheReply(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			f := newFixture(t, sc)
			id := f.answered(question, "An earlier answer")
			if _, err := f.desk.Reply(f.ctx, id, baton.AgentReply{Text: answer}, agentActor("ann")); err != nil {
				t.Fatal(err)
			}
			want := baton.KBDraft{Title: "How do I reset my password? I forgot it", Slug: "how-do-i-reset-my-password-i-forgot-it",
				Body: strings.TrimSpace(answer), Language: "en"}
			if got, err := f.desk.KBDraftFor(f.ctx, id, agentActor("ann")); err != nil || got != want {
				t.Fatalf("KBDraftFor = %+v, %v; want %+v", got, err, want)
			}
			a, err := f.desk.DraftArticle(f.ctx, id, baton.KBDraft{}, agentActor("ann"))
			if err != nil {
				t.Fatal(err)
			}
			if a.Status != baton.ArticleDraft || a.Slug != want.Slug || a.Title != want.Title || a.Body != answer || a.Language != "en" ||
				a.Author != "agent:ann" || a.Version != 1 || !slices.Contains(a.Tags, handoff.SourceTag(id)) {
				t.Fatalf("draft %+v", a)
			}
			if _, err := f.st.GetPublishedArticle(f.ctx, bot, a.Slug); baton.ErrorCode(err) != baton.ENOTFOUND {
				t.Fatalf("the draft is published: %v", err)
			}
			if cs, err := f.st.ListChunks(f.ctx, a.ID); err != nil || len(cs) != 0 {
				t.Fatalf("a draft has %d chunks (%v): it could answer", len(cs), err)
			}
			evs := f.events(id, handoff.EventKBDraft)
			if len(evs) != 1 || evs[0].Actor != "agent:ann" || evs[0].Data["slug"] != a.Slug {
				t.Fatalf("events %+v", evs)
			}

			// Saving the same again saves nothing.
			again, err := f.desk.DraftArticle(f.ctx, id, baton.KBDraft{}, agentActor("ann"))
			if err != nil || again.ID != a.ID || len(f.versions()) != 1 || len(f.events(id, handoff.EventKBDraft)) != 1 {
				t.Fatalf("second save: %+v %v, %d versions", again, err, len(f.versions()))
			}

			dir := t.TempDir()
			rep, err := kb.Export(f.ctx, f.st, bot, dir)
			if err != nil || len(rep.Files) != 1 {
				t.Fatalf("export %+v %v", rep, err)
			}
			data, err := os.ReadFile(filepath.Join(dir, rep.Files[0]))
			if err != nil {
				t.Fatal(err)
			}
			doc, err := kb.ParseDocument(rep.Files[0], data)
			if err != nil || doc.Hash() != a.Hash || doc.Status != baton.ArticleDraft {
				t.Fatalf("exported file does not read back as the draft (%v):\n%s", err, data)
			}
			emb, err := hashembed.New(hashembed.Options{})
			if err != nil {
				t.Fatal(err)
			}
			imp, err := kb.Import(f.ctx, f.st, emb, bot, dir, kb.ImportOptions{})
			if err != nil || imp.Unchanged != 1 || len(f.versions()) != 1 {
				t.Fatalf("re-import %+v %v", imp, err)
			}
		})
	}
}

// TestDraftArticleBesidePublished: a slug that has a published version
// gets a new draft version; the published one stays published, with its
// text. The very text already published is not drafted again.
func TestDraftArticleBesidePublished(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			f := newFixture(t, sc)
			id := f.answered(question, answer)
			pub := &baton.Article{BotID: bot, Slug: "reset-password", Title: "Reset your password", Body: "Use the link.\n", Language: "en",
				Status: baton.ArticlePublished, Author: "import", Hash: "h1"}
			if err := f.st.CreateArticleVersion(f.ctx, pub); err != nil {
				t.Fatal(err)
			}
			a, err := f.desk.DraftArticle(f.ctx, id, baton.KBDraft{Slug: "reset-password", Title: "Reset your password"}, agentActor("ann"))
			if err != nil {
				t.Fatal(err)
			}
			if a.Version != 2 || a.Status != baton.ArticleDraft {
				t.Fatalf("draft %+v", a)
			}
			live, err := f.st.GetPublishedArticle(f.ctx, bot, "reset-password")
			if err != nil || live.Version != 1 || live.Body != "Use the link.\n" {
				t.Fatalf("published %+v %v", live, err)
			}

			if err := f.st.PublishArticle(f.ctx, bot, "reset-password", 2); err != nil {
				t.Fatal(err)
			}
			_, err = f.desk.DraftArticle(f.ctx, id, baton.KBDraft{Slug: "reset-password", Title: "Reset your password"}, agentActor("ann"))
			if baton.ErrorCode(err) != baton.EINVALID || !strings.Contains(err.Error(), "published with this very text") {
				t.Fatalf("drafting what is published: %v", err)
			}
			if n := len(f.versions()); n != 2 {
				t.Fatalf("%d versions, want 2", n)
			}
		})
	}
}

// TestDraftArticleRefusals: who may save a draft (the owner, the last
// agent of a resolved conversation, the admin) and what is refused; a
// refusal saves no article and records no event.
func TestDraftArticleRefusals(t *testing.T) {
	tests := []struct {
		name string
		prep func(f *fixture) int64 // the conversation
		in   baton.KBDraft
		by   baton.Actor
		code string
		msg  string // in the error
	}{
		{"another agent", func(f *fixture) int64 { return f.answered(question, answer) }, baton.KBDraft{}, agentActor("bob"), baton.EFORBIDDEN, "ann's"},
		{"waiting in the queue", func(f *fixture) int64 { return f.escalate("general", "en", baton.PriorityNormal) }, baton.KBDraft{Body: "x", Title: "x"},
			agentActor("ann"), baton.EFORBIDDEN, "nobody's"},
		{"no reply to save", func(f *fixture) int64 { return f.answered(question, "") }, baton.KBDraft{}, agentActor("ann"), baton.EINVALID, "no reply to save"},
		{"bad slug", func(f *fixture) int64 { return f.answered(question, answer) }, baton.KBDraft{Slug: "Reset Password"}, agentActor("ann"), baton.EINVALID, "bad slug"},
		{"unclosed code block", func(f *fixture) int64 { return f.answered(question, answer) }, baton.KBDraft{Body: "Run:\n```\nreset --all\n"},
			agentActor("ann"), baton.EINVALID, "never closed"},
		{"unknown language", func(f *fixture) int64 { return f.answered(question, answer) }, baton.KBDraft{Language: "xx"}, agentActor("ann"), baton.EINVALID, "language"},
		{"title too long", func(f *fixture) int64 { return f.answered(question, answer) }, baton.KBDraft{Title: strings.Repeat("long ", 50)},
			agentActor("ann"), baton.EINVALID, "over 200 characters"},
		{"over an article file's size", func(f *fixture) int64 { return f.answered(question, answer) }, baton.KBDraft{Body: strings.Repeat("a", kb.MaxFileSize+1)},
			agentActor("ann"), baton.ETOOLARGE, "byte limit"},
		{"unknown conversation", func(f *fixture) int64 { return 999999 }, baton.KBDraft{}, admin, baton.ENOTFOUND, ""},
		{"nobody", func(f *fixture) int64 { return f.answered(question, answer) }, baton.KBDraft{}, baton.Actor{}, baton.EUNAUTHORIZED, ""},
		{"the admin may", func(f *fixture) int64 { return f.answered(question, answer) }, baton.KBDraft{}, admin, "", ""},
		{"the last agent of a resolved conversation may", func(f *fixture) int64 {
			id := f.answered(question, answer)
			if _, err := f.desk.Resolve(f.ctx, id, agentActor("ann")); err != nil {
				f.t.Fatal(err)
			}
			return id
		}, baton.KBDraft{}, agentActor("ann"), "", ""},
	}
	for _, sc := range stores() {
		for _, tc := range tests {
			t.Run(sc.Name+"/"+tc.name, func(t *testing.T) {
				f := newFixture(t, sc)
				f.agent("bob", baton.AgentOnline, 5, "en")
				id := tc.prep(f)
				a, err := f.desk.DraftArticle(f.ctx, id, tc.in, tc.by)
				if tc.code == "" {
					if err != nil || a == nil || len(f.versions()) != 1 || len(f.events(id, handoff.EventKBDraft)) != 1 {
						t.Fatalf("saved %+v, %v; %d versions", a, err, len(f.versions()))
					}
					return
				}
				if baton.ErrorCode(err) != tc.code || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("error %v (%s), want %s mentioning %q", err, baton.ErrorCode(err), tc.code, tc.msg)
				}
				if n := len(f.versions()); n != 0 {
					t.Fatalf("a refused draft saved %d versions", n)
				}
				if id != 999999 {
					if evs := f.events(id, handoff.EventKBDraft); len(evs) != 0 {
						t.Fatalf("a refused draft recorded %+v", evs)
					}
				}
			})
		}
	}
}
