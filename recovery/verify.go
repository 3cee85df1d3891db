package recovery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
)

// waitFor waits for the step's target state and returns the machine as it
// then is. A machine its op may leave gone (destroyed) counts as there. An
// op that waits for no state reads the machine once.
func (e *Engine) waitFor(ctx context.Context, id string, s Step) (*flyclient.Machine, error) {
	op := opOf(s.Op)
	if op.NoWait != "" {
		return e.get(ctx, id)
	}
	var m *flyclient.Machine
	err := e.call(ctx, "wait", id, func(ctx context.Context) error {
		var err error
		m, err = e.api.WaitFor(ctx, e.opts.App, id, waitStates(s), "", e.opts.WaitTimeout)
		return err
	})
	if op.goneIsDone && errors.Is(err, flyclient.ErrNotFound) {
		return &flyclient.Machine{ID: id, State: model.StateDestroyed}, nil
	}
	return m, err
}

// verify checks live state, not the API's word, as the step's op says: an
// update must have changed both the image and the instance (flyd can revert
// a failed update and the machine still shows started), and a started
// machine must pass its checks.
func (e *Engine) verify(ctx context.Context, st *stepState, m *flyclient.Machine, newInstance string) (*flyclient.Machine, error) {
	if m == nil {
		return nil, fmt.Errorf("machine %s: no state after waiting", st.id())
	}
	op := opOf(st.step.Op)
	if op.verify == nil {
		return m, permanent("operation %q has no verification", st.step.Op)
	}
	return op.verify(e, ctx, st, m, newInstance)
}

// notFailed: a machine that should be running or stopped and ended failed
// does not boot.
func notFailed(m *flyclient.Machine) error {
	if m.State == model.StateFailed {
		return verifyFailed(causeFailedBoot, "machine entered the failed state (does the image boot? see `fly logs -i %s`)", m.ID)
	}
	return nil
}

// verifyUpdate: the image and the instance changed, then verifyState.
func verifyUpdate(e *Engine, ctx context.Context, st *stepState, m *flyclient.Machine, newInstance string) (*flyclient.Machine, error) {
	if err := notFailed(m); err != nil {
		return m, err
	}
	s, before := st.step, st.before
	img := configImage(m)
	if !sameImage(img, s.ToImage) || (before != nil && m.InstanceID == before.InstanceID) {
		return m, verifyFailed(causeReverted, "the update was reverted: machine is %s on %s, instance %s unchanged (flyd put the old version back; check the image)",
			m.State, model.ImageTag(img), m.InstanceID)
	}
	if newInstance != "" && m.InstanceID != newInstance {
		return m, permanent("machine runs instance %s, not the %s our update created (changed by someone else?)", m.InstanceID, newInstance)
	}
	return verifyState(e, ctx, st, m, newInstance)
}

// verifyState: the machine is in a state the step waited for, and a started
// one passes its checks.
func verifyState(e *Engine, ctx context.Context, st *stepState, m *flyclient.Machine, _ string) (*flyclient.Machine, error) {
	if err := notFailed(m); err != nil {
		return m, err
	}
	s := st.step
	if !stateIs(m.State, waitStates(s)) {
		return m, verifyFailed(causeNoState, "machine is %s, not %s, after waiting %s", m.State, s.ToState, e.opts.WaitTimeout)
	}
	if s.ToState == model.StateStarted && !e.opts.SkipHealthChecks {
		return e.waitChecks(ctx, m)
	}
	return m, nil
}

// verifySuspend: suspended; flyd stopping it instead (it could not snapshot
// it) is a failure of its own, since its next start is a cold boot.
func verifySuspend(e *Engine, ctx context.Context, st *stepState, m *flyclient.Machine, newInstance string) (*flyclient.Machine, error) {
	if m.State == model.StateStopped {
		return m, verifyFailed(causeNoState, "machine stopped instead of suspending (flyd could not snapshot it): it is down as asked, but its next start is a cold boot")
	}
	return verifyState(e, ctx, st, m, newInstance)
}

// verifyDestroyed: destroyed (a machine gone from the API reads so).
func verifyDestroyed(_ *Engine, _ context.Context, _ *stepState, m *flyclient.Machine, _ string) (*flyclient.Machine, error) {
	if m.State != model.StateDestroyed {
		return m, verifyFailed(causeNoState, "machine is %s, not destroyed", m.State)
	}
	return m, nil
}

