package app

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/handoff"
)

// newSurveys builds the satisfaction survey of every configured bot. What
// configuration cannot check alone (a bot language without built-in
// survey texts must configure all of them) is reported as a configuration
// problem with its path, before anything starts.
func newSurveys(cfg *config.Config, clock baton.Clock, obs handoff.Observer, log *slog.Logger) (*handoff.Surveys, error) {
	policies := make(map[string]handoff.SurveyPolicy, len(cfg.Bots))
	var problems config.Problems
	for i, b := range cfg.Bots {
		c := b.CSAT
		p := handoff.SurveyPolicy{
			Off:           c.Off,
			BotResolved:   c.BotResolved,
			Languages:     append([]string(nil), b.Languages...),
			AnswerWindow:  c.AnswerWindow.Value(),
			CommentWindow: c.CommentWindow.Value(),
			Texts:         c.Texts,
		}
		if c.Template.Name != "" {
			p.Template = &baton.Template{Name: c.Template.Name, Language: c.Template.Language}
		}
		for _, pr := range p.Check() {
			path, reason, _ := strings.Cut(pr, ": ")
			problems = append(problems, config.Problem{Path: fmt.Sprintf("bots[%d].csat.%s", i, path), Reason: reason})
		}
		policies[b.ID] = p
	}
	if len(problems) > 0 {
		return nil, &config.Error{File: cfg.File, Problems: problems}
	}
	return handoff.NewSurveys(handoff.SurveysConfig{Bots: policies, Clock: clock, Observer: obs, Logger: log})
}
