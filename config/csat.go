package config

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// CSATTextNames are the names of the survey's texts (handoff has them
// built in for en, tr and ru and checks at start that every language of
// the bot has all of them).
func CSATTextNames() []string {
	return []string{"ask", "sms_ask", "list_button", "comment", "thanks",
		"rating_1", "rating_2", "rating_3", "rating_4", "rating_5"}
}

// maxCSATTitle is the longest rating title or list button every channel
// takes (Messenger quick replies, WhatsApp's list button).
const maxCSATTitle = 20

// csat checks a bot's survey: windows, the template (WhatsApp's, in
// full), the texts (the bot's languages, known names, titles that fit a
// button).
func (v *validator) csat(p string, b Bot) {
	c := b.CSAT
	if c.Off && c.BotResolved {
		v.add(p+".bot_resolved", "the survey is off (csat.off): nothing is surveyed")
	}
	v.duration(p+".answer_window", c.AnswerWindow, false)
	v.duration(p+".comment_window", c.CommentWindow, false)
	switch t := c.Template; {
	case t.Name == "" && t.Language == "":
	case t.Name == "" || t.Language == "":
		v.add(p+".template", "name and language go together")
	case b.Channels.WhatsApp == nil:
		v.add(p+".template", "only WhatsApp sends a template, and the bot has no WhatsApp channel")
	}
	names := CSATTextNames()
	for _, lang := range sortedKeys(c.Texts) {
		if !slices.Contains(b.Languages, lang) {
			v.add(p+".texts."+lang, "not one of the bot's languages")
		}
		for _, k := range sortedKeys(c.Texts[lang]) {
			t := c.Texts[lang][k]
			q := p + ".texts." + lang + "." + k
			switch {
			case !slices.Contains(names, k):
				v.add(q, "unknown text; the texts are %s", strings.Join(names, ", "))
			case strings.TrimSpace(t) == "":
				v.add(q, "empty")
			case (k == "list_button" || strings.HasPrefix(k, "rating_")) && utf8.RuneCountInString(t) > maxCSATTitle:
				v.add(q, "%d characters; a button title takes at most %d", utf8.RuneCountInString(t), maxCSATTitle)
			}
		}
	}
}
