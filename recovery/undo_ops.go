package recovery

import (
	"context"
	"fmt"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
)

// undoPlanner is what an op's inverse is planned with: the live fleet and
// the undo plan being built (for notes).
type undoPlanner struct {
	e   *Engine
	ctx context.Context
	f   *fleet
	p   *Plan
}

// undoUpdate puts the config saved before the update back whole.
func undoUpdate(u *undoPlanner, it *undoItem) (Step, *flyclient.Machine, bool) {
	in := it.first
	if in.ConfigBefore == nil {
		return Step{}, nil, false
	}
	live := u.f.raw[in.MachineID]
	if live == nil {
		u.p.Notes = append(u.p.Notes, fmt.Sprintf("%s no longer exists: its update cannot be undone", in.MachineID))
		return Step{}, nil, false
	}
	return Step{MachineID: in.MachineID, Name: live.Name, Op: OpUpdate, Region: live.Region,
		Group: in.Group, FromImage: configImage(live), ToImage: in.ImageBefore, FromState: live.State,
		ToState: updateTargetState(in.StateBefore), FromInstanceID: live.InstanceID, Config: in.ConfigBefore,
		Reason: "back to the config saved before " + it.by.Action.ID}, live, true
}

// undoDestroy relaunches the destroyed machine's saved config: a new
// machine, in its region and group.
func undoDestroy(_ *undoPlanner, it *undoItem) (Step, *flyclient.Machine, bool) {
	in := it.first
	if in.ConfigBefore == nil {
		return Step{}, nil, false
	}
	return Step{Op: OpLaunch, Region: in.Region, Group: in.Group, ToImage: in.ImageBefore,
		ToState: model.StateStarted, Config: in.ConfigBefore,
		Reason: "relaunch of destroyed " + in.MachineID + " as a new machine"}, nil, true
}

// undoLaunch destroys the machine a launch made, found by its outcome or,
// when the launch was interrupted before it learned the ID, by its tag.
func undoLaunch(u *undoPlanner, it *undoItem) (Step, *flyclient.Machine, bool) {
	in := it.first
	id := ""
	if it.last.Outcome != nil {
		id = it.last.Outcome.NewMachineID
	}
	if id == "" {
		if m, err := u.e.findLaunched(u.ctx, in.LaunchTag); err == nil && m != nil {
			id = m.ID
		}
	}
	live := u.f.raw[id]
	if live == nil {
		return Step{}, nil, false
	}
	return Step{MachineID: id, Name: live.Name, Op: OpDestroy, Region: live.Region,
		Group: in.Group, FromImage: configImage(live), ToImage: configImage(live), FromState: live.State,
		ToState: model.StateDestroyed, FromInstanceID: live.InstanceID, Force: true,
		Reason: "launched by " + it.by.Action.ID}, live, true
}

// undoWith undoes a step by running op on its machine as it now is (stop
// and start, suspend and start, cordon and uncordon).
func undoWith(op Op) func(*undoPlanner, *undoItem) (Step, *flyclient.Machine, bool) {
	return func(u *undoPlanner, it *undoItem) (Step, *flyclient.Machine, bool) {
		in := it.first
		live := u.f.raw[in.MachineID]
		if live == nil {
			return Step{}, nil, false
		}
		to := opOf(op).ToState
		if to == "" {
			to = live.State
		}
		return Step{MachineID: in.MachineID, Name: live.Name, Op: op, Region: live.Region,
			Group: in.Group, FromImage: configImage(live), ToImage: configImage(live), FromState: live.State,
			ToState: to, FromInstanceID: live.InstanceID, Reason: "undo of " + string(in.Op)}, live, true
	}
}

// cordonDrift: what a cordon (or uncordon) left is the flag, whatever the
// machine's state did since (a cordoned machine is often stopped by its
// autostop: uncordoning it is still the undo).
func cordonDrift(left bool) func(*flyclient.Machine, *undoItem) string {
	return func(live *flyclient.Machine, _ *undoItem) string {
		if live.Cordoned != left {
			return fmt.Sprintf("now cordoned: %v; expected %v", live.Cordoned, left)
		}
		return ""
	}
}
