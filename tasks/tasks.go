// Package tasks is the job queue, the counterpart of the course's tasks.py
// and its rq queue on Redis. Jobs are rows in the database we already
// have, kept by River (riverqueue.com): a job is inserted in the same
// transaction as the row that causes it, so it exists exactly when that
// row does, and workers in this or another process pick it up, retry it
// with backoff when it fails, and leave it discarded, visible in the
// admin panel, when it keeps failing.
package tasks

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"stores-api/mail"
	"stores-api/models"
)

// Config is what the queue needs.
type Config struct {
	// Dialect and DB are the database the jobs live in: the service's own.
	Dialect string
	DB      *sql.DB
	Data    *models.Models
	Mail    mail.Sender
	// PublicURL is where the links in emails point: PUBLIC_URL.
	PublicURL string
	// Workers is how many jobs this process works at once; 0 makes it
	// insert jobs only, leaving them to workers elsewhere (WORKERS=0).
	Workers int
	Log     *slog.Logger
	// Metrics, when not nil, gets the queue's metrics.
	Metrics prometheus.Registerer
	// RetryPolicy says when a failed job runs again; nil is River's
	// default, attempt⁴ seconds with jitter. Tests shorten it.
	RetryPolicy river.ClientRetryPolicy
	// PollInterval is how often workers look for new jobs (nil: a second).
	PollInterval time.Duration
}

// Queue inserts jobs and, when it has workers, works them.
type Queue struct {
	client  *river.Client[*sql.Tx]
	db      *sql.DB
	workers int
	metrics *metrics
	log     *slog.Logger
}

// softStopTimeout is how long Stop lets running jobs finish before it
// cancels them; a cancelled job goes back to the queue to run again.
const softStopTimeout = 8 * time.Second

// New returns the queue on cfg.DB. It works nothing until Start.
func New(cfg Config) (*Queue, error) {
	driver, err := newDriver(cfg.Dialect, cfg.DB)
	if err != nil {
		return nil, err
	}
	workers := river.NewWorkers()
	registerWorkers(workers, &emailer{data: cfg.Data, mail: cfg.Mail, publicURL: cfg.PublicURL})
	riverCfg := &river.Config{
		Logger:            cfg.Log.With("component", "jobs"),
		Workers:           workers,
		RetryPolicy:       cfg.RetryPolicy,
		FetchPollInterval: cfg.PollInterval,
		SoftStopTimeout:   softStopTimeout,
		// Completed jobs stay a week for the admin panel's list; discarded
		// ones (River's default) as long.
		CompletedJobRetentionPeriod: 7 * 24 * time.Hour,
	}
	if cfg.PollInterval > 0 {
		riverCfg.FetchCooldown = min(cfg.PollInterval, river.FetchCooldownDefault)
	}
	if cfg.Workers > 0 {
		riverCfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}}
	}
	client, err := river.NewClient(driver, riverCfg)
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	q := &Queue{client: client, db: cfg.DB, workers: cfg.Workers, log: cfg.Log}
	if cfg.Metrics != nil {
		if q.metrics, err = newMetrics(cfg.Metrics, cfg.DB); err != nil {
			return nil, err
		}
	}
	return q, nil
}

// newDriver is River's driver for the dialect, on the service's own pool.
// Both take database/sql, so a job joins the *sql.Tx under a GORM
// transaction. On PostgreSQL, River's database/sql driver has no LISTEN, so
// workers poll for new jobs (every PollInterval).
func newDriver(dialect string, db *sql.DB) (riverdriver.Driver[*sql.Tx], error) {
	switch dialect {
	case models.Postgres:
		return riverdatabasesql.New(db), nil
	case models.SQLite:
		return riversqlite.New(db), nil
	}
	return nil, fmt.Errorf("no job queue for dialect %q", dialect)
}

// Start starts working jobs, when the queue has workers, until Stop.
func (q *Queue) Start(ctx context.Context) error {
	if q.workers == 0 {
		return nil
	}
	if q.metrics != nil {
		events, cancel := q.client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
		go func() {
			<-q.client.Stopped()
			cancel()
		}()
		go q.metrics.count(events)
	}
	// The jobs' own context is not the caller's: a signal stops the
	// service through Stop, which lets running jobs finish.
	if err := q.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("starting the job workers: %w", err)
	}
	q.log.Info("job workers started", "workers", q.workers)
	return nil
}

// Stop stops fetching jobs and waits for the running ones to finish, for
// softStopTimeout at most, then cancels them: a cancelled job returns to
// the queue and runs again later, so none is lost. ctx bounds the wait.
func (q *Queue) Stop(ctx context.Context) error {
	if q.workers == 0 {
		return nil
	}
	return q.client.Stop(ctx)
}

// Enqueue inserts a job in tx, the transaction of the row that causes it.
func (q *Queue) Enqueue(ctx context.Context, tx *sql.Tx, job river.JobArgs) error {
	if _, err := q.client.InsertTx(ctx, tx, job, nil); err != nil {
		return fmt.Errorf("enqueueing %s: %w", job.Kind(), err)
	}
	q.metrics.inserted(job.Kind())
	return nil
}

// EnqueueNow inserts a job on its own, for jobs no row causes.
func (q *Queue) EnqueueNow(ctx context.Context, job river.JobArgs) error {
	if _, err := q.client.Insert(ctx, job, nil); err != nil {
		return fmt.Errorf("enqueueing %s: %w", job.Kind(), err)
	}
	q.metrics.inserted(job.Kind())
	return nil
}

// Job is a job as the admin panel lists it.
type Job struct {
	ID          int64
	Kind        string
	State       string
	Attempt     int
	MaxAttempts int
	CreatedAt   time.Time
	// At is when the job finished, or when it runs next.
	At time.Time
	// LastError is the error of the last failed attempt, if any.
	LastError string
	// Retryable: an admin can run it again (it was discarded or cancelled).
	Retryable bool
}

// Recent lists the newest jobs, n at most, in the given states (all when
// none is given).
func (q *Queue) Recent(ctx context.Context, n int, states ...rivertype.JobState) ([]Job, error) {
	params := river.NewJobListParams().First(n).OrderBy(river.JobListOrderByID, river.SortOrderDesc)
	if len(states) > 0 {
		params = params.States(states...)
	}
	res, err := q.client.JobList(ctx, params)
	if err != nil {
		return nil, err
	}
	jobs := make([]Job, 0, len(res.Jobs))
	for _, row := range res.Jobs {
		jobs = append(jobs, newJob(row))
	}
	return jobs, nil
}

func newJob(row *rivertype.JobRow) Job {
	job := Job{ID: row.ID, Kind: row.Kind, State: string(row.State), Attempt: row.Attempt,
		MaxAttempts: row.MaxAttempts, CreatedAt: row.CreatedAt, At: row.ScheduledAt,
		Retryable: row.State == rivertype.JobStateDiscarded || row.State == rivertype.JobStateCancelled}
	if row.FinalizedAt != nil {
		job.At = *row.FinalizedAt
	}
	if n := len(row.Errors); n > 0 {
		job.LastError = row.Errors[n-1].Error
	}
	return job
}

// ErrJobNotFound: no job has that id.
var ErrJobNotFound = errors.New("job not found")

// Retry makes a finished job available to run again now.
func (q *Queue) Retry(ctx context.Context, id int64) error {
	_, err := q.client.JobRetry(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return ErrJobNotFound
	}
	return err
}
