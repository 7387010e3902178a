package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/channels/webchat"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/store/sqlite"
	"github.com/batonhq/baton/web"
)

// The stores "baton chat" talks over.
const (
	chatThrowaway  = "throwaway"
	chatConfigured = "configured"
)

// chatOpenTimeout bounds opening the store and building the app (the KB
// import and the intent training included).
const chatOpenTimeout = 10 * time.Minute

// chatLineMax is the longest line read: a web chat message is at most
// webchat.MaxText characters, four bytes each at worst.
const chatLineMax = 4*webchat.MaxText + 1024

type chatFlags struct {
	bot      string
	lang     string
	store    string
	dataDir  string
	modelDir string
}

func newChatCmd(e *env, g *globalFlags) *cobra.Command {
	f := &chatFlags{}
	cmd := &cobra.Command{
		Use:   "chat",
		Short: "Talk to a bot in the terminal and see why it did what it did",
		Long: `Talk to a configured bot as a web chat visitor, through the same pipeline as
"baton serve" (web chat ingestion, the turn job, the outbox), and see after each
reply the bot's decision: the action, the language, intent, sentiment and trend
it read, the articles it cited, every escalation trigger with its value and
threshold (fired ones marked ✔), and the conversation's moves (escalated to a
queue, resolved, archived).

One message per line, from a terminal or a pipe; a button is answered with its
number or its text (it is sent with its payload). /json toggles printing the
decisions as JSON (the admin API's shape), /quit or the end of the input ends.
Jobs scheduled for later, such as the "did this help?" follow-up, do not run.

The configuration is resolved as "baton kb" resolves it: --config (or
$BATON_CONFIG), else the demo bot. --store throwaway (the default) runs on a new
SQLite database in a temporary directory, removed at exit, with the bot's
kb.dir imported: nothing touches the configured data. --store configured runs
on the configured store (BATON_DATA_DIR or --data-dir, BATON_DATABASE_URL) and
runs its due jobs as a server would. Rate limits for web chat posts and bot
turns are off: the terminal is not the internet. With an OpenAI key configured,
the bot uses it as "baton serve" does, and a throwaway store's KB is embedded
through it at every start. Logs go to stderr, warnings and errors only unless
--log-level says otherwise.`,
		Example: `  baton chat
  baton chat --lang tr`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The conversation is on stdout; the start-up log lines
			// (KB imported, model trained) would bury it.
			if !cmd.Flags().Changed("log-level") {
				g.logLevel = "warn"
			}
			return runChat(cmd.Context(), e, g, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.bot, "bot", "", "bot id (default: the only configured bot)")
	fl.StringVar(&f.lang, "lang", "", "the conversation's starting language, one of the bot's (default: the bot's first); each message's language is still detected")
	fl.StringVar(&f.store, "store", chatThrowaway, "throwaway (a temporary SQLite database with the bot's KB imported, removed at exit) or configured")
	fl.StringVar(&f.dataDir, "data-dir", "", "with --store configured: data directory of the embedded database (default $BATON_DATA_DIR or ./"+config.DefaultDataDir+")")
	fl.StringVar(&f.modelDir, "model-dir", "", "keep trained intent models here between runs (default: the temporary directory; with --store configured, <data dir>/models)")
	return cmd
}

func runChat(ctx context.Context, e *env, g *globalFlags, f *chatFlags) error {
	if f.store != chatThrowaway && f.store != chatConfigured {
		return baton.Errorf(baton.EINVALID, "--store: %q is not one of %s, %s", f.store, chatThrowaway, chatConfigured)
	}
	if f.dataDir != "" && f.store != chatConfigured {
		return baton.Errorf(baton.EINVALID, "--data-dir: only with --store %s (the throwaway store lives in a temporary directory)", chatConfigured)
	}
	log, err := g.logger(e)
	if err != nil {
		return err
	}
	cfg, stopOrders, err := loadChatConfig(e, g)
	if err != nil {
		return err
	}
	defer stopOrders()
	bot, err := pickBot(cfg, f.bot)
	if err != nil {
		return err
	}
	if f.lang != "" && !slices.Contains(bot.Languages, f.lang) {
		return baton.Errorf(baton.EINVALID, "--lang: bot %s speaks %s; %q is not one of them", bot.ID, strings.Join(bot.Languages, ", "), f.lang)
	}
	if f.dataDir != "" {
		cfg.Server.DataDir = f.dataDir
	}
	chatConfig(cfg, bot.ID)

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	octx, cancel := context.WithTimeout(ctx, chatOpenTimeout)
	defer cancel()
	st, where, modelDir, closeStore, err := openChatStore(octx, cfg, f, log)
	if err != nil {
		return err
	}
	defer closeStore()
	a, err := app.New(octx, cfg, app.Options{Store: st, Logger: log, ModelDir: modelDir, Version: version()})
	if err != nil {
		return err
	}
	s := &chatSession{
		out: e.stdout, app: a, st: st, bot: bot, lang: f.lang, echo: !e.stdinTerminal,
		visitor: "chat-" + randomHex(12), queues: map[string]string{},
	}
	for _, q := range cfg.Queues {
		s.queues[q.ID] = q.Name
	}
	if err := s.greet(ctx, where); err != nil {
		return err
	}
	in := e.stdin
	if in == nil {
		in = strings.NewReader("")
	}
	return s.loop(ctx, in)
}

// chatConfig adapts cfg to a terminal conversation with bot: the bot gets a
// web chat (anonymous visitors) when its configuration has none, and the
// limits meant for the internet (posts per visitor, bot turns per
// conversation) are off, so that a scripted session is never held back.
func chatConfig(cfg *config.Config, bot string) {
	for i := range cfg.Bots {
		if b := &cfg.Bots[i]; b.ID == bot && (b.Channels.WebChat == nil || !b.Channels.WebChat.Enabled) {
			b.Channels.WebChat = &config.WebChat{Enabled: true}
		}
	}
	off := config.Rate("off")
	cfg.Server.Limits.WebChatPostsPerVisitor = off
	cfg.Server.Limits.WebChatPostsPerAddress = off
	cfg.Server.Limits.BotTurnsPerConversation = off
}

// openChatStore opens the store the chat runs on and says where it is;
// closeStore closes it (and removes a throwaway one).
func openChatStore(ctx context.Context, cfg *config.Config, f *chatFlags, log *slog.Logger) (st baton.Store, where, modelDir string, closeStore func(), err error) {
	closeOne := func(s baton.Store) {
		if err := s.Close(); err != nil {
			log.Error("closing the store", "err", err)
		}
	}
	if f.store == chatConfigured {
		st, where, err := openStore(ctx, cfg, log)
		if err != nil {
			return nil, "", "", nil, err
		}
		modelDir := f.modelDir
		if modelDir == "" {
			modelDir = filepath.Join(cfg.Server.DataDir, "models")
		}
		return st, where, modelDir, func() { closeOne(st) }, nil
	}
	dir, err := os.MkdirTemp("", "baton-chat-")
	if err != nil {
		return nil, "", "", nil, baton.Errorf(baton.EINTERNAL, "chat: temporary directory: %w", err)
	}
	remove := func() {
		if err := os.RemoveAll(dir); err != nil {
			log.Error("removing the throwaway store", "dir", dir, "err", err)
		}
	}
	s, err := sqlite.Open(ctx, filepath.Join(dir, sqliteFile), sqlite.Options{Logger: log})
	if err != nil {
		remove()
		return nil, "", "", nil, baton.WrapError(baton.ErrorCode(err), err, "open the throwaway SQLite database")
	}
	modelDir = f.modelDir
	if modelDir == "" {
		modelDir = filepath.Join(dir, "models")
	}
	return s, "throwaway SQLite in " + dir + " (removed at exit)", modelDir, func() { closeOne(s); remove() }, nil
}

// chatSession is one terminal conversation with a bot, as one web chat
// visitor; after a resolution the visitor's next message opens a new
// conversation, as it would on the page.
type chatSession struct {
	out     io.Writer
	app     *app.App
	st      baton.Store
	bot     config.Bot
	lang    string // --lang: every conversation the visitor opens starts in it
	echo    bool   // the input is no terminal: print each line read, so that the transcript reads as one
	visitor string
	queues  map[string]string // names by id
	asJSON  bool

	sent int   // messages sent, for their client ids
	conv int64 // the visitor's current conversation
	// What has been printed of the conversation.
	lastMessage, lastDecision, lastEvent int64
	// choices are the buttons of the bot's last replies.
	choices []baton.Choice
}

// greet says whom the user talks to, on what, and how.
func (s *chatSession) greet(ctx context.Context, where string) error {
	arts, err := s.st.ListArticles(ctx, baton.ArticleFilter{BotID: s.bot.ID, Published: true})
	if err != nil {
		return fmt.Errorf("chat: list the KB's articles: %w", err)
	}
	byLang := map[string]int{}
	for _, a := range arts {
		byLang[a.Language]++
	}
	langs := make([]string, 0, len(byLang))
	for l, n := range byLang {
		langs = append(langs, l+" "+strconv.Itoa(n))
	}
	sort.Strings(langs)
	kbLine := fmt.Sprintf("%d published articles", len(arts))
	if len(langs) > 0 {
		kbLine += " (" + strings.Join(langs, ", ") + ")"
	}
	lang := s.lang
	if lang == "" && len(s.bot.Languages) > 0 {
		lang = s.bot.Languages[0] + " (the bot's default)"
	}
	fmt.Fprintf(s.out, "Chatting with %s (%s) as a web chat visitor.\n", or(s.bot.Name, s.bot.ID), s.bot.ID)
	fmt.Fprintf(s.out, "Store: %s. KB: %s.\n", where, kbLine)
	fmt.Fprintf(s.out, "Starting language: %s; each message's language is detected.\n", lang)
	fmt.Fprintf(s.out, "One message per line; a button's number or text answers it. /json toggles JSON decisions; /quit ends.\n\n")
	return nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// loop reads the user's lines until /quit, the end of the input or a
// signal. Lines are read on their own goroutine, so that Ctrl-C ends the
// session (and removes a throwaway store) while a read waits.
func (s *chatSession) loop(ctx context.Context, in io.Reader) error {
	lines := make(chan string)
	readErr := make(chan error, 1)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 0, 4096), chatLineMax)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		readErr <- sc.Err()
	}()
	for {
		if !s.echo {
			fmt.Fprint(s.out, "you> ")
		}
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			fmt.Fprintln(s.out)
			return nil
		case line, ok = <-lines:
		}
		if !ok {
			if !s.echo {
				fmt.Fprintln(s.out)
			}
			if err := <-readErr; err != nil {
				return baton.Errorf(baton.EINVALID, "chat: reading the input: %w", err)
			}
			return nil
		}
		line = strings.TrimSpace(line)
		if s.echo && line != "" {
			fmt.Fprintf(s.out, "you> %s\n", line)
		}
		switch line {
		case "":
			continue
		case "/quit":
			return nil
		case "/json":
			s.asJSON = !s.asJSON
			fmt.Fprintf(s.out, "  (decisions as JSON: %s)\n", onOff(s.asJSON))
			continue
		}
		if err := s.say(ctx, line); err != nil {
			if ctx.Err() != nil {
				fmt.Fprintln(s.out)
				return nil
			}
			return err
		}
	}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// choice is the button a line answers: its number, or its title.
