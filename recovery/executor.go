package recovery

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
)

// stepState is one step while it runs.
type stepState struct {
	step    Step
	slot    bool   // holds a unit of its group's unavailability budget
	refused string // why it may not take its machine down (budget), before it ran
	// waitingSince: when it first waited for room in its group's budget.
	waitingSince time.Time
	toldWaiting  bool
	halted       string // its group halted before it ran: why
	gated        bool   // counted in its group's canary window
	attempts     int
	intent       bool               // the intent is journaled
	before       *flyclient.Machine // the machine as read under our lease when the intent was written
	last         *flyclient.Machine // the newest state we saw
	newID        string             // a launched machine's ID
	lease        *heldLease         // held across the step's attempts
	// sent: the mutating call went out and may have changed the machine;
	// a retry then reads and decides, never resends blindly.
	sent        bool
	markers     int64  // newest event timestamp before sending
	newInstance string // the instance our update created, when its answer came
	result      MachineResult
}

func (st *stepState) id() string {
	if st.step.MachineID != "" {
		return st.step.MachineID
	}
	return st.newID
}

// errSkip carries a skip reason out of an attempt.
type errSkip struct{ reason string }

func (e *errSkip) Error() string { return e.reason }

func (e *Engine) start(ctx context.Context, plan *Plan) *Run {
	id := ""
	if plan != nil {
		id = plan.ID
	}
	run := newRun(id)
	go func() {
		var res *Result
		var err error
		func() {
			// A bug must not take the process down from here: the
			// dashboard's terminal would be left raw, the journal and
			// leases mid-way. It ends the run with the reason instead.
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("internal error (a bug in flyrescue; please report it): %v", r)
				}
			}()
			res, err = e.execute(ctx, plan, run)
		}()
		final := Event{Phase: PhaseDone, Result: res}
		if err != nil {
			final.Phase, final.Reason = PhaseFailed, err.Error()
		}
		run.emit(final)
		run.finish(res, err)
	}()
	return run
}

// graceAfterCancel is how long in-flight steps may keep waiting for a change
// they already sent, after cancellation, to learn how it ended.
const graceAfterCancel = 30 * time.Second

func (e *Engine) execute(ctx context.Context, plan *Plan, run *Run) (*Result, error) {
	began := time.Now()
	if plan == nil {
		return nil, errors.New("no plan")
	}
	if e.journal == nil {
		return nil, fmt.Errorf("%w: refusing to change machines without a journal to record it in", ErrJournal)
	}
	// The limits shown when the plan was confirmed are the ones that apply.
	e = e.withLimits(plan.Limits)
	if err := e.journal.AppendGuarded(Record{Type: RecordAction, At: e.opts.Now(), Action: e.actionRecord(plan)}, e.actionGuard(plan)); err != nil {
		return nil, err
	}
	res := &Result{ActionID: plan.ID}
	// A resume's steps found done while planning are recorded only now
	// that it runs (planning never writes), under the guard's verdict.
	for i := range plan.Reconciled {
		out := plan.Reconciled[i]
		if err := e.journal.Append(Record{Type: RecordOutcome, At: e.opts.Now(), Outcome: &out}); err != nil {
			return nil, err
		}
		if out.Outcome == OutcomeOK {
			res.Reconciled++
		}
	}
	states := make([]*stepState, len(plan.Steps))
	for i, s := range plan.Steps {
		states[i] = &stepState{step: s}
		run.emit(Event{Seq: s.Seq, MachineID: s.MachineID, Op: s.Op, Phase: PhaseQueued})
	}
	runCtx, abort := context.WithCancelCause(ctx)
	defer abort(nil)
	graceCtx, graceCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer graceCancel()
	stopGrace := context.AfterFunc(runCtx, func() { time.AfterFunc(graceAfterCancel, graceCancel) })
	defer stopGrace()
	// A dead API ends the run at once, grace included: nobody will answer.
	health := newAPIHealth(e.opts.APIDownAfter, func(cause error) {
		abort(cause)
		graceCancel()
	})
	runCtx = withHealth(runCtx, health)
	graceCtx = withHealth(graceCtx, health)
	desc := model.LeaseDescription(plan.ID, e.opts.Operator)
	runCtx, graceCtx = withLeaseDescription(runCtx, desc), withLeaseDescription(graceCtx, desc)

	budget := plan.Limits.GroupBudget
	if budget == nil {
		budget = map[string]int{}
	}
	sched := newScheduler(append([]*stepState(nil), states...), budget, plan.Limits.HaltAfter, e.opts.FleetRefresh, e.settleTimeout())
	sched.notify = run.emit
	stopSched := context.AfterFunc(runCtx, func() { sched.stop() })
	defer stopSched()
	// The plan may be minutes old: budgets and canaries start from a
	// fresh read of the whole fleet, then follow it while we run.
	if len(states) > 0 {
		if plan.seen != nil {
			sched.observe(plan.seen)
		}
		read, err := e.readFleet(runCtx)
		if err != nil {
			abort(err)
		} else {
			sched.setGates(read)
			for _, why := range sched.canaryGroups() {
				run.emit(Event{Phase: PhaseQueued, Reason: why})
			}
		}
	}
	var watchers sync.WaitGroup
	watchCtx, stopWatch := context.WithCancel(runCtx)
	watchers.Add(1)
	go func() {
		// Without fresh reads the budgets would go stale: a watcher
		// that panics ends the run rather than act on old counts.
		defer recoverAs("watching the fleet", func(err error) { abort(err) })
		e.watchFleet(watchCtx, sched, &watchers)
	}()

	workers := min(max(plan.Limits.Concurrency, 1), max(len(states), 1))
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for st := sched.next(); st != nil; st = sched.next() {
				e.runStepSafely(runCtx, graceCtx, st, sched, run, abort)
			}
		}()
	}
	wg.Wait()
	stopWatch()
	watchers.Wait()
	for _, st := range sched.stop() {
		reason := "not started: the run was cancelled"
		if cause := context.Cause(runCtx); cause != nil && !errors.Is(cause, context.Canceled) {
			reason = "not started: " + cause.Error()
		}
		e.finishStep(st, run, OutcomeInterrupted, reason)
	}
	res.Halts = sched.halts()
	for _, st := range states {
		res.Machines = append(res.Machines, st.result)
		switch st.result.Outcome {
		case OutcomeOK:
			res.OK++
		case OutcomeFailed:
			res.Failed++
		case OutcomeSkipped:
			res.Skipped++
		case OutcomeHalted:
			res.Halted++
		default:
			res.Interrupted++
		}
	}
	res.Elapsed = time.Since(began)
	if cause := context.Cause(runCtx); cause != nil && ctx.Err() == nil && !errors.Is(cause, context.Canceled) {
		return res, cause
	}
	return res, nil
}

