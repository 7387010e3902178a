package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/channels"
	"github.com/batonhq/baton/channels/channeltest"
	"github.com/batonhq/baton/config"
)

func waText(id, from, text string, at time.Time) []byte {
	return waTextTo(phoneNumberID, id, from, text, at)
}

// waTextTo is a customer's text to the business number phoneNumberID.
func waTextTo(phoneNumberID, id, from, text string, at time.Time) []byte {
	return []byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":%q},"contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":%q}],"messages":[{"from":%q,"id":%q,"timestamp":"%d","type":"text","text":{"body":%q}}]}}]}]}`,
		phoneNumberID, from, from, id, at.Unix(), text))
}

func waStatus(wamid, status string, at time.Time) []byte {
	return waStatusTo(phoneNumberID, wamid, status, at)
}

// waStatusTo is a status of a message sent from the business number
// phoneNumberID.
func waStatusTo(phoneNumberID, wamid, status string, at time.Time) []byte {
	return []byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":%q},"statuses":[{"id":%q,"status":%q,"timestamp":"%d","recipient_id":"16505551234"}]}}]}]}`,
		phoneNumberID, wamid, status, at.Unix()))
}

func msText(mid, psid, text string, at time.Time) []byte {
	return msTextTo(pageID, pageID, mid, psid, text, at)
}

// msTextTo is a customer's text in an entry of Page entryID, to recipient.
func msTextTo(entryID, recipient, mid, psid, text string, at time.Time) []byte {
	return []byte(fmt.Sprintf(`{"object":"page","entry":[{"id":%q,"time":%d,"messaging":[{"sender":{"id":%q},"recipient":{"id":%q},"timestamp":%d,"message":{"mid":%q,"text":%q}}]}]}`,
		entryID, at.UnixMilli(), psid, recipient, at.UnixMilli(), mid, text))
}

func msReceipt(psid, kind string, watermark time.Time) []byte {
	return msReceiptTo(pageID, psid, kind, watermark)
}

// msReceiptTo is a delivery or read receipt of Page page.
func msReceiptTo(page, psid, kind string, watermark time.Time) []byte {
	return []byte(fmt.Sprintf(`{"object":"page","entry":[{"id":%q,"time":%d,"messaging":[{"sender":{"id":%q},"recipient":{"id":%q},"timestamp":%d,%q:{"watermark":%d}}]}]}`,
		page, watermark.UnixMilli(), psid, page, watermark.UnixMilli(), kind, watermark.UnixMilli()))
}

func smsForm(sid, from, body string) []byte {
	return smsFormTo(twilioSID, twilioFrom, sid, from, body)
}

// smsFormTo is an inbound SMS of Twilio account accountSID to number to.
func smsFormTo(accountSID, to, sid, from, body string) []byte {
	v := url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "AccountSid": {accountSID}, "From": {from}, "To": {to}, "Body": {body}, "NumMedia": {"0"}}
	return []byte(v.Encode())
}

func smsStatus(sid, status, code string) []byte {
	return smsStatusFrom(twilioFrom, sid, status, code)
}

// smsStatusFrom is a status callback of a message sent from number from.
func smsStatusFrom(from, sid, status, code string) []byte {
	v := url.Values{"MessageSid": {sid}, "MessageStatus": {status}, "AccountSid": {twilioSID}, "From": {from}, "To": {"+14155550100"}}
	if code != "" {
		v.Set("ErrorCode", code)
	}
	return []byte(v.Encode())
}

// inbound returns each provider's fixture-based customer message, addressed
// to the test bot (the Messenger fixture has placeholders for the ids).
func inbound(t *testing.T) map[string][]byte {
	ms := strings.NewReplacer("<PAGE_ID>", pageID, "<PSID>", "PSID1").Replace(string(readFile(t, "testdata/CONSTRUCTED_envelope_text.json")))
	return map[string][]byte{
		"whatsapp":  readFile(t, "testdata/inbound_text.json"),
		"messenger": []byte(ms),
		"twilio":    readFile(t, "testdata/CONSTRUCTED_inbound_sms_mms.form"),
	}
}

