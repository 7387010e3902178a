package kb

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/batonhq/baton"
)

// frontMatterOut fixes the order of keys in exported files.
type frontMatterOut struct {
	Title         string   `yaml:"title"`
	Slug          string   `yaml:"slug"`
	Language      string   `yaml:"language"`
	Tags          []string `yaml:"tags,omitempty,flow"`
	Status        string   `yaml:"status"`
	Audience      string   `yaml:"audience,omitempty"`
	Queue         string   `yaml:"queue,omitempty"`
	Skills        []string `yaml:"skills,omitempty,flow"`
	URL           string   `yaml:"url,omitempty"`
	TranslationOf string   `yaml:"translation_of,omitempty"`
}

// Render writes a document in the article file format. Parsing the result
// gives back a document with the same Hash and Status.
func Render(d *Document) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("---\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(frontMatterOut{
		Title: d.Title, Slug: d.Slug, Language: d.Language, Tags: d.Tags, Status: string(d.Status),
		Audience: d.Audience, Queue: d.Queue, Skills: d.Skills, URL: d.URL, TranslationOf: d.TranslationOf,
	}); err != nil {
		return nil, fmt.Errorf("rendering front matter of %s: %w", d.Slug, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("rendering front matter of %s: %w", d.Slug, err)
	}
	buf.WriteString("---\n")
	buf.WriteString(d.Body)
	return buf.Bytes(), nil
}

// ExportReport says what Export wrote.
type ExportReport struct {
	Files []string // relative to the directory
}

// Export writes the newest version of every article of the bot to
// dir/<language>/<slug>.md, with that version's status. Importing the
// directory again changes nothing.
func Export(ctx context.Context, store baton.ArticleStore, botID, dir string) (ExportReport, error) {
	var rep ExportReport
	arts, err := store.ListArticles(ctx, baton.ArticleFilter{BotID: botID})
	if err != nil {
		return rep, fmt.Errorf("export: listing articles of bot %s: %w", botID, err)
	}
	for _, a := range arts {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		d := DocumentFromArticle(a)
		data, err := Render(d)
		if err != nil {
			return rep, baton.WrapError(baton.EINTERNAL, err, "export")
		}
		rel := filepath.Join(a.Language, a.Slug+".md")
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return rep, baton.Errorf(baton.EINVALID, "export: creating %s: %w", filepath.Dir(p), err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return rep, baton.Errorf(baton.EINVALID, "export: writing %s: %w", p, err)
		}
		rep.Files = append(rep.Files, rel)
	}
	return rep, nil
}

// RunExport exports the bot's KB to dir and says how many files it wrote.
func RunExport(ctx context.Context, store baton.ArticleStore, botID, dir string, w io.Writer) error {
	rep, err := Export(ctx, store, botID, dir)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "exported %d articles to %s\n", len(rep.Files), dir)
	return err
}