func (e *Engine) actionRecord(p *Plan) *ActionRecord {
	return &ActionRecord{
		ID: p.ID, Kind: p.Kind, App: p.App, Selection: p.Selection, Args: p.Args, Operator: e.opts.Operator,
		Undoes: p.Undoes, Resumes: p.Resumes, Steps: p.Steps, GroupCounts: p.GroupCounts,
		RegionCounts: p.RegionCounts, Notes: p.Notes, Held: p.Held,
	}
}

// runStep drives one step through its attempts and records its outcome.
func (e *Engine) runStep(ctx, graceCtx context.Context, st *stepState, sched *scheduler, run *Run, abort context.CancelCauseFunc) {
	if st.halted != "" {
		e.finishStep(st, run, OutcomeHalted, "halted: "+st.halted)
		return
	}
	if st.refused != "" {
		sched.end(st, OutcomeFailed, "")
		e.finishStep(st, run, OutcomeFailed, st.refused)
		return
	}
	defer func() { e.releaseLease(st.lease) }()
	var err error
	for attempt := 1; ; attempt++ {
		st.attempts = attempt
		err = e.attempt(ctx, graceCtx, st, sched, run)
		if err == nil || !retryable(err) || attempt > e.opts.Retries || ctx.Err() != nil {
			break
		}
		wait := e.backoff(attempt)
		run.emit(Event{Seq: st.step.Seq, MachineID: st.id(), Op: st.step.Op, Phase: PhaseRetrying,
			Attempt: attempt, RetryIn: wait, Reason: err.Error()})
		if sleep(ctx, wait) != nil {
			break
		}
	}
	var skip *errSkip
	var halt *errHalted
	switch {
	case err == nil:
		sched.end(st, OutcomeOK, "")
		e.finishStep(st, run, OutcomeOK, "")
	case errors.As(err, &skip):
		sched.end(st, OutcomeSkipped, "")
		e.finishStep(st, run, OutcomeSkipped, skip.reason)
	case errors.As(err, &halt):
		sched.end(st, OutcomeHalted, "")
		e.finishStep(st, run, OutcomeHalted, "halted: "+halt.why)
	case errors.Is(err, ErrJournal):
		sched.end(st, OutcomeFailed, "")
		abort(err)
		e.finishStep(st, run, OutcomeFailed, err.Error())
	case retryable(err) && (ctx.Err() != nil || st.sent || errors.Is(err, flyclient.ErrUnreachable)) ||
		errors.Is(err, context.Canceled) || errors.Is(err, errInterrupted):
		// Cancelled, cut off by a dead API, out of retries after sending, or
		// never answered: we cannot say how it ended (or it never began for
		// want of an API); resume reconciles it from live state.
		sched.end(st, OutcomeInterrupted, "")
		reason := "interrupted: " + err.Error()
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			reason = "interrupted: " + cause.Error()
		}
		e.finishStep(st, run, OutcomeInterrupted, reason)
	default:
		sched.end(st, OutcomeFailed, causeOf(err))
		msg := err.Error()
		if st.attempts > 1 {
			msg = fmt.Sprintf("%s (after %d attempts)", msg, st.attempts)
		}
		e.finishStep(st, run, OutcomeFailed, msg)
	}
}

