package recovery

import (
	"context"
	"fmt"

	"github.com/flyrescue/flyrescue/model"
)

// planUndo builds the inverse of a journaled action from its intents: an
// update goes back to the saved config, a destroy relaunches the saved
// config (a new machine), a launch is destroyed, stop and start swap, a
// restart cannot be undone. Steps a resume finished are undone too.
func (e *Engine) planUndo(ctx context.Context, id string) (*Plan, error) {
	hist, err := e.history()
	if err != nil {
		return nil, err
	}
	target, err := undoTarget(hist, id)
	if err != nil {
		return nil, err
	}
	f, err := e.survey(ctx, "")
	if err != nil {
		return nil, err
	}
	p := e.newPlan(KindUndo, f, "machines changed by "+target.Action.ID)
	p.Undoes = target.Action.ID
	p.Args["undoes_kind"] = string(target.Action.Kind)
	logs := []*ActionLog{target}
	for _, rid := range target.ResumedBy {
		if r, err := FindAction(hist, rid); err == nil {
			logs = append(logs, r)
		}
	}
	restarts, relaunches := 0, 0
	for _, a := range logs {
		for _, ml := range a.Machines {
			if ml.Intent == nil || ml.Status() == OutcomeSkipped {
				continue // never touched
			}
			in := ml.Intent
			switch in.Op {
			case OpUpdate:
				if in.ConfigBefore == nil {
					continue
				}
				live := f.raw[in.MachineID]
				if live == nil {
					p.Notes = append(p.Notes, fmt.Sprintf("%s no longer exists: its update cannot be undone", in.MachineID))
					continue
				}
				p.Steps = append(p.Steps, Step{MachineID: in.MachineID, Name: live.Name, Op: OpUpdate, Region: live.Region,
					Group: in.Group, FromImage: configImage(live), ToImage: in.ImageBefore, FromState: live.State,
					ToState: updateTargetState(in.StateBefore), FromInstanceID: live.InstanceID, Config: in.ConfigBefore,
					Reason: "back to the config saved before " + a.Action.ID})
			case OpDestroy:
				if in.ConfigBefore == nil {
					continue
				}
				relaunches++
				p.Steps = append(p.Steps, Step{Op: OpLaunch, Region: in.Region, Group: in.Group, ToImage: in.ImageBefore,
					ToState: model.StateStarted, Config: in.ConfigBefore,
					Reason: "relaunch of destroyed " + in.MachineID + " as a new machine"})
			case OpLaunch:
				id := ""
				if ml.Outcome != nil {
					id = ml.Outcome.NewMachineID
				}
				if id == "" {
					if m, err := e.findLaunched(ctx, in.LaunchTag); err == nil && m != nil {
						id = m.ID
					}
				}
				live := f.raw[id]
				if live == nil {
					continue
				}
				p.Steps = append(p.Steps, Step{MachineID: id, Name: live.Name, Op: OpDestroy, Region: live.Region,
					Group: in.Group, FromImage: configImage(live), ToImage: configImage(live), FromState: live.State,
					ToState: model.StateDestroyed, FromInstanceID: live.InstanceID, Force: true,
					Reason: "launched by " + a.Action.ID})
			case OpStop, OpStart:
				live := f.raw[in.MachineID]
				if live == nil {
					continue
				}
				op, to := OpStart, model.StateStarted
				if in.Op == OpStart {
					op, to = OpStop, model.StateStopped
				}
				p.Steps = append(p.Steps, Step{MachineID: in.MachineID, Name: live.Name, Op: op, Region: live.Region,
					Group: in.Group, FromImage: configImage(live), ToImage: configImage(live), FromState: live.State,
					ToState: to, FromInstanceID: live.InstanceID, Reason: "undo of " + string(in.Op)})
			case OpRestart:
				restarts++
			}
		}
	}
	if restarts > 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("%d restarts cannot be undone", restarts))
	}
	if relaunches > 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("%d destroyed machines are relaunched from their saved configs as NEW machines (new IDs, same region and group)", relaunches))
	}
	if len(p.Steps) == 0 {
		if target.Action.Kind == KindRestart {
			return nil, fmt.Errorf("action %s was a restart: a restart cannot be undone", target.Action.ID)
		}
		return nil, fmt.Errorf("action %s changed no machine that can be put back", target.Action.ID)
	}
	return p.sorted(), nil
}

// undoTarget finds the action to undo: the named one, else the newest that
// is neither undone nor itself an undo.
func undoTarget(hist []*ActionLog, id string) (*ActionLog, error) {
	if id != "" {
		a, err := FindAction(hist, id)
		if err != nil {
			return nil, err
		}
		if a.UndoneBy != "" {
			return nil, fmt.Errorf("action %s was already undone by %s", id, a.UndoneBy)
		}
		return a, nil
	}
	resumed := map[string]bool{}
	for _, a := range hist {
		if a.Action.Resumes != "" {
			resumed[a.Action.ID] = true
		}
	}
	for i := len(hist) - 1; i >= 0; i-- {
		a := hist[i]
		// A resume is undone together with the action it finished.
		if a.UndoneBy == "" && a.Action.Undoes == "" && !resumed[a.Action.ID] {
			return a, nil
		}
	}
	return nil, fmt.Errorf("nothing to undo: every journaled action is already undone")
}

// actionGuard is checked under the journal's lock just before a plan's
// action record is written (see Journal.AppendGuarded); nil means none.
// TODO(helper): an undo must not be recorded twice for one action.
func (e *Engine) actionGuard(p *Plan) func(hist []*ActionLog) error { return nil }
