package app

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/handoff"
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

// Buckets of the human side's histograms, in seconds: a first response is
// due in minutes to hours, a resolution in hours to days, a wait in the
// queue in seconds to hours.
var (
	responseBuckets   = []float64{30, 60, 120, 300, 600, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 24 * 3600}
	resolutionBuckets = []float64{300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 24 * 3600, 2 * 24 * 3600, 7 * 24 * 3600}
	queueBuckets      = []float64{10, 30, 60, 120, 300, 600, 900, 1800, 3600, 2 * 3600, 4 * 3600}
)

// humanMetrics are the human side's series that happen at a moment: the
// desk, the bot and the survey report them as they happen
// (handoff.Observer), so that each replica counts what it did and
// Prometheus adds the replicas up. What is a state rather than an event
// (queue depth, agent load) is read from the store at scrape time by
// deskCollector instead.
type humanMetrics struct {
	firstResponse *prometheus.HistogramVec
	resolution    *prometheus.HistogramVec
	inQueue       *prometheus.HistogramVec
	escalations   *prometheus.CounterVec
	csat          *prometheus.CounterVec
}

var _ handoff.Observer = (*humanMetrics)(nil)

// newHumanMetrics registers the series on reg, with the escalation
// triggers and each bot's ratings exported at 0 from the start, so that an
// alert on an increase works from the first event.
func newHumanMetrics(reg *prometheus.Registry, bots []string) (*humanMetrics, error) {
	m := &humanMetrics{
		firstResponse: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "baton_first_response_seconds",
			Help:    "Escalation to the first agent reply, by queue and priority.",
			Buckets: responseBuckets,
		}, []string{"queue", "priority"}),
		resolution: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "baton_resolution_seconds",
			Help:    "Escalation to resolution by a person, by queue.",
			Buckets: resolutionBuckets,
		}, []string{"queue"}),
		inQueue: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "baton_queue_wait_seconds",
			Help:    "One wait in a queue, ended by an assignment, by queue.",
			Buckets: queueBuckets,
		}, []string{"queue"}),
		escalations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_escalations_total",
			Help: "Conversations handed to a person, by trigger (one escalation counts for every trigger that fired; manual: a person moved it).",
		}, []string{"trigger"}),
		csat: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_csat_answers_total",
			Help: "Satisfaction ratings given, by bot and rating (1 to 5).",
		}, []string{"bot", "rating"}),
	}
	for _, c := range []prometheus.Collector{m.firstResponse, m.resolution, m.inQueue, m.escalations, m.csat} {
		if err := reg.Register(c); err != nil {
			return nil, baton.Errorf(baton.EINTERNAL, "register human-side metrics: %w", err)
		}
	}
	for _, t := range []string{baton.TriggerWantsHuman, baton.TriggerNegativeSentiment, baton.TriggerSentimentTrend, baton.TriggerRepeatedFailure,
		baton.TriggerNotHelped, baton.TriggerLoop, baton.TriggerTopic, baton.TriggerAttribute, baton.TriggerMaxTurns, baton.TriggerActionFailed, "manual"} {
		m.escalations.WithLabelValues(t)
	}
	for _, b := range bots {
		for r := baton.MinCSATRating; r <= baton.MaxCSATRating; r++ {
			m.csat.WithLabelValues(b, strconv.Itoa(r))
		}
	}
	return m, nil
}

// FirstResponse implements handoff.Observer.
func (m *humanMetrics) FirstResponse(queue string, priority int, d time.Duration) {
	m.firstResponse.WithLabelValues(queue, baton.PriorityName(priority)).Observe(d.Seconds())
}

// Resolved implements handoff.Observer.
func (m *humanMetrics) Resolved(queue string, d time.Duration) {
	m.resolution.WithLabelValues(queue).Observe(d.Seconds())
}

// Assigned implements handoff.Observer.
func (m *humanMetrics) Assigned(queue string, waited time.Duration) {
	m.inQueue.WithLabelValues(queue).Observe(waited.Seconds())
}

