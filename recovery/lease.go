package recovery

import (
	"context"
	"sync"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
)

// heldLease is our lease on one machine, refreshed in the background at a
// third of its TTL (as flyctl does) until released.
type heldLease struct {
	machineID string
	nonce     string
	stop      context.CancelFunc
	wg        sync.WaitGroup
	health    *apiHealth // the run's: no release is sent to an API known dead
}

type leaseDescKey struct{}

// withLeaseDescription makes the leases a run takes say which action of
// whose holds them (model.LeaseDescription).
func withLeaseDescription(ctx context.Context, d string) context.Context {
	return context.WithValue(ctx, leaseDescKey{}, d)
}

func leaseDescription(ctx context.Context) string {
	d, _ := ctx.Value(leaseDescKey{}).(string)
	return d
}

// acquireLease takes a short lease. A lease held by someone else comes back
// as a *flyclient.LeaseHeldError naming the owner: we report it and move on
// rather than wait, because the holder may be a deploy still running.
func (e *Engine) acquireLease(ctx context.Context, id string) (*heldLease, error) {
	var l *flyclient.Lease
	err := e.call(ctx, "lease", id, func(ctx context.Context) error {
		// Once sent, see the request through even if the run is cancelled:
		// a lease granted to a request we abandoned could not be released
		// and would block the machine for its TTL.
		// ...unless the run ends because the API is gone: nobody answers.
		lctx, cancel := healthFrom(ctx).bind(context.WithoutCancel(ctx))
		defer cancel()
		lctx, cancelT := context.WithTimeout(lctx, 15*time.Second)
		defer cancelT()
		var err error
		l, err = e.api.AcquireLeaseAs(lctx, e.opts.App, id, e.opts.LeaseTTL, leaseDescription(ctx))
		return err
	})
	if err != nil {
		return nil, err
	}
	h := e.holdLease(id, l.Nonce)
	h.health = healthFrom(ctx)
	if err := ctx.Err(); err != nil {
		e.releaseLease(h)
		return nil, err
	}
	return h, nil
}

// holdLease starts refreshing a lease we already have (also used for
// machines launched with a lease).
func (e *Engine) holdLease(id, nonce string) *heldLease {
	rctx, stop := context.WithCancel(context.Background())
	h := &heldLease{machineID: id, nonce: nonce, stop: stop}
	every := max((e.opts.LeaseTTL-time.Second)/3, 200*time.Millisecond)
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		// A refresher that panics stops refreshing: the lease then lapses
		// and the step's next call fails on the nonce, which it reports.
		defer recoverAs("refreshing a lease", func(error) {})
		for {
			if sleep(rctx, every) != nil {
				return
			}
			err := e.call(rctx, "lease", id, func(ctx context.Context) error {
				_, err := e.api.RefreshLease(ctx, e.opts.App, id, nonce, e.opts.LeaseTTL)
				return err
			})
			// A lost lease ends refreshing; the step's next mutating call
			// then fails on the nonce and reports it.
			if err != nil && rctx.Err() == nil && !retryable(err) {
				return
			}
		}
	}()
	return h
}

// release stops the refresher and gives the lease back, even when the run
// was cancelled: a crashed or interrupted flyrescue must not block a machine
// for the lease's TTL if it can help it.
func (e *Engine) releaseLease(h *heldLease) {
	if h == nil {
		return
	}
	h.stop()
	h.wg.Wait()
	if h.health.isDown() {
		return // it expires within its short TTL; asking a dead API only delays the exit
	}
	bctx, unbind := h.health.bind(context.Background())
	defer unbind()
	ctx, cancel := context.WithTimeout(bctx, 5*time.Second)
	defer cancel()
	for attempt := 1; attempt <= 3; attempt++ {
		err := e.call(ctx, "release_lease", h.machineID, func(ctx context.Context) error {
			return e.api.ReleaseLease(ctx, e.opts.App, h.machineID, h.nonce)
		})
		if err == nil || !retryable(err) {
			return
		}
		if sleep(ctx, e.backoff(attempt)/4) != nil {
			return
		}
	}
}
