package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/batonhq/baton"
)

// Defaults applied when neither the file nor the environment says.
const (
	DefaultAddr    = "127.0.0.1:8080"
	DefaultDataDir = "baton-data"
	// MinAdminTokenLen is the shortest admin token accepted.
	MinAdminTokenLen = 16
)

// Problem is one invalid value: where it is and why it is wrong.
type Problem struct {
	Path   string
	Reason string
}

func (p Problem) String() string { return p.Path + ": " + p.Reason }

// Problems is every problem found in a configuration.
type Problems []Problem

func (ps *Problems) add(path, format string, args ...any) {
	*ps = append(*ps, Problem{Path: path, Reason: fmt.Sprintf(format, args...)})
}

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Error is returned by Load when the configuration is invalid. It carries
// every problem, and its domain code is EINVALID.
type Error struct {
	File     string
	Problems Problems
}

func (e *Error) Error() string {
	name := e.File
	if name == "" {
		name = "configuration"
	}
	return fmt.Sprintf("%s: %d problem(s):\n%s", name, len(e.Problems), e.Problems.Error())
}

// Unwrap exposes the domain code so that callers can use baton.ErrorCode.
func (e *Error) Unwrap() error {
	return &baton.Error{Code: baton.EINVALID, Message: "invalid configuration"}
}

// Env is how configuration reads the environment; os.LookupEnv in
// production, a map in tests.
type Env func(name string) (string, bool)

// MapEnv adapts a map to Env.
func MapEnv(m map[string]string) Env {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

// Load reads the file at path (no file when path is ""), expands ${ENV}
// references, applies environment overrides and defaults, and validates the
// result. An invalid configuration returns *Error listing every problem.
func Load(path string, env Env) (*Config, error) {
	cfg := &Config{}
	var problems Problems
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, baton.Errorf(baton.EINVALID, "read configuration %s: %w", path, err)
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, baton.Errorf(baton.EINVALID, "configuration path %s: %w", path, err)
		}
		cfg.Dir, cfg.File = filepath.Dir(abs), path
		parse(data, env, cfg, &problems)
	} else {
		wd, err := os.Getwd()
		if err != nil {
			return nil, baton.Errorf(baton.EINTERNAL, "working directory: %w", err)
		}
		cfg.Dir = wd
	}
	cfg.applyEnv(env)
	cfg.applyDefaults()
	// A value that could not be decoded is also empty or zero to the
	// validator: report it once, with the decoding reason.
	reported := map[string]bool{}
	for _, p := range problems {
		reported[p.Path] = true
	}
	for _, p := range cfg.Validate() {
		if !reported[p.Path] {
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		return nil, &Error{File: path, Problems: problems}
	}
	return cfg, nil
}

func parse(data []byte, env Env, cfg *Config, problems *Problems) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if err.Error() == "EOF" {
			return // an empty file is an empty configuration
		}
		problems.add("(file)", "not valid YAML: %v", err)
		return
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		problems.add("(file)", "more than one YAML document (line %d); put everything in one", extra.Line)
		return
	}
	newDecoder(env, problems).decode(&root, reflect.ValueOf(cfg).Elem(), "")
}

// applyEnv lets the environment override the file: deployment-specific
// values and secrets usually come from there.
func (c *Config) applyEnv(env Env) {
	set := func(dst *string, name string) {
		if v, ok := env(name); ok && v != "" {
			*dst = v
		}
	}
	set(&c.Server.Addr, "BATON_ADDR")
	set(&c.Server.PublicURL, "BATON_PUBLIC_URL")
	set(&c.Server.DataDir, "BATON_DATA_DIR")
	set(&c.Server.DatabaseURL, "BATON_DATABASE_URL")
	set(&c.Server.AdminToken, "BATON_ADMIN_TOKEN")
	set(&c.OpenAI.APIKey, "OPENAI_API_KEY")
	set(&c.OpenAI.BaseURL, "OPENAI_BASE_URL")
	set(&c.Slack.BotToken, "SLACK_BOT_TOKEN")
	set(&c.Slack.AppToken, "SLACK_APP_TOKEN")
	set(&c.Slack.SigningSecret, "SLACK_SIGNING_SECRET")
}

func (c *Config) applyDefaults() {
	if c.Server.Addr == "" {
		c.Server.Addr = DefaultAddr
	}
	if c.Server.DataDir == "" {
		c.Server.DataDir = DefaultDataDir
	}
	c.Server.Limits.applyDefaults()
	if c.OpenAI.Timeout == "" {
		c.OpenAI.Timeout = "30s"
	}
	for i := range c.Queues {
		if c.Queues[i].Priority == "" {
			c.Queues[i].Priority = "normal"
		}
	}
}

// Resolve returns p relative to the configuration file's directory (or p
// itself when absolute or empty).
func (c *Config) Resolve(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// UsesPostgres reports whether the database URL selects PostgreSQL; otherwise
// the embedded SQLite file under the data directory is used.
func (c *Config) UsesPostgres() bool {
	return strings.HasPrefix(c.Server.DatabaseURL, "postgres://") ||
		strings.HasPrefix(c.Server.DatabaseURL, "postgresql://")
}
