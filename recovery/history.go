package recovery

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// ActionLog is one action as read back from the journal: its record and,
// per planned step, the intent and outcome (either may be missing).
type ActionLog struct {
	Action   ActionRecord
	At       time.Time
	Machines []MachineLog
	// UndoneBy is the ID of the action that undid this one, if any.
	UndoneBy string
	// ResumedBy lists actions that resumed this one.
	ResumedBy []string
}

// MachineLog is one step of a logged action.
type MachineLog struct {
	Seq       int
	MachineID string
	Op        Op
	Intent    *IntentRecord
	IntentAt  time.Time
	Outcome   *OutcomeRecord
}

// Status is the step's outcome; a step with an intent but no outcome was
// interrupted (the process died or was cancelled mid-step); a step never
// begun is "" (pending).
func (m MachineLog) Status() Outcome {
	switch {
	case m.Outcome != nil:
		return m.Outcome.Outcome
	case m.Intent != nil:
		return OutcomeInterrupted
	default:
		return ""
	}
}

// History groups a journal's records by action, oldest first.
func History(recs []Record) []*ActionLog {
	byID := map[string]*ActionLog{}
	var order []*ActionLog
	find := func(id string) *ActionLog { return byID[id] }
	for _, r := range recs {
		switch r.Type {
		case RecordAction:
			if r.Action == nil {
				continue
			}
			a := &ActionLog{Action: *r.Action, At: r.At}
			for _, s := range r.Action.Steps {
				a.Machines = append(a.Machines, MachineLog{Seq: s.Seq, MachineID: s.MachineID, Op: s.Op})
			}
			byID[a.Action.ID] = a
			order = append(order, a)
			if u := find(r.Action.Undoes); u != nil {
				u.UndoneBy = a.Action.ID
			}
			if u := find(r.Action.Resumes); u != nil {
				u.ResumedBy = append(u.ResumedBy, a.Action.ID)
			}
		case RecordIntent:
			if r.Intent == nil {
				continue
			}
			if a := find(r.Intent.ActionID); a != nil {
				ml := a.step(r.Intent.Seq)
				in := *r.Intent
				ml.Intent = &in
				ml.IntentAt = r.At
				if ml.MachineID == "" {
					ml.MachineID = in.MachineID
				}
			}
		case RecordOutcome:
			if r.Outcome == nil {
				continue
			}
			if a := find(r.Outcome.ActionID); a != nil {
				ml := a.step(r.Outcome.Seq)
				out := *r.Outcome
				// A later outcome (e.g. reconciled by resume) supersedes.
				ml.Outcome = &out
				if ml.MachineID == "" {
					ml.MachineID = out.MachineID
				}
			}
		}
	}
	return order
}

func (a *ActionLog) step(seq int) *MachineLog {
	for i := range a.Machines {
		if a.Machines[i].Seq == seq {
			return &a.Machines[i]
		}
	}
	a.Machines = append(a.Machines, MachineLog{Seq: seq})
	sort.Slice(a.Machines, func(i, j int) bool { return a.Machines[i].Seq < a.Machines[j].Seq })
	return a.step(seq)
}

// Counts tallies the steps' statuses ("" counts as pending).
func (a *ActionLog) Counts() map[Outcome]int {
	c := map[Outcome]int{}
	for _, m := range a.Machines {
		c[m.Status()]++
	}
	return c
}

// FindAction returns the logged action with id. People see IDs in their
// display form (DisplayID: "052401-010446"), so a unique suffix also names
// an action; an ambiguous one is an error listing the candidates.
func FindAction(hist []*ActionLog, id string) (*ActionLog, error) {
	var matches []*ActionLog
	for _, a := range hist {
		if a.Action.ID == id {
			return a, nil
		}
		if id != "" && strings.HasSuffix(a.Action.ID, id) {
			matches = append(matches, a)
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		return nil, fmt.Errorf("no action %q in the journal (see `flyrescue log`)", id)
	}
	ids := make([]string, len(matches))
	for i, a := range matches {
		ids[i] = a.Action.ID
	}
	return nil, fmt.Errorf("action %q is ambiguous: it could be %s; give one of those", id, strings.Join(displayIDs(ids), ", "))
}

// RememberedCount is the machine count a group had before the incident:
// the first count the journal recorded for it (in region when set).
func RememberedCount(hist []*ActionLog, group, region string) (int, bool) {
	for _, a := range hist {
		if region != "" {
			if rc, ok := a.Action.RegionCounts[group]; ok {
				if n, ok := rc[region]; ok {
					return n, true
				}
			}
			continue
		}
		if n, ok := a.Action.GroupCounts[group]; ok {
			return n, true
		}
	}
	return 0, false
}