func onlyConversation(t *testing.T, e *env) *baton.Conversation {
	t.Helper()
	cs := e.conversations()
	if len(cs) != 1 {
		t.Fatalf("%d conversations, want 1", len(cs))
	}
	return cs[0]
}

func TestDuplicateWebhooksStoreOneMessageAndOneTurn(t *testing.T) {
	for _, sc := range stores() {
		for provider, body := range inbound(t) {
			t.Run(sc.Name+"/"+provider, func(t *testing.T) {
				e := newEnv(t, sc, envOptions{})
				errs := make([]error, 5)
				statuses := make([]int, 5)
				concurrently(5, func(i int) {
					resp, err := e.handler(provider).ServeWebhook(context.Background(), e.webhook(provider, body, true))
					errs[i] = err
					if resp != nil {
						statuses[i] = resp.Status
					}
				})
				for i := range errs {
					if errs[i] != nil || statuses[i] != 200 {
						t.Fatalf("delivery %d: status %d err %v (every duplicate must be acknowledged)", i, statuses[i], errs[i])
					}
				}
				conv := onlyConversation(t, e)
				if msgs := e.messages(conv.ID); len(msgs) != 1 || msgs[0].Direction != baton.DirectionIn {
					t.Fatalf("%d messages stored, want 1 inbound", len(msgs))
				}
				if js := e.jobs(baton.JobTurn); len(js) != 1 || js[0].ConversationID != conv.ID {
					t.Fatalf("%d turn jobs, want 1 for the conversation", len(js))
				}
			})
		}
	}
}