func (s *chatSession) choice(line string) (baton.Choice, bool) {
	if n, err := strconv.Atoi(line); err == nil && n >= 1 && n <= len(s.choices) {
		return s.choices[n-1], true
	}
	for _, c := range s.choices {
		if strings.EqualFold(line, c.Title) {
			return c, true
		}
	}
	return baton.Choice{}, false
}

// say sends one line as the visitor's message, drains the queue and prints
// what came of it.
func (s *chatSession) say(ctx context.Context, line string) error {
	req := webchat.PostRequest{VisitorID: s.visitor, Text: line}
	if c, ok := s.choice(line); ok {
		req.Text, req.Payload = c.Title, c.ID
		fmt.Fprintf(s.out, "  (button %q, payload %s)\n", c.Title, c.ID)
	}
	s.sent++
	req.ClientMessageID = fmt.Sprintf("chat-%06d", s.sent)
	res, err := s.app.PostWebChat(ctx, s.bot.ID, req)
	switch code := baton.ErrorCode(err); {
	case err == nil:
	case code == baton.EINVALID || code == baton.ETOOLARGE:
		// What the page would refuse: the user may type again.
		fmt.Fprintf(s.out, "  ! not sent: %s\n", baton.ErrorMessage(err))
		return nil
	default:
		return err
	}
	if res.ConversationID != s.conv {
		if s.conv != 0 {
			fmt.Fprintf(s.out, "  ● new conversation #%d\n", res.ConversationID)
		}
		s.conv = res.ConversationID
		s.lastMessage, s.lastDecision, s.lastEvent = res.MessageID, 0, 0
		if res.Opened && s.lang != "" {
			if err := s.startIn(ctx, s.lang); err != nil {
				return err
			}
		}
	}
	if _, err := s.app.RunJobs(ctx); err != nil {
		return fmt.Errorf("chat: running the jobs: %w", err)
	}
	return s.report(ctx)
}

