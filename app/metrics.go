package app

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/batonhq/baton"
)

// jobMetrics counts finished job attempts by kind and outcome, and the
// deliveries that may have reached the customer twice.
type jobMetrics struct {
	total    *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inDoubt  *prometheus.CounterVec
}

func newJobMetrics(reg *prometheus.Registry) (*jobMetrics, error) {
	m := &jobMetrics{
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_jobs_total",
			Help: "Finished job attempts by kind and outcome (done, retry, dead, lost).",
		}, []string{"kind", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "baton_job_duration_seconds",
			Help:    "Job attempt duration by kind.",
			Buckets: prometheus.DefBuckets,
		}, []string{"kind"}),
		inDoubt: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_deliveries_in_doubt_total",
			Help: "Sends repeated after an attempt stopped between the provider's call and recording its answer: the customer may have the message twice.",
		}, []string{"channel"}),
	}
	for _, c := range []prometheus.Collector{m.total, m.duration, m.inDoubt} {
		if err := reg.Register(c); err != nil {
			return nil, baton.Errorf(baton.EINTERNAL, "register job metrics: %w", err)
		}
	}
	return m, nil
}

func (m *jobMetrics) observe(kind, outcome string, took time.Duration) {
	m.total.WithLabelValues(kind, outcome).Inc()
	m.duration.WithLabelValues(kind).Observe(took.Seconds())
}

func (m *jobMetrics) deliveryInDoubt(ch baton.ChannelKind) {
	m.inDoubt.WithLabelValues(string(ch)).Inc()
}

// webhookMetrics counts what provider webhooks carried that no bot owns.
type webhookMetrics struct {
	foreignTotal *prometheus.CounterVec
}

func newWebhookMetrics(reg *prometheus.Registry) (*webhookMetrics, error) {
	m := &webhookMetrics{foreignTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "baton_webhook_foreign_recipients_total",
		Help: "Webhook events (messages, statuses, receipts) addressed to a number, Page or account no bot is configured with: acknowledged, not stored.",
	}, []string{"provider"})}
	if err := reg.Register(m.foreignTotal); err != nil {
		return nil, baton.Errorf(baton.EINTERNAL, "register webhook metrics: %w", err)
	}
	// Every provider is exported from the start, at 0, so that an alert
	// on an increase works from the first event.
	for _, p := range []string{"whatsapp", "messenger", "twilio"} {
		m.foreignTotal.WithLabelValues(p)
	}
	return m, nil
}

func (m *webhookMetrics) foreign(provider string, n int) {
	m.foreignTotal.WithLabelValues(provider).Add(float64(n))
}
