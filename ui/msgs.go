package ui

import (
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

// Every piece of I/O runs in a tea.Cmd and comes back as one of these typed
// messages; Update never blocks on the network.

// pollResultMsg carries one poll. Results whose gen is not the current poll
// generation are stale (a manual refresh overtook them) and are dropped.
type pollResultMsg struct {
	gen      int
	snap     *model.Snapshot
	inc      *model.Incident // nil: built from what the dashboard knows
	releases []model.Release // nil when this poll did not fetch releases
	// leases found on machines not on target, when this poll looked
	// (every leasesEvery polls); nil when it did not.
	leases map[string]model.Lease
	// journalRead: the journal was read, and unfinished is its newest
	// action if that one is unfinished (see unfinishedOf); runSeq is the
	// last run started when the poll began.
	journalRead bool
	unfinished  *recovery.ActionLog
	runSeq      int
	err         error
	took        time.Duration
}

// pollTickMsg asks for the next poll of generation gen.
type pollTickMsg struct{ gen int }

// clockMsg refreshes ages ("polled 3s ago") and expires row highlights.
type clockMsg struct{}

// spinMsg advances the spinner while an action runs.
type spinMsg struct{}

// planMsg is a plan (or the error planning it) for the confirm dialog.
type planMsg struct {
	seq  int
	req  planRequest
	plan *recovery.Plan
	err  error
	// gone are requested machines found destroyed while planning: the
	// plan was made without them, and their marks go.
	gone []string
}

// runEventsMsg is a batch of progress events from the running action.
type runEventsMsg struct {
	runID  int
	events []recovery.Event
}

// runDoneMsg says the running action ended.
type runDoneMsg struct {
	runID  int
	result *recovery.Result
	err    error
}

// quitDeadlineMsg quits even if a cancelled action has not wound down.
type quitDeadlineMsg struct{}

// detailMsg is one machine fetched with Get and FindLease.
type detailMsg struct {
	id       string
	machine  *flyclient.Machine
	lease    *flyclient.Lease
	err      error
	leaseErr error
}

// journalMsg is the journal's action history, newest last.
type journalMsg struct {
	logs []*recovery.ActionLog
	path string
	err  error
}
