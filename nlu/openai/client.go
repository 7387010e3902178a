// Package openai connects Baton to any OpenAI-compatible API with
// go-openai: chat completions (baton.LLM), embeddings (baton.Embedder) and
// one-call triage with a JSON-schema answer that falls back to the offline
// analysis when the provider fails. Personal data is redacted from every
// text before it leaves the process.
package openai

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/nlu/pii"
)

// Config says which provider and models to use. Secrets come from the
// environment or the config file, never from code.
type Config struct {
	APIKey         string
	BaseURL        string // "" = api.openai.com; any OpenAI-compatible server otherwise
	ChatModel      string // default gpt-4o-mini
	EmbeddingModel string // default text-embedding-3-small
	EmbeddingDim   int    // default 1536
	// Timeout bounds one attempt, TotalTimeout the call with its retries
	// (defaults 10 s and 20 s).
	Timeout, TotalTimeout time.Duration
	MaxRetries            int           // retries after the first attempt on 429 and 5xx (default 2; -1 for none)
	Backoff               time.Duration // first retry delay, doubled each time (default 300 ms)
	HTTPClient            *http.Client
}

// ConfigFromEnv reads OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_CHAT_MODEL
// and OPENAI_EMBEDDING_MODEL. ok is false when no key is set: then nothing
// should call out.
func ConfigFromEnv(lookup func(string) (string, bool)) (cfg Config, ok bool) {
	get := func(k string) string { v, _ := lookup(k); return strings.TrimSpace(v) }
	cfg = Config{
		APIKey:         get("OPENAI_API_KEY"),
		BaseURL:        get("OPENAI_BASE_URL"),
		ChatModel:      get("OPENAI_CHAT_MODEL"),
		EmbeddingModel: get("OPENAI_EMBEDDING_MODEL"),
	}
	return cfg, cfg.APIKey != ""
}

func (c Config) withDefaults() Config {
	if c.ChatModel == "" {
		c.ChatModel = "gpt-4o-mini"
	}
	if c.EmbeddingModel == "" {
		c.EmbeddingModel = string(goopenai.SmallEmbedding3)
	}
	if c.EmbeddingDim <= 0 {
		c.EmbeddingDim = 1536
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.TotalTimeout <= 0 {
		c.TotalTimeout = 2 * c.Timeout
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = 2
	} else if c.MaxRetries < 0 {
		c.MaxRetries = 0
	}
	if c.Backoff <= 0 {
		c.Backoff = 300 * time.Millisecond
	}
	return c
}

// Client is a configured connection to the provider.
type Client struct {
	api *goopenai.Client
	cfg Config
}

// New checks cfg and builds a client. It does not call the provider.
func New(cfg Config) (*Client, error) {
	if cfg.APIKey == "" {
		return nil, baton.Errorf(baton.EINVALID, "openai: no API key (set OPENAI_API_KEY)")
	}
	cfg = cfg.withDefaults()
	oc := goopenai.DefaultConfig(cfg.APIKey)
	if cfg.BaseURL != "" {
		oc.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	}
	if cfg.HTTPClient != nil {
		oc.HTTPClient = cfg.HTTPClient
	}
	return &Client{api: goopenai.NewClientWithConfig(oc), cfg: cfg}, nil
}

// LLM returns the chat model as a baton.LLM.
func (c *Client) LLM() *Chat { return &Chat{c: c} }

// Embedder returns the embedding model as a baton.Embedder.
func (c *Client) Embedder() *Embedder { return &Embedder{c: c} }

// Chat is a chat-completion model.
type Chat struct{ c *Client }

var _ baton.LLM = (*Chat)(nil)

// Model is the configured chat model.
func (m *Chat) Model() string { return m.c.cfg.ChatModel }

// Complete sends one chat completion. Every message is redacted first.
// With req.JSONSchema the answer must follow it (structured output).
func (m *Chat) Complete(ctx context.Context, req baton.CompletionRequest) (baton.CompletionResponse, error) {
	oreq := goopenai.ChatCompletionRequest{
		Model:       m.c.cfg.ChatModel,
		Temperature: req.Temperature,
		MaxTokens:   req.MaxTokens,
	}
	if req.System != "" {
		oreq.Messages = append(oreq.Messages, goopenai.ChatCompletionMessage{Role: goopenai.ChatMessageRoleSystem, Content: pii.String(req.System)})
	}
	for _, msg := range req.Messages {
		role := msg.Role
		if role != goopenai.ChatMessageRoleAssistant {
			role = goopenai.ChatMessageRoleUser
		}
		oreq.Messages = append(oreq.Messages, goopenai.ChatCompletionMessage{Role: role, Content: pii.String(msg.Content)})
	}
	if len(req.JSONSchema) > 0 {
		name := req.SchemaName
		if name == "" {
			name = "answer"
		}
		oreq.ResponseFormat = &goopenai.ChatCompletionResponseFormat{
			Type: goopenai.ChatCompletionResponseFormatTypeJSONSchema,
			JSONSchema: &goopenai.ChatCompletionResponseFormatJSONSchema{
				Name: name, Schema: rawJSON(req.JSONSchema), Strict: true,
			},
		}
	}
	var resp goopenai.ChatCompletionResponse
	err := m.c.retry(ctx, "chat completion", func(ctx context.Context) error {
		var err error
		resp, err = m.c.api.CreateChatCompletion(ctx, oreq)
		return err
	})
	if err != nil {
		return baton.CompletionResponse{}, err
	}
	if len(resp.Choices) == 0 {
		return baton.CompletionResponse{}, baton.Errorf(baton.EUNAVAILABLE, "openai chat completion: no choices in the answer")
	}
	model := resp.Model
	if model == "" {
		model = m.c.cfg.ChatModel
	}
	return baton.CompletionResponse{Content: resp.Choices[0].Message.Content, Model: model}, nil
}

// rawJSON passes a schema through unchanged.
type rawJSON []byte

func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }

