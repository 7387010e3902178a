package app

import (
	"log/slog"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/handoff"
)

// newSurveys builds the satisfaction survey of every configured bot. The
// texts are checked here, at start: a bot language without built-in
// survey texts must configure all of them.
func newSurveys(cfg *config.Config, clock baton.Clock, obs handoff.Observer, log *slog.Logger) (*handoff.Surveys, error) {
	policies := make(map[string]handoff.SurveyPolicy, len(cfg.Bots))
	for _, b := range cfg.Bots {
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
		policies[b.ID] = p
	}
	return handoff.NewSurveys(handoff.SurveysConfig{Bots: policies, Clock: clock, Observer: obs, Logger: log})
}
