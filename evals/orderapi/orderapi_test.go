package orderapi

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

const exampleOrders = "../../examples/sportshop/" + File

// TestOrderAPI: the order API answers an order with every key (null
// where it does not apply) and its dates counted from today, finds an
// order number however the customer wrote it, and answers 404 for anything
// else.
func TestOrderAPI(t *testing.T) {
	orders, err := Read(exampleOrders)
	if err != nil {
		t.Fatal(err)
	}
	today := time.Date(2030, 1, 30, 15, 4, 5, 0, time.UTC)
	srv := httptest.NewServer((&API{Orders: orders, Now: func() time.Time { return today }}).Handler())
	defer srv.Close()
	day := func(offset int) string { return today.AddDate(0, 0, offset).Format(time.DateOnly) }
	shipped, delivered := orders["SS-10001"], orders["SS-10002"]
	if shipped.Status != "shipped" || delivered.Status != "delivered" {
		t.Fatalf("the example orders changed: SS-10001 is %s, SS-10002 %s", shipped.Status, delivered.Status)
	}
	keys := []string{"cancelled_on", "carrier", "delivered_on", "eta", "id", "items", "status", "tracking_number", "tracking_url"}
	tests := []struct {
		name, method, path string
		status             int
		want               map[string]any // values the answer must hold
	}{
		{"a shipped order", "GET", "/orders/SS-10001", 200, map[string]any{
			"id": "SS-10001", "status": "shipped", "carrier": shipped.Carrier, "tracking_number": shipped.TrackingNumber,
			"eta": day(*shipped.ETAInDays), "delivered_on": nil, "cancelled_on": nil}},
		{"a delivered order", "GET", "/orders/SS-10002", 200, map[string]any{
			"id": "SS-10002", "status": "delivered", "delivered_on": day(-*delivered.DeliveredDaysAgo), "eta": nil}},
		{"lower case without the dash", "GET", "/orders/ss10001", 200, map[string]any{"id": "SS-10001"}},
		{"an unknown number", "GET", "/orders/SS-99999", 404, nil},
		{"not an order number", "GET", "/orders/hello", 404, nil},
		{"another path", "GET", "/customers/1", 404, nil},
		{"another method", "POST", "/orders/SS-10001", 405, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.status == 404 && tc.path != "/customers/1" {
				var e baton.ErrorBody
				if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != baton.ENOTFOUND {
					t.Errorf("404 body %s, want a not_found error", body)
				}
			}
			if tc.status != 200 {
				return
			}
			var got map[string]any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if k := slices.Sorted(maps.Keys(got)); !slices.Equal(k, keys) {
				t.Errorf("keys %v, want %v", k, keys)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
		})
	}
}

// TestDemoOrdersRejected: a broken orders file stops the demo with an
// error naming the file and the order at fault.
func TestDemoOrdersRejected(t *testing.T) {
	tests := []struct{ file, want string }{
		{"unknown-field.json", `unknown field "colour"`},
		{"duplicate.json", "orders[1].id: SS-10001 is listed twice"},
		{"bad-status.json", `orders[0].status: "lost" is not one of`},
		{"shipped-without-carrier.json", "orders[0].carrier: required for a shipped order"},
		{"bad-id.json", `orders[0].id: "ss 10001" is not an order number`},
		{"negative-days.json", "orders[0]: days must not be negative"},
		{"no-orders.json", "no orders"},
		{"not-json.json", "not an orders file"},
		{"missing.json", "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", tc.file)
			_, err := Read(path)
			if baton.ErrorCode(err) != baton.EINVALID || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %v, want %s naming %s and %q", err, baton.EINVALID, path, tc.want)
			}
		})
	}
}
