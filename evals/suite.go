package evals

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/batonhq/baton"
)

// SuiteFile is the file a suite directory is read from.
const SuiteFile = "suite.yaml"

// Channels a case may be played on.
const (
	ChannelWebChat   = "webchat"
	ChannelWhatsApp  = "whatsapp"
	ChannelMessenger = "messenger"
	ChannelSMS       = "sms"
)

// Outcomes: what became of a conversation by the end of its case.
const (
	OutcomeBotResolved   = "bot_resolved"
	OutcomeEscalated     = "escalated"
	OutcomeArchived      = "archived"
	OutcomeClarified     = "clarified"
	OutcomeAgentResolved = "agent_resolved"
	OutcomeOpen          = "open"
)

// Agent step verbs.
const (
	AgentClaim    = "claim"
	AgentReply    = "reply"
	AgentNote     = "note"
	AgentTransfer = "transfer"
	AgentSnooze   = "snooze"
	AgentResolve  = "resolve"
	AgentToBot    = "to_bot"
	AgentStatus   = "status"
)

var (
	channelNames = []string{ChannelWebChat, ChannelWhatsApp, ChannelMessenger, ChannelSMS}
	outcomeNames = []string{OutcomeBotResolved, OutcomeEscalated, OutcomeArchived, OutcomeClarified, OutcomeAgentResolved, OutcomeOpen}
	agentVerbs   = []string{AgentClaim, AgentReply, AgentNote, AgentTransfer, AgentSnooze, AgentResolve, AgentToBot, AgentStatus}
)

// Suite is a loaded suite: its cases, datasets and tolerances, with every
// path resolved against the file that named it.
type Suite struct {
	Name string
	// File is the suite file; Dir its directory.
	File, Dir string
	// Config is the Baton configuration the run assembles (resolved).
	Config string
	// Bot is the cases' bot unless a case says.
	Bot string
	// Env are variables the configuration's ${VAR} references read before
	// the process environment's (e.g. ORDER_API_URL).
	Env map[string]string
	// ServeOrders is an orders file (the demo's orders.json format) the
	// runner serves on a loopback port of its own for the run, setting
	// ORDER_API_URL to it unless Env sets it.
	ServeOrders string
	Cases       []Case
	Datasets    []Dataset
	Tolerances  Tolerances
	// Agents replace the configuration's agents for the run when set.
	Agents []SuiteAgent
}

// Tolerances are how far a metric may move the wrong way before the gate
// fails: by exact metric name ("escalation.f1", "tr/routing.queue"), else
// by the metric's name without its language or dataset prefix, else
// Default.
type Tolerances struct {
	Default float64
	ByName  map[string]float64
}

// DefaultTolerance is the tolerance of a suite that states none.
const DefaultTolerance = 0.0

// For is metric's tolerance.
func (t Tolerances) For(metric string) float64 {
	if v, ok := t.ByName[metric]; ok {
		return v
	}
	if _, base, ok := strings.Cut(metric, "/"); ok {
		if v, ok := t.ByName[base]; ok {
			return v
		}
	}
	return t.Default
}

// SuiteAgent is an agent of the run.
type SuiteAgent struct {
	ID       string         `yaml:"id"`
	Name     string         `yaml:"name"`
	Skills   []string       `yaml:"skills"`
	Capacity map[string]int `yaml:"capacity"`
	// Status is the agent's status when each case starts [offline].
	Status string `yaml:"status"`
	Line   int    `yaml:"-"`
}

// Case is one conversation.
type Case struct {
	ID          string            `yaml:"id"`
	Description string            `yaml:"description"`
	Bot         string            `yaml:"bot"`
	Channel     string            `yaml:"channel"`
	Language    string            `yaml:"language"`
	Attributes  map[string]string `yaml:"attributes"`
	Page        map[string]string `yaml:"page"`
	Tags        []string          `yaml:"tags"`
	Steps       []Step            `yaml:"steps"`
	Expect      *Expect           `yaml:"expect"`

	// File and Line are where the case starts.
	File string `yaml:"-"`
	Line int    `yaml:"-"`
}

// Step is one move of a case: exactly one of Customer, Press, Wait, Agent
// or CSAT.
type Step struct {
	Customer string     `yaml:"customer"`
	Press    string     `yaml:"press"`
	Wait     string     `yaml:"wait"`
	Agent    *AgentStep `yaml:"agent"`
	CSAT     int        `yaml:"csat"`
	Expect   *Expect    `yaml:"expect"`

	Line int `yaml:"-"`
	// WaitFor is Wait parsed.
	WaitFor time.Duration `yaml:"-"`
}

