package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"stores-api/models"
	"stores-api/tasks"
)

// enqueue inserts a job as the service does and returns its id. The
// queue has no workers, so the job stays available.
func (e *testEnv) enqueue(job river.JobArgs) int64 {
	e.t.Helper()
	if err := e.Jobs.EnqueueNow(context.Background(), job); err != nil {
		e.t.Fatal(err)
	}
	newest, err := e.Jobs.Recent(context.Background(), 1)
	if err != nil || len(newest) != 1 {
		e.t.Fatalf("the job just enqueued is not listed: %v %v", newest, err)
	}
	return newest[0].ID
}

// markJob leaves a job as River leaves one whose first attempt failed
// with lastError: discarded and cancelled jobs are finalized, a retryable
// one waits for its next attempt. River keeps the errors as jsonb[] on
// PostgreSQL and as a JSON array on SQLite; the rest of the statement is
// the same on both.
func (e *testEnv) markJob(id int64, state rivertype.JobState, lastError string) {
	e.t.Helper()
	errs, err := json.Marshal([]rivertype.AttemptError{{At: time.Now().UTC(), Attempt: 1, Error: lastError}})
	if err != nil {
		e.t.Fatal(err)
	}
	errors := "jsonb(?)"
	if e.DB.Dialect == models.Postgres {
		errors = "ARRAY(SELECT jsonb_array_elements(CAST(? AS jsonb)))"
	}
	finalized := "CURRENT_TIMESTAMP"
	if state == rivertype.JobStateRetryable {
		finalized = "NULL"
	}
	q := "UPDATE river_job SET state = ?, attempt = 1, attempted_at = CURRENT_TIMESTAMP, finalized_at = " + finalized +
		", errors = " + errors + " WHERE id = ?"
	if err := e.DB.Gorm.Exec(q, string(state), string(errs), id).Error; err != nil {
		e.t.Fatal(err)
	}
}

