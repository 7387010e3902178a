package channels

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// maxProviderResponse bounds how much of a provider's answer is read.
const maxProviderResponse = 1 << 20

// Response is a provider's HTTP answer, read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends req with client under a timeout (ctx's deadline wins when it is
// sooner) and reads the answer. Only failures to get an answer are errors,
// classified EUNAVAILABLE; HTTP error statuses are for the caller to judge.
func Do(ctx context.Context, client *http.Client, provider string, timeout time.Duration, req *http.Request) (*Response, error) {
	if client == nil {
		client = http.DefaultClient
	}
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		return nil, TransportError(provider, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProviderResponse))
	if err != nil {
		return nil, TransportError(provider, fmt.Errorf("read response: %w", err))
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// GraphError is the error object of Meta's Graph API (WhatsApp and
// Messenger).
type GraphError struct {
	Message   string `json:"message"`
	Type      string `json:"type"`
	Code      int    `json:"code"`
	Subcode   int    `json:"error_subcode"`
	ErrorData struct {
		Details string `json:"details"`
	} `json:"error_data"`
	FBTraceID string `json:"fbtrace_id"`
}

// ParseGraphError reads the error of a failed Graph API call; ok is false
// when the body carries none.
func ParseGraphError(body []byte) (GraphError, bool) {
	var env struct {
		Error *GraphError `json:"error"`
	}
	if json.Unmarshal(body, &env) != nil || env.Error == nil {
		return GraphError{}, false
	}
	return *env.Error, true
}

// Reason is the most specific explanation the Graph API gave.
func (g GraphError) Reason() string {
	if g.ErrorData.Details != "" && g.ErrorData.Details != g.Message {
		if g.Message == "" {
			return g.ErrorData.Details
		}
		return g.Message + ": " + g.ErrorData.Details
	}
	return g.Message
}

// CodeString is the error code as Baton stores it.
func (g GraphError) CodeString() string {
	if g.Code == 0 {
		return ""
	}
	s := strconv.Itoa(g.Code)
	if g.Subcode != 0 {
		s += "/" + strconv.Itoa(g.Subcode)
	}
	return s
}
