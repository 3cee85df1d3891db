package recovery

import (
	"context"
	"slices"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
)

// Op is what one step does to one machine.
type Op string

// Per-machine operations. Each has one entry in the ops registry below,
// which is the only place the engine learns what an op means.
const (
	OpUpdate   Op = "update"  // in-place config update (image, env, metadata, or a saved config)
	OpRestart  Op = "restart" // restart in place
	OpStart    Op = "start"
	OpStop     Op = "stop"
	OpSuspend  Op = "suspend"  // snapshot and stop: the next start resumes it
	OpCordon   Op = "cordon"   // Fly Proxy stops routing to it; it keeps running
	OpUncordon Op = "uncordon" // Fly Proxy routes to it again
	OpDestroy  Op = "destroy"
	OpLaunch   Op = "launch" // create a new machine from a config (scale up, undo of destroy)
	// OpClearLease releases a lease someone else holds (their nonce is
	// read from the API, as `fly machine leases clear` does).
	OpClearLease Op = "clear-lease"
)

// OpSpec is everything one per-machine operation means: which machines it
// applies to, what it costs the budget, the API call, how it is known to be
// done, what it waits for, how it is verified, how an undo reverses it and
// how a resume reconciles it. The exported fields describe it to other
// packages (the dashboard's row spinners, documentation, tests); the engine
// works from the unexported ones. A new op is one entry in opRegistry.
type OpSpec struct {
	Op Op
	// Progressive is what a machine goes through while the op runs, for
	// row spinners ("stopping"); Past is what a done step did to it, for
	// outcomes ("stopped").
	Progressive, Past string
	// ToState is the state the op leaves a machine in; "" when it leaves
	// the state as it is (cordon) or decides per step (update).
	ToState string
	// TakesDown: a serving machine stops serving while the op runs (or for
	// good), so the op holds one unit of its group's max-unavailable
	// budget while it does.
	TakesDown bool
	// LeavesDown: once done, the machine is out of service because the
	// operator asked for exactly that: its budget unit goes back for the
	// next machine, and it does not count as an outage for the rest of the
	// run. The budget paces taking machines down; it does not forbid a
	// stop asked for.
	LeavesDown bool
	// ChangesImage: the op may put an image on a machine that is not yet
	// proven healthy in its group, so canary gates and the breaker apply
	// (imageChange, when set, says whether one step does).
	ChangesImage bool
	imageChange  func(s Step) bool
	// WaitStates are the states a step waits for after its call (a step
	// of update waits for the state it planned, see waitStates). NoWait
	// says instead why the op waits for no state.
	WaitStates []string
	NoWait     string
	// Verifies says what verification checks, once the wait is over.
	Verifies string
	// Inverse is the op an undo runs for a step of this op; NoInverse
	// says why there is none.
	Inverse   Op
	NoInverse string
	// Flyctl is the flyctl command that does what one step of this op
	// does, for an operator handing the step on (flyctl.go); args are the
	// plan's Args.
	Flyctl func(app string, s Step, args map[string]string) string

	// skip says why planning leaves a machine out ("" = the op acts on
	// it); nil for ops that are not planned machine by machine.
	skip func(v machineView) string
	// planNote is said on every plan of this op.
	planNote string
	// reachesDying: a forced op of this kind acts on machines being
	// destroyed (one wedged in destroying); others list them as skipped.
	reachesDying bool
	// settleFirst: a machine in a transitional state is waited for
	// before the call (a replacing machine rejects most calls).
	settleFirst bool
	// goneIsDone: a machine that no longer exists is where this op puts
	// it (a destroy).
	goneIsDone bool
	// attempt replaces the leased read-act-wait-verify attempt (launch,
	// clear-lease).
	attempt func(e *Engine, ctx, graceCtx context.Context, st *stepState, run *Run) error
	// act sends the one mutating call and returns the instance it made, if
	// the API says (an update).
	act func(e *Engine, ctx context.Context, s Step, m *flyclient.Machine, nonce string) (string, error)
	// done says why the machine, read fresh under our lease, already is
	// where the step would put it; nil: skip applied to the machine.
	done func(e *Engine, m *flyclient.Machine, s Step) string
	// landed decides whether a call whose answer was lost took effect.
	landed func(st *stepState, m *flyclient.Machine, newer func(types ...string) bool) bool
	// waitFor refines WaitStates for one step.
	waitFor func(s Step) []string
	// verify checks the machine as it is after the wait.
	verify func(e *Engine, ctx context.Context, st *stepState, m *flyclient.Machine, newInstance string) (*flyclient.Machine, error)
	// undo plans the inverse of a journaled step; drift says how the live
	// machine differs from what the step left (nil: changedSince, from the
	// image, instance and state its outcome recorded).
	undo  func(u *undoPlanner, it *undoItem) (Step, *flyclient.Machine, bool)
	drift func(live *flyclient.Machine, it *undoItem) string
	// locate finds the machine of a step planned without one (a launch,
	// by its tag); found judges, from the live settled machine, whether an
	// interrupted step took effect (nil: its done test).
	locate func(e *Engine, ctx context.Context, in *IntentRecord) (*flyclient.Machine, error)
	found  func(e *Engine, s Step, ml MachineLog, m *flyclient.Machine) bool
}