// Kind names the step's move.
func (s Step) Kind() string {
	switch {
	case s.Customer != "":
		return "customer"
	case s.Press != "":
		return "press"
	case s.Wait != "":
		return "wait"
	case s.Agent != nil:
		return "agent"
	case s.CSAT != 0:
		return "csat"
	}
	return ""
}

// AgentStep is an agent's move through the agent API.
type AgentStep struct {
	As     string `yaml:"as"`
	Do     string `yaml:"do"`
	Text   string `yaml:"text"`
	Queue  string `yaml:"queue"`
	Agent  string `yaml:"agent"`
	Note   string `yaml:"note"`
	For    string `yaml:"for"` // snooze
	Status string `yaml:"status"`
}

// Expect is what a step or the whole conversation must show. Every field
// is optional; Lines holds the line of each key given.
type Expect struct {
	Language    string            `yaml:"language"`
	Intent      string            `yaml:"intent"`
	Sentiment   string            `yaml:"sentiment"`
	Action      string            `yaml:"action"`
	Cites       []string          `yaml:"cites"`
	Contains    []string          `yaml:"contains"`
	NotContains []string          `yaml:"not_contains"`
	Matches     string            `yaml:"matches"`
	ActionName  string            `yaml:"action_name"`
	Slots       map[string]string `yaml:"slots"`
	Escalated   *bool             `yaml:"escalated"`
	Trigger     string            `yaml:"trigger"`
	Queue       string            `yaml:"queue"`
	Priority    string            `yaml:"priority"`
	AssignedTo  string            `yaml:"assigned_to"`
	Status      string            `yaml:"status"`
	Outcome     string            `yaml:"outcome"`
	CSAT        int               `yaml:"csat"`
	// Skills are skills the assigned agent must have.
	Skills []string `yaml:"skills"`
	// Judge is a rubric the step's replies must meet, graded by the
	// configuration's LLM (LLM runs only; skipped offline).
	Judge string `yaml:"judge"`

	Line  int            `yaml:"-"`
	Lines map[string]int `yaml:"-"`
}

// lineOf is the line of key, else of the expectation.
func (e *Expect) lineOf(key string) int {
	if l, ok := e.Lines[key]; ok {
		return l
	}
	return e.Line
}

// Problem is one thing wrong with a suite, where it is.
type Problem struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
	Case string `json:"case,omitempty"`
	Msg  string `json:"message"`
}

func (p Problem) String() string {
	if p.File == "" {
		return p.Msg
	}
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Case != "" {
		fmt.Fprintf(&b, "case %s: ", p.Case)
	}
	b.WriteString(p.Msg)
	return b.String()
}

// SuiteError is every problem of an invalid suite, found before anything
// ran.
type SuiteError struct{ Problems []Problem }

func (e *SuiteError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return fmt.Sprintf("invalid suite (%d problems):\n%s", len(e.Problems), strings.Join(lines, "\n"))
}

// problems collects a suite's problems.
type problems struct{ list []Problem }

func (ps *problems) add(file string, line int, caseID, format string, args ...any) {
	ps.list = append(ps.list, Problem{File: file, Line: line, Case: caseID, Msg: fmt.Sprintf(format, args...)})
}

