package recovery

import "testing"

// One action's steps in every status, said the way the journal pane, the
// header and `flyrescue log` all say them; a resume that took the steps on
// is named.
func TestHistoryWords(t *testing.T) {
	a := &ActionLog{Action: ActionRecord{ID: "20261129T031500-a1b2c3"}}
	add := func(n int, ml MachineLog) {
		for range n {
			ml.Seq = len(a.Machines) + 1
			a.Machines = append(a.Machines, ml)
		}
	}
	add(3, MachineLog{Outcome: &OutcomeRecord{Outcome: OutcomeOK}})
	add(1, MachineLog{Outcome: &OutcomeRecord{Outcome: OutcomeFailed, Error: "lease held by bob"}})
	add(2, MachineLog{Intent: &IntentRecord{}})
	add(4, MachineLog{})
	if got, want := CountsText(a.Counts(), OutcomeOK, OutcomeSkipped), "3 ok, 1 failed, 0 skipped, 2 interrupted, 4 never started"; got != want {
		t.Errorf("CountsText = %q, want %q", got, want)
	}
	if got, want := a.UnfinishedText(), "6 steps unfinished (2 interrupted, 4 never started)"; got != want {
		t.Errorf("UnfinishedText = %q, want %q", got, want)
	}
	if got, want := a.StepWhy(a.Machines[4], "R resumes it"), "interrupted mid-step, no outcome recorded; R resumes it"; got != want {
		t.Errorf("StepWhy = %q, want %q", got, want)
	}
	if got := a.StepWhy(a.Machines[3], "x"); got != "lease held by bob" {
		t.Errorf("StepWhy of a failed step = %q", got)
	}
	a.ResumedBy = []string{"20261129T040000-d4e5f6"}
	if got, want := a.UnfinishedText(), "6 steps unfinished (2 interrupted, 4 never started), taken on by resume 040000-d4e5f6"; got != want {
		t.Errorf("after a resume, UnfinishedText = %q, want %q", got, want)
	}
	one := &ActionLog{Machines: []MachineLog{{Seq: 1}}}
	if got, want := one.UnfinishedText(), "1 step unfinished (never started)"; got != want {
		t.Errorf("UnfinishedText = %q, want %q", got, want)
	}
	if got := (&ActionLog{Machines: []MachineLog{{Seq: 1, Outcome: &OutcomeRecord{Outcome: OutcomeHalted}}}}).UnfinishedText(); got != "" {
		t.Errorf("halted steps are not a resume's to pick up: %q", got)
	}
}
