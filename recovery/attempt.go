package recovery

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
)

// launchTagKey marks machines flyrescue launched with the action and step
// that made them, so a resume after a crash finds a launch whose answer it
// never received instead of launching a second machine.
const launchTagKey = "flyrescue_intent"

func launchTag(actionID string, seq int) string { return actionID + "/" + strconv.Itoa(seq) }

func (e *Engine) emit(run *Run, st *stepState, phase Phase) {
	run.emit(Event{Seq: st.step.Seq, MachineID: st.id(), NewMachineID: st.newID, Op: st.step.Op, Phase: phase, Attempt: st.attempts})
}

func (e *Engine) get(ctx context.Context, id string) (*flyclient.Machine, error) {
	var m *flyclient.Machine
	err := e.call(ctx, "get", id, func(ctx context.Context) error {
		var err error
		m, err = e.api.Get(ctx, e.opts.App, id)
		return err
	})
	return m, err
}

// attempt is one try at a step: fresh Get, checks, lease, intent, act,
// wait, verify, release.
func (e *Engine) attempt(ctx, graceCtx context.Context, st *stepState, sched *scheduler, run *Run) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s := st.step
	if s.Op == OpLaunch {
		return e.attemptLaunch(ctx, graceCtx, st, run)
	}
	m, err := e.get(ctx, s.MachineID)
	if errors.Is(err, flyclient.ErrNotFound) {
		if s.Op == OpDestroy {
			st.last = &flyclient.Machine{ID: s.MachineID, State: model.StateDestroyed}
			if st.intent {
				return nil
			}
			return &errSkip{"already gone"}
		}
		return permanent("machine %s no longer exists (destroyed by someone else?)", s.MachineID)
	}
	if err != nil {
		return err
	}
	st.last = m
	if !st.intent {
		if s.FromInstanceID != "" && m.InstanceID != s.FromInstanceID {
			return &errSkip{fmt.Sprintf("changed since planning (instance %s, now %s): re-plan to include it", s.FromInstanceID, m.InstanceID)}
		}
		if reason := e.alreadyDone(m, s); reason != "" {
			return &errSkip{reason}
		}
	} else if e.alreadyDone(m, s) != "" && (s.Op != OpUpdate || st.before == nil || m.InstanceID != st.before.InstanceID) {
		// An earlier attempt went through after all (its answer was lost).
		return e.finishVerify(graceCtx, st, run, m, "")
	}
	if model.IsTransitional(m.State) && s.Op != OpDestroy {
		// A replacing machine rejects updates ("concurrent update in
		// progress"): let it settle first.
		e.emit(run, st, PhaseWaiting)
		if mm, err := e.settle(ctx, s.MachineID); err == nil && mm != nil {
			m, st.last = mm, mm
		}
		if model.IsTransitional(m.State) {
			return permanent("machine is still %s after waiting %s for it to settle: stuck? destroy it with --force", m.State, e.settleTimeout())
		}
	}
	needs := needsSlot(s.Op, m.State)
	if needs && !st.slot {
		if err := sched.acquire(ctx, st); err != nil {
			return err
		}
	} else if !needs && st.slot && !st.intent {
		sched.release(st)
	}

	e.emit(run, st, PhaseLeasing)
	lease, err := e.acquireLease(ctx, s.MachineID)
	var held *flyclient.LeaseHeldError
	if errors.As(err, &held) && s.WaitStaleLease && staleLease(held, e.opts.LeaseTTL) {
		// Most likely our own lease from the run that died: short-lived,
		// so wait it out rather than fail.
		if err := sleep(ctx, time.Until(held.ExpiresAt)+500*time.Millisecond); err != nil {
			return err
		}
		lease, err = e.acquireLease(ctx, s.MachineID)
	}
	if err != nil {
		if errors.As(err, &held) {
			return permanent("%s", held.Error())
		}
		return err
	}
	defer e.releaseLease(lease)
	if !st.intent {
		if err := e.writeIntent(run, st, m, ""); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	e.emit(run, st, PhaseActing)
	// The mutating call runs under the grace context: once sent, we want
	// its answer even if the run is being cancelled.
	newInstance, err := e.act(graceCtx, s, m, lease.nonce)
	if err != nil {
		return err
	}
	e.emit(run, st, PhaseWaiting)
	m, err = e.waitFor(graceCtx, s.MachineID, s)
	if m != nil {
		st.last = m
	}
	if err != nil && (m == nil || m.State != model.StateFailed) {
		return err
	}
	if err := e.finishVerify(graceCtx, st, run, m, newInstance); err != nil {
		return err
	}
	// Serving again: free the budget before the lease release round trip.
	sched.release(st)
	return nil
}