// verifyCordon: the machine's cordoned flag reads as the step set it.
func verifyCordon(want bool) func(*Engine, context.Context, *stepState, *flyclient.Machine, string) (*flyclient.Machine, error) {
	return func(_ *Engine, _ context.Context, _ *stepState, m *flyclient.Machine, _ string) (*flyclient.Machine, error) {
		if m.Cordoned != want {
			word := map[bool]string{true: "cordoned", false: "uncordoned"}[want]
			return m, verifyFailed(causeNoState, "machine is not %s after the API accepted it (cordoned: %v)", word, m.Cordoned)
		}
		return m, nil
	}
}

func stateIs(state string, states []string) bool {
	for _, s := range states {
		if s == state {
			return true
		}
	}
	return false
}

// Causes of verification failures: machines of a group failing for the
// same cause trip the group's breaker.
const (
	causeFailedBoot = "the machine does not boot (failed state)"
	causeChecks     = "health checks not passing"
	causeReverted   = "the update was reverted by flyd"
	causeNoState    = "the machine did not reach its state in time"
)

// maxFailedReads ends a wait after this many failed reads in a row.
const maxFailedReads = 3

// verifyError is a step that was carried out but whose machine did not end
// up as it should: permanent (retrying cannot fix an image) and counted by
// the breaker.
type verifyError struct {
	cause string
	err   error
}

func (v *verifyError) Error() string { return v.err.Error() }
func (v *verifyError) Unwrap() error { return v.err }

func verifyFailed(cause, format string, args ...any) error {
	return &verifyError{cause: cause, err: permanent(format, args...)}
}

func asVerify(err error, target **verifyError) bool { return errors.As(err, target) }

// waitChecks polls until every check passes, like flyctl's deploy: it
// counts the configured checks so a machine whose checks have not reported
// yet is not mistaken for one without checks. Failing checks are not
// retried: a restart or re-update will not fix an app that is unhealthy.
func (e *Engine) waitChecks(ctx context.Context, m *flyclient.Machine) (*flyclient.Machine, error) {
	configured := configuredChecks(m.Config)
	deadline := time.Now().Add(e.opts.WaitTimeout)
	// Start polling soon (checks often pass within a few seconds of a
	// start) and back off; Get allows 5/s per machine.
	poll := 50 * time.Millisecond
	failedReads := 0
	for {
		passing, total, worst := checkSummary(m)
		if total > 0 && passing == total && total >= configured {
			return m, nil
		}
		if total == 0 && configured == 0 {
			return m, nil
		}
		if time.Now().After(deadline) {
			return m, verifyFailed(causeChecks, "health checks not passing after %s: %s", e.opts.WaitTimeout, worst)
		}
		if err := sleep(ctx, poll); err != nil {
			return m, err
		}
		poll = min(poll*3/2, time.Second)
		err := e.call(ctx, "get", m.ID, func(ctx context.Context) error {
			next, err := e.api.Get(ctx, e.opts.App, m.ID)
			if err == nil {
				m = next
			}
			return err
		})
		switch {
		case err == nil:
			failedReads = 0
		case !retryable(err):
			return m, err
		default:
			// A run of failed reads is the API going away, not the
			// machine failing its checks: say so instead of waiting out
			// the whole timeout and blaming the machine.
			if failedReads++; failedReads >= maxFailedReads {
				return m, fmt.Errorf("%w (%d reads in a row failed while waiting for health checks; the machine's health is unknown)", err, failedReads)
			}
		}
	}
}

func configuredChecks(c *flyclient.MachineConfig) int {
	if c == nil {
		return 0
	}
	n := len(c.Checks)
	for _, s := range c.Services {
		n += len(s.Checks)
	}
	return n
}

func checkSummary(m *flyclient.Machine) (passing, total int, worst string) {
	var bad []string
	for _, c := range m.Checks {
		if c == nil {
			continue
		}
		total++
		if string(c.Status) == "passing" {
			passing++
		} else {
			bad = append(bad, fmt.Sprintf("%s %s %s", c.Name, c.Status, strings.TrimSpace(c.Output)))
		}
	}
	if total == 0 {
		return 0, 0, "no checks reported yet"
	}
	return passing, total, strings.Join(bad, "; ")
}