// startIn sets the language of the conversation just opened, before its
// first turn runs.
func (s *chatSession) startIn(ctx context.Context, lang string) error {
	c, err := s.st.GetConversation(ctx, s.conv)
	if err != nil {
		return fmt.Errorf("chat: conversation %d: %w", s.conv, err)
	}
	if c.Language == lang {
		return nil
	}
	c.Language = lang
	if err := s.st.UpdateConversation(ctx, c); err != nil {
		return fmt.Errorf("chat: set the language of conversation %d: %w", s.conv, err)
	}
	return nil
}

// report prints what the turn left: the replies, the decisions, the moves.
func (s *chatSession) report(ctx context.Context) error {
	msgs, err := s.st.ListMessages(ctx, s.conv, s.lastMessage, 0)
	if err != nil {
		return fmt.Errorf("chat: read the transcript: %w", err)
	}
	var replied bool
	var choices []baton.Choice
	for _, m := range msgs {
		s.lastMessage = max(s.lastMessage, m.ID)
		if m.Direction != baton.DirectionOut {
			continue
		}
		replied = true
		o, _ := baton.OutboundOf(m)
		s.printReply(m, o.Buttons, len(choices))
		choices = append(choices, o.Buttons...)
	}
	if replied {
		s.choices = choices
	}
	ds, err := s.st.ListDecisions(ctx, s.conv, 0)
	if err != nil {
		return fmt.Errorf("chat: read the decisions: %w", err)
	}
	for _, d := range ds {
		if d.ID <= s.lastDecision {
			continue
		}
		s.lastDecision = d.ID
		if s.asJSON {
			b, err := web.MarshalDecision(d)
			if err != nil {
				return err
			}
			fmt.Fprintf(s.out, "%s\n", b)
			continue
		}
		fmt.Fprint(s.out, formatDecision(d))
	}
	evs, err := s.st.ListEvents(ctx, s.conv)
	if err != nil {
		return fmt.Errorf("chat: read the conversation's events: %w", err)
	}
	var conv *baton.Conversation
	for _, ev := range evs {
		if ev.ID <= s.lastEvent {
			continue
		}
		s.lastEvent = ev.ID
		if conv == nil {
			if conv, err = s.st.GetConversation(ctx, s.conv); err != nil {
				return fmt.Errorf("chat: conversation %d: %w", s.conv, err)
			}
		}
		fmt.Fprintln(s.out, s.formatEvent(ev, conv))
	}
	fmt.Fprintln(s.out)
	return nil
}

