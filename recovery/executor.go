package recovery

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
)

// stepState is one step while it runs.
type stepState struct {
	step     Step
	slot     bool // holds a unit of its group's unavailability budget
	doomed   bool // its group's budget was spent by failures before it ran
	attempts int
	intent   bool               // the intent is journaled: we may have changed the machine
	before   *flyclient.Machine // the machine when the intent was written
	last     *flyclient.Machine // the newest state we saw
	newID    string             // a launched machine's ID
	result   MachineResult
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
		res, err := e.execute(ctx, plan, run)
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

	budget := plan.Limits.GroupBudget
	if budget == nil {
		budget = map[string]int{}
	}
	sched := newScheduler(append([]*stepState(nil), states...), budget)
	stopSched := context.AfterFunc(runCtx, func() { sched.stop() })
	defer stopSched()

	workers := min(max(plan.Limits.Concurrency, 1), max(len(states), 1))
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for st := sched.next(); st != nil; st = sched.next() {
				e.runStep(runCtx, graceCtx, st, sched, run, abort)
			}
		}()
	}
	wg.Wait()
	for _, st := range sched.stop() {
		reason := "not started: the run was cancelled"
		if cause := context.Cause(runCtx); cause != nil && !errors.Is(cause, context.Canceled) {
			reason = "not started: " + cause.Error()
		}
		e.finishStep(st, run, OutcomeInterrupted, reason)
	}
	for _, st := range states {
		res.Machines = append(res.Machines, st.result)
		switch st.result.Outcome {
		case OutcomeOK:
			res.OK++
		case OutcomeFailed:
			res.Failed++
		case OutcomeSkipped:
			res.Skipped++
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
		RegionCounts: p.RegionCounts, Notes: p.Notes,
	}
}

// runStep drives one step through its attempts and records its outcome.
func (e *Engine) runStep(ctx, graceCtx context.Context, st *stepState, sched *scheduler, run *Run, abort context.CancelCauseFunc) {
	if st.doomed {
		e.finishStep(st, run, OutcomeFailed, errBudgetSpent.Error())
		return
	}
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
	switch {
	case err == nil:
		sched.release(st)
		e.finishStep(st, run, OutcomeOK, "")
	case errors.As(err, &skip):
		sched.release(st)
		e.finishStep(st, run, OutcomeSkipped, skip.reason)
	case errors.Is(err, ErrJournal):
		sched.release(st)
		abort(err)
		e.finishStep(st, run, OutcomeFailed, err.Error())
	case ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, errInterrupted) || !st.intent):
		sched.release(st)
		e.finishStep(st, run, OutcomeInterrupted, "interrupted: "+err.Error())
	default:
		// A machine we took out of service and could not bring back stays
		// charged to the budget.
		if st.last != nil && st.last.State != "started" {
			sched.spend(st)
		} else {
			sched.release(st)
		}
		msg := err.Error()
		if st.attempts > 1 {
			msg = fmt.Sprintf("%s (after %d attempts)", msg, st.attempts)
		}
		e.finishStep(st, run, OutcomeFailed, msg)
	}
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
	phase := map[Outcome]Phase{OutcomeOK: PhaseDone, OutcomeFailed: PhaseFailed, OutcomeSkipped: PhaseSkipped, OutcomeInterrupted: PhaseInterrupted}[out]
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
		in.ConfigBefore = flyclient.CloneConfig(m.Config)
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
	c.opts.SkipHealthChecks = l.SkipHealthChecks
	return &c
}
