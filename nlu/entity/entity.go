// Package entity extracts the values a support conversation is routed on:
// order numbers, e-mail addresses, phone numbers and amounts of money.
package entity

import (
	"regexp"
	"sort"
	"strings"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/nlu/pii"
)

// Entity types.
const (
	OrderNumber = "order_number"
	Email       = "email"
	Phone       = "phone"
	Amount      = "amount"
)

var (
	// An order keyword (en/tr/ru) then an optional "number"/"#"/"no" and
	// the id; or a hash-prefixed id; or a letters-dash-digits code.
	orderRE = regexp.MustCompile(`(?i)(?:order|ord|sipari[sş]|заказ|посылк[аи]|tracking|kargo|takip)[^\pL\pN]{0,3}(?:(?:number|num|no|nr|numaras[ıi]|номер|№)[^\pL\pN]{0,3})?(?:(?:is|was|id)\s+)?#?\s*([A-Z]{0,3}-?\d{4,14})|#(\d{4,14})\b|\b([A-Z]{2,4}-\d{4,12}(?:-\d{1,6})?)\b`)
	// Currency sign before or code/sign after a number.
	amountRE = regexp.MustCompile(`(?i)(?:[$€£₺₽]\s?\d{1,3}(?:[ .,]?\d{3})*(?:[.,]\d{1,2})?)|(?:\b\d{1,3}(?:[ .,]?\d{3})*(?:[.,]\d{1,2})?\s?(?:[$€£₺₽]|usd|eur|gbp|try|tl|rub|руб(?:лей|ля|\.)?|р\.|lira|dollars?|euros?|pounds?)(?:[^\pL]|$))`)
)

// Extract returns the entities of text in order of appearance.
func Extract(text string) []baton.Entity {
	var out []baton.Entity
	for _, s := range pii.Find(text) {
		switch s.Type {
		case pii.Email:
			out = append(out, baton.Entity{Type: Email, Value: text[s.Start:s.End], Start: s.Start, End: s.End})
		case pii.Phone:
			out = append(out, baton.Entity{Type: Phone, Value: text[s.Start:s.End], Start: s.Start, End: s.End})
		}
	}
	taken := func(start, end int) bool {
		for _, e := range out {
			if start < e.End && e.Start < end {
				return true
			}
		}
		return false
	}
	for _, m := range orderRE.FindAllStringSubmatchIndex(text, -1) {
		for g := 1; g <= 3; g++ {
			s, e := m[2*g], m[2*g+1]
			if s >= 0 && !taken(s, e) {
				out = append(out, baton.Entity{Type: OrderNumber, Value: text[s:e], Start: s, End: e})
			}
		}
	}
	for _, m := range amountRE.FindAllStringIndex(text, -1) {
		s, e := m[0], m[1]
		v := strings.TrimRight(text[s:e], " \t\n.,;:!?)")
		e = s + len(v)
		if !taken(s, e) {
			out = append(out, baton.Entity{Type: Amount, Value: v, Start: s, End: e})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out
}
