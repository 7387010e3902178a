package channels

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/batonhq/baton"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVerifyMetaSignatureVectors(t *testing.T) {
	var vec struct {
		Secret string `json:"secret"`
		Cases  []struct {
			BodyFile string `json:"body_file"`
			Expected string `json:"expected"`
			Wrong    string `json:"wrong_if_reserialized_utf8"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(readTestdata(t, "meta_x_hub_signature_256.json"), &vec); err != nil {
		t.Fatal(err)
	}
	if len(vec.Cases) < 2 {
		t.Fatalf("expected at least 2 vectors, got %d", len(vec.Cases))
	}
	for _, c := range vec.Cases {
		t.Run(c.BodyFile, func(t *testing.T) {
			body := readTestdata(t, c.BodyFile)
			if got := "sha256=" + HMACSHA256Hex([]byte(vec.Secret), body); got != c.Expected {
				t.Fatalf("computed %s, vector says %s", got, c.Expected)
			}
			if err := VerifyMetaSignature(vec.Secret, body, c.Expected); err != nil {
				t.Fatalf("known-answer vector rejected: %v", err)
			}
			if c.Wrong != "" {
				if err := VerifyMetaSignature(vec.Secret, body, c.Wrong); baton.ErrorCode(err) != baton.EUNAUTHORIZED {
					t.Fatalf("signature of the re-serialised body accepted: %v", err)
				}
			}
		})
	}
}

func TestVerifyMetaSignatureRejects(t *testing.T) {
	body := readTestdata(t, "meta_body_compact.json")
	good := "sha256=" + HMACSHA256Hex([]byte("test_app_secret"), body)
	flipped := append([]byte(nil), body...)
	flipped[len(flipped)/2] ^= 0x01
	cases := []struct {
		name, secret, header string
		body                 []byte
	}{
		{"missing header", "test_app_secret", "", body},
		{"wrong secret", "other_secret", good, body},
		{"one byte changed", "test_app_secret", good, flipped},
		{"sha1 prefix", "test_app_secret", "sha1=" + good[len("sha256="):], body},
		{"no prefix", "test_app_secret", good[len("sha256="):], body},
		{"not hex", "test_app_secret", "sha256=zz", body},
		{"truncated", "test_app_secret", good[:len(good)-2], body},
		{"no secret configured", "", good, body},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := VerifyMetaSignature(c.secret, c.body, c.header)
			if baton.ErrorCode(err) != baton.EUNAUTHORIZED {
				t.Fatalf("want %s, got %v", baton.EUNAUTHORIZED, err)
			}
		})
	}
	if err := VerifyMetaSignature("test_app_secret", body, "sha256="+upperHex(good[len("sha256="):])); err != nil {
		t.Fatalf("uppercase hex of the right MAC rejected: %v", err)
	}
}

func upperHex(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func TestTwilioSignatureVectors(t *testing.T) {
	var vec struct {
		Token  string            `json:"auth_token"`
		URL    string            `json:"url"`
		Params map[string]string `json:"params"`
		Cases  []struct {
			URL       string      `json:"url_variant"`
			Expected  string      `json:"expected"`
			Duplicate [][2]string `json:"duplicate_params"`
			JSONBody  string      `json:"json_body"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(readTestdata(t, "twilio_signature.json"), &vec); err != nil {
		t.Fatal(err)
	}
	for _, c := range vec.Cases {
		params := url.Values{}
		name := c.URL
		switch {
		case c.JSONBody != "":
			name = "json " + c.URL // the body is hashed into the URL; no form params are signed
		case c.Duplicate != nil:
			name = "duplicate params"
			for _, kv := range c.Duplicate {
				params.Add(kv[0], kv[1])
			}
		default:
			for k, v := range vec.Params {
				params.Set(k, v)
			}
		}
		t.Run(name, func(t *testing.T) {
			if got := TwilioSignature(vec.Token, c.URL, params); got != c.Expected {
				t.Fatalf("computed %s, vector says %s", got, c.Expected)
			}
			if err := VerifyTwilioSignature(vec.Token, c.URL, params, c.Expected); err != nil {
				t.Fatalf("known-answer vector rejected: %v", err)
			}
		})
	}
	// The same signature must pass whichever form of the URL we are
	// configured with, as Twilio's SDKs do.
	params := url.Values{}
	for k, v := range vec.Params {
		params.Set(k, v)
	}
	for _, u := range []string{"https://mycompany.com/myapp.php?foo=1&bar=2", "https://mycompany.com:443/myapp.php?foo=1&bar=2"} {
		for _, sig := range []string{"RSOYDt4T1cUTdK1PDd93/VVr8B8=", "kvajT1Ptam85bY51eRf/AJRuM3w="} {
			if err := VerifyTwilioSignature(vec.Token, u, params, sig); err != nil {
				t.Errorf("url %s sig %s: %v", u, sig, err)
			}
		}
	}
}

func TestTwilioSignatureConstructedInbound(t *testing.T) {
	var vec struct {
		Token    string `json:"auth_token"`
		URL      string `json:"url"`
		Expected string `json:"expected_X-Twilio-Signature"`
	}
	if err := json.Unmarshal(readTestdata(t, "twilio_constructed_inbound_signature.json"), &vec); err != nil {
		t.Fatal(err)
	}
	form, err := os.ReadFile(filepath.Join("testdata", "CONSTRUCTED_inbound_sms_mms.form"))
	if err != nil {
		t.Fatal(err)
	}
	params, err := url.ParseQuery(string(form))
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyTwilioSignature(vec.Token, vec.URL, params, vec.Expected); err != nil {
		t.Fatalf("vector rejected: %v", err)
	}
	changed := url.Values{}
	for k, v := range params {
		changed[k] = append([]string(nil), v...)
	}
	changed.Set("Body", changed.Get("Body")+"!")
	extra := url.Values{}
	for k, v := range params {
		extra[k] = append([]string(nil), v...)
	}
	extra.Add("MediaUrl1", "https://attacker.example/x.png")
	cases := []struct {
		name, token, url, sig string
		params                url.Values
	}{
		{"missing header", vec.Token, vec.URL, "", params},
		{"wrong token", "54321", vec.URL, vec.Expected, params},
		{"param changed", vec.Token, vec.URL, vec.Expected, changed},
		{"param added", vec.Token, vec.URL, vec.Expected, extra},
		{"other host", vec.Token, "https://attacker.example/twilio/inbound", vec.Expected, params},
		{"not base64", vec.Token, vec.URL, "***", params},
		{"no token configured", "", vec.URL, vec.Expected, params},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := VerifyTwilioSignature(c.token, c.url, c.params, c.sig); baton.ErrorCode(err) != baton.EUNAUTHORIZED {
				t.Fatalf("want %s, got %v", baton.EUNAUTHORIZED, err)
			}
		})
	}
}
