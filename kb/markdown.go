package kb

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"

	"github.com/batonhq/baton"
)

// MaxFileSize bounds one article file; a bigger one is reported, not read.
const MaxFileSize = 1 << 20

// maxFrontMatterLines bounds the metadata block (ten keys fit many times
// over), which also bounds the work of locating a YAML error.
const maxFrontMatterLines = 200

// translationTagPrefix marks the tag that carries translation_of:
// baton.Article has no field for it, and export → import must keep it.
const translationTagPrefix = "translation-of:"

var (
	slugRE  = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$`)
	identRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
)

// Document is one parsed and validated article file.
type Document struct {
	File          string // as given to ParseDocument (relative to the import directory)
	Title         string
	Slug          string
	Language      string
	Tags          []string
	Status        baton.ArticleStatus
	Audience      string
	Queue         string
	Skills        []string
	URL           string
	TranslationOf string
	Body          string // canonical: LF line ends, no leading blank lines, one final newline

	// Lines of the front matter keys and of the body, for error reports.
	SlugLine          int
	TranslationOfLine int
	BodyLine          int
}

// FileError is one problem in one article file.
type FileError struct {
	File string
	Line int // 1-based; 0 when the problem is the whole file
	Msg  string
}

func (e FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// FileErrors is every problem found in a set of files; it is an EINVALID
// domain error at the package boundary.
type FileErrors []FileError

func (es FileErrors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// ParseDocument parses and validates one article file. Every problem found is
// returned (as FileErrors), not only the first, so that an author can fix a
// file in one go.
func ParseDocument(name string, data []byte) (*Document, error) {
	p := docParser{name: name}
	d := p.parse(data)
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return d, nil
}

type docParser struct {
	name string
	errs FileErrors
}

func (p *docParser) fail(line int, format string, args ...any) {
	p.errs = append(p.errs, FileError{File: p.name, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (p *docParser) parse(data []byte) *Document {
	if len(data) > MaxFileSize {
		p.fail(0, "file is %d bytes, over the %d byte limit", len(data), MaxFileSize)
		return nil
	}
	if !utf8.Valid(data) {
		line := 1 + bytes.Count(data[:firstInvalidUTF8(data)], []byte("\n"))
		p.fail(line, "not valid UTF-8")
		return nil
	}
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	text = strings.TrimPrefix(text, "\uFEFF")
	lines := strings.Split(text, "\n")
	if len(lines) == 0 || strings.TrimRight(lines[0], " \t") != "---" {
		p.fail(1, "front matter missing: the file must start with a line \"---\"")
		return nil
	}
	end := -1
	for i := 1; i < len(lines); i++ {
		if l := strings.TrimRight(lines[i], " \t"); l == "---" || l == "..." {
			end = i
			break
		}
	}
	if end < 0 {
		p.fail(1, "front matter is not closed: no line \"---\" after the opening one")
		return nil
	}
	if end > maxFrontMatterLines {
		p.fail(1, "front matter is %d lines long, over the %d line limit", end-1, maxFrontMatterLines)
		return nil
	}
	d := &Document{File: p.name}
	p.frontMatter(d, strings.Join(lines[1:end], "\n"))

	// Body: after the closing line, leading blank lines dropped.
	first := end + 1
	for first < len(lines) && strings.TrimSpace(lines[first]) == "" {
		first++
	}
	d.BodyLine = first + 1
	d.Body = canonicalBody(strings.Join(lines[min(first, len(lines)):], "\n"))
	p.body(d, end+1)
	return d
}

// canonicalBody gives a body LF line ends, no leading blank lines and one
// final newline ("" when there is no text), so that the same text always
// hashes the same.
func canonicalBody(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(s, "\n")
	i := 0
	for i < len(lines) && strings.TrimSpace(lines[i]) == "" {
		i++
	}
	s = strings.TrimRightFunc(strings.Join(lines[i:], "\n"), isSpace)
	if s == "" {
		return ""
	}
	return s + "\n"
}

// body checks a canonical body; emptyLine is where to report an empty one.
func (p *docParser) body(d *Document, emptyLine int) {
	if d.Body == "" {
		p.fail(emptyLine, "empty body: the article has no text after the front matter")
		return
	}
	if _, err := parseBlocks(d.Body); err != nil {
		var be *blockError
		if errors.As(err, &be) {
			p.fail(d.BodyLine+be.line-1, "%s", be.msg)
		} else {
			p.fail(d.BodyLine, "%v", err)
		}
	}
}

// Validate checks a document built in code (the admin API, a draft from an
// agent's reply) with the rules of an article file, and canonicalises its
// body. Errors carry no line numbers.
func (d *Document) Validate() error {
	name := d.File
	if name == "" {
		name = "article " + d.Slug
	}
	p := docParser{name: name}
	seen := map[string]int{"title": 0, "slug": 0, "language": 0, "status": 0}
	for k, v := range map[string]string{"queue": d.Queue, "url": d.URL, "translation_of": d.TranslationOf} {
		if v != "" {
			seen[k] = 0
		}
	}
	d.Title = strings.TrimSpace(d.Title)
	d.Body = canonicalBody(d.Body)
	d.BodyLine = 1
	p.validate(d, seen)
	p.body(d, 0)
	if len(p.errs) > 0 {
		return baton.Errorf(baton.EINVALID, "%w", p.errs)
	}
	return nil
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// firstBadYAMLLine finds the line of a YAML syntax error as the shortest
// prefix of src that does not parse: the library reports some errors at the
// line where the enclosing construct started, and some 0-based.
func firstBadYAMLLine(src string) int {
	lines := strings.Split(src, "\n")
	for k := 1; k <= len(lines); k++ {
		var n yaml.Node
		if yaml.Unmarshal([]byte(strings.Join(lines[:k], "\n")), &n) != nil {
			return k
		}
	}
	return len(lines)
}

// frontMatter decodes the YAML between the two "---" lines. It walks the
// node tree rather than decoding into a struct so that every error can name
// the line of the key at fault. YAML line 1 is file line 2.
func (p *docParser) frontMatter(d *Document, src string) {
	const off = 1
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(src), &root); err != nil {
		line := firstBadYAMLLine(src) + off
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		msg = yamlLineRE.ReplaceAllString(msg, "")
		p.fail(line, "invalid front matter: %s", strings.Trim(msg, " :"))
		return
	}
	if len(root.Content) == 0 {
		p.fail(2, "front matter is empty")
		return
	}
	m := root.Content[0]
	if m.Kind != yaml.MappingNode {
		p.fail(m.Line+off, "invalid front matter: expected key: value pairs")
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		line := k.Line + off
		if prev, dup := seen[k.Value]; dup {
			p.fail(line, "key %q given twice (first on line %d)", k.Value, prev)
			continue
		}
		seen[k.Value] = line
		switch k.Value {
		case "title":
			d.Title = p.str(v, line, k.Value)
		case "slug":
			d.Slug = p.str(v, line, k.Value)
			d.SlugLine = line
		case "language":
			d.Language = p.str(v, line, k.Value)
		case "status":
			d.Status = baton.ArticleStatus(p.str(v, line, k.Value))
		case "audience":
			d.Audience = p.str(v, line, k.Value)
		case "queue":
			d.Queue = p.str(v, line, k.Value)
		case "url":
			d.URL = p.str(v, line, k.Value)
		case "translation_of":
			d.TranslationOf = p.str(v, line, k.Value)
			d.TranslationOfLine = line
		case "tags":
			d.Tags = p.list(v, line, k.Value)
		case "skills":
			d.Skills = p.list(v, line, k.Value)
		default:
			p.fail(line, "unknown front matter key %q (allowed: title, slug, language, tags, status, audience, queue, skills, url, translation_of)", k.Value)
		}
	}
	p.validate(d, seen)
}

func (p *docParser) str(v *yaml.Node, line int, key string) string {
	if v.Kind != yaml.ScalarNode {
		p.fail(line, "%s must be a single value", key)
		return ""
	}
	if v.Tag == "!!null" {
		return ""
	}
	return strings.TrimSpace(v.Value)
}

func (p *docParser) list(v *yaml.Node, line int, key string) []string {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		p.fail(line, "%s must be a list, like %s: [a, b]", key, key)
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, it := range v.Content {
		if it.Kind != yaml.ScalarNode || it.Tag == "!!null" || strings.TrimSpace(it.Value) == "" {
			p.fail(it.Line+1, "%s: every item must be a non-empty word", key)
			continue
		}
		s := strings.TrimSpace(it.Value)
		if seen[s] {
			p.fail(it.Line+1, "%s: %q listed twice", key, s)
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

func (p *docParser) validate(d *Document, seen map[string]int) {
	lineOf := func(k string) int {
		if l, ok := seen[k]; ok {
			return l
		}
		return 1
	}
	required := func(k, v string) bool {
		if _, ok := seen[k]; !ok {
			p.fail(1, "%s is required", k)
			return false
		}
		if v == "" {
			p.fail(lineOf(k), "%s is empty", k)
			return false
		}
		return true
	}
	if required("title", d.Title) {
		switch {
		case strings.ContainsAny(d.Title, "\n\r"):
			p.fail(lineOf("title"), "title must be one line")
		case utf8.RuneCountInString(d.Title) > 200:
			p.fail(lineOf("title"), "title is over 200 characters")
		}
	}
	if required("slug", d.Slug) && !slugRE.MatchString(d.Slug) {
		p.fail(lineOf("slug"), "bad slug %q: use lower-case letters, digits and single hyphens (a-z, 0-9, -), at most 100 characters", d.Slug)
	}
	if required("language", d.Language) {
		if err := ValidLanguage(d.Language); err != nil {
			p.fail(lineOf("language"), "%v", err)
		}
	}
	if required("status", string(d.Status)) && d.Status != baton.ArticleDraft && d.Status != baton.ArticlePublished {
		p.fail(lineOf("status"), "unknown status %q: use published or draft", d.Status)
	}
	if d.Queue != "" && !identRE.MatchString(d.Queue) {
		p.fail(lineOf("queue"), "bad queue %q: use a queue id (a-z, 0-9, _ and -)", d.Queue)
	}
	for _, s := range d.Skills {
		if !identRE.MatchString(s) {
			p.fail(lineOf("skills"), "bad skill %q: use a skill id (a-z, 0-9, _ and -)", s)
		}
	}
	for _, t := range d.Tags {
		if strings.HasPrefix(t, translationTagPrefix) {
			p.fail(lineOf("tags"), "tag %q is reserved: use the translation_of key", t)
		}
	}
	if d.URL != "" {
		u, err := url.Parse(d.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			p.fail(lineOf("url"), "bad url %q: give an absolute http(s) address", d.URL)
		}
	}
	if d.TranslationOf != "" {
		switch {
		case !slugRE.MatchString(d.TranslationOf):
			p.fail(lineOf("translation_of"), "bad translation_of %q: it must be the slug of the original article", d.TranslationOf)
		case d.TranslationOf == d.Slug:
			p.fail(lineOf("translation_of"), "translation_of names the article itself; a translation has its own slug (e.g. %s-%s)", d.Slug, d.Language)
		}
	}
}

// ValidLanguage accepts a lower-case ISO 639-1 code known to the language
// registry.
func ValidLanguage(code string) error {
	if len(code) != 2 || code != strings.ToLower(code) {
		return fmt.Errorf("unknown language %q: use a two-letter ISO 639-1 code such as en, tr or ru", code)
	}
	b, err := language.ParseBase(code)
	if err != nil || b.String() != code {
		return fmt.Errorf("unknown language %q: not an ISO 639-1 code", code)
	}
	return nil
}

// Hash is the content hash of the article: every field but the status, so
// that publishing or unpublishing is not a change of content.
func (d *Document) Hash() string {
	tags := append([]string(nil), d.Tags...)
	sort.Strings(tags)
	skills := append([]string(nil), d.Skills...)
	sort.Strings(skills)
	b, _ := json.Marshal(struct {
		Title, Slug, Language    string
		Tags                     []string
		Audience, Queue          string
		Skills                   []string
		URL, TranslationOf, Body string
	}{d.Title, d.Slug, d.Language, tags, d.Audience, d.Queue, skills, d.URL, d.TranslationOf, d.Body})
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// SourceHash is the hash of everything the file says, status included: an
// import compares it with the one recorded at the file's last import to
// tell whether the file changed since.
func (d *Document) SourceHash() string {
	s := sha256.Sum256([]byte(d.Hash() + "\x00" + string(d.Status)))
	return hex.EncodeToString(s[:])
}

// Article turns the document into an article version to store.
func (d *Document) Article(botID, author string) *baton.Article {
	tags := append([]string(nil), d.Tags...)
	if d.TranslationOf != "" {
		tags = append(tags, translationTagPrefix+d.TranslationOf)
	}
	return &baton.Article{
		BotID:    botID,
		Slug:     d.Slug,
		Title:    d.Title,
		Body:     d.Body,
		Language: d.Language,
		Tags:     tags,
		Audience: d.Audience,
		QueueID:  d.Queue,
		Skills:   append([]string(nil), d.Skills...),
		URL:      d.URL,
		Status:   d.Status,
		Author:   author,
		Hash:     d.Hash(),
	}
}

// DocumentFromArticle is the inverse of Document.Article.
func DocumentFromArticle(a *baton.Article) *Document {
	d := &Document{
		Title:    a.Title,
		Slug:     a.Slug,
		Language: a.Language,
		Status:   a.Status,
		Audience: a.Audience,
		Queue:    a.QueueID,
		Skills:   append([]string(nil), a.Skills...),
		URL:      a.URL,
		Body:     a.Body,
	}
	for _, t := range a.Tags {
		if s, ok := strings.CutPrefix(t, translationTagPrefix); ok {
			d.TranslationOf = s
			continue
		}
		d.Tags = append(d.Tags, t)
	}
	return d
}

// TranslationOf returns the slug an article translates, or "".
func TranslationOf(a *baton.Article) string {
	for _, t := range a.Tags {
		if s, ok := strings.CutPrefix(t, translationTagPrefix); ok {
			return s
		}
	}
	return ""
}

// ParseDir reads every article file (*.md, recursively; README.md files and
// hidden directories are skipped) under dir. Files with problems are left
// out of the returned documents and reported; two files with the same slug
// are both reported, since neither can be trusted to be the right one.
func ParseDir(dir string) ([]*Document, FileErrors, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := e.Name()
		if e.IsDir() {
			if path != dir && strings.HasPrefix(name, ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".md") && !strings.EqualFold(name, "README.md") && !strings.HasPrefix(name, ".") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, nil, baton.Errorf(baton.EINVALID, "reading KB directory %s: %w", dir, err)
	}
	sort.Strings(files)
	var docs []*Document
	var errs FileErrors
	for _, f := range files {
		rel, rerr := filepath.Rel(dir, f)
		if rerr != nil {
			rel = f
		}
		data, rerr := os.ReadFile(f)
		if rerr != nil {
			errs = append(errs, FileError{File: rel, Msg: rerr.Error()})
			continue
		}
		d, perr := ParseDocument(rel, data)
		if perr != nil {
			var fe FileErrors
			if errors.As(perr, &fe) {
				errs = append(errs, fe...)
			} else {
				errs = append(errs, FileError{File: rel, Msg: perr.Error()})
			}
			continue
		}
		docs = append(docs, d)
	}
	bySlug := map[string][]*Document{}
	for _, d := range docs {
		bySlug[d.Slug] = append(bySlug[d.Slug], d)
	}
	kept := docs[:0]
	for _, d := range docs {
		same := bySlug[d.Slug]
		if len(same) == 1 {
			kept = append(kept, d)
			continue
		}
		var others []string
		for _, o := range same {
			if o != d {
				others = append(others, o.File)
			}
		}
		errs = append(errs, FileError{File: d.File, Line: d.SlugLine,
			Msg: fmt.Sprintf("duplicate slug %q: also used by %s", d.Slug, strings.Join(others, ", "))})
	}
	sort.SliceStable(errs, func(i, j int) bool {
		if errs[i].File != errs[j].File {
			return errs[i].File < errs[j].File
		}
		return errs[i].Line < errs[j].Line
	})
	return kept, errs, nil
}
