package flyclient

import (
	"context"
	"errors"
	"time"

	"github.com/superfly/fly-go/flaps"
)

// WaitOptions are one server-side wait.
type WaitOptions struct {
	States     []string // default started; "settled" means any non-transient state
	InstanceID string   // wait on this version of the machine
	Timeout    time.Duration
}

// maxServerWait is the longest the API lets one wait call block.
const maxServerWait = 60 * time.Second

// Wait blocks on the API until the machine reaches one of the states or the
// timeout (at most 60 s) passes; a timeout is ErrTimeout.
func (c *Client) Wait(ctx context.Context, app, id string, opts WaitOptions) error {
	serverWait := min(max(opts.Timeout, time.Second), maxServerWait)
	wo := []flaps.WaitOption{flaps.WithWaitTimeout(serverWait)}
	if len(opts.States) > 0 {
		wo = append(wo, flaps.WithWaitStates(opts.States...))
	}
	if opts.InstanceID != "" {
		wo = append(wo, flaps.WithWaitVersion(opts.InstanceID))
	}
	// The server may hold the request for serverWait before it answers.
	ctx, cancel := c.bound(ctx, machinesAPI, serverWait)
	defer cancel()
	return finish(ctx, c.flaps.Wait(ctx, app, id, wo...), "wait for", app, id)
}

// WaitFor waits up to total for the machine to reach one of states, in
// server-side slices, riding out transient errors, and returns the machine as
// it then is. A machine that lands in "failed" (when not waited for) ends the
// wait early with the machine and no error: the caller judges it.
func (c *Client) WaitFor(ctx context.Context, app, id string, states []string, instanceID string, total time.Duration) (*Machine, error) {
	deadline := time.Now().Add(total)
	failures := 0
	for {
		left := time.Until(deadline)
		if left <= 0 {
			m, err := c.Get(ctx, app, id)
			if err != nil {
				return nil, err
			}
			return m, &Error{Kind: ErrTimeout, Op: "wait for", App: app, MachineID: id,
				Message: "machine is " + m.State + ", not " + joinStates(states) + ", after " + total.String()}
		}
		err := c.Wait(ctx, app, id, WaitOptions{States: states, InstanceID: instanceID, Timeout: min(left, maxServerWait)})
		switch {
		case err == nil:
			return c.Get(ctx, app, id)
		case errors.Is(err, ErrTimeout):
			// The machine may have settled somewhere we did not wait for.
			m, gerr := c.Get(ctx, app, id)
			if gerr == nil && m.State == "failed" && !contains(states, "failed") {
				return m, nil
			}
		case IsTransient(err):
			failures++
			select {
			case <-ctx.Done():
				return nil, wrap(ctx.Err(), "wait for", app, id)
			case <-time.After(WaitRetry.Delay(failures)):
			}
		default:
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, wrap(ctx.Err(), "wait for", app, id)
		}
	}
}

func contains(xs []string, x string) bool {
	for _, s := range xs {
		if s == x {
			return true
		}
	}
	return false
}

func joinStates(states []string) string {
	if len(states) == 0 {
		return "started"
	}
	s := states[0]
	for _, x := range states[1:] {
		s += "|" + x
	}
	return s
}
