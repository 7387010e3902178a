package bots

import (
	"fmt"
	"sort"
	"strings"

	"github.com/batonhq/baton"
)

// TextKey names one fixed thing the bot says.
type TextKey string

// The bot's fixed texts. Placeholders in braces are filled in when said.
const (
	TextGreeting       TextKey = "greeting"          // a hello with nothing else in it
	TextClarify        TextKey = "clarify"           // {options}: the choices too close to call
	TextOutOfScope     TextKey = "out_of_scope"      // a message the bot cannot place
	TextDontKnow       TextKey = "dont_know"         // no grounded answer
	TextOtherLanguage  TextKey = "other_language"    // {language}: the answer comes from another language's article
	TextDidThisHelp    TextKey = "did_this_help"     // asked after an answer or an action
	TextYes            TextKey = "yes"               // the button / quick reply
	TextNo             TextKey = "no"                // the button / quick reply
	TextSMSChoice      TextKey = "sms_choice"        // {yes} {no}: how SMS asks for a choice
	TextGladToHelp     TextKey = "glad_to_help"      // the customer said yes
	TextEscalating     TextKey = "escalating"        // a person is coming
	TextClosed         TextKey = "escalating_closed" // {when}: a person is coming, once the team is back
	TextStillWaiting   TextKey = "still_waiting"     // a queued customer wrote again
	TextSlotRetry      TextKey = "slot_retry"        // {prompt}: a slot's value did not validate
	TextActionFailed   TextKey = "action_failed"     // an action failed; a person takes over
	TextSources        TextKey = "sources"           // the heading of an answer's citations
	TextNotHelpedAgain TextKey = "not_helped_sorry"  // the customer said no: before the escalation
)

// TextKeys lists every fixed text.
func TextKeys() []TextKey {
	return []TextKey{TextGreeting, TextClarify, TextOutOfScope, TextDontKnow, TextOtherLanguage, TextDidThisHelp,
		TextYes, TextNo, TextSMSChoice, TextGladToHelp, TextEscalating, TextClosed, TextStillWaiting, TextSlotRetry, TextActionFailed,
		TextSources, TextNotHelpedAgain}
}

// builtinTexts are what the bot says in the languages the product speaks
// fully. Configuration may override any of them and add languages.
func builtinTexts() map[string]map[TextKey]string {
	return map[string]map[TextKey]string{
		"en": {
			TextGreeting:       "Hi! I'm the virtual assistant. Ask me anything, or write \"agent\" to talk to a person.",
			TextClarify:        "I want to get this right. Do you mean: {options}?",
			TextOutOfScope:     "I'm not sure I understood. Could you tell me a bit more about what you need?",
			TextDontKnow:       "I couldn't find an answer to that. Could you rephrase it, or write \"agent\" to talk to a person?",
			TextOtherLanguage:  "(This answer is only available in {language}.)",
			TextDidThisHelp:    "Did this help?",
			TextYes:            "Yes",
			TextNo:             "No",
			TextSMSChoice:      "Reply 1 for {yes} or 2 for {no}.",
			TextGladToHelp:     "Glad I could help! Write any time if you need anything else.",
			TextEscalating:     "I'm passing you to a person from our team. They will see this conversation, so you won't need to repeat yourself.",
			TextClosed:         "Our team is away right now. A person will pick this up here from {when}; you won't need to repeat yourself.",
			TextStillWaiting:   "You're still in the queue: a person will answer here as soon as they can.",
			TextSlotRetry:      "That doesn't look right. {prompt}",
			TextActionFailed:   "Sorry, I couldn't do that just now. A person from our team will take it from here.",
			TextSources:        "Source",
			TextNotHelpedAgain: "Sorry that didn't help.",
		},
		"tr": {
			TextGreeting:       "Merhaba! Ben sanal asistanınızım. Bana her şeyi sorabilirsiniz; bir temsilciyle görüşmek için \"temsilci\" yazın.",
			TextClarify:        "Doğru anlamak istiyorum. Şunu mu demek istediniz: {options}?",
			TextOutOfScope:     "Tam anlayamadım. Neye ihtiyacınız olduğunu biraz daha anlatabilir misiniz?",
			TextDontKnow:       "Bununla ilgili bir yanıt bulamadım. Farklı bir şekilde sorabilir ya da bir temsilciyle görüşmek için \"temsilci\" yazabilirsiniz.",
			TextOtherLanguage:  "(Bu yanıt yalnızca {language} olarak mevcut.)",
			TextDidThisHelp:    "Bu yardımcı oldu mu?",
			TextYes:            "Evet",
			TextNo:             "Hayır",
			TextSMSChoice:      "{yes} için 1, {no} için 2 yazın.",
			TextGladToHelp:     "Yardımcı olabildiğime sevindim! Başka bir şeye ihtiyacınız olursa yazmanız yeterli.",
			TextEscalating:     "Sizi ekibimizden bir temsilciye aktarıyorum. Bu konuşmayı görecekler; tekrar anlatmanıza gerek kalmayacak.",
			TextClosed:         "Ekibimiz şu anda çalışmıyor. Bir temsilci {when} itibarıyla buradan devralacak; tekrar anlatmanıza gerek kalmayacak.",
			TextStillWaiting:   "Hâlâ sıradasınız: bir temsilci en kısa sürede buradan yanıt verecek.",
			TextSlotRetry:      "Bu doğru görünmüyor. {prompt}",
			TextActionFailed:   "Üzgünüm, bunu şu anda yapamadım. Ekibimizden bir temsilci devralacak.",
			TextSources:        "Kaynak",
			TextNotHelpedAgain: "Yardımcı olamadığım için üzgünüm.",
		},
		"ru": {
			TextGreeting:       "Здравствуйте! Я виртуальный помощник. Задайте вопрос или напишите «оператор», чтобы поговорить с человеком.",
			TextClarify:        "Хочу понять правильно. Вы имеете в виду: {options}?",
			TextOutOfScope:     "Я не совсем понял. Расскажите, пожалуйста, подробнее, что вам нужно.",
			TextDontKnow:       "Я не нашёл ответа на этот вопрос. Переформулируйте его или напишите «оператор», чтобы поговорить с человеком.",
			TextOtherLanguage:  "(Этот ответ есть только на {language} языке.)",
			TextDidThisHelp:    "Это помогло?",
			TextYes:            "Да",
			TextNo:             "Нет",
			TextSMSChoice:      "Ответьте 1 — «{yes}» или 2 — «{no}».",
			TextGladToHelp:     "Рад был помочь! Пишите, если понадобится что-то ещё.",
			TextEscalating:     "Передаю вас сотруднику нашей команды. Он увидит эту переписку, так что повторять ничего не придётся.",
			TextClosed:         "Сейчас наша команда не работает. Сотрудник ответит здесь, начиная с {when}; повторять ничего не придётся.",
			TextStillWaiting:   "Вы всё ещё в очереди: сотрудник ответит здесь, как только сможет.",
			TextSlotRetry:      "Похоже, это неверно. {prompt}",
			TextActionFailed:   "К сожалению, сейчас не получилось это сделать. Дальше вам поможет сотрудник нашей команды.",
			TextSources:        "Источник",
			TextNotHelpedAgain: "Жаль, что это не помогло.",
		},
	}
}

