package app_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/channels/channeltest"
)

// testRedactor stands in for the PII redactor: it replaces e-mail
// addresses only, so that what reaches the stored reason as [NUMBER] is the
// outbox's own rule for the provider ids and numbers the redactor keeps.
var testRedactor = baton.RedactFunc(func(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		if strings.Contains(w, "@") {
			words[i] = "[EMAIL]"
		}
	}
	return strings.Join(words, " ")
})

// TestProviderErrorTextIsRedacted: providers echo the recipient's number or
// PSID (and whatever else) in their error text. It reaches the log lines of
// the outbox and the job pool, the job's last error and the failed
// message's reason only redacted, whether the failure is retried or final.
func TestProviderErrorTextIsRedacted(t *testing.T) {
	const email = "jane.doe@example.com"
	cases := []struct {
		provider string
		inbound  []byte
		script   []channeltest.Reply // a transient failure, then a permanent one
		address  string              // the customer's, as the provider echoes it
		code     string
	}{
		{"whatsapp", waText("wamid.e1", "16505551234", "hi", start), []channeltest.Reply{
			{Status: 500, Body: `{"error":{"message":"Service unavailable for 16505551234 (` + email + `)","code":131000}}`},
			{Status: 400, Body: `{"error":{"message":"Recipient 16505551234 is not a valid WhatsApp user","code":131026,"error_data":{"details":"wa_id 16505551234, contact ` + email + `"}}}`},
		}, "16505551234", "131026"},
		{"messenger", msText("m_e1", "1254459154682919", "hi", start), []channeltest.Reply{
			{Status: 500, Body: `{"error":{"message":"(#1200) Temporary send message failure for 1254459154682919","code":1200}}`},
			{Status: 400, Body: `{"error":{"message":"(#100) No matching user found for 1254459154682919 ` + email + `","code":100}}`},
		}, "1254459154682919", "100"},
		{"twilio", smsForm("SMe1", "+14155550123", "hi"), []channeltest.Reply{
			{Status: 500, Body: `{"code":20500,"message":"Internal error sending to +14155550123","status":500}`},
			{Status: 400, Body: `{"code":21211,"message":"The 'To' number +14155550123 is not a valid phone number (` + email + `)","status":400}`},
		}, "4155550123", "21211"},
	}
	for _, c := range cases {
		t.Run(c.provider, func(t *testing.T) {
			o := envOptions{graphScript: c.script, redactor: testRedactor}
			if c.provider == "twilio" {
				o = envOptions{twilioScript: c.script, redactor: testRedactor}
			}
			e := newEnv(t, stores()[0], o)
			e.post(c.provider, c.inbound)
			conv := onlyConversation(t, e)
			e.runJobs(func() bool { out := e.outbound(conv.ID); return len(out) == 1 && out[0].Status == baton.StatusFailed })
			out := e.outbound(conv.ID)[0]
			jobs := e.jobs(baton.JobDeliver)
			logs := e.logs.String()
			if !strings.Contains(logs, "job failed, will retry") || !strings.Contains(logs, "delivery failed for good") {
				t.Fatalf("the failures were not logged:\n%s", logs)
			}
			for what, text := range map[string]string{"log": logs, "status reason": out.StatusReason, "job error": jobs[0].LastError} {
				if strings.Contains(text, c.address) || strings.Contains(text, email) {
					t.Errorf("the %s repeats the provider's personal data: %s", what, text)
				}
			}
			if out.StatusCode != c.code || !strings.Contains(out.StatusReason, "[NUMBER]") {
				t.Errorf("failed with %q %q, want code %s and the redacted reason", out.StatusCode, out.StatusReason, c.code)
			}
		})
	}
}

// TestRejectedValuesAreNotLogged: a signed webhook refused for a bad field
// is logged (by the web layer, from the error) with the field and the
// reason, never the value, which may be a card number or an e-mail address.
func TestRejectedValuesAreNotLogged(t *testing.T) {
	const card = "4111 1111 1111 1111"
	cases := []struct {
		name, provider string
		body           []byte
		secret         string
		wantInLog      string
	}{
		{"whatsapp timestamp", "whatsapp", bytes.Replace(waText("wamid.v1", "16505551234", "hi", start), []byte(`"timestamp":"`+strconv.FormatInt(start.Unix(), 10)), []byte(`"timestamp":"`+card), 1),
			card, "messages[0].timestamp is not unix seconds"},
		{"whatsapp object", "whatsapp", []byte(`{"object":"jane.doe@example.com","entry":[]}`), "jane.doe", "object is not"},
		{"messenger number where an id belongs", "messenger", []byte(`{"object":"page","entry":[{"id":"` + pageID + `","messaging":[{"sender":{"id":4111111111111111},"recipient":{"id":"` + pageID + `"}}]}]}`),
			"4111111111111111", "sender.id has the wrong type"},
		{"twilio NumMedia", "twilio", []byte("MessageSid=SMv1&AccountSid=" + twilioSID + "&From=%2B14155550100&To=%2B14155550199&NumMedia=4111+1111+1111+1111"), "4111", "NumMedia is not a number"},
	}
	e := newEnv(t, stores()[0], envOptions{})
	base := e.serve()
	client := &http.Client{Timeout: 10 * time.Second}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.webhook(c.provider, c.body, true)
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, base+"/webhooks/"+c.provider+"/"+botID, bytes.NewReader(c.body))
			req.Header = r.Header
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d (%s), want 400", resp.StatusCode, body)
			}
			logs := e.logs.String()
			if !strings.Contains(logs, c.wantInLog) {
				t.Fatalf("the log does not say what was wrong (%q):\n%s", c.wantInLog, logs)
			}
			if strings.Contains(logs, c.secret) || strings.Contains(string(body), c.secret) {
				t.Fatalf("the rejected value reached the log or the answer:\n%s\n%s", logs, body)
			}
		})
	}
}