// machineView is what planning knows of a machine when it decides whether
// an op applies to it.
type machineView struct {
	state                  string
	stuck, force, cordoned bool
}

func viewOf(m *flyclient.Machine) machineView {
	return machineView{state: m.State, cordoned: m.Cordoned}
}

// opRegistry is every per-machine op, in the order documentation lists them.
var opRegistry = []*OpSpec{
	{
		Op: OpUpdate, Progressive: "updating", Past: "updated", TakesDown: true, ChangesImage: true, imageChange: updateChangesImage, settleFirst: true,
		Flyctl:     flyctlUpdate,
		WaitStates: []string{model.StateStarted}, waitFor: updateWaitStates,
		Verifies: "a new instance runs the step's image, in the state it planned (started: every health check passing)",
		Inverse:  OpUpdate,
		act:      actUpdate, done: updateDoneFor, verify: verifyUpdate, undo: undoUpdate, found: foundUpdate,
		landed: func(st *stepState, m *flyclient.Machine, newer func(...string) bool) bool {
			return (st.before != nil && m.InstanceID != st.before.InstanceID) || newer("update")
		},
	},
	{
		Op: OpRestart, Progressive: "restarting", Past: "restarted", ToState: model.StateStarted, TakesDown: true, settleFirst: true,
		Flyctl:     flyctlVerb("restart", skipChecksFlag),
		WaitStates: []string{model.StateStarted}, Verifies: "started and every health check passing",
		NoInverse: "a restart cannot be undone", planNote: "a restart cannot be undone",
		skip: func(machineView) string { return "" },
		act: call(func(e *Engine, ctx context.Context, id, nonce string) error {
			return e.api.Restart(ctx, e.opts.App, id, nonce, false)
		}),
		landed: func(_ *stepState, m *flyclient.Machine, newer func(...string) bool) bool {
			return m.State == model.StateRestarting || newer("restart", "start", "exit")
		},
		verify: verifyState, found: foundRestart,
	},
	{
		Op: OpStart, Progressive: "starting", Past: "started", ToState: model.StateStarted, settleFirst: true,
		Flyctl:     flyctlVerb("start", nil),
		WaitStates: []string{model.StateStarted}, Verifies: "started and every health check passing",
		Inverse: OpStop,
		skip: func(v machineView) string {
			return alreadyIf(v.state == model.StateStarted, v.state)
		},
		act: call(func(e *Engine, ctx context.Context, id, nonce string) error {
			return e.api.Start(ctx, e.opts.App, id, nonce)
		}),
		landed: func(_ *stepState, m *flyclient.Machine, newer func(...string) bool) bool {
			return m.State == model.StateStarting || m.State == model.StateStarted || newer("start")
		},
		verify: verifyState, undo: undoWith(OpStop),
	},
	{
		Op: OpStop, Progressive: "stopping", Past: "stopped", ToState: model.StateStopped, TakesDown: true, LeavesDown: true, settleFirst: true,
		Flyctl:     flyctlVerb("stop", nil),
		WaitStates: []string{model.StateStopped, model.StateSuspended}, Verifies: "stopped (or suspended)",
		Inverse: OpStart,
		skip: func(v machineView) string {
			return alreadyIf(v.state == model.StateStopped || v.state == model.StateSuspended, v.state)
		},
		act: call(func(e *Engine, ctx context.Context, id, nonce string) error {
			return e.api.Stop(ctx, e.opts.App, id, nonce, 0)
		}),
		landed: func(_ *stepState, m *flyclient.Machine, newer func(...string) bool) bool {
			return slices.Contains([]string{model.StateStopping, model.StateStopped, model.StateSuspended}, m.State) || newer("exit", "stop")
		},
		verify: verifyState, undo: undoWith(OpStart),
	},
	{
		Op: OpSuspend, Progressive: "suspending", Past: "suspended", ToState: model.StateSuspended, TakesDown: true, LeavesDown: true, settleFirst: true,
		Flyctl: flyctlVerb("suspend", nil),
		// Stopped too, so a machine flyd stops instead of suspending is
		// reported at once, not after the whole wait.
		WaitStates: []string{model.StateSuspended, model.StateStopped},
		Verifies:   "suspended; one that stopped instead fails (its next start is a cold boot)",
		Inverse:    OpStart,
		skip:       suspendSkip,
		done: func(_ *Engine, m *flyclient.Machine, _ Step) string {
			// Stopped since planning: it serves nothing already, and the
			// API would refuse to suspend it.
			return suspendSkip(viewOf(m))
		},
		act: call(func(e *Engine, ctx context.Context, id, nonce string) error {
			return e.api.Suspend(ctx, e.opts.App, id, nonce)
		}),
		landed: func(_ *stepState, m *flyclient.Machine, newer func(...string) bool) bool {
			return m.State == model.StateSuspending || m.State == model.StateSuspended || newer("suspend")
		},
		verify: verifySuspend, undo: undoWith(OpStart),
		found: func(_ *Engine, _ Step, _ MachineLog, m *flyclient.Machine) bool {
			return m.State == model.StateSuspended
		},
	},
	{
		Op: OpCordon, Progressive: "cordoning", Past: "cordoned", TakesDown: true, LeavesDown: true,
		Flyctl:   flyctlVerb("cordon", nil),
		NoWait:   "Fly Proxy stops routing to the machine when the API answers; its state does not change",
		Verifies: "the machine reads cordoned",
		Inverse:  OpUncordon,
		skip: func(v machineView) string {
			return alreadyIf(v.cordoned, "cordoned")
		},
		act: call(func(e *Engine, ctx context.Context, id, nonce string) error {
			return e.api.Cordon(ctx, e.opts.App, id, nonce)
		}),
		landed: func(_ *stepState, m *flyclient.Machine, newer func(...string) bool) bool {
			return m.Cordoned || newer("cordon")
		},
		verify: verifyCordon(true), undo: undoWith(OpUncordon), drift: cordonDrift(true),
	},
	{
		Op: OpUncordon, Progressive: "uncordoning", Past: "uncordoned",
		Flyctl:   flyctlVerb("uncordon", nil),
		NoWait:   "Fly Proxy routes to the machine again when the API answers; its state does not change",
		Verifies: "the machine reads not cordoned",
		Inverse:  OpCordon,
		skip: func(v machineView) string {
			if !v.cordoned {
				return "not cordoned"
			}
			return ""
		},
		act: call(func(e *Engine, ctx context.Context, id, nonce string) error {
			return e.api.Uncordon(ctx, e.opts.App, id, nonce)
		}),
		landed: func(_ *stepState, m *flyclient.Machine, newer func(...string) bool) bool {
			return !m.Cordoned || newer("uncordon")
		},
		verify: verifyCordon(false), undo: undoWith(OpCordon), drift: cordonDrift(false),
	},
	{
		Op: OpDestroy, Progressive: "destroying", Past: "destroyed", ToState: model.StateDestroyed, TakesDown: true, LeavesDown: true,
		Flyctl:       flyctlVerb("destroy", destroyFlags),
		reachesDying: true, goneIsDone: true,
		WaitStates: []string{model.StateDestroyed}, Verifies: "destroyed, or gone from the API",
		Inverse:  OpLaunch,
		planNote: "undo relaunches each destroyed machine's saved config in its region and group as a NEW machine (new ID)",
		skip: func(v machineView) string {
			if !v.force && (v.state == model.StateStarted || v.stuck || v.state == model.StateReplacing) {
				return v.state + ": stop it first or destroy with force"
			}
			return ""
		},
		act: func(e *Engine, ctx context.Context, s Step, m *flyclient.Machine, nonce string) (string, error) {
			return "", e.api.Destroy(ctx, e.opts.App, m.ID, nonce, s.Force)
		},
		done: func(_ *Engine, m *flyclient.Machine, _ Step) string {
			return alreadyIf(m.State == model.StateDestroyed, m.State)
		},
		landed: func(_ *stepState, m *flyclient.Machine, newer func(...string) bool) bool {
			return m.State == model.StateDestroying || m.State == model.StateDestroyed || newer("destroy")
		},
		verify: verifyDestroyed, undo: undoDestroy,
	},
	{
		Op: OpLaunch, Progressive: "launching", Past: "launched", ToState: model.StateStarted, ChangesImage: true,
		Flyctl:     flyctlLaunch,
		WaitStates: []string{model.StateStarted}, Verifies: "started and every health check passing",
		Inverse: OpDestroy,
		attempt: func(e *Engine, ctx, graceCtx context.Context, st *stepState, run *Run) error {
			return e.attemptLaunch(ctx, graceCtx, st, run)
		},
		verify: verifyState, undo: undoLaunch,
		locate: func(e *Engine, ctx context.Context, in *IntentRecord) (*flyclient.Machine, error) {
			return e.findLaunched(ctx, in.LaunchTag)
		},
	},
	{
		Op: OpClearLease, Progressive: "clearing lease", Past: "lease cleared",
		Flyctl:    flyctlVerb("leases clear", nil),
		NoWait:    "a lease is gone when the API answers",
		Verifies:  "the lease the plan saw is no longer there",
		NoInverse: "a cleared lease cannot be given back to its holder",
		attempt: func(e *Engine, _, graceCtx context.Context, st *stepState, run *Run) error {
			return e.attemptClearLease(graceCtx, st, run)
		},
		found: func(*Engine, Step, MachineLog, *flyclient.Machine) bool { return false },
	},
}

