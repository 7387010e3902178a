package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// The second bot's channels: on the same Meta app and Twilio account as the
// test bot (shared), or on an app and account of its own (separate).
var (
	shared   = otherBot{id: "beta", phoneNumberID: "106540352242999", pageID: "107000000000002", twilioFrom: "+14155550177"}
	separate = otherBot{id: "gamma", metaSecret: "gamma_app_secret", phoneNumberID: "106540352242988", pageID: "107000000000003",
		twilioSID: "ACZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ", twilioToken: "gamma-token", twilioFrom: "+14155550166"}
)

// foreignPage is a Page no bot is configured with.
const foreignPage = "107000000000009"

// serveAs posts body to the webhook URL of bot, signed with the given
// secrets, and fails the test unless it is acknowledged.
func (e *env) serveAs(provider, bot, appSecret, authToken string, body []byte) *baton.WebhookResponse {
	e.t.Helper()
	r := e.unsigned(provider, bot, body)
	e.sign(r, provider, appSecret, authToken)
	resp, err := e.handler(provider).ServeWebhook(context.Background(), r)
	if err != nil {
		e.t.Fatalf("%s webhook: %v", provider, err)
	}
	if resp.Status != http.StatusOK {
		e.t.Fatalf("%s webhook: status %d", provider, resp.Status)
	}
	return resp
}

// nothingStored fails the test if any conversation, job or customer exists.
func (e *env) nothingStored(customer string) {
	e.t.Helper()
	ctx := context.Background()
	cs, err := e.st.ListConversations(ctx, baton.ConversationFilter{})
	if err != nil || len(cs) != 0 {
		e.t.Fatalf("%d conversations stored (%v)", len(cs), err)
	}
	js, err := e.st.ListJobs(ctx, baton.JobFilter{})
	if err != nil || len(js) != 0 {
		e.t.Fatalf("%d jobs stored (%v)", len(js), err)
	}
	for _, bot := range []string{botID, shared.id, separate.id} {
		for _, ch := range []baton.ChannelKind{baton.ChannelWhatsApp, baton.ChannelMessenger, baton.ChannelSMS} {
			if _, err := e.st.GetIdentity(ctx, bot, ch, customer); baton.ErrorCode(err) != baton.ENOTFOUND {
				e.t.Fatalf("customer stored for bot %s on %s (%v)", bot, ch, err)
			}
		}
	}
}

// TestForeignRecipientsAreAcknowledgedNotStored: a correctly signed webhook
// for a number, Page or account no bot is configured with is acknowledged
// (or the provider retries for days), stores nothing, is counted, and is
// logged without the customer's address, their text or the number.
func TestForeignRecipientsAreAcknowledgedNotStored(t *testing.T) {
	const customer, text = "+14155550123", "my card is 4111 1111 1111 1111"
	cases := []struct {
		name, provider string
		body           []byte
		leak           []string // must not appear in the log
	}{
		{"whatsapp: another number", "whatsapp", waTextTo("106540352242900", "wamid.f1", customer, text, start), []string{"106540352242900"}},
		{"messenger: another page", "messenger", msTextTo(foreignPage, foreignPage, "m_f1", customer, text, start), []string{foreignPage}},
		{"messenger: our entry, another recipient", "messenger", msTextTo(pageID, foreignPage, "m_f2", customer, text, start), []string{foreignPage}},
		{"messenger: another entry, our recipient", "messenger", msTextTo(foreignPage, pageID, "m_f3", customer, text, start), []string{foreignPage}},
		{"twilio: another number", "twilio", smsFormTo(twilioSID, "+14155550198", "SMf1", customer, text), []string{"4155550198"}},
		{"twilio: another account", "twilio", smsFormTo("ACYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYY", twilioFrom, "SMf2", customer, text), []string{"ACYYYY"}},
	}
	for _, sc := range stores() {
		for _, c := range cases {
			t.Run(sc.Name+"/"+c.name, func(t *testing.T) {
				e := newEnv(t, sc, envOptions{})
				resp := e.serveAs(c.provider, botID, metaSecret, twilioToken, c.body)
				if c.provider == "twilio" && !strings.Contains(string(resp.Body), "<Response>") {
					t.Fatalf("Twilio gets TwiML, got %q", resp.Body)
				}
				e.nothingStored(customer)
				if n := e.foreignCount(c.provider); n != 1 {
					t.Fatalf("foreign-recipient counter %d, want 1", n)
				}
				logs := e.logs.String()
				if strings.Count(logs, "no bot is configured with") != 1 || !strings.Contains(logs, `"provider":"`+c.provider+`"`) {
					t.Fatalf("want one warning naming the provider, got:\n%s", logs)
				}
				for _, s := range append(c.leak, "4155550123", "4111", "my card") {
					if strings.Contains(logs, s) {
						t.Fatalf("the log repeats %q:\n%s", s, logs)
					}
				}
			})
		}
	}
}

