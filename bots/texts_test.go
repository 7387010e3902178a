package bots

import (
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

func TestBuiltinTextsAreComplete(t *testing.T) {
	for lang, m := range builtinTexts() {
		for _, k := range TextKeys() {
			if strings.TrimSpace(m[k]) == "" {
				t.Errorf("%s: no built-in text %s", lang, k)
			}
		}
	}
}

func TestTexts(t *testing.T) {
	tx, err := NewTexts([]string{"en", "tr", "ru"}, map[string]map[string]string{"tr": {"escalating": "Bir temsilci geliyor."}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		lang string
		key  TextKey
		vars []string
		want string
	}{
		{"tr", TextEscalating, nil, "Bir temsilci geliyor."},
		{"en", TextEscalating, nil, builtinTexts()["en"][TextEscalating]},
		{"ru", TextClarify, []string{"options", "доставка или возврат"}, "Хочу понять правильно. Вы имеете в виду: доставка или возврат?"},
		{"de", TextDidThisHelp, nil, "Did this help?"}, // not spoken: the default language
		{"en", TextSMSChoice, []string{"yes", "Yes", "no", "No"}, "Reply 1 for Yes or 2 for No."},
	}
	for _, tc := range tests {
		t.Run(tc.lang+"/"+string(tc.key), func(t *testing.T) {
			if got := tx.Say(tc.lang, tc.key, tc.vars...); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTextsRefuseIncompleteConfiguration(t *testing.T) {
	tests := []struct {
		name      string
		languages []string
		overrides map[string]map[string]string
		want      string
	}{
		{"unknown key", []string{"en"}, map[string]map[string]string{"en": {"hello": "x"}}, "texts.en.hello: unknown text"},
		{"empty text", []string{"en"}, map[string]map[string]string{"en": {"greeting": " "}}, "texts.en.greeting: empty"},
		{"language without built-ins", []string{"en", "de"}, map[string]map[string]string{"de": {"greeting": "Hallo"}}, "texts.de: no built-in texts for this language; missing clarify"},
		{"language the bot does not speak", []string{"en"}, map[string]map[string]string{"tr": {"greeting": "Merhaba"}}, "texts.tr: not one of the bot's languages"},
		{"no languages", nil, nil, "no languages"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewTexts(tc.languages, tc.overrides)
			if err == nil || !strings.Contains(err.Error(), tc.want) || baton.ErrorCode(err) != baton.EINVALID {
				t.Fatalf("error %v, want an invalid error naming %q", err, tc.want)
			}
		})
	}
}

func TestLanguageName(t *testing.T) {
	for _, tc := range []struct{ lang, code, want string }{
		{"en", "tr", "Turkish"}, {"tr", "en", "İngilizce"}, {"ru", "en", "английском"}, {"de", "ru", "Russian"}, {"en", "xx", "xx"},
	} {
		if got := LanguageName(tc.lang, tc.code); got != tc.want {
			t.Errorf("LanguageName(%s, %s) = %q, want %q", tc.lang, tc.code, got, tc.want)
		}
	}
}