// opIndex is filled in init: the registry's functions look ops up, so it
// cannot be initialised from the registry itself.
var opIndex map[Op]*OpSpec

func init() {
	opIndex = make(map[Op]*OpSpec, len(opRegistry))
	for _, o := range opRegistry {
		opIndex[o.Op] = o
	}
}

// Ops lists every per-machine op.
func Ops() []OpSpec {
	out := make([]OpSpec, len(opRegistry))
	for i, o := range opRegistry {
		out[i] = *o
	}
	return out
}

// OpOf describes op; false for an op this version does not know (one from a
// newer journal).
func OpOf(op Op) (OpSpec, bool) {
	if o := opIndex[op]; o != nil {
		return *o, true
	}
	return OpSpec{}, false
}

// opOf is op's entry. An op this version does not know gets one that refuses
// to act and counts as taking its machine down, so a journal from a newer
// flyrescue is never acted on by guesswork.
func opOf(op Op) *OpSpec {
	if o := opIndex[op]; o != nil {
		return o
	}
	return &OpSpec{Op: op, Progressive: string(op), Past: string(op), TakesDown: true, settleFirst: true, WaitStates: []string{model.StateStarted},
		act: func(*Engine, context.Context, Step, *flyclient.Machine, string) (string, error) {
			return "", permanent("unsupported operation %q (journaled by a newer flyrescue?)", op)
		},
	}
}

