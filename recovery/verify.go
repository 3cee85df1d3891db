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

// waitStates are the states a step waits for.
func waitStates(s Step) []string {
	switch s.ToState {
	case model.StateStopped:
		return []string{model.StateStopped, model.StateSuspended}
	case model.StateDestroyed:
		return []string{model.StateDestroyed}
	}
	return []string{model.StateStarted}
}

// waitFor waits for the step's target state and returns the machine as it
// then is. A destroyed machine may be gone altogether: that counts.
func (e *Engine) waitFor(ctx context.Context, id string, s Step) (*flyclient.Machine, error) {
	var m *flyclient.Machine
	err := e.call(ctx, "wait", id, func(ctx context.Context) error {
		var err error
		m, err = e.api.WaitFor(ctx, e.opts.App, id, waitStates(s), "", e.opts.WaitTimeout)
		return err
	})
	if s.ToState == model.StateDestroyed && errors.Is(err, flyclient.ErrNotFound) {
		return &flyclient.Machine{ID: id, State: model.StateDestroyed}, nil
	}
	return m, err
}

// verify checks live state, not the API's word: an update must have changed
// both the image and the instance (flyd can revert a failed update and the
// machine still shows started), and a started machine must pass its checks.
func (e *Engine) verify(ctx context.Context, st *stepState, m *flyclient.Machine, newInstance string) (*flyclient.Machine, error) {
	s := st.step
	if m == nil {
		return nil, fmt.Errorf("machine %s: no state after waiting", st.id())
	}
	if s.ToState != model.StateDestroyed && m.State == model.StateFailed {
		return m, permanent("machine entered the failed state (does the image boot? see `fly logs -i %s`)", m.ID)
	}
	switch s.Op {
	case OpUpdate:
		before := st.before
		img := configImage(m)
		if !sameImage(img, s.ToImage) || (before != nil && m.InstanceID == before.InstanceID) {
			return m, permanent("the update was reverted: machine is %s on %s, instance %s unchanged (flyd put the old version back; check the image)",
				m.State, model.ImageTag(img), m.InstanceID)
		}
		if newInstance != "" && m.InstanceID != newInstance {
			return m, permanent("machine runs instance %s, not the %s our update created (changed by someone else?)", m.InstanceID, newInstance)
		}
	case OpDestroy:
		if m.State != model.StateDestroyed {
			return m, fmt.Errorf("machine is %s, not destroyed", m.State)
		}
		return m, nil
	}
	if !stateIs(m.State, waitStates(s)) {
		return m, &flyclient.Error{Kind: flyclient.ErrTimeout, Op: string(s.Op), App: e.opts.App, MachineID: m.ID,
			Message: "machine is " + m.State + ", not " + s.ToState}
	}
	if s.ToState == model.StateStarted && !e.opts.SkipHealthChecks {
		return e.waitChecks(ctx, m)
	}
	return m, nil
}

func stateIs(state string, states []string) bool {
	for _, s := range states {
		if s == state {
			return true
		}
	}
	return false
}

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
	for {
		passing, total, worst := checkSummary(m)
		if total > 0 && passing == total && total >= configured {
			return m, nil
		}
		if total == 0 && configured == 0 {
			return m, nil
		}
		if time.Now().After(deadline) {
			return m, permanent("health checks not passing after %s: %s", e.opts.WaitTimeout, worst)
		}
		if err := sleep(ctx, poll); err != nil {
			return m, err
		}
		poll = min(poll*3/2, time.Second)
		if err := e.call(ctx, "get", m.ID, func(ctx context.Context) error {
			next, err := e.api.Get(ctx, e.opts.App, m.ID)
			if err == nil {
				m = next
			}
			return err
		}); err != nil && !retryable(err) {
			return m, err
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