// TestForeignStatusesMoveNothing: a status for a message of another number
// or Page is not applied, even when its id is one of ours.
func TestForeignStatusesMoveNothing(t *testing.T) {
	cases := []struct {
		provider string
		inbound  []byte
		foreign  func(providerID string) []byte
	}{
		{"whatsapp", waText("wamid.s1", "16505551234", "hi", start), func(id string) []byte {
			return waStatusTo("106540352242900", id, "read", start.Add(time.Minute))
		}},
		{"messenger", msText("m_s1", "PSID1", "hi", start), func(string) []byte {
			return msReceiptTo(foreignPage, "PSID1", "read", start.Add(time.Hour))
		}},
		{"twilio", smsForm("SMs1", "+14155550100", "hi"), func(id string) []byte {
			return smsStatusFrom("+14155550198", id, "delivered", "")
		}},
	}
	for _, sc := range stores() {
		for _, c := range cases {
			t.Run(sc.Name+"/"+c.provider, func(t *testing.T) {
				e := newEnv(t, sc, envOptions{})
				e.post(c.provider, c.inbound)
				conv := onlyConversation(t, e)
				e.runJobs(func() bool { out := e.outbound(conv.ID); return len(out) == 1 && out[0].Status == baton.StatusSent })
				out := e.outbound(conv.ID)[0]
				e.post(c.provider, c.foreign(out.ProviderID))
				if got, _ := e.st.GetMessage(context.Background(), out.ID); got.Status != baton.StatusSent {
					t.Fatalf("status %s after a status for another number, want sent", got.Status)
				}
				if n := e.foreignCount(c.provider); n != 1 {
					t.Fatalf("foreign-recipient counter %d, want 1", n)
				}
			})
		}
	}
}

// sentFrom describes where the fake provider received a send: the request
// path (it carries the sending number or Page), the bearer token or the
// From number.
type sentFrom struct{ path, auth, from string }

func (e *env) sends(provider string) []sentFrom {
	var out []sentFrom
	if provider == "twilio" {
		for _, r := range e.twilio.Requests() {
			f, _ := url.ParseQuery(string(r.Body))
			out = append(out, sentFrom{path: r.Path, from: f.Get("From")})
		}
		return out
	}
	for _, r := range e.graph.Requests() {
		out = append(out, sentFrom{path: r.Path, auth: r.Header.Get("Authorization")})
	}
	return out
}

