// Package orderapi serves a shop's order API from an orders file: the
// fictional orders the example bot's order_status action asks about.
// `baton demo` runs it next to the demo bot; eval runs serve a suite's
// orders file with it, so that the action reaches the orders exactly as it
// would reach a real API, on a loopback port of its own.
package orderapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

const (
	// File holds the fictional orders, next to the example configuration.
	File = "orders.json"
	// EnvVar is the variable the example configuration reads the order
	// API's base URL from; the demo and eval runs set it unless it is set.
	EnvVar = "ORDER_API_URL"
)

// Order statuses, with the fields each needs for the replies to read well.
var orderStatusNeeds = map[string][]string{
	"processing":       {"eta_in_days"},
	"shipped":          {"carrier", "tracking_number", "tracking_url", "eta_in_days"},
	"out_for_delivery": {"carrier", "tracking_number", "tracking_url", "eta_in_days"},
	"delivered":        {"carrier", "tracking_number", "tracking_url", "delivered_days_ago"},
	"cancelled":        {"cancelled_days_ago"},
}

// Order is one order of the file. Dates are days from today, so that
// an estimate is never in the past however old the checkout is.
type Order struct {
	ID               string   `json:"id"`
	Status           string   `json:"status"`
	Items            []string `json:"items"`
	Carrier          string   `json:"carrier"`
	TrackingNumber   string   `json:"tracking_number"`
	TrackingURL      string   `json:"tracking_url"`
	ETAInDays        *int     `json:"eta_in_days"`
	DeliveredDaysAgo *int     `json:"delivered_days_ago"`
	CancelledDaysAgo *int     `json:"cancelled_days_ago"`
}

// orderJSON is what the API answers. Every key is always there (null when
// it does not apply): a reply template may test any of them, and a
// template reading a missing key fails.
type orderJSON struct {
	ID             string   `json:"id"`
	Status         string   `json:"status"`
	Items          []string `json:"items"`
	Carrier        *string  `json:"carrier"`
	TrackingNumber *string  `json:"tracking_number"`
	TrackingURL    *string  `json:"tracking_url"`
	ETA            *string  `json:"eta"` // YYYY-MM-DD
	DeliveredOn    *string  `json:"delivered_on"`
	CancelledOn    *string  `json:"cancelled_on"`
}

// orderIDRE is an order number as customers write it: letters, an
// optional dash, digits (ss10001 is SS-10001).
var orderIDRE = regexp.MustCompile(`^([A-Za-z]{1,4})-?(\d{1,12})$`)

// CanonicalID is id as the file writes it, or "" when id is no order
// number.
func CanonicalID(id string) string {
	m := orderIDRE.FindStringSubmatch(strings.TrimSpace(id))
	if m == nil {
		return ""
	}
	return strings.ToUpper(m[1]) + "-" + m[2]
}

// Read reads and checks an orders file: every problem is named
// with the order it is in.
func Read(path string) (map[string]Order, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, baton.Errorf(baton.EINVALID, "orders: %w", err)
	}
	var file struct {
		Orders []Order `json:"orders"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		return nil, baton.Errorf(baton.EINVALID, "orders %s: not an orders file ({\"orders\": [...]}): %v", path, err)
	}
	if len(file.Orders) == 0 {
		return nil, baton.Errorf(baton.EINVALID, "orders %s: no orders", path)
	}
	orders := map[string]Order{}
	var problems []string
	for i, o := range file.Orders {
		at := fmt.Sprintf("orders[%d]", i)
		id := CanonicalID(o.ID)
		switch {
		case id == "" || id != o.ID:
			problems = append(problems, fmt.Sprintf("%s.id: %q is not an order number like SS-10001 (capitals, a dash, digits)", at, o.ID))
		case orders[id].ID != "":
			problems = append(problems, fmt.Sprintf("%s.id: %s is listed twice", at, id))
		}
		needs, ok := orderStatusNeeds[o.Status]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s.status: %q is not one of processing, shipped, out_for_delivery, delivered, cancelled", at, o.Status))
		}
		if len(o.Items) == 0 {
			problems = append(problems, at+".items: required")
		}
		for _, f := range needs {
			if !o.has(f) {
				problems = append(problems, fmt.Sprintf("%s.%s: required for a %s order", at, f, o.Status))
			}
		}
		for _, d := range []*int{o.ETAInDays, o.DeliveredDaysAgo, o.CancelledDaysAgo} {
			if d != nil && *d < 0 {
				problems = append(problems, at+": days must not be negative")
			}
		}
		if id != "" {
			orders[id] = o
		}
	}
	if len(problems) > 0 {
		return nil, baton.Errorf(baton.EINVALID, "orders %s: %s", path, strings.Join(problems, "; "))
	}
	return orders, nil
}

func (o Order) has(field string) bool {
	switch field {
	case "carrier":
		return o.Carrier != ""
	case "tracking_number":
		return o.TrackingNumber != ""
	case "tracking_url":
		return o.TrackingURL != ""
	case "eta_in_days":
		return o.ETAInDays != nil
	case "delivered_days_ago":
		return o.DeliveredDaysAgo != nil
	case "cancelled_days_ago":
		return o.CancelledDaysAgo != nil
	}
	return false
}

// API answers GET /orders/{id}: the order as JSON, or 404.
type API struct {
	Orders map[string]Order
	// Now is today, from which the orders' days are counted.
	Now func() time.Time
}

// Handler serves GET /orders/{id}.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", a.get)
	return mux
}

func (a *API) get(w http.ResponseWriter, r *http.Request) {
	o, ok := a.Orders[CanonicalID(r.PathValue("id"))]
	if !ok {
		writeJSON(w, http.StatusNotFound, baton.NewErrorBody(baton.Errorf(baton.ENOTFOUND, "no such order")))
		return
	}
	today := a.Now()
	day := func(offset *int, sign int) *string {
		if offset == nil {
			return nil
		}
		s := today.AddDate(0, 0, sign*(*offset)).Format(time.DateOnly)
		return &s
	}
	text := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	writeJSON(w, http.StatusOK, orderJSON{
		ID: o.ID, Status: o.Status, Items: o.Items,
		Carrier: text(o.Carrier), TrackingNumber: text(o.TrackingNumber), TrackingURL: text(o.TrackingURL),
		ETA: day(o.ETAInDays, 1), DeliveredOn: day(o.DeliveredDaysAgo, -1), CancelledOn: day(o.CancelledDaysAgo, -1),
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Server is a running order API.
type Server struct {
	URL string
	IDs []string // sorted
	srv *http.Server
}

// Start serves the orders file at path on a loopback port, its days
// counted from now().
func Start(path string, now func() time.Time) (*Server, error) {
	orders, err := Read(path)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, baton.Errorf(baton.EUNAVAILABLE, "order API: listen on loopback: %w", err)
	}
	api := &API{Orders: orders, Now: now}
	s := &Server{
		URL: "http://" + ln.Addr().String(),
		srv: &http.Server{Handler: api.Handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second},
	}
	for id := range orders {
		s.IDs = append(s.IDs, id)
	}
	sort.Strings(s.IDs)
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Stop closes the order API, letting a call in flight finish briefly.
func (s *Server) Stop() {
	if s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
}
