package tasks_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river/rivertype"

	"stores-api/internal/smtptest"
	"stores-api/internal/testdb"
	"stores-api/mail"
	"stores-api/models"
	"stores-api/tasks"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testdb.DropTemplate()
	os.Exit(code)
}

// fastRetries retries a failed job after a twentieth of a second.
type fastRetries struct{}

func (fastRetries) NextRetry(*rivertype.JobRow) time.Time {
	return time.Now().Add(50 * time.Millisecond)
}

// newQueue is a queue on db sending through sender, with workers when
// workers > 0 (stopped when the test ends), and its metrics' registry.
func newQueue(t *testing.T, db *testdb.DB, data *models.Models, sender mail.Sender, workers int) (*tasks.Queue, *prometheus.Registry) {
	t.Helper()
	sqlDB, err := db.Gorm.DB()
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	q, err := tasks.New(tasks.Config{Dialect: db.Dialect, DB: sqlDB, Data: data, Mail: sender,
		PublicURL: "http://localhost:5000", Workers: workers, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		RetryPolicy: fastRetries{}, PollInterval: 50 * time.Millisecond, Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := q.Stop(ctx); err != nil {
			t.Errorf("stopping the queue: %v", err)
		}
	})
	return q, reg
}

// registerWithWelcome registers a@example.com and enqueues its welcome
// email in the same transaction, as POST /register does.
func registerWithWelcome(t *testing.T, data *models.Models, q *tasks.Queue) models.User {
	t.Helper()
	user, err := data.Users.Create(context.Background(), "a@example.com", "correct horse", false,
		func(ctx context.Context, tx *sql.Tx, u models.User) error {
			return q.Enqueue(ctx, tx, tasks.WelcomeEmail{UserID: u.ID})
		})
	if err != nil {
		t.Fatal(err)
	}
	return user
}