// printReply prints a message to the visitor, its buttons numbered from
// first+1.
func (s *chatSession) printReply(m *baton.Message, buttons []baton.Choice, first int) {
	label := string(m.Author) + "> "
	pad := strings.Repeat(" ", len(label))
	for i, l := range strings.Split(m.Text, "\n") {
		switch {
		case i == 0:
			fmt.Fprintf(s.out, "%s%s\n", label, l)
		case l == "":
			fmt.Fprintln(s.out)
		default:
			fmt.Fprintf(s.out, "%s%s\n", pad, l)
		}
	}
	if len(buttons) > 0 {
		parts := make([]string, len(buttons))
		for i, b := range buttons {
			parts[i] = fmt.Sprintf("[%d] %s", first+i+1, b.Title)
		}
		fmt.Fprintf(s.out, "%s%s\n", pad, strings.Join(parts, "   "))
	}
	if m.Status == baton.StatusFailed {
		fmt.Fprintf(s.out, "%s(not delivered: %s)\n", pad, or(m.StatusReason, "failed"))
	}
}

// formatDecision is a decision in a few lines: the action and what the bot
// read, the citations, the triggers (fired ones marked ✔).
func formatDecision(d *baton.Decision) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  → %s", d.Action)
	if d.Detail != "" {
		fmt.Fprintf(&b, " (%s)", d.Detail)
	}
	if a := d.Analysis; a != nil {
		intent := "none"
		if a.Intent != "" {
			intent = fmt.Sprintf("%s(%s)", a.Intent, fixed(a.IntentConfidence))
		}
		if a.OutOfScope {
			intent += " out-of-scope"
		}
		fmt.Fprintf(&b, "  lang=%s intent=%s sentiment=%s trend=%s wants_human=%s",
			or(a.Language, "?"), intent, fixed(a.Sentiment), fixed(a.SentimentTrend), yesNo(a.WantsHuman))
	}
	fmt.Fprintf(&b, "  %.1f ms\n", float64(d.Took.Microseconds())/1000)
	if len(d.Citations) > 0 {
		cs := make([]string, len(d.Citations))
		for i, c := range d.Citations {
			// The decision keeps the fused retrieval score, which is
			// small (rank 1 in both lists is 2/61): three decimals.
			cs[i] = fmt.Sprintf("%s (%.3f)", c.Slug, c.Score)
		}
		fmt.Fprintf(&b, "    cited: %s\n", strings.Join(cs, ", "))
	}
	if len(d.Triggers) > 0 {
		ts := make([]string, len(d.Triggers))
		for i, t := range d.Triggers {
			ts[i] = fmt.Sprintf("%s %s/%s", t.Trigger, num(t.Value), num(t.Threshold))
			if t.Fired {
				ts[i] = "✔ " + ts[i]
				if t.Detail != "" {
					ts[i] += " (" + t.Detail + ")"
				}
			}
		}
		fmt.Fprintf(&b, "    triggers: %s\n", strings.Join(ts, " · "))
	}
	return b.String()
}

