package kb

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/batonhq/baton"
)

// ChunkOptions sizes chunks, in characters (runes).
type ChunkOptions struct {
	Target  int // a chunk grows until adding a block would pass this; 0 = 900
	Overlap int // tail of the previous chunk repeated at the start of the next; 0 = 150, <0 = none
}

func (o ChunkOptions) withDefaults() ChunkOptions {
	if o.Target <= 0 {
		o.Target = 900
	}
	if o.Overlap == 0 {
		o.Overlap = 150
	}
	if o.Overlap < 0 {
		o.Overlap = 0
	}
	if o.Overlap > o.Target/2 {
		o.Overlap = o.Target / 2
	}
	return o
}

// breadcrumbSep joins the title and headings on a chunk's first line.
const breadcrumbSep = " > "

type blockKind int

const (
	blockPara blockKind = iota
	blockHeading
	blockCode
	blockTable
)

type block struct {
	kind  blockKind
	level int    // headings
	text  string // raw Markdown of the block (heading: its text only)
	line  int    // 1-based line in the body
}

type blockError struct {
	line int
	msg  string
}

func (e *blockError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

var (
	headingRE    = regexp.MustCompile(`^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$`)
	tableDelimRE = regexp.MustCompile(`^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$`)
)

func fenceOpen(line string) (marker string, ok bool) {
	t := strings.TrimLeft(line, " \t")
	for _, c := range []byte{'`', '~'} {
		n := 0
		for n < len(t) && t[n] == c {
			n++
		}
		if n >= 3 && (c == '~' || !strings.Contains(t[n:], "`")) {
			return t[:n], true
		}
	}
	return "", false
}

func fenceCloses(line, marker string) bool {
	t := strings.TrimSpace(line)
	if len(t) < len(marker) || t[0] != marker[0] {
		return false
	}
	return strings.Trim(t, string(marker[0])) == ""
}

// parseBlocks splits a Markdown body into headings, paragraphs (lists
// included), fenced code blocks and tables. Code blocks and tables are the
// units a chunk never cuts. An unclosed code fence is an error: the rest of
// the article would silently become code.
func parseBlocks(body string) ([]block, error) {
	lines := strings.Split(strings.TrimRight(body, "\n"), "\n")
	var out []block
	var para []string
	paraLine := 0
	flush := func() {
		if len(para) > 0 {
			out = append(out, block{kind: blockPara, text: strings.Join(para, "\n"), line: paraLine})
			para = nil
		}
	}
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.TrimSpace(l) == "" {
			flush()
			continue
		}
		if m := headingRE.FindStringSubmatch(l); m != nil {
			flush()
			out = append(out, block{kind: blockHeading, level: len(m[1]), text: strings.TrimSpace(m[2]), line: i + 1})
			continue
		}
		if marker, ok := fenceOpen(l); ok {
			flush()
			start := i
			j := i + 1
			for j < len(lines) && !fenceCloses(lines[j], marker) {
				j++
			}
			if j == len(lines) {
				return nil, &blockError{line: start + 1, msg: fmt.Sprintf("code block opened with %s is never closed", marker)}
			}
			out = append(out, block{kind: blockCode, text: strings.Join(lines[start:j+1], "\n"), line: start + 1})
			i = j
			continue
		}
		if isTableStart(lines, i) {
			flush()
			start := i
			j := i
			for j < len(lines) && strings.TrimSpace(lines[j]) != "" && strings.Contains(lines[j], "|") {
				j++
			}
			out = append(out, block{kind: blockTable, text: strings.Join(lines[start:j], "\n"), line: start + 1})
			i = j - 1
			continue
		}
		if len(para) == 0 {
			paraLine = i + 1
		}
		para = append(para, l)
	}
	flush()
	return out, nil
}

func isTableStart(lines []string, i int) bool {
	if !strings.Contains(lines[i], "|") || i+1 >= len(lines) {
		return false
	}
	return strings.Contains(lines[i+1], "-") && tableDelimRE.MatchString(lines[i+1])
}

