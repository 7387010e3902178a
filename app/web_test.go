package app_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

func TestThroughTheWebRoutes(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			e := newEnv(t, sc, envOptions{})
			base := e.serve()
			client := &http.Client{Timeout: 10 * time.Second}
			do := func(provider, bot string, body []byte, sign bool) (int, string) {
				t.Helper()
				r := e.webhook(provider, body, sign)
				req, _ := http.NewRequest(http.MethodPost, base+"/webhooks/"+provider+"/"+bot, bytes.NewReader(body))
				for k, v := range r.Header {
					req.Header[k] = v
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b)
			}
			cases := []struct {
				name, provider, bot string
				body                []byte
				sign                bool
				want                int
			}{
				{"whatsapp unsigned", "whatsapp", botID, waText("wamid.web0", "16505551234", "hi", start), false, 401},
				{"twilio unsigned", "twilio", botID, smsForm("SMweb0", "+14155550100", "hi"), false, 401},
				{"unknown bot", "whatsapp", "nobody", waText("wamid.web0", "16505551234", "hi", start), true, 404},
				{"unknown provider", "telegram", botID, []byte(`{}`), true, 404},
				{"malformed", "messenger", botID, []byte(`{"object":"page","entry":[{"messaging":[{"sender":{"id":"P"},"message":{"text":"x"}}]}]}`), true, 400},
				{"over 1 MiB", "whatsapp", botID, append(waText("wamid.big", "16505551234", "hi", start), bytes.Repeat([]byte(" "), baton.MaxWebhookBody)...), true, 413},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					if got, body := do(c.provider, c.bot, c.body, c.sign); got != c.want {
						t.Fatalf("status %d (%s), want %d", got, body, c.want)
					}
				})
			}
			if n := len(e.conversations()); n != 0 {
				t.Fatalf("refused requests stored %d conversations", n)
			}
			// The signatures were computed over the configured public URL,
			// not the loopback address the request really went to.
			for _, p := range []struct {
				provider string
				body     []byte
			}{
				{"whatsapp", waText("wamid.web1", "16505551234", "hi from whatsapp", start)},
				{"messenger", msText("m_web1", "PSID1", "hi from messenger", start)},
				{"twilio", smsForm("SMweb1", "+14155550100", "hi from sms")},
			} {
				if got, body := do(p.provider, botID, p.body, true); got != 200 {
					t.Fatalf("%s: status %d (%s)", p.provider, got, body)
				}
			}
			if n := len(e.conversations()); n != 3 {
				t.Fatalf("%d conversations, want one per channel", n)
			}
			// The handshake goes through the same route.
			resp, err := client.Get(base + "/webhooks/whatsapp/" + botID + "?hub.mode=subscribe&hub.verify_token=" + verifyToken + "&hub.challenge=42")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(b) != "42" {
				t.Fatalf("handshake: %d %q", resp.StatusCode, b)
			}
			resp, err = client.Get(base + "/webhooks/messenger/" + botID + "?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=42")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 403 {
				t.Fatalf("handshake with a wrong token: %d", resp.StatusCode)
			}
		})
	}
}