// formatEvent is one move of the conversation.
func (s *chatSession) formatEvent(ev *baton.Event, conv *baton.Conversation) string {
	why := ""
	if ev.Reason != "" {
		why = ": " + ev.Reason
	}
	if ev.Type != "transition" {
		return fmt.Sprintf("  ● %s%s", ev.Type, why)
	}
	switch ev.To {
	case baton.StateQueued:
		q := conv.QueueID
		if name := s.queues[q]; name != "" {
			q += " (" + name + ")"
		}
		return fmt.Sprintf("  ● escalated to queue %s with priority %s%s", q, baton.PriorityName(conv.Priority), why)
	case baton.StateResolved:
		return "  ● resolved" + why
	case baton.StateArchived:
		return "  ● archived" + why
	}
	return fmt.Sprintf("  ● %s → %s%s", ev.From, ev.To, why)
}

// num prints a trigger's value or threshold as short as it is: 8, 0.75,
// -0.6.
func num(v float64) string {
	return strconv.FormatFloat(zero(roundTo(v, 2)), 'f', -1, 64)
}

// fixed prints a score with two decimals (never -0.00).
func fixed(v float64) string {
	return strconv.FormatFloat(zero(roundTo(v, 2)), 'f', 2, 64)
}

func roundTo(v float64, places int) float64 {
	s := strconv.FormatFloat(v, 'f', places, 64)
	r, _ := strconv.ParseFloat(s, 64)
	return r
}

// zero turns -0 into 0, which prints without a sign.
func zero(v float64) float64 {
	if v == 0 {
		return 0
	}
	return v
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// loadChatConfig is loadConfigOrDemo, with the demo's order API running when
// the demo bot is the one chatted with, so that its order checks answer.
func loadChatConfig(e *env, g *globalFlags) (*config.Config, func(), error) {
	if g.configPath(e) != "" {
		cfg, err := loadConfigOrDemo(e, g)
		return cfg, func() {}, err
	}
	path, err := findDemoConfig()
	if err != nil {
		return nil, nil, err
	}
	lookup, orders, err := withDemoOrders(e, filepath.Dir(path))
	if err != nil {
		return nil, nil, err
	}
	stop := func() {}
	if orders != nil {
		stop = orders.Stop
	}
	demo := *e
	demo.lookupEnv = lookup
	cfg, err := loadConfigOrDemo(&demo, g)
	if err != nil {
		stop()
		return nil, nil, err
	}
	return cfg, stop, nil
}
