package flyclient

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	fly "github.com/superfly/fly-go"
)

// Lease is an exclusive lock on changing one machine.
type Lease struct {
	Nonce       string
	Owner       string
	Description string
	Version     string // the machine's instance ID when the lease was taken
	ExpiresAt   time.Time
}

func leaseFrom(l *fly.MachineLease) *Lease {
	if l == nil || l.Data == nil {
		return nil
	}
	return &Lease{
		Nonce: l.Data.Nonce, Owner: l.Data.Owner, Version: l.Data.Version,
		ExpiresAt: time.Unix(l.Data.ExpiresAt, 0),
	}
}

// acquireAttemptTimeout bounds fly-go's AcquireLease, which otherwise retries
// every error, a held lease included, for a whole minute.
const acquireAttemptTimeout = 4 * time.Second

// AcquireLease takes a lease for ttl. A lease someone else holds fails at once
// with a *LeaseHeldError naming them.
func (c *Client) AcquireLease(ctx context.Context, app, id string, ttl time.Duration) (*Lease, error) {
	if held, err := c.FindLease(ctx, app, id); err != nil {
		return nil, err
	} else if held != nil && held.ExpiresAt.After(time.Now()) {
		return nil, &LeaseHeldError{MachineID: id, Owner: held.Owner, ExpiresAt: held.ExpiresAt}
	}
	secs := max(1, int(ttl.Seconds()))
	bctx, bcancel := c.bound(ctx, machinesAPI, 0)
	defer bcancel()
	actx, cancel := context.WithTimeout(bctx, acquireAttemptTimeout)
	defer cancel()
	l, err := c.flaps.AcquireLease(actx, app, id, &secs)
	if err == nil {
		if lease := leaseFrom(l); lease != nil && lease.Nonce != "" {
			return lease, nil
		}
		return nil, &Error{Kind: ErrServer, Op: "lease", App: app, MachineID: id, Message: "the API granted a lease without a nonce"}
	}
	if ctx.Err() != nil {
		return nil, wrap(ctx.Err(), "lease", app, id)
	}
	if bctx.Err() != nil {
		return nil, finish(bctx, err, "lease", app, id)
	}
	// Someone may have taken it between our look and our request; the
	// timeout swallowed the 409's text, so look again to name them.
	if held, ferr := c.FindLease(ctx, app, id); ferr == nil && held != nil {
		return nil, &LeaseHeldError{MachineID: id, Owner: held.Owner, ExpiresAt: held.ExpiresAt}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return nil, &Error{Kind: ErrTimeout, Op: "lease", App: app, MachineID: id, Message: "could not get a lease in time", Err: err}
	}
	werr := wrap(err, "lease", app, id)
	if e, ok := werr.(*Error); ok && e.Kind == ErrLeaseHeld {
		return nil, &LeaseHeldError{MachineID: id, Owner: ownerFromMessage(e.Message)}
	}
	return nil, werr
}

// ownerFromMessage digs the owner out of "lease currently held by X, expires at ...".
func ownerFromMessage(msg string) string {
	_, after, ok := strings.Cut(msg, "held by ")
	if !ok {
		return ""
	}
	owner, _, _ := strings.Cut(after, ",")
	return strings.TrimSpace(owner)
}

// RefreshLease extends a lease we hold.
func (c *Client) RefreshLease(ctx context.Context, app, id, nonce string, ttl time.Duration) (*Lease, error) {
	secs := max(1, int(ttl.Seconds()))
	ctx, cancel := c.bound(ctx, machinesAPI, 0)
	defer cancel()
	l, err := c.flaps.RefreshLease(ctx, app, id, &secs, nonce)
	if err != nil {
		return nil, finish(ctx, err, "refresh lease on", app, id)
	}
	lease := leaseFrom(l)
	if lease == nil || lease.Nonce != nonce {
		return nil, &Error{Kind: ErrLeaseHeld, Op: "refresh lease on", App: app, MachineID: id, Message: "the lease was lost"}
	}
	return lease, nil
}

// ReleaseLease gives a lease back. A lease that already expired is not an
// error.
func (c *Client) ReleaseLease(ctx context.Context, app, id, nonce string) error {
	ctx, cancel := c.bound(ctx, machinesAPI, 0)
	defer cancel()
	err := finish(ctx, c.flaps.ReleaseLease(ctx, app, id, nonce), "release lease on", app, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// FindLease returns the machine's current lease, or nil when it has none.
func (c *Client) FindLease(ctx context.Context, app, id string) (*Lease, error) {
	ctx, cancel := c.bound(ctx, machinesAPI, 0)
	defer cancel()
	l, err := c.flaps.FindLease(ctx, app, id)
	if err != nil {
		werr := finish(ctx, err, "look up lease on", app, id)
		var e *Error
		if errors.As(werr, &e) && e.Kind == ErrNotFound && strings.Contains(strings.ToLower(e.Message), "lease") {
			return nil, nil
		}
		return nil, werr
	}
	return leaseFrom(l), nil
}

// String describes a lease without its nonce, which is a secret.
func (l *Lease) String() string {
	return fmt.Sprintf("lease by %s until %s", l.Owner, l.ExpiresAt.UTC().Format(time.RFC3339))
}