// runStepSafely is runStep with a panic turned into the step's failure,
// with its reason: one machine's bug ends that step, not the process.
func (e *Engine) runStepSafely(ctx, graceCtx context.Context, st *stepState, sched *scheduler, run *Run, abort context.CancelCauseFunc) {
	defer func() {
		r := recover()
		if r == nil || st.result.Outcome != "" {
			return
		}
		sched.end(st, OutcomeFailed, "")
		e.finishStep(st, run, OutcomeFailed, fmt.Sprintf("internal error (a bug in flyrescue; please report it): %v; the machine's state is unknown, check it", r))
	}()
	e.runStep(ctx, graceCtx, st, sched, run, abort)
}

// finishStep journals the outcome and emits the final event. Outcomes are
// written even for skips, so the log explains every planned machine.
func (e *Engine) finishStep(st *stepState, run *Run, out Outcome, reason string) {
	r := MachineResult{Seq: st.step.Seq, MachineID: st.step.MachineID, NewMachineID: st.newID, Op: st.step.Op,
		Outcome: out, Attempts: st.attempts, Error: reason}
	rec := &OutcomeRecord{ActionID: run.ActionID, Seq: st.step.Seq, MachineID: st.step.MachineID, NewMachineID: st.newID,
		Outcome: out, Attempts: st.attempts, Error: reason}
	if m := st.last; m != nil {
		r.StateAfter, r.ImageAfter = m.State, configImage(m)
		rec.StateAfter, rec.ImageAfter, rec.InstanceAfter = m.State, r.ImageAfter, m.InstanceID
	}
	if err := e.journal.Append(Record{Type: RecordOutcome, At: e.opts.Now(), Outcome: rec}); err != nil && out == OutcomeOK {
		// The change happened but is not recorded; say so rather than
		// pretend the journal is whole.
		r.Error = "done, but the outcome could not be journaled: " + err.Error()
	}
	st.result = r
	phase := map[Outcome]Phase{OutcomeOK: PhaseDone, OutcomeFailed: PhaseFailed, OutcomeSkipped: PhaseSkipped, OutcomeInterrupted: PhaseInterrupted, OutcomeHalted: PhaseHalted}[out]
	run.emit(Event{Seq: st.step.Seq, MachineID: st.id(), NewMachineID: st.newID, Op: st.step.Op, Phase: phase,
		Attempt: st.attempts, Reason: reason})
}

// writeIntent journals what the machine was before we touch it. Nothing is
// sent to the API unless this succeeded.
func (e *Engine) writeIntent(run *Run, st *stepState, m *flyclient.Machine, launchTag string) error {
	in := &IntentRecord{ActionID: run.ActionID, Seq: st.step.Seq, MachineID: st.step.MachineID, Name: st.step.Name,
		Op: st.step.Op, Region: st.step.Region, Group: st.step.Group, ToImage: st.step.ToImage, ToState: st.step.ToState,
		LaunchTag: launchTag}
	if m != nil {
		in.Name, in.Region = m.Name, m.Region
		cfg, err := flyclient.CloneConfig(m.Config)
		if err != nil {
			return permanent("%v", err)
		}
		in.ConfigBefore = cfg
		in.ImageBefore, in.InstanceBefore, in.StateBefore = configImage(m), m.InstanceID, m.State
	}
	if err := e.journal.Append(Record{Type: RecordIntent, At: e.opts.Now(), Intent: in}); err != nil {
		return err
	}
	st.intent = true
	if m != nil {
		st.before = m
	}
	return nil
}

func (e *Engine) withLimits(l Limits) *Engine {
	c := *e
	if l.Concurrency > 0 {
		c.opts.Concurrency = l.Concurrency
	}
	if l.Retries >= 0 {
		c.opts.Retries = l.Retries
	}
	if l.WaitTimeout > 0 {
		c.opts.WaitTimeout = l.WaitTimeout
	}
	if l.LeaseTTL > 0 {
		c.opts.LeaseTTL = l.LeaseTTL
	}
	if l.HaltAfter > 0 {
		c.opts.HaltAfter = l.HaltAfter
	}
	c.opts.SkipHealthChecks = l.SkipHealthChecks
	return &c
}
