package tasks

import (
	"context"
	"database/sql"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// metrics count the jobs this process inserts and works. The queue's
// depth is read from the database on each scrape, so every process
// reports the same, whole queue.
type metrics struct {
	insertedTotal  *prometheus.CounterVec
	completedTotal *prometheus.CounterVec
	failedTotal    *prometheus.CounterVec
	discardedTotal *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, db *sql.DB) (*metrics, error) {
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"kind"})
	}
	m := &metrics{
		insertedTotal:  counter("jobs_inserted_total", "Jobs inserted by this process, by kind."),
		completedTotal: counter("jobs_completed_total", "Jobs this process worked to completion, by kind."),
		failedTotal:    counter("jobs_failed_total", "Job attempts that failed in this process and will be retried, by kind."),
		discardedTotal: counter("jobs_discarded_total", "Jobs that failed their last attempt in this process, by kind."),
	}
	for _, c := range []prometheus.Collector{m.insertedTotal, m.completedTotal, m.failedTotal, m.discardedTotal,
		queueDepth{db: db}} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// inserted counts an inserted job; a nil *metrics counts nothing.
func (m *metrics) inserted(kind string) {
	if m != nil {
		m.insertedTotal.WithLabelValues(kind).Inc()
	}
}

// count counts the outcomes of worked jobs until events closes.
func (m *metrics) count(events <-chan *river.Event) {
	for ev := range events {
		kind := ev.Job.Kind
		switch {
		case ev.Kind == river.EventKindJobCompleted:
			m.completedTotal.WithLabelValues(kind).Inc()
		case ev.Job.State == rivertype.JobStateDiscarded:
			m.discardedTotal.WithLabelValues(kind).Inc()
		default:
			m.failedTotal.WithLabelValues(kind).Inc()
		}
	}
}

// queueDepth reports how many jobs wait, by state, from River's table.
type queueDepth struct {
	db *sql.DB
}

var queueDepthDesc = prometheus.NewDesc("jobs_queued",
	"Jobs waiting to run, by state (available: due now; scheduled, retryable: later; running).", []string{"state"}, nil)

func (q queueDepth) Describe(ch chan<- *prometheus.Desc) { ch <- queueDepthDesc }

// Collect counts the waiting jobs. A scrape must not hang on a busy
// database, so the count has a short deadline; a failed count reports
// nothing rather than a wrong zero.
func (q queueDepth) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts := map[string]float64{"available": 0, "scheduled": 0, "retryable": 0, "running": 0}
	rows, err := q.db.QueryContext(ctx, `SELECT state, count(*) FROM river_job
		WHERE state IN ('available', 'scheduled', 'retryable', 'running') GROUP BY state`)
	if err != nil {
		return
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var n float64
		if rows.Scan(&state, &n) != nil {
			return
		}
		counts[state] = n
	}
	if rows.Err() != nil {
		return
	}
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, n, state)
	}
}
