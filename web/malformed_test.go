package web_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/web"
)

// TestMalformedRequestKeepsCredentials: a request whose headers cannot be
// parsed (a command's two-line output pasted into a header, as a shell
// script that captured stderr too makes) is refused with 400, and neither the answer
// nor the log line repeats the request, whose Authorization header carries
// a token.
func TestMalformedRequestKeepsCredentials(t *testing.T) {
	const secret = "bat_SecretTokenValue0123456789abcdefghijklmno"
	base, logs := serve(t, web.Config{Store: openStore(t), AdminToken: "admin-token-0123456789"})
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	req := "POST /api/v1/conversations/1/resolve HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + secret +
		"\nToken 1 (" + secret + ") for agent maya, expires 2027-01-03T22:43:42Z\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "malformed HTTP request") {
		t.Fatalf("status %d, want 400: %s", resp.StatusCode, body)
	}
	if strings.Contains(strings.ToLower(string(body)), "secrettoken") {
		t.Errorf("the answer repeats the token: %s", body)
	}
	time.Sleep(50 * time.Millisecond) // the log line is written after the answer
	if strings.Contains(strings.ToLower(logs.String()), "secrettoken") {
		t.Errorf("the log repeats the token: %s", logs.String())
	}
}
