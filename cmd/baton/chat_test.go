package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/bots"
	"github.com/batonhq/baton/store/sqlite"
)

// chatRun runs "baton chat args..." with input on stdin, against the demo
// configuration (found from the working directory, as in a checkout) and
// with no Baton variable set.
func chatRun(t *testing.T, input string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &env{stdout: &out, stderr: &errOut, stdin: strings.NewReader(input),
		lookupEnv: func(string) (string, bool) { return "", false }}
	code = run(context.Background(), append([]string{"chat"}, args...), e)
	return out.String(), errOut.String(), code
}

// chatTurns splits a transcript into what followed each line the user
// typed, by that line.
func chatTurns(t *testing.T, out string) map[string]string {
	t.Helper()
	turns := map[string]string{}
	for _, block := range strings.Split(out, "\nyou> ")[1:] {
		line, rest, _ := strings.Cut(block, "\n")
		turns[line] = rest
	}
	return turns
}

// turn is what followed the user's line, which must have been sent.
func turn(t *testing.T, turns map[string]string, line string) string {
	t.Helper()
	out, ok := turns[line]
	if !ok {
		t.Fatalf("no turn for %q", line)
	}
	return out
}

func wantIn(t *testing.T, what, text string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(text, s) {
			t.Errorf("%s lacks %q:\n%s", what, s, text)
		}
	}
}

// TestChatSession is a scripted session with the demo bot: a KB question
// answered with its citation, the help question answered by its button's
// number, a fresh conversation escalated on request.
func TestChatSession(t *testing.T) {
	out, errOut, code := chatRun(t, "how long does delivery take?\n1\nI want to talk to a person\n")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	turns := chatTurns(t, out)

	answer := turn(t, turns, "how long does delivery take?")
	wantIn(t, "the answer", answer, "bot> ", "→ answer  lang=en intent=", "cited: delivery-times (", "[1] Yes", "[2] No")
	if !regexp.MustCompile(`(?m)^    triggers: .*negative_sentiment -?[0-9.]+/-0\.6`).MatchString(answer) {
		t.Errorf("the triggers line lacks negative_sentiment with its value and threshold:\n%s", answer)
	}
	if strings.Contains(answer, "✔") {
		t.Errorf("a trigger fired on a plain question:\n%s", answer)
	}

	yes := turn(t, turns, "1")
	wantIn(t, "the answer to the help question", yes, `(button "Yes", payload baton:help:yes)`, "● resolved")

	human := turn(t, turns, "I want to talk to a person")
	wantIn(t, "the request for a person", human, "● new conversation #2", "→ escalate", "wants_human=yes", "✔ wants_human",
		"● escalated to queue general (General support) with priority normal")
}

