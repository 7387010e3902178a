package langid

import (
	"strings"

	"github.com/batonhq/baton/nlu/words"
)

// functionWords are the commonest words of each Latin-script language.
// Letter n-grams can misread a short sentence of rare words; several
// function words of one language outvote them. Scripts with a language
// of their own (Cyrillic, Arabic) need no help.
var functionWords = map[string]string{
	"en": "the is are was were what where when why how this that with you your my and of to in it not have has do does did can will would for from at be been me we they them than there please thanks thank hello yes ok an or if about just still",
	"tr": "bir ve bu şu ne için ile çok ama da de mi mı mu mü var yok ben sen biz siz daha gibi kadar değil nasıl neden nerede teşekkürler merhaba evet hayır lütfen olarak olan diye sonra ki her hiç bana beni benim",
	"de": "der die das und ist nicht ich du sie wir ein eine mit von zu auf für wie was wo warum bitte danke ja nein mein meine noch schon auch aber oder wenn dass hallo sind haben hat den dem ihr",
	"es": "el la los las es y que de en un una por para con no mi mis está están qué dónde cuándo cómo gracias hola sí pero muy ya todavía porque lo le se del al su",
	"fr": "le la les et est que de des un une pour avec pas ne je tu vous nous mon ma mes où quand comment merci bonjour oui non mais très cest du au aux sur dans il elle jai",
	"pt": "o a os as é e que de em um uma por para com não meu minha está onde quando como obrigado obrigada olá sim mas muito ainda você vocês do da dos das no na",
	"it": "il lo la gli le è e che di in un una per con non mio mia dove quando come grazie ciao sì ma molto ancora sono del della al alla perché",
	"nl": "de het een en is niet ik je jij u wij van met voor op te dat die wat waar wanneer hoe bedankt dank hallo ja nee mijn nog al ook maar zijn heb heeft",
}

type functionIndex map[string][]string // word → languages

func newFunctionIndex(langs []string) functionIndex {
	idx := functionIndex{}
	for _, l := range langs {
		for _, w := range strings.Fields(functionWords[l]) {
			w = words.ASCIIFold(words.FoldString(w))
			idx[w] = append(idx[w], l)
		}
	}
	return idx
}

// vote counts function words per language.
func (idx functionIndex) vote(text string) map[string]int {
	counts := map[string]int{}
	for _, t := range words.Split(text) {
		for _, l := range idx[words.ASCIIFold(t.Text)] {
			counts[l]++
		}
	}
	return counts
}
