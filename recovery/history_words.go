package recovery

import (
	"fmt"
	"strings"

	"github.com/flyrescue/flyrescue/model"
)

// How a logged action's steps are said, the same in the dashboard's
// journal, its header, `flyrescue log` and the incident timeline: a step
// that began and has no outcome is "interrupted", one the run never reached
// is "never started", and both are what a resume picks up.

// NeverStarted is the word for a planned step the run never reached (the
// "" status of MachineLog.Status).
const NeverStarted = "never started"

// StatusWord names a step status as people read it.
func StatusWord(o Outcome) string {
	if o == "" {
		return NeverStarted
	}
	return string(o)
}

// countOrder is the order statuses are counted in: what happened, then
// what is left.
var countOrder = []Outcome{OutcomeOK, OutcomeFailed, OutcomeSkipped, OutcomeInterrupted, OutcomeHalted, ""}

// CountsText says step counts (ActionLog.Counts) in words, in one order:
// "12 ok, 1 failed, 4 interrupted, 8 never started". A status counted zero
// is left out unless it is one of always.
func CountsText(c map[Outcome]int, always ...Outcome) string {
	var parts []string
	for _, o := range countOrder {
		n := c[o]
		keep := n > 0
		for _, a := range always {
			keep = keep || a == o
		}
		if keep {
			parts = append(parts, fmt.Sprintf("%d %s", n, StatusWord(o)))
		}
	}
	return strings.Join(parts, ", ")
}

// Unfinished counts the steps a resume picks up: interrupted, and never
// started. Halted steps are not among them (see Resumable).
func (a *ActionLog) Unfinished() (interrupted, neverStarted int) {
	for _, ml := range a.Machines {
		switch ml.Status() {
		case OutcomeInterrupted:
			interrupted++
		case "":
			neverStarted++
		}
	}
	return interrupted, neverStarted
}

// UnfinishedText says what Unfinished counts, or "" when nothing is:
// "12 steps unfinished (4 interrupted, 8 never started)", and, once a
// resume took them on, by which action: those steps then stay unfinished
// in this action's record, since the resume journals them as its own.
func (a *ActionLog) UnfinishedText() string {
	in, never := a.Unfinished()
	if in+never == 0 {
		return ""
	}
	s := a.UnfinishedSteps()
	switch {
	case in > 0 && never > 0:
		s += fmt.Sprintf(" (%d interrupted, %d %s)", in, never, NeverStarted)
	case in > 0:
		s += " (interrupted)"
	default:
		s += " (" + NeverStarted + ")"
	}
	if len(a.ResumedBy) > 0 {
		s += ", taken on by resume " + DisplayID(a.ResumedBy[len(a.ResumedBy)-1])
	}
	return s
}

// UnfinishedSteps is UnfinishedText's count alone, for a narrow line: "12
// steps unfinished".
func (a *ActionLog) UnfinishedSteps() string {
	in, never := a.Unfinished()
	return model.Counted(in+never, "step") + " unfinished"
}

// StepWhy says why a failed or interrupted step of a has no success: its
// outcome's error, or for an interrupted step, that it stopped mid-step and
// who picks it up: the resume that did, else resume, which says how to
// resume where the reader is ("`flyrescue resume` picks it up").
func (a *ActionLog) StepWhy(ml MachineLog, resume string) string {
	if ml.Outcome != nil {
		return ml.Outcome.Error
	}
	if len(a.ResumedBy) > 0 {
		return "interrupted mid-step, no outcome recorded; resume " + DisplayID(a.ResumedBy[len(a.ResumedBy)-1]) + " took it on"
	}
	return "interrupted mid-step, no outcome recorded; " + resume
}
