package bots

import (
	"strings"

	"github.com/batonhq/baton/nlu/words"
)

// Answer to a yes/no question such as "did this help?".
type YesNo int

const (
	Neither YesNo = iota // not an answer to the question: a new message
	Yes
	No
)

// Payloads of the "did this help?" buttons and quick replies.
const (
	PayloadHelpYes = "baton:help:yes"
	PayloadHelpNo  = "baton:help:no"
	// PayloadClarify + an article's slug is a clarification's button.
	PayloadClarify = "baton:clarify:"
)

// ParseYesNo reads a customer's answer to a yes/no question: a button's
// payload, "1"/"2" on SMS, or a short answer in en/tr/ru. Anything longer
// than a few words is a new message, not an answer: "no, I want to return
// them" goes to the bot as a message whose first word says no.
func ParseYesNo(text, payload string) YesNo {
	switch payload {
	case PayloadHelpYes:
		return Yes
	case PayloadHelpNo:
		return No
	}
	toks := words.Split(text)
	if len(toks) == 0 {
		return Neither
	}
	first := words.ASCIIFold(toks[0].Text)
	if len(toks) == 1 {
		switch first {
		case "1":
			return Yes
		case "2":
			return No
		}
	}
	var phrase []string
	for _, t := range toks {
		phrase = append(phrase, words.ASCIIFold(t.Text))
	}
	whole := strings.Join(phrase, " ")
	for _, p := range noPhrases() {
		if whole == p || strings.HasPrefix(whole, p+" ") {
			return No
		}
	}
	if len(toks) > 4 {
		return Neither
	}
	for _, p := range yesPhrases() {
		if whole == p || strings.HasPrefix(whole, p+" ") {
			return Yes
		}
	}
	return Neither
}

// noPhrases say "it did not help" in the product's languages, folded.
func noPhrases() []string {
	return []string{
		"no", "nope", "nah", "not really", "not at all", "it didnt", "didnt help", "it did not", "did not help", "that didnt help", "not helpful",
		"hayir", "yok", "olmadi", "yardimci olmadi", "ise yaramadi", "hic", "pek degil",
		"нет", "неа", "не помогло", "не особо", "совсем нет", "не очень",
	}
}

// yesPhrases say "it helped" in the product's languages, folded.
func yesPhrases() []string {
	return []string{
		"yes", "yeah", "yep", "yup", "y", "sure", "it did", "it helped", "that helped", "helpful", "perfect", "great", "thanks", "thank you", "ok thanks", "ok thank you",
		"evet", "e", "oldu", "tamam", "yardimci oldu", "tesekkurler", "tesekkur ederim", "sagol", "super",
		"да", "ага", "помогло", "спасибо", "да спасибо", "отлично",
	}
}
