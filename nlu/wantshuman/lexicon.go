package wantshuman

// Words are folded (see words.Fold): lower case, İ/I/ı → i, ё → е, no
// apostrophes. A trailing * matches any ending (Turkish and Russian
// suffixes); Turkish words are written without diacritics and compared
// after ASCII folding, since customers type both.

// strongTerms name a person to talk to clearly enough that the term alone
// ("agent", "operator please") is a request.
var strongTerms = []string{
	// en
	"human", "humans", "agent", "agents", "representative", "representatives", "rep",
	"operator", "real person", "live person", "actual person", "real human", "live agent",
	"human being", "customer service", "customer support", "live chat", "live support",
	"supervisor", "manager",
	// tr
	"temsilci*", "musteri temsilci*", "musteri hizmetler*", "canli destek*", "yetkili*",
	"gercek kisi*", "gercek insan*", "canli kisi*", "operator*", "operatör*", "yonetici*",
	// ru
	"оператор*", "живой человек", "живым человеком", "живого человека", "живому человеку",
	"живой оператор*", "живым оператор*", "реальный человек", "реальным человеком",
	"реального человека", "консультант*", "специалист*", "сотрудник*", "менеджер*",
	"служб* поддержк*", "техподдержк*",
}

// weakTerms are people only when asked for: "person" or "someone" need a
// request ("talk to a person").
var weakTerms = []string{
	"person", "someone", "somebody", "people", "staff", "employee", "support",
	"insan*", "kisi*", "biri*", "birisi*", "personel*",
	"человек*", "кто нибудь", "кто-нибудь", "поддержк*",
}

// cues make a sentence a request.
var cues = []string{
	// en
	"talk", "talking", "speak", "speaking", "chat", "connect", "transfer", "put", "get", "give",
	"want", "wanna", "need", "let", "reach", "contact", "call", "escalate", "request",
	"like", "can", "could", "may", "is there", "are there", "any", "where", "please", "pls", "plz", "how",
	// tr
	"konus*", "gorus*", "bagla*", "aktar*", "ilet*", "ulas*", "iste*", "isti*", "lazim", "gerek*",
	"ver", "verin", "verir", "cagir*", "yonlendir*", "var mi", "yok mu", "nasil", "lutfen",
	// ru
	"поговор*", "говор*", "соедин*", "переключ*", "свяж*", "связ*", "позов*", "позв*", "дайте", "дай",
	"хочу", "хотел*", "нужен", "нужна", "нужно", "надо", "перевед*", "переведи*", "дозвон*",
	"есть ли", "где", "можно", "пожалуйста", "как",
}

// fillers may surround a bare term: "agent please", "an operator now".
var fillers = []string{
	"a", "an", "the", "please", "pls", "plz", "now", "asap", "right", "immediately", "just", "only",
	"hi", "hello", "hey", "i", "me", "my", "some", "real", "yes", "ok", "okay",
	"lutfen", "hemen", "simdi", "bir", "merhaba", "selam", "acil", "bana",
	"пожалуйста", "срочно", "сейчас", "здравствуйте", "привет", "мне", "ну", "а", "давайте", "живого",
}

// negators turn a request into a refusal when they come shortly before the
// desire or the term ("I don't need a human", "не нужен оператор").
// "can't" and "cannot" are absent on purpose: "why can't I talk to a
// person" is a request.
var negators = []string{
	"dont", "do not", "doesnt", "didnt", "not", "never", "without", "no need", "rather not", "wont", "nor",
	"не", "без", "никак*", "ни",
	"hic", "hicbir",
}

// directNegators refuse whatever person follows them in the clause: "no
// need for a human", "without an agent", "без оператора".
var directNegators = []string{"no need", "without", "never mind", "без", "hicbir", "gerek yok"}

// comparisons after a term make it a likeness, not a request: "insan gibi
// konuşuyorsun" (you talk like a human).
var comparisons = []string{"gibi", "kadar"}

// shortNegators only negate a term right after them ("no human", "no
// agents"), so that "no I want a human" still asks.
var shortNegators = []string{"no", "нет"}

// postNegators follow the term in Turkish and in Russian or English
// passives: "temsilci istemiyorum", "оператор не нужен", "a human is not
// needed".
var postNegators = []string{
	"istemiyor*", "istemem*", "istemez*", "istemeyiz", "gerek yok", "gerekmiyor*", "gerekmez*",
	"ihtiyac* yok", "lazim degil", "degil*", "olmadan", "baglamayin*", "baglama", "aktarmayin*",
	"not needed", "not necessary", "unnecessary", "isnt necessary", "isnt needed",
	"не нужен", "не нужна", "не нужно", "не надо", "не требуется", "не обязательно", "не нужны",
}

// desires are what a negator must touch to negate the request.
var desires = []string{
	"need", "want", "wanna", "require", "talk", "speak", "chat", "connect", "transfer", "call",
	"нужен", "нужна", "нужно", "нужны", "надо", "хочу", "хотим", "требуется", "соедин*", "переключ*",
	"зов*", "позов*", "говорить", "поговорить",
}

// breaks end a negator's reach: "I don't want to wait, just get me a human".
var breaks = []string{"but", "get", "give", "just", "instead", "rather", "so", "ama", "fakat", "но", "лучше", "дайте", "а",
	// a refusal of the bot is not a refusal of a person
	"bot", "bots", "robot", "machine", "chatbot", "automated", "bota", "botla", "botu", "бот*", "робот*"}

// identity questions ask what the bot is, not for a person.
var identity = []string{"are you", "r u", "is this", "am i talking", "are u", "ты", "вы", "это", "sen", "siz"}

// identitySuffixes are Turkish question particles after the term: "insan
// mısın" (are you human).
var identitySuffixes = []string{"misin", "misiniz", "musun", "musunuz", "mi"}
