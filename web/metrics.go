package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/batonhq/baton"
)

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg *prometheus.Registry) (*httpMetrics, error) {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_http_requests_total",
			Help: "HTTP requests by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "baton_http_request_duration_seconds",
			Help:    "HTTP request latency by method and route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, baton.Errorf(baton.EINTERNAL, "web: register HTTP metrics: %w", err)
		}
	}
	return m, nil
}

// middleware records every request under its route pattern (not its path,
// which would make one series per conversation id).
func (m *httpMetrics) middleware(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	status := c.Response().StatusCode()
	if err != nil {
		status = Status(err)
	}
	// The route is the pattern fiber registered, a string that outlives
	// the request; a request no route took (404, or 405 for a method the
	// path does not take) is "unmatched", never its path.
	route := c.Route().Path
	var fe *fiber.Error
	if errors.As(err, &fe) && (fe.Code == fiber.StatusNotFound || fe.Code == fiber.StatusMethodNotAllowed) {
		route = "unmatched"
	}
	method := methodLabel(c.Method())
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
	return err
}

// methodLabel returns the method as a label value that the registry may
// keep. c.Method() aliases fasthttp's request buffer, which the next request
// on the connection overwrites: a label kept from it would later read "GETT"
// or "POS" and collide with another series, and /metrics would fail. The
// label is one of fiber's own constant method names, never the request's
// bytes; any other method (fasthttp accepts any token) is "other", which
// also keeps a client from minting series with made-up methods.
func methodLabel(method string) string {
	for _, m := range [...]string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace} {
		if m == method {
			return m
		}
	}
	return "other"
}

func metricsHandler(reg *prometheus.Registry) fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
}