func count(t *testing.T, db *testdb.DB, table, condition string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.Gorm.Table(table).Where(condition, args...).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A job is inserted in the transaction of the user that causes it: when
// that transaction rolls back, the job goes with it.
func TestAJobExistsExactlyWhenItsUserDoes(t *testing.T) {
	db := testdb.Open(t)
	data := models.New(db.Gorm, 4)
	q, _ := newQueue(t, db, data, mail.NewLog(slog.New(slog.NewTextHandler(io.Discard, nil))), 0)
	ctx := context.Background()
	enqueue := func(ctx context.Context, tx *sql.Tx, u models.User) error {
		return q.Enqueue(ctx, tx, tasks.WelcomeEmail{UserID: u.ID})
	}

	// Something after the insert fails: the user and its job roll back.
	failure := errors.New("something after the insert failed")
	_, err := data.Users.Create(ctx, "a@example.com", "correct horse", false,
		func(ctx context.Context, tx *sql.Tx, u models.User) error {
			if err := enqueue(ctx, tx, u); err != nil {
				return err
			}
			return failure
		})
	if !errors.Is(err, failure) {
		t.Fatalf("Create = %v, want the hook's error", err)
	}
	if users, jobs := count(t, db, "users", "1 = 1"), count(t, db, "river_job", "1 = 1"); users != 0 || jobs != 0 {
		t.Fatalf("after a rollback: %d users, %d jobs", users, jobs)
	}

	// A committed user has its job; a duplicate email rolls back and adds none.
	if _, err := data.Users.Create(ctx, "a@example.com", "correct horse", false, enqueue); err != nil {
		t.Fatal(err)
	}
	if _, err := data.Users.Create(ctx, "a@example.com", "correct horse", false, enqueue); !errors.Is(err, models.ErrEmailTaken) {
		t.Fatalf("a duplicate = %v", err)
	}
	if jobs := count(t, db, "river_job", "kind = ?", "welcome_email"); jobs != 1 {
		t.Fatalf("%d welcome jobs, want 1", jobs)
	}
}

// An email that never gets through ends discarded after its last attempt,
// with its errors recorded and its tokens withdrawn.
func TestAnEmailThatKeepsFailingIsDiscarded(t *testing.T) {
	db := testdb.Open(t)
	data := models.New(db.Gorm, 4)
	smtp := smtptest.Start(t)
	smtp.Stop() // down for good
	sender, err := mail.NewSMTP(smtp.URL(), "Stores API <no-reply@example.com>")
	if err != nil {
		t.Fatal(err)
	}
	q, reg := newQueue(t, db, data, sender, 2)
	user := registerWithWelcome(t, data, q)
	waitFor(t, "the job to be discarded", func() bool {
		return count(t, db, "river_job", "state = ?", "discarded") == 1
	})
	jobs, err := q.Recent(context.Background(), 10, rivertype.JobStateDiscarded)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || jobs[0].Attempt != 10 || jobs[0].LastError == "" || !jobs[0].Retryable {
		t.Fatalf("discarded jobs = %+v, want one after 10 attempts with its error", jobs)
	}
	if n := count(t, db, "account_tokens", "user_id = ?", user.ID); n != 0 {
		t.Fatalf("%d tokens of unsent emails left", n)
	}
	// Nine failed attempts, then the tenth discards the job.
	waitFor(t, "the discard to be counted", func() bool {
		return value(t, reg, "jobs_discarded_total", "kind", "welcome_email") == 1
	})
	if failed := value(t, reg, "jobs_failed_total", "kind", "welcome_email"); failed != 9 {
		t.Fatalf("jobs_failed_total = %v, want 9", failed)
	}

	// Retried by an admin once the server is back, it is delivered.
	smtp.Restart(t)
	if err := q.Retry(context.Background(), jobs[0].ID); err != nil {
		t.Fatal(err)
	}
	if msg := smtp.Next(t, 30*time.Second); msg.To[0] != "a@example.com" {
		t.Fatalf("delivered to %v", msg.To)
	}
	if err := q.Retry(context.Background(), 1<<40); !errors.Is(err, tasks.ErrJobNotFound) {
		t.Fatalf("Retry of no job = %v", err)
	}
}

// blockingSender holds each email until released, so a test can stop the
// queue while a job is in progress.
type blockingSender struct {
	started chan struct{}
	release chan struct{}
	sent    chan mail.Message
}

func (b *blockingSender) Send(ctx context.Context, m mail.Message) error {
	b.started <- struct{}{}
	select {
	case <-b.release:
		b.sent <- m
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stopping lets a job in progress finish: nothing is lost or sent twice.
func TestStopLetsAJobInProgressFinish(t *testing.T) {
	db := testdb.Open(t)
	data := models.New(db.Gorm, 4)
	sender := &blockingSender{started: make(chan struct{}, 1), release: make(chan struct{}), sent: make(chan mail.Message, 2)}
	sqlDB, err := db.Gorm.DB()
	if err != nil {
		t.Fatal(err)
	}
	q, err := tasks.New(tasks.Config{Dialect: db.Dialect, DB: sqlDB, Data: data, Mail: sender,
		PublicURL: "http://localhost:5000", Workers: 1, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	registerWithWelcome(t, data, q)
	<-sender.started
	stopped := make(chan error, 1)
	go func() { stopped <- q.Stop(context.Background()) }()
	time.Sleep(100 * time.Millisecond) // Stop is waiting for the job …
	close(sender.release)              // … which now finishes.
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if len(sender.sent) != 1 {
		t.Fatalf("%d emails sent, want 1", len(sender.sent))
	}
	if n := count(t, db, "river_job", "state = ?", "completed"); n != 1 {
		t.Fatalf("%d completed jobs, want 1", n)
	}
}

// The queue's metrics count what this process inserted and worked, and
// read the queue's depth from the database.
func TestQueueMetrics(t *testing.T) {
	db := testdb.Open(t)
	data := models.New(db.Gorm, 4)
	sqlDB, err := db.Gorm.DB()
	if err != nil {
		t.Fatal(err)
	}
	smtp := smtptest.Start(t)
	sender, err := mail.NewSMTP(smtp.URL(), "Stores API <no-reply@example.com>")
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	q, err := tasks.New(tasks.Config{Dialect: db.Dialect, DB: sqlDB, Data: data, Mail: sender,
		PublicURL: "http://localhost:5000", Workers: 1, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Metrics: reg, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	registerWithWelcome(t, data, q)
	// Not started yet: the job waits.
	if got := value(t, reg, "jobs_queued", "state", "available"); got != 1 {
		t.Fatalf("jobs_queued{state=available} = %v, want 1", got)
	}
	if got := value(t, reg, "jobs_inserted_total", "kind", "welcome_email"); got != 1 {
		t.Fatalf("jobs_inserted_total = %v, want 1", got)
	}

	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := q.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	smtp.Next(t, 30*time.Second)
	waitFor(t, "the completion to be counted", func() bool {
		return value(t, reg, "jobs_completed_total", "kind", "welcome_email") == 1
	})
	if got := value(t, reg, "jobs_queued", "state", "available"); got != 0 {
		t.Fatalf("jobs_queued{state=available} = %v after the job ran, want 0", got)
	}
}

// value reads the counter or gauge name whose label has value; -1 when
// there is none.
func value(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					if m.GetCounter() != nil {
						return m.GetCounter().GetValue()
					}
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return -1
}