func TestRejectedWebhooksStoreNothing(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			e := newEnv(t, sc, envOptions{})
			for provider, body := range inbound(t) {
				header := channels.MetaSignatureHeader
				malformed := []byte(`{"object":"page","entry":[{"messaging":[{"message":{"text":"no mid"}}]}]}`)
				if provider == "whatsapp" {
					malformed = []byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"from":"1","type":"text"}]}}]}]}`)
				}
				if provider == "twilio" {
					header = channels.TwilioSignatureHeader
					malformed = []byte("From=%2B1&Body=no+sid")
				}
				flipped := append([]byte(nil), body...)
				flipped[len(flipped)/2] ^= 0x01
				cases := []struct {
					name string
					req  func() *baton.WebhookRequest
					code string
				}{
					{"missing header", func() *baton.WebhookRequest { return e.webhook(provider, body, false) }, baton.EUNAUTHORIZED},
					{"wrong signature", func() *baton.WebhookRequest {
						r := e.webhook(provider, body, true)
						other := e.webhook(provider, inbound(t)[provider][:len(body)-1], true)
						r.Header.Set(header, other.Header.Get(header))
						return r
					}, baton.EUNAUTHORIZED},
					{"one byte changed", func() *baton.WebhookRequest {
						r := e.webhook(provider, body, true)
						r.Body = flipped
						return r
					}, baton.EUNAUTHORIZED},
					{"signed but malformed", func() *baton.WebhookRequest { return e.webhook(provider, malformed, true) }, baton.EINVALID},
					{"unknown bot", func() *baton.WebhookRequest {
						r := e.webhook(provider, body, true)
						r.BotID = "nobody"
						return r
					}, baton.ENOTFOUND},
					{"over 1 MiB", func() *baton.WebhookRequest {
						return e.webhook(provider, append(append([]byte(nil), body...), make([]byte, baton.MaxWebhookBody)...), true)
					}, baton.ETOOLARGE},
				}
				if provider == "twilio" {
					cases = append(cases, struct {
						name string
						req  func() *baton.WebhookRequest
						code string
					}{"signed for another host", func() *baton.WebhookRequest {
						r := e.webhook(provider, body, true)
						r.PublicURL = "https://other.example.com/webhooks/twilio/" + botID
						return r
					}, baton.EUNAUTHORIZED})
				}
				for _, c := range cases {
					t.Run(provider+"/"+c.name, func(t *testing.T) {
						resp, err := e.handler(provider).ServeWebhook(context.Background(), c.req())
						if baton.ErrorCode(err) != c.code || resp != nil {
							t.Fatalf("want %s and no response, got %v / %+v", c.code, err, resp)
						}
					})
				}
			}
			if cs := e.conversations(); len(cs) != 0 {
				t.Fatalf("%d conversations stored by rejected webhooks", len(cs))
			}
			js, err := e.st.ListJobs(context.Background(), baton.JobFilter{})
			if err != nil || len(js) != 0 {
				t.Fatalf("%d jobs stored by rejected webhooks (%v)", len(js), err)
			}
			if _, err := e.st.GetIdentity(context.Background(), botID, baton.ChannelWhatsApp, "16505551234"); baton.ErrorCode(err) != baton.ENOTFOUND {
				t.Fatalf("a customer was stored by a rejected webhook: %v", err)
			}
		})
	}
}

func TestMetaHandshake(t *testing.T) {
	e := newEnv(t, stores()[0], envOptions{})
	for _, provider := range []string{"whatsapp", "messenger"} {
		cases := []struct {
			name, mode, token string
			wantErr           string
		}{
			{"ok", "subscribe", verifyToken, ""},
			{"wrong token", "subscribe", "guess", baton.EFORBIDDEN},
			{"wrong mode", "unsubscribe", verifyToken, baton.EFORBIDDEN},
		}
		for _, c := range cases {
			t.Run(provider+"/"+c.name, func(t *testing.T) {
				r := e.webhook(provider, nil, false)
				r.Method = "GET"
				r.Query = url.Values{"hub.mode": {c.mode}, "hub.verify_token": {c.token}, "hub.challenge": {"1158201444"}}
				resp, err := e.handler(provider).ServeWebhook(context.Background(), r)
				if c.wantErr != "" {
					if baton.ErrorCode(err) != c.wantErr {
						t.Fatalf("want %s, got %v", c.wantErr, err)
					}
					return
				}
				if err != nil || resp.Status != 200 || string(resp.Body) != "1158201444" {
					t.Fatalf("handshake: %+v %v", resp, err)
				}
			})
		}
	}
}

// TestWhatsAppPathInToStatus is the whole path: a signed webhook, stored; the
// turn job answers through the outbox; the fake Graph API receives it; the
// provider's statuses then move it forward only.
func TestWhatsAppPathInToStatus(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			e := newEnv(t, sc, envOptions{})
			e.post("whatsapp", waText("wamid.in1", "16505551234", "Where is my order?", start))
			conv := onlyConversation(t, e)
			if conv.State != baton.StateBot || conv.Address != "16505551234" || conv.LastInboundAt == nil || !conv.LastInboundAt.Equal(start) {
				t.Fatalf("conversation %+v", conv)
			}
			e.runJobs(func() bool { out := e.outbound(conv.ID); return len(out) == 1 && out[0].Status == baton.StatusSent })
			out := e.outbound(conv.ID)[0]
			reqs := e.graph.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d Graph requests, want 1", len(reqs))
			}
			var body map[string]any
			_ = json.Unmarshal(reqs[0].Body, &body)
			if body["to"] != "16505551234" || body["type"] != "text" || body["text"].(map[string]any)["body"] != ackText ||
				reqs[0].Header.Get("Authorization") != "Bearer wa-token" {
				t.Fatalf("Graph request %s", reqs[0].Body)
			}
			if !strings.HasPrefix(out.ProviderID, "wamid.out") || out.Author != baton.AuthorBot {
				t.Fatalf("outbound %+v", out)
			}
			if c, _ := e.st.GetConversation(context.Background(), conv.ID); c.LastOutboundAt == nil || c.LastOutboundAt.Before(start) {
				t.Fatalf("last outbound time not recorded: %v", c.LastOutboundAt)
			}
			for _, st := range []string{"sent", "read", "delivered"} { // late delivered after read
				e.post("whatsapp", waStatus(out.ProviderID, st, start.Add(time.Minute)))
			}
			got, err := e.st.GetMessage(context.Background(), out.ID)
			if err != nil || got.Status != baton.StatusRead {
				t.Fatalf("status %v err %v, want read (forward only)", got.Status, err)
			}
			// A status for a message Baton never sent is acknowledged.
			e.post("whatsapp", waStatus("wamid.unknown", "delivered", start))
		})
	}
}

func TestBurstGetsOneAcknowledgement(t *testing.T) {
	e := newEnv(t, stores()[0], envOptions{})
	e.post("whatsapp", waText("wamid.b1", "16505551234", "hello", start))
	e.post("whatsapp", waText("wamid.b2", "16505551234", "anyone there?", start.Add(time.Second)))
	conv := onlyConversation(t, e)
	e.runJobs(e.idle)
	out := e.outbound(conv.ID)
	if len(out) != 1 || len(e.graph.Requests()) != 1 {
		t.Fatalf("%d replies, %d sends; want one acknowledgement for the burst", len(out), len(e.graph.Requests()))
	}
	// Running every job again (a crash before completion) must not answer twice.
	for _, j := range e.jobs(baton.JobTurn) {
		if err := e.app.JobHandler(baton.JobTurn).HandleJob(context.Background(), j); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.outbound(conv.ID)); n != 1 {
		t.Fatalf("re-running turns added replies: %d", n)
	}
}

func TestTransientFailuresAreRetriedThenDeliveredOnce(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			fail := channeltest.Reply{Status: 500, Body: `{"error":{"message":"An unknown error occurred","code":1}}`}
			e := newEnv(t, sc, envOptions{graphScript: []channeltest.Reply{fail, fail, fail}})
			e.post("whatsapp", waText("wamid.t1", "16505551234", "hi", start))
			conv := onlyConversation(t, e)
			e.runJobs(func() bool { out := e.outbound(conv.ID); return len(out) == 1 && out[0].Status == baton.StatusSent })
			reqs := e.graph.Requests()
			if len(reqs) != 4 {
				t.Fatalf("%d sends, want 3 failures and 1 success", len(reqs))
			}
			for i := 1; i < 4; i++ {
				if string(reqs[i].Body) != string(reqs[0].Body) {
					t.Fatalf("retry %d sent a different body", i)
				}
			}
			dj := e.jobs(baton.JobDeliver)
			if len(dj) != 1 || dj[0].Status != baton.JobDone || dj[0].Attempts != 4 {
				t.Fatalf("deliver job %+v", dj[0])
			}
			e.runJobs(e.idle)
			if n := len(e.graph.Requests()); n != 4 {
				t.Fatalf("%d sends after the queue drained, want 4", n)
			}
		})
	}
}

func TestPermanentFailureIsMarkedWithTheReason(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			e := newEnv(t, sc, envOptions{graphScript: []channeltest.Reply{{Status: 400,
				Body: `{"error":{"message":"Message undeliverable","type":"OAuthException","code":131026,"error_data":{"details":"Recipient is not a valid WhatsApp user"}}}`}}})
			e.post("whatsapp", waText("wamid.p1", "16505551234", "hi", start))
			conv := onlyConversation(t, e)
			e.runJobs(func() bool { out := e.outbound(conv.ID); return len(out) == 1 && out[0].Status == baton.StatusFailed })
			out := e.outbound(conv.ID)[0]
			if out.StatusCode != "131026" || !strings.Contains(out.StatusReason, "Recipient is not a valid WhatsApp user") {
				t.Fatalf("failed with code %q reason %q", out.StatusCode, out.StatusReason)
			}
			e.runJobs(e.idle)
			if dj := e.jobs(baton.JobDeliver); dj[0].Status != baton.JobDone {
				t.Fatalf("deliver job %s, want done (the failure is recorded on the message)", dj[0].Status)
			}
			if n := len(e.graph.Requests()); n != 1 {
				t.Fatalf("%d sends, a permanent error must not be retried", n)
			}
		})
	}
}

func TestWhatsAppReplyAfter25HoursSendsTheTemplate(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			e := newEnv(t, sc, envOptions{template: config.Template{Name: "follow_up", Language: "en_US"}})
			e.post("whatsapp", waText("wamid.w1", "16505551234", "refund?", start))
			conv := onlyConversation(t, e)
			e.runJobs(e.idle)
			e.clock.Advance(25 * time.Hour)
			conv, _ = e.st.GetConversation(context.Background(), conv.ID)
			e.reply(conv, &baton.Message{Author: baton.AuthorAgent, AuthorID: "ana", Text: "Your refund went out today."})
			e.runJobs(e.idle)
			reqs := e.graph.Requests()
			var last map[string]any
			_ = json.Unmarshal(reqs[len(reqs)-1].Body, &last)
			if len(reqs) != 2 || last["type"] != "template" || last["template"].(map[string]any)["name"] != "follow_up" {
				t.Fatalf("after 25 h: %d requests, last %s", len(reqs), reqs[len(reqs)-1].Body)
			}
			out := e.outbound(conv.ID)
			if out[1].Status != baton.StatusSent {
				t.Fatalf("agent reply status %s", out[1].Status)
			}
		})
	}
	t.Run("no template: failed with a reason the agent can read", func(t *testing.T) {
		e := newEnv(t, stores()[0], envOptions{})
		e.post("whatsapp", waText("wamid.w2", "16505551234", "refund?", start))
		conv := onlyConversation(t, e)
		e.runJobs(e.idle)
		e.clock.Advance(25 * time.Hour)
		e.reply(conv, &baton.Message{Author: baton.AuthorAgent, Text: "late answer"})
		e.runJobs(e.idle)
		out := e.outbound(conv.ID)
		if out[1].Status != baton.StatusFailed || !strings.Contains(out[1].StatusReason, "24-hour") || len(e.graph.Requests()) != 1 {
			t.Fatalf("got %s %q with %d sends", out[1].Status, out[1].StatusReason, len(e.graph.Requests()))
		}
	})
}

func TestMessengerAgentReplyThreeDaysLaterIsHumanAgent(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			e := newEnv(t, sc, envOptions{})
			e.post("messenger", msText("m_in1", "PSID1", "my parcel is lost", start))
			conv := onlyConversation(t, e)
			e.runJobs(e.idle)
			var first map[string]any
			_ = json.Unmarshal(e.graph.Requests()[0].Body, &first)
			if first["messaging_type"] != "RESPONSE" {
				t.Fatalf("bot reply inside 24 h: %v", first)
			}
			e.clock.Advance(72 * time.Hour)
			conv, _ = e.st.GetConversation(context.Background(), conv.ID)
			e.reply(conv, &baton.Message{Author: baton.AuthorAgent, AuthorID: "ana", Text: "Found it, shipping today."})
			e.reply(conv, &baton.Message{Author: baton.AuthorBot, Text: "Anything else?"})
			e.runJobs(e.idle)
			reqs := e.graph.Requests()
			if len(reqs) != 2 {
				t.Fatalf("%d sends, want the ack and the agent's reply only", len(reqs))
			}
			var agent map[string]any
			_ = json.Unmarshal(reqs[1].Body, &agent)
			if agent["messaging_type"] != "MESSAGE_TAG" || agent["tag"] != "HUMAN_AGENT" {
				t.Fatalf("agent reply after 3 days: %s", reqs[1].Body)
			}
			out := e.outbound(conv.ID)
			if out[2].Status != baton.StatusFailed || out[2].StatusCode != "window_closed" {
				t.Fatalf("bot message after 3 days: %s %s", out[2].Status, out[2].StatusCode)
			}
		})
	}
}

func TestMessengerWatermarks(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			e := newEnv(t, sc, envOptions{})
			e.post("messenger", msText("m_w1", "PSID1", "hi", start))
			conv := onlyConversation(t, e)
			e.runJobs(func() bool { out := e.outbound(conv.ID); return len(out) == 1 && out[0].Status == baton.StatusSent })
			now := e.clock.Now()
			e.post("messenger", msReceipt("PSID1", "read", now.Add(time.Second)))
			e.post("messenger", msReceipt("PSID1", "delivery", now.Add(time.Second)))
			out := e.outbound(conv.ID)[0]
			if out.Status != baton.StatusRead {
				t.Fatalf("status %s after read then delivery watermarks, want read", out.Status)
			}
		})
	}
}

func TestTwilioStopStopsEverySendAndStartResumes(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			e := newEnv(t, sc, envOptions{})
			from := "+14155550100"
			e.post("twilio", smsForm("SM0001", from, "Hi, my order is late"))
			conv := onlyConversation(t, e)
			e.runJobs(e.idle)
			if n := len(e.twilio.Requests()); n != 1 {
				t.Fatalf("%d sends before STOP, want the acknowledgement", n)
			}
			e.post("twilio", smsForm("SM0002", from, " stop "))
			id, err := e.st.GetIdentity(context.Background(), botID, baton.ChannelSMS, from)
			if err != nil || !id.OptedOut {
				t.Fatalf("opt-out not stored: %+v %v", id, err)
			}
			e.reply(conv, &baton.Message{Author: baton.AuthorAgent, Text: "Are you still there?"})
			e.runJobs(e.idle)
			if n := len(e.twilio.Requests()); n != 1 {
				t.Fatalf("%d sends: something went out after STOP", n)
			}
			out := e.outbound(conv.ID)
			if last := out[len(out)-1]; last.Status != baton.StatusFailed || last.StatusCode != "opted_out" {
				t.Fatalf("reply after STOP: %s %s", last.Status, last.StatusCode)
			}
			e.post("twilio", smsForm("SM0003", from, "START"))
			e.reply(conv, &baton.Message{Author: baton.AuthorAgent, Text: "Welcome back"})
			e.runJobs(e.idle)
			reqs := e.twilio.Requests()
			if len(reqs) != 2 {
				t.Fatalf("%d sends after START, want 2 (no bot answer to the keywords)", len(reqs))
			}
			form, _ := url.ParseQuery(string(reqs[1].Body))
			if form.Get("Body") != "Welcome back" || form.Get("To") != from || form.Get("StatusCallback") != publicBase+"/webhooks/twilio/"+botID {
				t.Fatalf("send after START: %v", form)
			}
			// Status callbacks, out of order: delivered, then a late sent.
			sent := e.outbound(conv.ID)
			sid := sent[len(sent)-1].ProviderID
			e.post("twilio", smsStatus(sid, "delivered", ""))
			e.post("twilio", smsStatus(sid, "sent", ""))
			m, _ := e.st.GetMessage(context.Background(), sent[len(sent)-1].ID)
			if m.Status != baton.StatusDelivered {
				t.Fatalf("status %s, want delivered", m.Status)
			}
		})
	}
}

// TestTwilioYesIsAnAnswerUnlessOptedOut: "YES" is one of the SMS opt-in
// keywords, and the natural answer to "Did this help?". From someone who
// opted out it opts them back in (no bot answer); from anyone else it is
// a message the bot reads.
func TestTwilioYesIsAnAnswerUnlessOptedOut(t *testing.T) {
	e := newEnv(t, stores()[0], envOptions{})
	from := "+14155550100"
	turns := func() int { return len(e.jobs(baton.JobTurn)) }
	e.post("twilio", smsForm("SMy1", from, "Hi, my order is late"))
	e.runJobs(e.idle)
	before := turns()
	e.post("twilio", smsForm("SMy2", from, " Yes "))
	if got := turns(); got != before+1 {
		t.Fatalf("a yes from a subscribed customer made %d turns, want the bot to read it", got-before)
	}
	if id, err := e.st.GetIdentity(context.Background(), botID, baton.ChannelSMS, from); err != nil || id.OptedOut {
		t.Fatalf("identity after yes: %+v %v", id, err)
	}
	e.runJobs(e.idle)
	e.post("twilio", smsForm("SMy3", from, "STOP"))
	before = turns()
	e.post("twilio", smsForm("SMy4", from, "yes"))
	if id, err := e.st.GetIdentity(context.Background(), botID, baton.ChannelSMS, from); err != nil || id.OptedOut {
		t.Fatalf("yes after STOP did not opt back in: %+v %v", id, err)
	}
	if got := turns(); got != before {
		t.Fatalf("yes after STOP ran the bot (%d turns): the carrier confirms an opt-in itself", got-before)
	}
}

func TestTwilioHelpAnswersWithTheConfiguredText(t *testing.T) {
	e := newEnv(t, stores()[0], envOptions{})
	e.ingester().SMSHelp = map[string]string{botID: "Acme support. Reply STOP to opt out."}
	e.post("twilio", smsForm("SMh1", "+14155550100", "help"))
	e.runJobs(e.idle)
	reqs := e.twilio.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d sends", len(reqs))
	}
	form, _ := url.ParseQuery(string(reqs[0].Body))
	if form.Get("Body") != "Acme support. Reply STOP to opt out." {
		t.Fatalf("HELP answer %q", form.Get("Body"))
	}
	if js := e.jobs(baton.JobTurn); len(js) != 0 {
		t.Fatalf("HELP with a configured answer also ran the bot (%d turns)", len(js))
	}
}

// TestReopenAfterTwoDaysGoesToTheSameAgent: an online agent who resolved a
// conversation gets it back when the customer writes two days later.
func TestReopenAfterTwoDaysGoesToTheSameAgent(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			e := newEnv(t, sc, envOptions{reopenAfter: "72h"})
			ctx := context.Background()
			if err := e.st.UpsertAgent(ctx, &baton.Agent{ID: "maya", Skills: []string{"en"}, Status: baton.AgentOnline,
				Capacity: map[baton.ChannelKind]int{baton.ChannelWhatsApp: 2}}); err != nil {
				t.Fatal(err)
			}
			e.post("whatsapp", waText("wamid.a1", "16505551234", "hi", start))
			conv := onlyConversation(t, e)
			maya, q := "maya", "general"
			for _, tr := range []baton.Transition{{To: baton.StateQueued, Actor: "bot", QueueID: &q},
				{To: baton.StateAssigned, Actor: "agent:maya", AgentID: &maya}, {To: baton.StateResolved, Actor: "agent:maya"}} {
				if _, _, err := e.st.TransitionConversation(ctx, conv.ID, tr); err != nil {
					t.Fatal(err)
				}
			}
			e.clock.Advance(48 * time.Hour)
			e.post("whatsapp", waText("wamid.a2", "16505551234", "the zip broke again", e.clock.Now()))
			cs := e.conversations()
			if len(cs) != 1 || cs[0].State != baton.StateAssigned || cs[0].AgentID != "maya" {
				t.Fatalf("after two days: %d conversations, first %+v", len(cs), cs[0])
			}
		})
	}
}

func TestResolvedConversationReopensInsideTheWindow(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			e := newEnv(t, sc, envOptions{reopenAfter: "48h"})
			ctx := context.Background()
			e.post("whatsapp", waText("wamid.r1", "16505551234", "hi", start))
			conv := onlyConversation(t, e)
			q := "billing"
			if _, _, err := e.st.TransitionConversation(ctx, conv.ID, baton.Transition{To: baton.StateQueued, Actor: "bot", QueueID: &q}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := e.st.TransitionConversation(ctx, conv.ID, baton.Transition{To: baton.StateResolved, Actor: "agent:ana"}); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(24 * time.Hour)
			e.post("whatsapp", waText("wamid.r2", "16505551234", "it broke again", e.clock.Now()))
			cs := e.conversations()
			if len(cs) != 1 || cs[0].State != baton.StateQueued || cs[0].QueueID != "billing" {
				t.Fatalf("inside the window: %d conversations, first %+v", len(cs), cs[0])
			}
			if _, _, err := e.st.TransitionConversation(ctx, conv.ID, baton.Transition{To: baton.StateResolved, Actor: "agent:ana"}); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(72 * time.Hour)
			e.post("whatsapp", waText("wamid.r3", "16505551234", "new problem", e.clock.Now()))
			cs = e.conversations()
			if len(cs) != 2 {
				t.Fatalf("outside the window: %d conversations, want a new one", len(cs))
			}
			for _, c := range cs {
				if c.ID != conv.ID && c.State != baton.StateBot {
					t.Fatalf("new conversation state %s", c.State)
				}
			}
			// Linked both ways.
			var next int64
			for _, c := range cs {
				if c.ID != conv.ID {
					next = c.ID
				}
			}
			linked := func(id, other int64, typ string) bool {
				evs, err := e.st.ListEvents(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				for _, ev := range evs {
					if ev.Type == typ && fmt.Sprint(ev.Data["conversation"]) == fmt.Sprint(other) {
						return true
					}
				}
				return false
			}
			if !linked(next, conv.ID, channels.EventFollows) || !linked(conv.ID, next, channels.EventContinued) {
				t.Fatalf("the new conversation %d and the old one %d are not linked", next, conv.ID)
			}
		})
	}
}

func TestTwilioUnsubscribedAtTheCarrierIsRecorded(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			e := newEnv(t, sc, envOptions{twilioScript: []channeltest.Reply{{Status: 400,
				Body: `{"code":21610,"message":"Attempt to send to unsubscribed recipient","status":400}`}}})
			from := "+14155550123"
			e.post("twilio", smsForm("SMu1", from, "hello"))
			conv := onlyConversation(t, e)
			e.runJobs(e.idle)
			out := e.outbound(conv.ID)
			if len(out) != 1 || out[0].Status != baton.StatusFailed || out[0].StatusCode != "21610" {
				t.Fatalf("ack after a carrier-level STOP: %+v", out)
			}
			id, err := e.st.GetIdentity(context.Background(), botID, baton.ChannelSMS, from)
			if err != nil || !id.OptedOut {
				t.Fatalf("provider opt-out not recorded: %+v %v", id, err)
			}
			e.reply(conv, &baton.Message{Author: baton.AuthorAgent, Text: "still there?"})
			e.runJobs(e.idle)
			if n := len(e.twilio.Requests()); n != 1 {
				t.Fatalf("%d sends; nothing may be attempted once the provider said unsubscribed", n)
			}
		})
	}
}

func waFailedStatus(wamid, code, title string, at time.Time) []byte {
	return []byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":%q},"statuses":[{"id":%q,"status":"failed","timestamp":"%d","recipient_id":"16505551234","errors":[{"code":%s,"title":%q}]}]}}]}]}`,
		phoneNumberID, wamid, at.Unix(), code, title))
}

