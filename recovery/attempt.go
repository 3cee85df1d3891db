package recovery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
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

// attempt is one try at a step. Lease, then read: the machine is read
// fresh under our lease, so what we act on is what is there, not what the
// plan saw; then checks, intent (with the config read under the lease),
// the one mutating call, wait and verify. The lease is held across the
// step's attempts, so nobody can change the machine between an answer we
// lost and our re-read.
func (e *Engine) attempt(ctx, graceCtx context.Context, st *stepState, sched *scheduler, run *Run) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s := st.step
	op := opOf(s.Op)
	if op.attempt != nil {
		return op.attempt(e, ctx, graceCtx, st, run)
	}
	if st.lease == nil {
		e.emit(run, st, PhaseLeasing)
		lease, err := e.takeLease(ctx, st)
		if err != nil {
			return err
		}
		st.lease = lease
	}
	m, err := e.get(ctx, s.MachineID)
	if errors.Is(err, flyclient.ErrNotFound) {
		return e.gone(st)
	}
	if err != nil {
		return err
	}
	st.last = m
	sched.saw(m.ID, s.Group, serving(m))
	if st.sent {
		// We sent the change before and did not learn how it ended: decide
		// from the machine, never by sending it again blindly.
		if landed(st, m) {
			return e.waitAndVerify(graceCtx, st, run, st.newInstance)
		}
	} else {
		if s.FromInstanceID != "" && m.InstanceID != s.FromInstanceID {
			return &errSkip{fmt.Sprintf("changed since planning (instance %s, now %s, on %s): re-plan to include it",
				s.FromInstanceID, m.InstanceID, model.ImageTag(configImage(m)))}
		}
		if reason := op.alreadyDone(e, m, s); reason != "" {
			return &errSkip{reason}
		}
	}
	if op.settleFirst && model.IsTransitional(m.State) {
		// A replacing machine rejects updates ("concurrent update in
		// progress"): let it settle first.
		e.emit(run, st, PhaseWaiting)
		if mm, err := e.settle(ctx, s.MachineID); err == nil && mm != nil {
			m, st.last = mm, mm
		}
		if model.IsTransitional(m.State) {
			return permanent("machine is still %s after waiting %s for it to settle: stuck? destroy it with --force", m.State, e.settleTimeout())
		}
		if st.sent && landed(st, m) {
			return e.waitAndVerify(graceCtx, st, run, st.newInstance)
		}
	}
	needs := op.TakesDown && serving(m)
	if needs && !st.slot {
		if err := sched.acquire(ctx, st); err != nil {
			return err
		}
	} else if !needs && st.slot && !st.sent {
		sched.release(st)
	}
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
	st.sent = true
	st.markers = eventMarkers(m)
	newInstance, err := e.act(graceCtx, s, m, st.lease.nonce)
	if err != nil {
		if errors.Is(err, flyclient.ErrLeaseHeld) || strings.Contains(err.Error(), "nonce") {
			// Our lease lapsed: take a new one next attempt.
			e.releaseLease(st.lease)
			st.lease = nil
		}
		if !answeredNo(err) {
			return err // it may have landed: the next attempt reads first
		}
		st.sent = false // the API refused it: nothing changed
		return err
	}
	st.newInstance = newInstance
	return e.waitAndVerify(graceCtx, st, run, newInstance)
}

// takeLease leases the step's machine. A long lease held by someone else
// (a stalled deploy's) is reported with its holder at once. A short one
// means someone is working on the machine right now (a teammate's
// flyrescue, a deploy, or our own run that died): we wait for it, bounded,
// and then read what they left, instead of failing or acting on top of
// them.
func (e *Engine) takeLease(ctx context.Context, st *stepState) (*heldLease, error) {
	s := st.step
	lease, err := e.acquireLease(ctx, s.MachineID)
	var held *flyclient.LeaseHeldError
	// At least a lease's life: one of ours left by a run that died (or gave
	// up on a dead API without releasing) always runs out within it.
	giveUp := time.Now().Add(max(e.settleTimeout(), e.opts.LeaseTTL+3*time.Second))
	for errors.As(err, &held) && staleLease(held, e.opts.LeaseTTL) && time.Now().Before(giveUp) {
		wait := min(max(time.Until(held.ExpiresAt)+200*time.Millisecond, 100*time.Millisecond), time.Second)
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
		lease, err = e.acquireLease(ctx, s.MachineID)
	}
	switch {
	case errors.As(err, &held):
		return nil, permanent("%s", held.Error())
	case errors.Is(err, flyclient.ErrNotFound):
		return nil, e.gone(st)
	}
	return lease, err
}

