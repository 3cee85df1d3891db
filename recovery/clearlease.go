package recovery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
)

// Clearing a lease someone else holds lets anyone change a machine its
// holder may still be working on: it is for leases whose holder is gone (a
// deploy that died holding day-long leases). The plan names every holder;
// a step clears only the very lease the plan saw (same nonce, which the
// journal keeps as a hash, never in the clear), so a holder that is alive
// and renewed or re-took it is left alone.

// leaseRef identifies a lease without holding its nonce.
func leaseRef(nonce string) string {
	sum := sha256.Sum256([]byte(nonce))
	return hex.EncodeToString(sum[:6])
}

// PlanClearLeases plans clearing the leases others hold on the selection.
func (e *Engine) PlanClearLeases(ctx context.Context, sel Selector) (*Plan, error) {
	f, rows, p, err := e.planSelection(ctx, KindClearLease, sel)
	if err != nil {
		return nil, err
	}
	for _, i := range rows {
		mm := f.snap.Machines[i]
		s := Step{MachineID: mm.ID, Name: mm.Name, Op: OpClearLease, Region: mm.Region, Group: mm.Group,
			FromImage: mm.Image, ToImage: mm.Image, FromState: mm.State, ToState: mm.State, FromInstanceID: mm.InstanceID}
		var l *flyclient.Lease
		err := e.call(ctx, "get_lease", mm.ID, func(ctx context.Context) error {
			var err error
			l, err = e.api.FindLease(ctx, e.opts.App, mm.ID)
			return err
		})
		switch {
		case err != nil:
			return nil, err
		case l == nil || !l.ExpiresAt.Add(time.Second).After(time.Now()):
			s.Reason = "no lease on it"
			p.Skipped = append(p.Skipped, s)
			continue
		case (model.Lease{Owner: l.Owner, Description: l.Description}).Ours(e.opts.Operator):
			s.Reason = "the lease is ours (" + l.Description + "): it is released when its action ends"
			p.Skipped = append(p.Skipped, s)
			continue
		}
		s.LeaseRef = leaseRef(l.Nonce)
		s.Reason = fmt.Sprintf("held by %s until %s", holderText(l), l.ExpiresAt.UTC().Format(time.RFC3339))
		p.Steps = append(p.Steps, s)
	}
	p.Notes = append(p.Notes, "clearing a lease lets anyone change a machine its holder may still be working on: clear only leases whose holder is gone (a stalled deploy, a crashed script); a lease that changed since this plan (its holder is alive) is left alone")
	return p.sorted(), nil
}

// attemptClearLease releases the lease the plan saw, if it is still there.
func (e *Engine) attemptClearLease(ctx context.Context, st *stepState, run *Run) error {
	s := st.step
	var l *flyclient.Lease
	if err := e.call(ctx, "get_lease", s.MachineID, func(ctx context.Context) error {
		var err error
		l, err = e.api.FindLease(ctx, e.opts.App, s.MachineID)
		return err
	}); err != nil {
		return err
	}
	switch {
	case l == nil && st.sent:
		return nil // our release went through; its answer was lost
	case l == nil:
		return &errSkip{"the lease is gone already"}
	case leaseRef(l.Nonce) != s.LeaseRef:
		if st.sent {
			return nil // cleared, and someone took a new lease since
		}
		return &errSkip{fmt.Sprintf("the lease changed since planning (now %s): its holder is active, left alone", holderText(l))}
	}
	if !st.intent {
		if err := e.writeIntent(run, st, nil, ""); err != nil {
			return err
		}
	}
	e.emit(run, st, PhaseActing)
	st.sent = true
	if err := e.call(ctx, "release_lease", s.MachineID, func(ctx context.Context) error {
		return e.api.ReleaseLease(ctx, e.opts.App, s.MachineID, l.Nonce)
	}); err != nil {
		return err
	}
	e.emit(run, st, PhaseVerifying)
	var after *flyclient.Lease
	if err := e.call(ctx, "get_lease", s.MachineID, func(ctx context.Context) error {
		var err error
		after, err = e.api.FindLease(ctx, e.opts.App, s.MachineID)
		return err
	}); err != nil {
		return err
	}
	if after != nil && leaseRef(after.Nonce) == s.LeaseRef {
		return verifyFailed(causeNoState, "the lease is still there after it was released")
	}
	return nil
}