// Chunk splits an article version into retrievable chunks. Each chunk stays
// inside one section and keeps its heading path; its text starts with a
// breadcrumb line (title and headings) so that both keyword and vector
// search see the context the passage belongs to. Code blocks and tables are
// never cut, even when they alone pass the target size.
func Chunk(a *baton.Article, opt ChunkOptions) ([]baton.Chunk, error) {
	opt = opt.withDefaults()
	blocks, err := parseBlocks(a.Body)
	if err != nil {
		return nil, baton.Errorf(baton.EINVALID, "article %s: %w", a.Slug, err)
	}
	var chunks []baton.Chunk
	var path []string
	levels := []int{}
	var cur []string // pieces of the chunk being built
	curLen := 0
	emit := func() {
		if len(cur) == 0 {
			return
		}
		hp := append([]string(nil), path...)
		crumb := append([]string{a.Title}, hp...)
		text := strings.Join(crumb, breadcrumbSep) + "\n\n" + strings.Join(cur, "\n\n")
		chunks = append(chunks, baton.Chunk{
			BotID:       a.BotID,
			Slug:        a.Slug,
			Language:    a.Language,
			Ord:         len(chunks),
			HeadingPath: hp,
			Text:        text,
			Hash:        ChunkHash(text),
		})
		cur, curLen = nil, 0
	}
	// carry starts the next chunk with the end of the last one, so that a
	// sentence cut from its context is still found with it.
	carry := func(last string, atomic bool) {
		if opt.Overlap == 0 || atomic {
			return
		}
		tail := tailSentences(last, opt.Overlap)
		if tail != "" {
			cur = []string{tail}
			curLen = utf8.RuneCountInString(tail)
		}
	}
	add := func(piece string, atomic bool) {
		n := utf8.RuneCountInString(piece)
		if len(cur) > 0 && curLen+n > opt.Target {
			last := cur[len(cur)-1]
			lastAtomic := isAtomic(last)
			emit()
			carry(last, lastAtomic)
			if len(cur) > 0 && curLen+n > opt.Target {
				cur, curLen = nil, 0
			}
		}
		cur = append(cur, piece)
		curLen += n + 2
	}
	for _, b := range blocks {
		switch b.kind {
		case blockHeading:
			emit()
			for len(levels) > 0 && levels[len(levels)-1] >= b.level {
				levels = levels[:len(levels)-1]
				path = path[:len(path)-1]
			}
			// A top heading repeating the title adds nothing to the path.
			if len(path) == 0 && strings.EqualFold(b.text, a.Title) {
				continue
			}
			levels = append(levels, b.level)
			path = append(path, b.text)
		case blockCode, blockTable:
			add(b.text, true)
		default:
			if isLinkList(b.text) {
				// "Related articles" and the like are navigation, not an
				// answer: their URLs' words would win keyword searches
				// ("express-delivery", "international-delivery") and the
				// bot would answer with a list of links.
				continue
			}
			for _, piece := range splitLong(b.text, opt.Target) {
				add(piece, false)
			}
		}
	}
	emit()
	return chunks, nil
}

var (
	urlRE    = regexp.MustCompile(`https?://\S+`)
	mdLinkRE = regexp.MustCompile(`\]\([^)\s]*\)`)
)

// linkListWords is how many words a line of a link list may have besides
// its link: a label ("Customs and duties:"), not prose.
const linkListWords = 8

// isLinkList reports whether a paragraph block is a list of links: every
// line has a link and little else.
func isLinkList(text string) bool {
	lines := 0
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		lines++
		if !urlRE.MatchString(line) && !mdLinkRE.MatchString(line) {
			return false
		}
		rest := mdLinkRE.ReplaceAllString(urlRE.ReplaceAllString(line, " "), " ")
		if len(strings.Fields(rest)) > linkListWords+1 { // +1: the bullet
			return false
		}
	}
	return lines > 0
}

func isAtomic(piece string) bool {
	first, _, _ := strings.Cut(piece, "\n")
	if _, ok := fenceOpen(first); ok {
		return true
	}
	lines := strings.Split(piece, "\n")
	return len(lines) > 1 && isTableStart(lines, 0)
}

// ChunkHash identifies a chunk's text: an unchanged hash keeps its vector.
func ChunkHash(text string) string {
	s := sha256.Sum256([]byte(text))
	return hex.EncodeToString(s[:])
}

// Passage is a chunk's text without its breadcrumb line.
func Passage(c baton.Chunk) string {
	if _, rest, ok := strings.Cut(c.Text, "\n\n"); ok {
		return rest
	}
	return c.Text
}

// splitSentences cuts text after ., ! or ? (and their full-width forms)
// followed by white space; newlines also end a sentence so that list items
// stay whole.
func splitSentences(text string) []string {
	var out []string
	start := 0
	rs := []rune(text)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		end := false
		switch {
		case r == '\n':
			end = true
		case r == '.' || r == '!' || r == '?' || r == '。' || r == '！' || r == '？':
			end = i+1 == len(rs) || unicode.IsSpace(rs[i+1])
		}
		if end {
			if s := strings.TrimSpace(string(rs[start : i+1])); s != "" {
				out = append(out, s)
			}
			start = i + 1
		}
	}
	if s := strings.TrimSpace(string(rs[start:])); s != "" {
		out = append(out, s)
	}
	return out
}

// splitLong cuts a paragraph longer than max into pieces of whole
// sentences (or whole words, for a sentence longer than max).
func splitLong(text string, max int) []string {
	if utf8.RuneCountInString(text) <= max {
		return []string{text}
	}
	var out []string
	var cur strings.Builder
	curLen := 0
	push := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
			curLen = 0
		}
	}
	for _, s := range splitSentences(text) {
		words := []string{s}
		if utf8.RuneCountInString(s) > max {
			words = strings.Fields(s)
		}
		for _, w := range words {
			n := utf8.RuneCountInString(w)
			if curLen > 0 && curLen+1+n > max {
				push()
			}
			if curLen > 0 {
				cur.WriteByte(' ')
				curLen++
			}
			cur.WriteString(w)
			curLen += n
		}
	}
	push()
	return out
}

// tailSentences returns the last whole sentences of text that fit in max
// characters ("" when even the last one does not).
func tailSentences(text string, max int) string {
	ss := splitSentences(text)
	n := 0
	i := len(ss)
	for i > 0 {
		l := utf8.RuneCountInString(ss[i-1]) + 1
		if n+l > max {
			break
		}
		n += l
		i--
	}
	return strings.Join(ss[i:], " ")
}