// call adapts a call that takes only the machine and our nonce.
func call(fn func(e *Engine, ctx context.Context, id, nonce string) error) func(*Engine, context.Context, Step, *flyclient.Machine, string) (string, error) {
	return func(e *Engine, ctx context.Context, _ Step, m *flyclient.Machine, nonce string) (string, error) {
		return "", fn(e, ctx, m.ID, nonce)
	}
}

func alreadyIf(cond bool, what string) string {
	if cond {
		return "already " + what
	}
	return ""
}

func suspendSkip(v machineView) string {
	switch v.state {
	case model.StateStarted:
		return ""
	case model.StateSuspended:
		return "already suspended"
	case model.StateStopped:
		return "already stopped: a stopped machine cannot be suspended (it serves nothing already)"
	}
	return v.state + ": only a started machine can be suspended"
}

// alreadyDone says why the machine needs nothing, or "".
func (o *OpSpec) alreadyDone(e *Engine, m *flyclient.Machine, s Step) string {
	switch {
	case o.done != nil:
		return o.done(e, m, s)
	case o.skip != nil:
		return o.skip(viewOf(m))
	}
	return ""
}

// driftSince says how live differs from what the journaled step left it
// as, or "".
func (o *OpSpec) driftSince(live *flyclient.Machine, it *undoItem) string {
	if o.drift != nil {
		return o.drift(live, it)
	}
	return changedSince(live, it)
}

// waitStates are the states a step waits for.
func waitStates(s Step) []string {
	o := opOf(s.Op)
	if o.waitFor != nil {
		return o.waitFor(s)
	}
	return o.WaitStates
}

// takesDown says whether op makes a serving machine unavailable.
func takesDown(op Op) bool { return opOf(op).TakesDown }

// changesImage says whether a step puts a (possibly unproven) image on a
// machine: an update to another image or to a saved config, a launch.
func changesImage(s Step) bool {
	o := opOf(s.Op)
	return o.ChangesImage && (o.imageChange == nil || o.imageChange(s))
}
