package admin

import (
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/riverqueue/river/rivertype"

	"stores-api/tasks"
)

// jobsShown is how many jobs each table of the Jobs page lists, newest
// first.
const jobsShown = 50

// failedStates are the jobs an admin may need to look at: retried later
// (retryable), given up on (discarded) or stopped (cancelled).
var failedStates = []rivertype.JobState{
	rivertype.JobStateDiscarded, rivertype.JobStateRetryable, rivertype.JobStateCancelled,
}

// jobRow is a job in a table of the Jobs page.
type jobRow struct {
	tasks.Job
	When string // what At means for the job's state, and At
}

// jobTable is one table of the Jobs page. Page is the page it is on, for
// the CSRF token of its Retry forms.
type jobTable struct {
	ID   string // the table's id, which prefixes its rows' ids
	Jobs []jobRow
	Page *page
}

// jobsView is the Jobs page: the jobs that failed, and the newest of all.
type jobsView struct {
	page
	Failed jobTable
	Recent jobTable
}

// listJobs handles GET /admin/jobs.
func (a *panel) listJobs(c *fiber.Ctx) error {
	failed, err := a.jobs.Recent(c.UserContext(), jobsShown, failedStates...)
	if err != nil {
		return err
	}
	recent, err := a.jobs.Recent(c.UserContext(), jobsShown)
	if err != nil {
		return err
	}
	v := &jobsView{page: page{Title: "Jobs", Nav: "jobs"}}
	v.Failed = newJobTable("failed", failed, &v.page)
	v.Recent = newJobTable("recent", recent, &v.page)
	return a.render(c, fiber.StatusOK, "jobs", v)
}

func newJobTable(id string, jobs []tasks.Job, p *page) jobTable {
	t := jobTable{ID: id, Jobs: make([]jobRow, 0, len(jobs)), Page: p}
	for _, j := range jobs {
		t.Jobs = append(t.Jobs, jobRow{Job: j, When: jobWhen(j)})
	}
	return t
}

// jobWhen says when a job finished, or when it runs (again).
func jobWhen(j tasks.Job) string {
	at := j.At.UTC().Format("2006-01-02 15:04:05 UTC")
	switch rivertype.JobState(j.State) {
	case rivertype.JobStateCompleted, rivertype.JobStateDiscarded, rivertype.JobStateCancelled:
		return "finished " + at
	case rivertype.JobStateRetryable:
		return "retries " + at
	case rivertype.JobStateRunning:
		return "running since " + at
	}
	return "runs " + at
}

// retryJob handles POST /admin/jobs/:id/retry: a finished job runs again
// now, as a new attempt (River raises max attempts if it had used them
// all). The page offers it for discarded and cancelled jobs.
func (a *panel) retryJob(c *fiber.Ctx) error {
	id, err := pathID(c, "id", tasks.ErrJobNotFound)
	if err != nil {
		return err
	}
	if err := a.jobs.Retry(c.UserContext(), id); err != nil {
		return err
	}
	return a.redirectWith(c, Prefix+"/jobs", "Job "+strconv.FormatInt(id, 10)+" will run again.")
}