func (e *Engine) finishVerify(ctx context.Context, st *stepState, run *Run, m *flyclient.Machine, newInstance string) error {
	e.emit(run, st, PhaseVerifying)
	m, err := e.verify(ctx, st, m, newInstance)
	if m != nil {
		st.last = m
	}
	return err
}

// settle waits (bounded) for a machine to leave a transitional state.
func (e *Engine) settle(ctx context.Context, id string) (*flyclient.Machine, error) {
	var m *flyclient.Machine
	err := e.call(ctx, "wait", id, func(ctx context.Context) error {
		var err error
		m, err = e.api.WaitFor(ctx, e.opts.App, id, []string{"settled"}, "", e.settleTimeout())
		return err
	})
	return m, err
}

// act sends the step's one mutating call. For updates it returns the new
// instance ID the API reported.
func (e *Engine) act(ctx context.Context, s Step, m *flyclient.Machine, nonce string) (string, error) {
	var newInstance string
	err := e.call(ctx, string(s.Op), m.ID, func(ctx context.Context) error {
		switch s.Op {
		case OpUpdate:
			cfg := e.desiredConfig(s, m)
			out, err := e.api.Update(ctx, e.opts.App, flyclient.UpdateInput{
				ID: m.ID, Region: m.Region, Name: m.Name, Config: cfg, Nonce: nonce,
				SkipLaunch: s.ToState == model.StateStopped,
			})
			if out != nil {
				newInstance = out.InstanceID
			}
			return err
		case OpRestart:
			return e.api.Restart(ctx, e.opts.App, m.ID, nonce, false)
		case OpStart:
			return e.api.Start(ctx, e.opts.App, m.ID, nonce)
		case OpStop:
			return e.api.Stop(ctx, e.opts.App, m.ID, nonce, 0)
		case OpDestroy:
			return e.api.Destroy(ctx, e.opts.App, m.ID, nonce, s.Force)
		}
		return permanent("unsupported operation %q", s.Op)
	})
	return newInstance, err
}

// desiredConfig keeps everything in the live config and changes only the
// image, the label and the release metadata; an undo puts a saved config
// back whole.
func (e *Engine) desiredConfig(s Step, m *flyclient.Machine) *flyclient.MachineConfig {
	if s.Config != nil {
		return flyclient.CloneConfig(s.Config)
	}
	cfg := flyclient.CloneConfig(m.Config)
	if cfg == nil {
		cfg = &flyclient.MachineConfig{}
	}
	cfg.Image = s.ToImage
	if s.Label != "" {
		if cfg.Env == nil {
			cfg.Env = map[string]string{}
		}
		cfg.Env[e.opts.LabelEnv] = s.Label
	}
	if len(s.Metadata) > 0 && cfg.Metadata == nil {
		cfg.Metadata = map[string]string{}
	}
	for k, v := range s.Metadata {
		cfg.Metadata[k] = v
	}
	return cfg
}

// alreadyDone says why the machine needs nothing, or "".
func (e *Engine) alreadyDone(m *flyclient.Machine, s Step) string {
	switch s.Op {
	case OpUpdate:
		return updateDone(m, s, e.opts.LabelEnv)
	case OpStart:
		if m.State == model.StateStarted {
			return "already started"
		}
	case OpStop:
		if m.State == model.StateStopped || m.State == model.StateSuspended {
			return "already " + m.State
		}
	case OpDestroy:
		if m.State == model.StateDestroyed {
			return "already destroyed"
		}
	}
	return ""
}

// staleLease: a lease that expires within our own TTL could be the one a
// crashed flyrescue left (we take short leases); a longer one is someone
// else's work and is reported, not waited on.
func staleLease(h *flyclient.LeaseHeldError, ttl time.Duration) bool {
	left := time.Until(h.ExpiresAt)
	return !h.ExpiresAt.IsZero() && left <= ttl+2*time.Second
}

// settleTimeout bounds the wait for a busy machine: a minute is plenty for
// an update or restart in flight; longer means stuck.
func (e *Engine) settleTimeout() time.Duration { return min(e.opts.WaitTimeout, time.Minute) }