// gone handles a machine that no longer exists.
func (e *Engine) gone(st *stepState) error {
	if opOf(st.step.Op).goneIsDone {
		st.last = &flyclient.Machine{ID: st.step.MachineID, State: model.StateDestroyed}
		if st.sent || st.intent {
			return nil
		}
		return &errSkip{"already gone"}
	}
	return permanent("machine %s no longer exists (destroyed by someone else?)", st.step.MachineID)
}

// waitAndVerify waits for the step's state and verifies the machine.
func (e *Engine) waitAndVerify(ctx context.Context, st *stepState, run *Run, newInstance string) error {
	e.emit(run, st, PhaseWaiting)
	m, err := e.waitFor(ctx, st.id(), st.step)
	if m != nil {
		st.last = m
	}
	// A machine that settled elsewhere (failed, or still starting when the
	// wait ran out) is verified: that names what went wrong.
	if err != nil && (m == nil || !(m.State == model.StateFailed || errors.Is(err, flyclient.ErrTimeout))) {
		return err
	}
	return e.finishVerify(ctx, st, run, m, newInstance)
}

// answeredNo says the API answered and refused the call, so it did not
// change the machine (4xx). Anything else (5xx, a lost or late answer) may
// have changed it.
func answeredNo(err error) bool {
	var fe *flyclient.Error
	if errors.As(err, &fe) {
		return fe.Status >= 400 && fe.Status < 500
	}
	return errors.Is(err, flyclient.ErrLeaseHeld)
}

// eventMarkers remembers the newest event we saw before sending, so a later
// read can tell events that came after it.
func eventMarkers(m *flyclient.Machine) int64 {
	var newest int64
	for _, ev := range m.Events {
		if ev != nil && ev.Timestamp > newest {
			newest = ev.Timestamp
		}
	}
	return newest
}

// landed decides from a fresh read whether a change we sent (and whose
// answer we lost) took effect: its op judges from the machine and from the
// events newer than the ones we saw before sending.
func landed(st *stepState, m *flyclient.Machine) bool {
	newer := func(types ...string) bool {
		for _, ev := range m.Events {
			if ev != nil && ev.Timestamp > st.markers && slices.Contains(types, ev.Type) {
				return true
			}
		}
		return false
	}
	op := opOf(st.step.Op)
	return op.landed != nil && op.landed(st, m, newer)
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
		var err error
		newInstance, err = opOf(s.Op).act(e, ctx, s, m, nonce)
		return err
	})
	return newInstance, err
}

// actUpdate sends the desired config under our lease.
func actUpdate(e *Engine, ctx context.Context, s Step, m *flyclient.Machine, nonce string) (string, error) {
	cfg, err := e.desiredConfig(s, m)
	if err != nil {
		return "", permanent("%v", err)
	}
	out, err := e.api.Update(ctx, e.opts.App, flyclient.UpdateInput{
		ID: m.ID, Region: m.Region, Name: m.Name, Config: cfg, Nonce: nonce,
		SkipLaunch: s.ToState == model.StateStopped,
	})
	if out != nil {
		return out.InstanceID, err
	}
	return "", err
}

// desiredConfig keeps everything in the live config and changes only the
// image, the label and the release metadata; an undo puts a saved config
// back whole.
func (e *Engine) desiredConfig(s Step, m *flyclient.Machine) (*flyclient.MachineConfig, error) {
	if s.Config != nil {
		return flyclient.CloneConfig(s.Config)
	}
	cfg, err := flyclient.CloneConfig(m.Config)
	if err != nil {
		return nil, err
	}
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
	return cfg, nil
}

// staleLease: a lease that expires within our own TTL is short-lived work
// in progress (or the one a crashed flyrescue left), worth waiting for; a
// longer one is someone else's claim and is reported, not waited on.
func staleLease(h *flyclient.LeaseHeldError, ttl time.Duration) bool {
	left := time.Until(h.ExpiresAt)
	return !h.ExpiresAt.IsZero() && left <= ttl+2*time.Second
}

// settleTimeout bounds the wait for a busy machine: a minute is plenty for
// an update or restart in flight; longer means stuck.
func (e *Engine) settleTimeout() time.Duration { return min(e.opts.WaitTimeout, time.Minute) }
