package recovery

import (
	"sync"
	"time"
)

// Phase is where one machine's step is.
type Phase string

// Phases, in the order a step normally passes through them. Done, Failed,
// Skipped and Interrupted are final.
const (
	PhaseQueued      Phase = "queued"
	PhaseLeasing     Phase = "leasing"
	PhaseActing      Phase = "acting"
	PhaseWaiting     Phase = "waiting"
	PhaseVerifying   Phase = "verifying"
	PhaseRetrying    Phase = "retrying"
	PhaseDone        Phase = "done"
	PhaseFailed      Phase = "failed"
	PhaseSkipped     Phase = "skipped"
	PhaseInterrupted Phase = "interrupted"
	// PhaseHalted: the step's group halted before it ran. An event with
	// this phase and no MachineID announces a group halting (Group set).
	PhaseHalted Phase = "halted"
)

// Final reports whether the phase ends the step.
func (p Phase) Final() bool {
	return p == PhaseDone || p == PhaseFailed || p == PhaseSkipped || p == PhaseInterrupted || p == PhaseHalted
}

// Event is one progress report. MachineID is empty for action-level events
// (Phase is then the action's, e.g. Done with Result set at the very end).
type Event struct {
	ActionID  string
	Seq       int
	MachineID string
	// NewMachineID is set for launches once the machine exists.
	NewMachineID string
	Op           Op
	Phase        Phase
	Group        string // for action-level events about one process group
	Attempt      int
	RetryIn      time.Duration // for PhaseRetrying
	Reason       string        // skip reason, failure reason, retry cause
	At           time.Time
	// Result is set on the last event of a run (MachineID empty, Phase final).
	Result *Result
}

// Outcome is the final verdict on one step, as written to the journal.
type Outcome string

// Outcomes. Interrupted means the step started but we cannot say how it
// ended (cancelled mid-call, or the process died: then resume decides).
const (
	OutcomeOK          Outcome = "ok"
	OutcomeFailed      Outcome = "failed"
	OutcomeSkipped     Outcome = "skipped"
	OutcomeInterrupted Outcome = "interrupted"
	// OutcomeHalted: never started because its group's breaker tripped;
	// only an explicit resume of the action runs it.
	OutcomeHalted Outcome = "halted"
)

// MachineResult is one step's outcome.
type MachineResult struct {
	Seq          int
	MachineID    string
	NewMachineID string
	Op           Op
	Outcome      Outcome
	Attempts     int
	Error        string
	StateAfter   string
	ImageAfter   string
}

// Result sums up a run.
type Result struct {
	ActionID    string
	Machines    []MachineResult
	OK          int
	Failed      int
	Skipped     int
	Interrupted int
	Halted      int
	// Reconciled counts the steps of the resumed action that this run
	// journaled as found done against live state (Plan.Reconciled).
	Reconciled int
	// Halts are the groups whose breaker tripped, and why.
	Halts   []GroupHalt
	Elapsed time.Duration
}

// GroupHalt is a process group the run stopped touching: machines of it
// failed verification for one cause.
type GroupHalt struct {
	Group  string
	Reason string
}

// Run is an Execute in progress. Events arrive on Events() in order and the
// channel is closed after the final event; Wait returns the result.
type Run struct {
	ActionID string
	events   chan Event
	done     chan struct{}
	result   *Result
	err      error

	// queue decouples the engine from a slow reader: the engine never
	// blocks on the dashboard.
	mu     sync.Mutex
	queue  []Event
	wake   chan struct{}
	closed bool
}

// Events streams progress. It is closed after the final event.
func (r *Run) Events() <-chan Event { return r.events }

// Wait blocks until the run ends.
func (r *Run) Wait() (*Result, error) {
	<-r.done
	return r.result, r.err
}

// Done is closed when the run has ended.
func (r *Run) Done() <-chan struct{} { return r.done }