// jobs lists every job, newest first, as the queue reads them.
func (e *testEnv) jobs() []tasks.Job {
	e.t.Helper()
	jobs, err := e.Jobs.Recent(context.Background(), 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return jobs
}

// job reads one job back from the queue.
func (e *testEnv) job(id int64) tasks.Job {
	e.t.Helper()
	for _, j := range e.jobs() {
		if j.ID == id {
			return j
		}
	}
	e.t.Fatalf("no job %d", id)
	return tasks.Job{}
}

// jobsOfKind counts the jobs of one kind.
func (e *testEnv) jobsOfKind(kind string) int {
	e.t.Helper()
	n := 0
	for _, j := range e.jobs() {
		if j.Kind == kind {
			n++
		}
	}
	return n
}

// verifyEmail verifies a user's email as its link does.
func (e *testEnv) verifyEmail(userID int64) {
	e.t.Helper()
	token, err := e.Data.AccountTokens.Issue(context.Background(), userID, models.PurposeVerifyEmail, time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.Data.Users.VerifyEmail(context.Background(), token, time.Now()); err != nil {
		e.t.Fatal(err)
	}
}

// row is the table row of a page with this id ("" when there is none).
func row(body []byte, id string) string {
	s := string(body)
	start := strings.Index(s, `<tr id="`+id+`"`)
	if start < 0 {
		return ""
	}
	end := strings.Index(s[start:], "</tr>")
	if end < 0 {
		return s[start:]
	}
	return s[start : start+end]
}

func retryPath(id int64) string { return fmt.Sprintf("/admin/jobs/%d/retry", id) }

// TestAdminJobsPage: the failed jobs, with their errors as text, and the
// newest jobs of every state; discarded and cancelled jobs can be retried,
// which makes them available again.
func TestAdminJobsPage(t *testing.T) {
	e := newEnv(t)
	a := e.adminSession()
	userID := e.register(userEmail)
	discarded := e.enqueue(tasks.VerificationEmail{UserID: userID})
	e.markJob(discarded, rivertype.JobStateDiscarded, `smtp: 550 <mailbox@example.com> "unavailable"`)
	retryable := e.enqueue(tasks.PasswordResetEmail{UserID: userID})
	e.markJob(retryable, rivertype.JobStateRetryable, "dial tcp 10.0.0.1:25: connection refused")
	cancelled := e.enqueue(tasks.WelcomeEmail{UserID: userID})
	e.markJob(cancelled, rivertype.JobStateCancelled, "job cancelled remotely")
	available := e.enqueue(tasks.WelcomeEmail{UserID: userID})

	r := a.get("/admin/jobs")
	expectHTML(t, r, http.StatusOK, "Failed jobs", "Recent jobs", `href="/admin/jobs" aria-current="page"`,
		// html/template escapes what a job reported.
		"smtp: 550 &lt;mailbox@example.com&gt; &#34;unavailable&#34;")
	if strings.Contains(string(r.Body), "<mailbox@example.com>") {
		t.Fatal("a job's error is on the page unescaped")
	}
	for _, tc := range []struct {
		id         int64
		failed     bool
		retry      bool
		shows      []string
		recentOnly bool
	}{
		{id: discarded, failed: true, retry: true, shows: []string{"verification_email", "discarded", "1/10", "finished "}},
		{id: retryable, failed: true, shows: []string{"password_reset_email", "retryable", "retries ", "connection refused"}},
		{id: cancelled, failed: true, retry: true, shows: []string{"welcome_email", "cancelled", "job cancelled remotely"}},
		{id: available, shows: []string{"welcome_email", "available", "0/10", "runs "}},
	} {
		failedRow := row(r.Body, fmt.Sprint("failed-job-", tc.id))
		recentRow := row(r.Body, fmt.Sprint("recent-job-", tc.id))
		if (failedRow != "") != tc.failed || recentRow == "" {
			t.Fatalf("job %d: in failed jobs %v, want %v; in recent jobs %v", tc.id, failedRow != "", tc.failed, recentRow != "")
		}
		for _, text := range tc.shows {
			if !strings.Contains(recentRow, text) {
				t.Errorf("job %d's row does not show %q: %s", tc.id, text, recentRow)
			}
		}
		if got := strings.Contains(recentRow, `action="`+retryPath(tc.id)+`"`); got != tc.retry {
			t.Errorf("job %d has a Retry button: %v, want %v", tc.id, got, tc.retry)
		}
		if tc.retry && !strings.Contains(failedRow, `name="_csrf" value="`+a.csrf()+`"`) {
			t.Errorf("job %d's Retry form has no CSRF token: %s", tc.id, failedRow)
		}
	}

	// Retry: the job is available again, and off the failed list.
	expectRedirect(t, a.post(retryPath(discarded), nil), "/admin/jobs")
	if j := e.job(discarded); j.State != string(rivertype.JobStateAvailable) || j.Retryable {
		t.Fatalf("after Retry the job is %+v, want available", j)
	}
	r = a.get("/admin/jobs")
	expectHTML(t, r, http.StatusOK, fmt.Sprintf("Job %d will run again.", discarded))
	if row(r.Body, fmt.Sprint("failed-job-", discarded)) != "" {
		t.Fatal("a retried job is still listed as failed")
	}
	expectRedirect(t, a.post(retryPath(cancelled), nil), "/admin/jobs")
	if j := e.job(cancelled); j.State != string(rivertype.JobStateAvailable) {
		t.Fatalf("after Retry the cancelled job is %s, want available", j.State)
	}

	// A job that is not there is the panel's 404.
	for _, path := range []string{retryPath(999999), "/admin/jobs/abc/retry", "/admin/jobs/0/retry",
		"/admin/jobs/99999999999999999999/retry"} {
		expectHTML(t, a.post(path, nil), http.StatusNotFound, "Not Found")
	}
	expectHTML(t, a.post(retryPath(999999), nil), http.StatusNotFound, "Job not found.")
}

// TestAdminJobsPageEmpty: no jobs yet is said in words.
func TestAdminJobsPageEmpty(t *testing.T) {
	e := newEnv(t)
	a := e.adminSession()
	expectHTML(t, a.get("/admin/jobs"), http.StatusOK, "No failed jobs.", "No jobs yet.")
	expectHTML(t, a.get("/admin"), http.StatusOK, `href="/admin/jobs"`)
}

func TestAdminRetryNeedsTheCSRFToken(t *testing.T) {
	e := newEnv(t)
	a := e.adminSession()
	id := e.enqueue(tasks.VerificationEmail{UserID: e.register(userEmail)})
	e.markJob(id, rivertype.JobStateDiscarded, "failed")
	for name, token := range map[string][]string{
		"no token":                nil,
		"a forged token":          {"forged"},
		"another visitor's token": {e.adminClient().csrf()},
	} {
		t.Run(name, func(t *testing.T) {
			expectHTML(t, a.post(retryPath(id), url.Values{"_csrf": token}), http.StatusForbidden, "This form has expired")
			if j := e.job(id); j.State != string(rivertype.JobStateDiscarded) {
				t.Fatalf("a refused Retry left the job %s", j.State)
			}
		})
	}
}

// TestAdminJobsAreForAdminsOnly: the page and its Retry are behind the
// session check like every other page.
func TestAdminJobsAreForAdminsOnly(t *testing.T) {
	e := newEnv(t)
	id := e.enqueue(tasks.VerificationEmail{UserID: e.register(userEmail)})
	e.markJob(id, rivertype.JobStateDiscarded, "secret detail")

	visitor := e.adminClient()
	expectRedirect(t, visitor.get("/admin/jobs"), "/admin/login?next=%2Fadmin%2Fjobs")
	expectRedirect(t, visitor.post(retryPath(id), nil), "/admin/login?next=%2Fadmin")

	a := e.adminSession()
	if err := e.Data.Users.SetAdmin(context.Background(), e.userID(adminEmail), false); err != nil {
		t.Fatal(err)
	}
	r := a.get("/admin/jobs")
	expectHTML(t, r, http.StatusForbidden, "Admin access required")
	if strings.Contains(string(r.Body), "secret detail") || strings.Contains(string(r.Body), `href="/admin/jobs"`) {
		t.Fatalf("a user who is not an admin sees the jobs: %s", r.Body)
	}
	expectHTML(t, a.post(retryPath(id), nil), http.StatusForbidden, "Admin access required")
	if j := e.job(id); j.State != string(rivertype.JobStateDiscarded) {
		t.Fatalf("a user who is not an admin retried a job: %s", j.State)
	}
}

// TestAdminUsersShowsVerificationAndResends: the user list says whose
// email is verified, and the unverified get a button that queues a new
// verification email.
func TestAdminUsersShowsVerificationAndResends(t *testing.T) {
	e := newEnv(t)
	a := e.adminSession()
	unverified := e.register(userEmail)
	verified := e.register("verified@example.com")
	e.verifyEmail(verified)
	resend := func(id int64) string { return fmt.Sprintf("/admin/users/%d/verification", id) }

	r := a.get("/admin/users")
	expectHTML(t, r, http.StatusOK, "Email verified")
	if got := row(r.Body, fmt.Sprint("user-", unverified)); !strings.Contains(got, "Not verified") ||
		!strings.Contains(got, `action="`+resend(unverified)+`"`) || !strings.Contains(got, "Resend verification email") {
		t.Fatalf("an unverified user's row: %s", got)
	}
	if got := row(r.Body, fmt.Sprint("user-", verified)); !strings.Contains(got, "Verified") ||
		strings.Contains(got, "Not verified") || strings.Contains(got, "Resend verification email") {
		t.Fatalf("a verified user's row: %s", got)
	}

	// Refused without the token; nothing is queued.
	expectHTML(t, a.post(resend(unverified), url.Values{"_csrf": nil}), http.StatusForbidden, "This form has expired")
	if n := e.jobsOfKind("verification_email"); n != 0 {
		t.Fatalf("%d verification emails queued by a form without its token", n)
	}

	expectRedirect(t, a.post(resend(unverified), nil), "/admin/users")
	expectHTML(t, a.get("/admin/users"), http.StatusOK, "A new verification email to "+userEmail+" is queued.")
	jobs := e.jobs()
	if len(jobs) != 1 || jobs[0].Kind != "verification_email" || jobs[0].State != string(rivertype.JobStateAvailable) {
		t.Fatalf("jobs after resending: %+v, want one available verification_email", jobs)
	}
	// The Jobs page lists it.
	expectHTML(t, a.get("/admin/jobs"), http.StatusOK, fmt.Sprintf(`id="recent-job-%d"`, jobs[0].ID), "verification_email")

	// A verified user gets no new link; a missing one is the 404 page.
	expectHTML(t, a.post(resend(verified), nil), http.StatusConflict, "This user&#39;s email is verified already.")
	expectHTML(t, a.post(resend(999999), nil), http.StatusNotFound, "User not found.")
	if n := e.jobsOfKind("verification_email"); n != 1 {
		t.Fatalf("%d verification emails queued, want 1", n)
	}
}