// WhatsApp may accept a free-form message and report 131047 later, in a
// status webhook: the template goes out then, once, however often Meta
// redelivers the status.
func TestWhatsAppLate131047SendsTheTemplateOnce(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			e := newEnv(t, sc, envOptions{template: config.Template{Name: "follow_up", Language: "en_US"}})
			e.post("whatsapp", waText("wamid.l1", "16505551234", "hello", start))
			conv := onlyConversation(t, e)
			e.runJobs(func() bool { out := e.outbound(conv.ID); return len(out) == 1 && out[0].Status == baton.StatusSent })
			ack := e.outbound(conv.ID)[0]
			for i := 0; i < 3; i++ {
				e.post("whatsapp", waFailedStatus(ack.ProviderID, "131047", "Re-engagement message", start.Add(time.Minute)))
			}
			e.runJobs(e.idle)
			out := e.outbound(conv.ID)
			if len(out) != 2 || out[0].Status != baton.StatusFailed || out[0].StatusCode != "131047" {
				t.Fatalf("outbound after a late 131047: %+v", out)
			}
			reqs := e.graph.Requests()
			var last map[string]any
			_ = json.Unmarshal(reqs[len(reqs)-1].Body, &last)
			if len(reqs) != 2 || last["type"] != "template" || out[1].Status != baton.StatusSent || out[1].Text != ackText {
				t.Fatalf("%d sends, last %s; template message %+v", len(reqs), reqs[len(reqs)-1].Body, out[1])
			}
			// Another failure code is just recorded.
			e.post("whatsapp", waFailedStatus(out[1].ProviderID, "131026", "Message undeliverable", start.Add(2*time.Minute)))
			e.runJobs(e.idle)
			if n := len(e.outbound(conv.ID)); n != 2 {
				t.Fatalf("%d outbound messages after a 131026 failure, want no fallback", n)
			}
		})
	}
}