// languageNames name a language in each language the bot speaks, for
// TextOtherLanguage.
func languageNames() map[string]map[string]string {
	return map[string]map[string]string{
		"en": {"en": "English", "tr": "Turkish", "ru": "Russian", "de": "German", "es": "Spanish", "fr": "French"},
		"tr": {"en": "İngilizce", "tr": "Türkçe", "ru": "Rusça", "de": "Almanca", "es": "İspanyolca", "fr": "Fransızca"},
		"ru": {"en": "английском", "tr": "турецком", "ru": "русском", "de": "немецком", "es": "испанском", "fr": "французском"},
	}
}

// Texts are a bot's fixed texts by language, checked to be complete for
// every language the bot speaks.
type Texts struct {
	byLang   map[string]map[TextKey]string
	fallback string
}

// NewTexts builds the texts of a bot speaking languages (default first):
// the built-in ones overridden by overrides (language → key → text). A
// language the product has no built-in texts for must be given every key.
func NewTexts(languages []string, overrides map[string]map[string]string) (*Texts, error) {
	if len(languages) == 0 {
		return nil, baton.Errorf(baton.EINVALID, "texts: the bot has no languages")
	}
	t := &Texts{byLang: map[string]map[TextKey]string{}, fallback: languages[0]}
	keys, builtin := TextKeys(), builtinTexts()
	known := map[TextKey]bool{}
	for _, k := range keys {
		known[k] = true
	}
	var problems []string
	for lang, m := range overrides {
		for k := range m {
			if !known[TextKey(k)] {
				problems = append(problems, fmt.Sprintf("texts.%s.%s: unknown text (known: %s)", lang, k, keyList()))
			}
		}
	}
	for _, lang := range languages {
		m := map[TextKey]string{}
		for k, v := range builtin[lang] {
			m[k] = v
		}
		for k, v := range overrides[lang] {
			if strings.TrimSpace(v) == "" {
				problems = append(problems, fmt.Sprintf("texts.%s.%s: empty", lang, k))
				continue
			}
			m[TextKey(k)] = v
		}
		var missing []string
		for _, k := range keys {
			if m[k] == "" {
				missing = append(missing, string(k))
			}
		}
		if len(missing) > 0 {
			problems = append(problems, fmt.Sprintf("texts.%s: no built-in texts for this language; missing %s", lang, strings.Join(missing, ", ")))
		}
		t.byLang[lang] = m
	}
	for lang := range overrides {
		if _, ok := t.byLang[lang]; !ok {
			problems = append(problems, fmt.Sprintf("texts.%s: not one of the bot's languages", lang))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, baton.Errorf(baton.EINVALID, "%s", strings.Join(problems, "; "))
	}
	return t, nil
}

func keyList() string {
	keys := TextKeys()
	s := make([]string, len(keys))
	for i, k := range keys {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// Say returns text key in lang (the default language when the bot does not
// speak lang) with its placeholders filled from vars ("options", "a, b").
func (t *Texts) Say(lang string, key TextKey, vars ...string) string {
	m, ok := t.byLang[lang]
	if !ok {
		m = t.byLang[t.fallback]
	}
	s := m[key]
	if len(vars) > 1 {
		pairs := make([]string, 0, len(vars))
		for i := 0; i+1 < len(vars); i += 2 {
			pairs = append(pairs, "{"+vars[i]+"}", vars[i+1])
		}
		s = strings.NewReplacer(pairs...).Replace(s)
	}
	return s
}

// LanguageName names language code in the language lang, or returns the
// code when the product has no name for it.
func LanguageName(lang, code string) string {
	names := languageNames()
	if n := names[lang][code]; n != "" {
		return n
	}
	if n := names["en"][code]; n != "" {
		return n
	}
	return code
}
