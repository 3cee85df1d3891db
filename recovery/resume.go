package recovery

import (
	"context"
	"fmt"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
)

// Resumable lists actions with steps that never got a final outcome (the
// process died, or the run was cancelled) and that no resume has taken on.
// Steps halted by a group's breaker do not count: the image they were to
// get failed on their group, and only a resume naming the action (the
// operator deciding to go on) runs them.
func Resumable(hist []*ActionLog) []*ActionLog {
	var out []*ActionLog
	for _, a := range hist {
		if len(a.ResumedBy) > 0 {
			continue
		}
		for _, ml := range a.Machines {
			if st := ml.Status(); st == "" || st == OutcomeInterrupted {
				out = append(out, a)
				break
			}
		}
	}
	return out
}

// planResume reconciles an unfinished action against live state. Planning
// writes nothing: steps that happened become the plan's Reconciled outcomes
// (ok, reconciled), which the run journals right after its action record;
// the others become the plan's steps. So a dry run, a read-only run or a
// cancelled dialog leave the journal as it was.
func (e *Engine) planResume(ctx context.Context, id string) (*Plan, error) {
	hist, err := e.history()
	if err != nil {
		return nil, err
	}
	var a *ActionLog
	if id != "" {
		if a, err = FindAction(hist, id); err != nil {
			return nil, err
		}
	} else if c := Resumable(hist); len(c) > 0 {
		a = c[len(c)-1]
	}
	if a == nil {
		return nil, nothingToDo("nothing to resume: every journaled step has an outcome")
	}
	f, err := e.survey(ctx, "")
	if err != nil {
		return nil, err
	}
	steps := map[int]Step{}
	for _, s := range a.Action.Steps {
		steps[s.Seq] = s
	}
	p := e.newPlan(a.Action.Kind, f, a.Action.Selection)
	p.Resumes = a.Action.ID
	p.Undoes = ""
	for k, v := range a.Action.Args {
		p.Args[k] = v
	}
	p.Args["resumes"] = a.Action.ID
	reconciled := 0
	halted := 0
	for _, ml := range a.Machines {
		st := ml.Status()
		if st == OutcomeHalted && id != "" {
			halted++
		} else if st != "" && st != OutcomeInterrupted {
			continue
		}
		s, ok := steps[ml.Seq]
		if !ok {
			continue
		}
		if ml.Intent != nil {
			done, m, err := e.reconcile(ctx, f, s, ml)
			if err != nil {
				return nil, err
			}
			if done {
				out := OutcomeRecord{ActionID: a.Action.ID, Seq: s.Seq, MachineID: s.MachineID, Outcome: OutcomeOK,
					Reconciled: true, Error: "found done after an interruption"}
				if m != nil {
					out.StateAfter, out.ImageAfter, out.InstanceAfter = m.State, configImage(m), m.InstanceID
					if s.MachineID == "" {
						out.NewMachineID = m.ID // a launch, found by its tag
					}
				}
				p.Reconciled = append(p.Reconciled, out)
				reconciled++
				continue
			}
		}
		if s.MachineID != "" {
			live := f.raw[s.MachineID]
			if live == nil {
				// Never begun, and its machine is gone: nothing is left to
				// do, and the run records why, so the journal explains
				// every step of the action it resumes.
				s.Reason = "no longer exists"
				out := OutcomeRecord{ActionID: a.Action.ID, Seq: s.Seq, MachineID: s.MachineID, Outcome: OutcomeSkipped,
					Reconciled: true, Error: "not begun, and the machine no longer exists"}
				if opOf(s.Op).goneIsDone {
					s.Reason, out.Error = "already gone", "not begun, and the machine was already gone"
				}
				p.Skipped = append(p.Skipped, s)
				p.Reconciled = append(p.Reconciled, out)
				continue
			}
			// Planned against the state we now see: the crashed run may
			// have changed it.
			s.FromInstanceID, s.FromState = live.InstanceID, live.State
		}
		p.Steps = append(p.Steps, s)
	}
	p.Notes = append(p.Notes, fmt.Sprintf("resumes %s (%s): %s found done; running this plan records that", DisplayID(a.Action.ID), a.Action.Kind, model.Counted(reconciled, "interrupted step")))
	if halted > 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("includes %d machines a breaker halted: canary-first again, and the breaker still applies", halted))
	}
	return p.sorted().annotateCanary(f), nil
}

// reconcile says whether an interrupted step took effect, from live state,
// as the step's op judges it.
func (e *Engine) reconcile(ctx context.Context, f *fleet, s Step, ml MachineLog) (bool, *flyclient.Machine, error) {
	op := opOf(s.Op)
	if op.locate != nil {
		m, err := op.locate(e, ctx, ml.Intent)
		return m != nil, m, err
	}
	m := f.raw[s.MachineID]
	if m == nil {
		return op.goneIsDone, nil, nil
	}
	if model.IsTransitional(m.State) {
		// Still carrying out what the dead run asked for: let it finish.
		if mm, err := e.settle(ctx, m.ID); err == nil && mm != nil {
			m = mm
		}
	}
	if op.found != nil {
		return op.found(e, s, ml, m), m, nil
	}
	return op.alreadyDone(e, m, s) != "", m, nil
}

// foundRestart: the machine (re)started after the intent was written.
func foundRestart(_ *Engine, _ Step, ml MachineLog, m *flyclient.Machine) bool {
	for _, ev := range m.Events {
		if ev != nil && (ev.Type == "restart" || ev.Type == "start") && !ev.Time().Before(ml.IntentAt.Add(-time.Second)) {
			return m.State == model.StateStarted
		}
	}
	return false
}