func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	sort.SliceStable(ps.list, func(i, j int) bool {
		a, b := ps.list[i], ps.list[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	return baton.WrapError(baton.EINVALID, &SuiteError{Problems: ps.list}, "")
}

// suiteYAML is the suite file.
type suiteYAML struct {
	Name        string             `yaml:"name"`
	Config      string             `yaml:"config"`
	Bot         string             `yaml:"bot"`
	Cases       []string           `yaml:"cases"`
	Datasets    []Dataset          `yaml:"datasets"`
	Tolerances  map[string]float64 `yaml:"tolerances"`
	Agents      []SuiteAgent       `yaml:"agents"`
	Env         map[string]string  `yaml:"env"`
	ServeOrders string             `yaml:"serve_orders"`
}

// LoadSuite reads the suite at path (a directory with suite.yaml, or the
// file itself) and its case files, and checks their shape: YAML, known
// keys, the required fields, unique case ids. Checks against the
// configuration are Validate's. Every problem is reported at once, each
// with its file, line and case.
func LoadSuite(path string) (*Suite, error) {
	file := path
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		file = filepath.Join(path, SuiteFile)
	}
	var ps problems
	var sy suiteYAML
	root, ok := readYAML(file, &ps)
	if !ok {
		return nil, ps.err()
	}
	if !decodeStrict(file, root, &sy, "", &ps) {
		return nil, ps.err()
	}
	dir := filepath.Dir(file)
	s := &Suite{Name: sy.Name, File: file, Dir: dir, Bot: sy.Bot, Env: sy.Env, Datasets: sy.Datasets, Agents: sy.Agents}
	top := mappingKeys(root)
	if s.Name == "" {
		s.Name = filepath.Base(dir)
	}
	if sy.Config == "" {
		ps.add(file, 1, "", "config is required (the Baton configuration the run assembles, relative to this file)")
	} else {
		s.Config = resolve(dir, sy.Config)
		if _, err := os.Stat(s.Config); err != nil {
			ps.add(file, lineOf(top["config"]), "", "config %s: %v", s.Config, unwrapPath(err))
		}
	}
	if sy.ServeOrders != "" {
		s.ServeOrders = resolve(dir, sy.ServeOrders)
		if _, err := os.Stat(s.ServeOrders); err != nil {
			ps.add(file, lineOf(top["serve_orders"]), "", "serve_orders %s: %v", s.ServeOrders, unwrapPath(err))
		}
	}
	// Tolerances.
	s.Tolerances = Tolerances{Default: DefaultTolerance, ByName: map[string]float64{}}
	tolNode := top["tolerances"]
	for k, v := range sy.Tolerances {
		line := lineOf(mappingKeys(tolNode)[k])
		if v < 0 {
			ps.add(file, line, "", "tolerances.%s: %v is negative; a tolerance is how far a metric may move the wrong way", k, v)
		}
		if k == "default" {
			s.Tolerances.Default = v
			continue
		}
		s.Tolerances.ByName[k] = v
	}
	// Datasets and agents carry their lines.
	if n := top["datasets"]; n != nil && n.Kind == yaml.SequenceNode {
		for i := range s.Datasets {
			s.Datasets[i].File, s.Datasets[i].Line = file, n.Content[i].Line
		}
	}
	if n := top["agents"]; n != nil && n.Kind == yaml.SequenceNode {
		for i := range s.Agents {
			s.Agents[i].Line = n.Content[i].Line
		}
	}
	// Case files.
	if len(sy.Cases) == 0 {
		ps.add(file, lineOf(top["cases"]), "", "cases: no case files (a list of globs relative to this file, e.g. [cases/*.yaml])")
	}
	var files []string
	seenFile := map[string]bool{}
	for i, g := range sy.Cases {
		line := lineOf(top["cases"])
		if n := top["cases"]; n != nil && n.Kind == yaml.SequenceNode && i < len(n.Content) {
			line = n.Content[i].Line
		}
		matches, err := filepath.Glob(resolve(dir, g))
		if err != nil {
			ps.add(file, line, "", "cases: %q is not a valid glob: %v", g, err)
			continue
		}
		if len(matches) == 0 {
			ps.add(file, line, "", "cases: %q matches no file", g)
		}
		sort.Strings(matches)
		for _, m := range matches {
			if !seenFile[m] {
				seenFile[m] = true
				files = append(files, m)
			}
		}
	}
	seen := map[string]Case{}
	for _, f := range files {
		for _, c := range loadCases(f, &ps) {
			if c.ID == "" {
				continue
			}
			if prev, dup := seen[c.ID]; dup {
				ps.add(c.File, c.Line, c.ID, "duplicate case id; first defined at %s:%d", prev.File, prev.Line)
				continue
			}
			seen[c.ID] = c
			s.Cases = append(s.Cases, c)
		}
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return s, nil
}

// loadCases reads one case file and checks each case's shape.
func loadCases(file string, ps *problems) []Case {
	root, ok := readYAML(file, ps)
	if !ok {
		return nil
	}
	top := mappingKeys(root)
	for k, n := range top {
		if k != "cases" {
			ps.add(file, n.Line, "", "unknown key %q (a case file holds cases: [...])", k)
		}
	}
	casesNode := top["cases"]
	if casesNode == nil || casesNode.Kind != yaml.SequenceNode || len(casesNode.Content) == 0 {
		ps.add(file, lineOf(casesNode), "", "no cases (the file holds cases: [...])")
		return nil
	}
	out := make([]Case, 0, len(casesNode.Content))
	for _, cn := range casesNode.Content {
		id := ""
		if n := mappingKeys(cn)["id"]; n != nil {
			id = n.Value
		}
		var c Case
		if !decodeStrict(file, cn, &c, id, ps) {
			continue
		}
		c.File, c.Line = file, cn.Line
		keys := mappingKeys(cn)
		if c.ID == "" {
			ps.add(file, c.Line, "", "id is required")
		}
		if c.Language == "" {
			ps.add(file, c.Line, c.ID, "language is required (the case's language, for the per-language metrics)")
		}
		if c.Channel == "" {
			c.Channel = ChannelWebChat
		} else if !contains(channelNames, c.Channel) {
			ps.add(file, lineOf(keys["channel"]), c.ID, "channel %q is not one of %s", c.Channel, strings.Join(channelNames, ", "))
		}
		if (len(c.Attributes) > 0 || len(c.Page) > 0) && c.Channel != ChannelWebChat {
			ps.add(file, c.Line, c.ID, "attributes and page reach the bot through the web chat only; channel is %s", c.Channel)
		}
		if len(c.Steps) == 0 {
			ps.add(file, c.Line, c.ID, "steps: at least one step is required")
		}
		stepsNode := keys["steps"]
		for j := range c.Steps {
			st := &c.Steps[j]
			sn := stepsNode.Content[j]
			st.Line = sn.Line
			checkStep(file, c.ID, j+1, st, sn, ps)
		}
		if c.Expect != nil {
			attachLines(c.Expect, keys["expect"])
			if c.Expect.Judge != "" {
				ps.add(file, c.Expect.lineOf("judge"), c.ID, "expect.judge grades a step's replies: put it on a customer step")
			}
		}
		out = append(out, c)
	}
	return out
}

// checkStep checks that a step does exactly one thing, and what that thing
// needs.
func checkStep(file, caseID string, n int, st *Step, node *yaml.Node, ps *problems) {
	keys := mappingKeys(node)
	var moves []string
	for _, k := range []string{"customer", "press", "wait", "agent", "csat"} {
		if keys[k] != nil {
			moves = append(moves, k)
		}
	}
	switch {
	case len(moves) == 0:
		ps.add(file, st.Line, caseID, "step %d: one of customer, press, wait, agent or csat is required", n)
	case len(moves) > 1:
		ps.add(file, st.Line, caseID, "step %d: one move per step, not %s", n, strings.Join(moves, " and "))
	}
	if keys["customer"] != nil && strings.TrimSpace(st.Customer) == "" {
		ps.add(file, lineOf(keys["customer"]), caseID, "step %d: customer: the text is empty", n)
	}
	if st.Wait != "" {
		d, err := parseDuration(st.Wait)
		if err != nil || d <= 0 {
			ps.add(file, lineOf(keys["wait"]), caseID, "step %d: wait: %q is not a positive duration such as 31m, 4h or 2d", n, st.Wait)
		}
		st.WaitFor = d
	}
	if keys["csat"] != nil && (st.CSAT < 1 || st.CSAT > 5) {
		ps.add(file, lineOf(keys["csat"]), caseID, "step %d: csat: %d is not a rating from 1 to 5", n, st.CSAT)
	}
	if a := st.Agent; a != nil {
		line := lineOf(keys["agent"])
		if a.As == "" {
			ps.add(file, line, caseID, "step %d: agent.as is required (the agent who acts)", n)
		}
		switch a.Do {
		case "":
			ps.add(file, line, caseID, "step %d: agent.do is required (one of %s)", n, strings.Join(agentVerbs, ", "))
		case AgentReply, AgentNote:
			if a.Text == "" {
				ps.add(file, line, caseID, "step %d: agent %s needs text", n, a.Do)
			}
		case AgentTransfer:
			if (a.Queue == "") == (a.Agent == "") {
				ps.add(file, line, caseID, "step %d: agent transfer needs queue or agent (one of them)", n)
			}
		case AgentSnooze:
			if d, err := parseDuration(a.For); err != nil || d <= 0 {
				ps.add(file, line, caseID, "step %d: agent snooze needs for: a positive duration such as 2h", n)
			}
		case AgentStatus:
			if !contains([]string{"online", "away", "offline"}, a.Status) {
				ps.add(file, line, caseID, "step %d: agent status needs status: online, away or offline", n)
			}
		case AgentClaim, AgentResolve, AgentToBot:
		default:
			ps.add(file, line, caseID, "step %d: agent.do %q is not one of %s", n, a.Do, strings.Join(agentVerbs, ", "))
		}
	}
	if st.Expect != nil {
		attachLines(st.Expect, keys["expect"])
	}
}

// attachLines records where an expectation and each of its keys are.
func attachLines(e *Expect, node *yaml.Node) {
	if node == nil {
		return
	}
	e.Line = node.Line
	e.Lines = map[string]int{}
	for k, n := range mappingKeys(node) {
		e.Lines[k] = n.Line
	}
}

// readYAML parses one YAML document.
func readYAML(file string, ps *problems) (*yaml.Node, bool) {
	data, err := os.ReadFile(file)
	if err != nil {
		ps.add(file, 0, "", "cannot read: %v", unwrapPath(err))
		return nil, false
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		line := 0
		msg := err.Error()
		// yaml.v3 says "yaml: line N: ..."
		if rest, ok := strings.CutPrefix(msg, "yaml: line "); ok {
			if num, tail, ok := strings.Cut(rest, ":"); ok {
				if n, err := strconv.Atoi(num); err == nil {
					line, msg = n, strings.TrimSpace(tail)
				}
			}
		}
		ps.add(file, line, "", "not valid YAML: %s", msg)
		return nil, false
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		ps.add(file, 1, "", "not a YAML mapping")
		return nil, false
	}
	return doc.Content[0], true
}

// decodeStrict decodes node into out after refusing keys out's type does
// not know, each named with its line and what is known instead; a value
// of the wrong type is reported with its line too.
func decodeStrict(file string, node *yaml.Node, out any, caseID string, ps *problems) bool {
	before := len(ps.list)
	checkKeys(file, node, reflect.TypeOf(out).Elem(), "", caseID, ps)
	if len(ps.list) > before {
		return false
	}
	if err := node.Decode(out); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, e := range te.Errors {
				line := 0
				msg := e
				if rest, ok := strings.CutPrefix(e, "line "); ok {
					if num, tail, ok := strings.Cut(rest, ":"); ok {
						if n, err := strconv.Atoi(num); err == nil {
							line, msg = n, strings.TrimSpace(tail)
						}
					}
				}
				ps.add(file, line, caseID, "%s", msg)
			}
		} else {
			ps.add(file, node.Line, caseID, "%v", err)
		}
		return false
	}
	return true
}