// TestSharedAppRoutesEachPartToItsBot: Meta posts every number and Page of
// an app to the app's one URL (and a Twilio account's numbers may share a
// URL too), so a message for the second bot arriving at the first bot's URL
// is the second bot's: stored for it and answered from its number or Page.
// Parts of one body go each to their own bot; a foreign part is dropped.
func TestSharedAppRoutesEachPartToItsBot(t *testing.T) {
	cases := []struct {
		provider string
		body     []byte
		want     sentFrom
		status   func(providerID string) []byte // the provider's receipt of the answer
	}{
		{"whatsapp", waTextTo(shared.phoneNumberID, "wamid.r1", "16505551234", "hi beta", start),
			sentFrom{path: "/v23.0/" + shared.phoneNumberID + "/messages", auth: "Bearer wa-token-beta"},
			func(id string) []byte { return waStatusTo(shared.phoneNumberID, id, "read", start.Add(time.Minute)) }},
		{"messenger", msTextTo(shared.pageID, shared.pageID, "m_r1", "PSID1", "hi beta", start),
			sentFrom{path: "/v23.0/" + shared.pageID + "/messages", auth: "Bearer page-token-beta"},
			func(string) []byte { return msReceiptTo(shared.pageID, "PSID1", "read", start.Add(time.Hour)) }},
		{"twilio", smsFormTo(twilioSID, shared.twilioFrom, "SMr1", "+14155550100", "hi beta"),
			sentFrom{path: "/2010-04-01/Accounts/" + twilioSID + "/Messages.json", from: shared.twilioFrom},
			func(id string) []byte { return smsStatusFrom(shared.twilioFrom, id, "read", "") }},
	}
	for _, sc := range stores() {
		for _, c := range cases {
			t.Run(sc.Name+"/"+c.provider, func(t *testing.T) {
				e := newEnv(t, sc, envOptions{others: []otherBot{shared}})
				e.post(c.provider, c.body) // to the test bot's URL, with its secret
				if n := len(e.conversationsOf(botID)); n != 0 {
					t.Fatalf("%d conversations for the bot of the URL, want none", n)
				}
				cs := e.conversationsOf(shared.id)
				if len(cs) != 1 {
					t.Fatalf("%d conversations for the addressed bot, want 1", len(cs))
				}
				e.runJobs(func() bool { out := e.outbound(cs[0].ID); return len(out) == 1 && out[0].Status == baton.StatusSent })
				if got := e.sends(c.provider); len(got) != 1 || got[0] != c.want {
					t.Fatalf("sends %+v, want one %+v", got, c.want)
				}
				out := e.outbound(cs[0].ID)[0]
				e.post(c.provider, c.status(out.ProviderID))
				if got, _ := e.st.GetMessage(context.Background(), out.ID); got.Status != baton.StatusRead {
					t.Fatalf("status %s after the addressed bot's read receipt, want read", got.Status)
				}
				if n := e.foreignCount(c.provider); n != 0 {
					t.Fatalf("foreign-recipient counter %d, want 0", n)
				}
			})
		}
	}
	t.Run("one body, three numbers", func(t *testing.T) {
		e := newEnv(t, stores()[0], envOptions{others: []otherBot{shared}})
		change := func(phoneNumberID, wamid string) string {
			var v map[string]any
			_ = json.Unmarshal(waTextTo(phoneNumberID, wamid, "16505551234", "hi", start), &v)
			b, _ := json.Marshal(v["entry"].([]any)[0].(map[string]any)["changes"].([]any)[0])
			return string(b)
		}
		body := `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[` +
			change(phoneNumberID, "wamid.m1") + "," + change("106540352242900", "wamid.m2") + "," + change(shared.phoneNumberID, "wamid.m3") + `]}]}`
		e.post("whatsapp", []byte(body))
		for bot, wamid := range map[string]string{botID: "wamid.m1", shared.id: "wamid.m3"} {
			cs := e.conversationsOf(bot)
			if len(cs) != 1 {
				t.Fatalf("bot %s: %d conversations, want 1", bot, len(cs))
			}
			if ms := e.messages(cs[0].ID); len(ms) != 1 || ms[0].ProviderID != wamid {
				t.Fatalf("bot %s: messages %+v, want %s only", bot, ms, wamid)
			}
		}
		if _, err := e.st.GetMessageByProviderID(context.Background(), baton.ChannelWhatsApp, "wamid.m2"); baton.ErrorCode(err) != baton.ENOTFOUND {
			t.Fatalf("the foreign number's message was stored: %v", err)
		}
		if n := e.foreignCount("whatsapp"); n != 1 {
			t.Fatalf("foreign-recipient counter %d, want 1", n)
		}
	})
}

// TestAnotherSecretCannotTargetABot: a bot on an app or account of its own
// cannot be written into by whoever holds another bot's secret: a body for
// its number signed with the test bot's secret, at the test bot's URL, is
// foreign. At its own URL, with its own secret, it is its own.
func TestAnotherSecretCannotTargetABot(t *testing.T) {
	cases := []struct {
		provider string
		body     []byte
	}{
		{"whatsapp", waTextTo(separate.phoneNumberID, "wamid.x1", "16505551234", "hi gamma", start)},
		{"messenger", msTextTo(separate.pageID, separate.pageID, "m_x1", "PSID1", "hi gamma", start)},
		{"twilio", smsFormTo(separate.twilioSID, separate.twilioFrom, "SMx1", "+14155550100", "hi gamma")},
	}
	for _, sc := range stores() {
		for _, c := range cases {
			t.Run(sc.Name+"/"+c.provider, func(t *testing.T) {
				e := newEnv(t, sc, envOptions{others: []otherBot{separate}})
				e.serveAs(c.provider, botID, metaSecret, twilioToken, c.body)
				e.nothingStored("16505551234")
				if n := e.foreignCount(c.provider); n != 1 {
					t.Fatalf("foreign-recipient counter %d, want 1", n)
				}
				e.serveAs(c.provider, separate.id, separate.metaSecret, separate.twilioToken, c.body)
				if n := len(e.conversationsOf(separate.id)); n != 1 {
					t.Fatalf("at its own URL with its own secret: %d conversations, want 1", n)
				}
			})
		}
	}
}