// Escalated implements handoff.Observer.
func (m *humanMetrics) Escalated(_ string, triggers []string) {
	if len(triggers) == 0 {
		triggers = []string{"manual"}
	}
	for _, t := range triggers {
		m.escalations.WithLabelValues(t).Inc()
	}
}

// CSATAnswered implements handoff.Observer.
func (m *humanMetrics) CSATAnswered(bot string, rating int) {
	m.csat.WithLabelValues(bot, strconv.Itoa(rating)).Inc()
}

// deskCollector reads the human side's state from the store at every
// scrape: how many conversations wait in each queue and what each agent
// carries against their capacity. Read at scrape time, the figures are
// the database's, the same from every replica, and nothing runs between
// scrapes; a failed read leaves its series out of that scrape and logs why.
type deskCollector struct {
	store   baton.Store
	queues  []string // configured queues: an empty queue is exported at 0
	timeout time.Duration
	log     *slog.Logger

	depth, open, capacity *prometheus.Desc
}

// deskReadTimeout bounds the store reads of one scrape.
const deskReadTimeout = 5 * time.Second

func newDeskCollector(st baton.Store, queues []string, log *slog.Logger) *deskCollector {
	return &deskCollector{store: st, queues: queues, timeout: deskReadTimeout, log: log,
		depth:    prometheus.NewDesc("baton_queue_depth", "Conversations waiting in a queue for an agent.", []string{"queue"}, nil),
		open:     prometheus.NewDesc("baton_agent_open_conversations", "Conversations an agent owns now (assigned or snoozed), over every channel kind.", []string{"agent"}, nil),
		capacity: prometheus.NewDesc("baton_agent_capacity", "How many conversations an agent may own at once, over every channel kind.", []string{"agent"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (d *deskCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- d.depth
	ch <- d.open
	ch <- d.capacity
}

// Collect implements prometheus.Collector.
func (d *deskCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), d.timeout)
	defer cancel()
	if queued, err := d.store.ListConversations(ctx, baton.ConversationFilter{States: []baton.State{baton.StateQueued}}); err != nil {
		d.log.LogAttrs(ctx, slog.LevelWarn, "metrics: could not read the queues", slog.String("error", baton.ErrorMessage(err)))
	} else {
		depth := map[string]int{}
		for _, q := range d.queues {
			depth[q] = 0
		}
		for _, c := range queued {
			depth[c.QueueID]++
		}
		for q, n := range depth {
			ch <- prometheus.MustNewConstMetric(d.depth, prometheus.GaugeValue, float64(n), q)
		}
	}
	loads, err := d.store.AgentLoads(ctx, "")
	if err != nil {
		d.log.LogAttrs(ctx, slog.LevelWarn, "metrics: could not read the agents' loads", slog.String("error", baton.ErrorMessage(err)))
		return
	}
	for _, l := range loads {
		open, capacity := 0, 0
		for _, n := range l.Open {
			open += n
		}
		for _, n := range l.Capacity {
			capacity += n
		}
		ch <- prometheus.MustNewConstMetric(d.open, prometheus.GaugeValue, float64(open), l.ID)
		ch <- prometheus.MustNewConstMetric(d.capacity, prometheus.GaugeValue, float64(capacity), l.ID)
	}
}

// newDeskMetrics registers the human side's series on reg: the events,
// returned for the desk, the bot and the survey to report to, and the
// state, read from st at every scrape.
func newDeskMetrics(reg *prometheus.Registry, cfg *config.Config, st baton.Store, log *slog.Logger) (*humanMetrics, error) {
	bots := make([]string, 0, len(cfg.Bots))
	for _, b := range cfg.Bots {
		bots = append(bots, b.ID)
	}
	queues := make([]string, 0, len(cfg.Queues))
	for _, q := range cfg.Queues {
		queues = append(queues, q.ID)
	}
	m, err := newHumanMetrics(reg, bots)
	if err != nil {
		return nil, err
	}
	if err := reg.Register(newDeskCollector(st, queues, log)); err != nil {
		return nil, baton.Errorf(baton.EINTERNAL, "register the queue and agent gauges: %w", err)
	}
	return m, nil
}