// Embedder is an embedding model.
type Embedder struct{ c *Client }

var _ baton.Embedder = (*Embedder)(nil)

// Model is the configured embedding model.
func (e *Embedder) Model() string { return e.c.cfg.EmbeddingModel }

// Dim is the vector length.
func (e *Embedder) Dim() int { return e.c.cfg.EmbeddingDim }

// Embed returns one vector per text, in order. Texts are redacted first.
func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	in := make([]string, len(texts))
	for i, t := range texts {
		in[i] = pii.String(t)
	}
	req := goopenai.EmbeddingRequest{Input: in, Model: goopenai.EmbeddingModel(e.c.cfg.EmbeddingModel)}
	if strings.HasPrefix(e.c.cfg.EmbeddingModel, "text-embedding-3") {
		req.Dimensions = e.c.cfg.EmbeddingDim
	}
	var resp goopenai.EmbeddingResponse
	err := e.c.retry(ctx, "embeddings", func(ctx context.Context) error {
		var err error
		resp, err = e.c.api.CreateEmbeddings(ctx, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(resp.Data) != len(texts) {
		return nil, baton.Errorf(baton.EUNAVAILABLE, "openai embeddings: %d vectors for %d texts", len(resp.Data), len(texts))
	}
	out := make([][]float32, len(texts))
	for _, d := range resp.Data {
		if d.Index < 0 || d.Index >= len(out) || out[d.Index] != nil {
			return nil, baton.Errorf(baton.EUNAVAILABLE, "openai embeddings: bad index %d", d.Index)
		}
		if len(d.Embedding) != e.c.cfg.EmbeddingDim {
			return nil, baton.Errorf(baton.EUNAVAILABLE, "openai embeddings: vector of %d dimensions, configured %d", len(d.Embedding), e.c.cfg.EmbeddingDim)
		}
		out[d.Index] = d.Embedding
	}
	return out, nil
}

// retry runs call with a per-attempt timeout, retrying rate limits,
// server errors and timeouts with doubling delays, all within TotalTimeout.
func (c *Client) retry(ctx context.Context, what string, call func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.TotalTimeout)
	defer cancel()
	delay := c.cfg.Backoff
	var err error
	for attempt := 0; ; attempt++ {
		actx, acancel := context.WithTimeout(ctx, c.cfg.Timeout)
		err = call(actx)
		acancel()
		if err == nil {
			return nil
		}
		code, retryable := classify(err)
		if !retryable || attempt >= c.cfg.MaxRetries || ctx.Err() != nil {
			return baton.WrapError(code, err, "openai "+what)
		}
		select {
		case <-ctx.Done():
			return baton.WrapError(baton.EUNAVAILABLE, err, "openai "+what+": out of time")
		case <-time.After(delay):
		}
		delay *= 2
	}
}

// classify maps a provider error to a domain code and says whether another
// attempt may help.
func classify(err error) (string, bool) {
	status := 0
	var apiErr *goopenai.APIError
	var reqErr *goopenai.RequestError
	switch {
	case errors.As(err, &apiErr):
		status = apiErr.HTTPStatusCode
	case errors.As(err, &reqErr):
		status = reqErr.HTTPStatusCode
	}
	switch {
	case status == http.StatusTooManyRequests || status >= 500:
		return baton.EUNAVAILABLE, true
	case status == http.StatusUnauthorized:
		return baton.EUNAUTHORIZED, false
	case status == http.StatusForbidden:
		return baton.EFORBIDDEN, false
	case status >= 400:
		return baton.EINVALID, false
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return baton.EUNAVAILABLE, true
	}
	return baton.EUNAVAILABLE, true
}