// checkKeys walks node beside type t and reports every mapping key that
// names no field.
func checkKeys(file string, node *yaml.Node, t reflect.Type, path, caseID string, ps *problems) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if node == nil {
		return
	}
	if node.Kind == yaml.AliasNode {
		node = node.Alias
	}
	switch t.Kind() {
	case reflect.Struct:
		if node.Kind != yaml.MappingNode {
			return // Decode reports the type
		}
		fields := map[string]reflect.Type{}
		var names []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if tag == "" || tag == "-" {
				continue
			}
			fields[tag] = f.Type
			names = append(names, tag)
		}
		for i := 0; i+1 < len(node.Content); i += 2 {
			k, v := node.Content[i], node.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				where := "unknown key"
				if path != "" {
					where = "unknown key in " + path
				}
				ps.add(file, k.Line, caseID, "%s %q (known: %s)", where, k.Value, strings.Join(names, ", "))
				continue
			}
			checkKeys(file, v, ft, join(path, k.Value), caseID, ps)
		}
	case reflect.Slice:
		if node.Kind != yaml.SequenceNode {
			return
		}
		for i, n := range node.Content {
			checkKeys(file, n, t.Elem(), fmt.Sprintf("%s[%d]", path, i), caseID, ps)
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// mappingKeys maps a mapping node's keys to their value nodes.
func mappingKeys(n *yaml.Node) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if n == nil || n.Kind != yaml.MappingNode {
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		out[n.Content[i].Value] = n.Content[i+1]
	}
	return out
}

func lineOf(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}

func resolve(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// unwrapPath drops the path an *os.PathError repeats.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// parseDuration reads Go durations and whole days ("2d"), as the
// configuration does.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := time.ParseDuration(n + "h")
		return d * 24, err
	}
	return time.ParseDuration(s)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