func TestChatAnswers(t *testing.T) {
	texts, err := bots.NewTexts([]string{"en", "tr"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	otherTR, _, _ := strings.Cut(texts.Say("tr", bots.TextOtherLanguage, "language", "\x00"), "\x00")
	tests := []struct {
		name  string
		args  []string
		input string
		line  string // the line whose turn is checked
		want  []string
		// oneOf: at least one of them is in the turn.
		oneOf []string
		not   []string
	}{
		{name: "the help question answered by its text", input: "how long does delivery take?\nyes\n", line: "yes",
			want: []string{`(button "Yes", payload baton:help:yes)`, "● resolved"}},
		{name: "a Turkish question", input: "iade ne zaman yapılır?\n", line: "iade ne zaman yapılır?",
			want:  []string{"→ answer  lang=tr"},
			oneOf: []string{texts.Say("tr", bots.TextDidThisHelp), otherTR}},
		{name: "--lang starts the conversation in Turkish", args: []string{"--lang", "tr"}, input: "ok\n", line: "ok",
			want: []string{"lang=tr", "bot> " + texts.Say("tr", bots.TextOutOfScope)}},
		{name: "without --lang the bot's first language", input: "ok\n", line: "ok",
			want: []string{"lang=en", "bot> " + texts.Say("en", bots.TextOutOfScope)}},
		{name: "a number with no buttons is text", input: "1\n", line: "1", not: []string{"(button"}},
		{name: "the demo bot's order checks reach the demo's order API", input: "where is my order SS-10002?\n", line: "where is my order SS-10002?",
			want: []string{"→ action (order_status)", "Order SS-10002"}, not: []string{"escalate"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := chatRun(t, tc.input, tc.args...)
			if code != exitOK {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			got := turn(t, chatTurns(t, out), tc.line)
			wantIn(t, "the turn", got, tc.want...)
			for _, s := range tc.not {
				if strings.Contains(got, s) {
					t.Errorf("the turn has %q:\n%s", s, got)
				}
			}
			if len(tc.oneOf) > 0 {
				found := false
				for _, s := range tc.oneOf {
					found = found || strings.Contains(got, s)
				}
				if !found {
					t.Errorf("the turn has none of %q:\n%s", tc.oneOf, got)
				}
			}
		})
	}
}

// TestChatCommands: /json prints each decision as the admin API's JSON,
// /quit ends the session (nothing after it is sent), and so does the end
// of the input.
func TestChatCommands(t *testing.T) {
	out, errOut, code := chatRun(t, "/json\nhello\n/json\nhello again\n/quit\nI want to talk to a person\n")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	turns := chatTurns(t, out)
	var decision struct {
		MessageID int64  `json:"message_id"`
		Action    string `json:"action"`
		Analysis  *struct {
			Intent string `json:"intent"`
		} `json:"analysis"`
		Triggers []struct {
			Trigger string `json:"trigger"`
		} `json:"triggers"`
	}
	var jsonLines int
	for _, l := range strings.Split(turn(t, turns, "hello"), "\n") {
		if strings.HasPrefix(l, "{") {
			jsonLines++
			if err := json.Unmarshal([]byte(l), &decision); err != nil {
				t.Fatalf("decision line %q: %v", l, err)
			}
		}
		if strings.Contains(l, "→ ") {
			t.Errorf("with /json on, a decision printed as text: %q", l)
		}
	}
	if jsonLines != 1 || decision.MessageID == 0 || decision.Action != baton.ActionAnswer || decision.Analysis == nil ||
		decision.Analysis.Intent != "greeting" || len(decision.Triggers) == 0 {
		t.Fatalf("%d JSON decision lines, last %+v; want one answer to a greeting with its triggers", jsonLines, decision)
	}
	wantIn(t, "the turn after /json again", turn(t, turns, "hello again"), "→ answer")
	if _, ok := turns["I want to talk to a person"]; ok || strings.Contains(out, "→ escalate") {
		t.Fatalf("a line after /quit was sent:\n%s", out)
	}

	out, errOut, code = chatRun(t, "")
	if code != exitOK || !strings.Contains(out, "Chatting with Stride Sports assistant (sportshop)") {
		t.Fatalf("empty input: exit %d\n%s%s", code, out, errOut)
	}
}

// TestChatStores: the throwaway store is gone after the session; with
// --store configured the conversation stays in the configured store, on
// the web chat channel.
func TestChatStores(t *testing.T) {
	out, errOut, code := chatRun(t, "hello\n")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	m := regexp.MustCompile(`throwaway SQLite in (\S+) \(removed at exit\)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the throwaway store's directory is not named:\n%s", out)
	}
	if _, err := os.Stat(m[1]); !os.IsNotExist(err) {
		t.Fatalf("the throwaway store %s is still there (%v)", m[1], err)
	}

	dir := t.TempDir()
	models := t.TempDir()
	out, errOut, code = chatRun(t, "I want to talk to a person\n", "--store", "configured", "--data-dir", dir, "--model-dir", models)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	wantIn(t, "the session", out, "sqlite "+filepath.Join(dir, sqliteFile), "→ escalate")
	if entries, err := os.ReadDir(models); err != nil || len(entries) == 0 {
		t.Errorf("no intent model kept in --model-dir (%v)", err)
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, sqliteFile), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	convs, err := st.ListConversations(ctx, baton.ConversationFilter{BotID: "sportshop"})
	if err != nil {
		t.Fatal(err)
	}
	if len(convs) != 1 || convs[0].Channel != baton.ChannelWebChat || convs[0].State != baton.StateQueued {
		t.Fatalf("conversations kept: %+v; want one queued web chat conversation", convs)
	}
}

// TestChatUsage: what the user gets wrong exits 2 before anything starts.
func TestChatUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown store", []string{"--store", "production"}, `--store: "production" is not one of throwaway, configured`},
		{"language the bot does not speak", []string{"--lang", "de"}, `--lang: bot sportshop speaks en, tr, ru; "de" is not one of them`},
		{"unknown bot", []string{"--bot", "nobody"}, `--bot: no bot "nobody"`},
		{"data directory of a throwaway store", []string{"--data-dir", "somewhere"}, "--data-dir: only with --store configured"},
		{"an argument", []string{"hello"}, "unknown command \"hello\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := chatRun(t, "hello\n", tc.args...)
			if code != exitBadInput || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, errOut, tc.want)
			}
			if out != "" {
				t.Fatalf("something started:\n%s", out)
			}
		})
	}
}
