package recovery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
)

var (
	// ErrNothingToDo: an undo or resume found nothing left to do.
	ErrNothingToDo = errors.New("nothing to do")
	errBudgetSpent = errors.New("the group's unavailability budget is used up by machines that failed in this run; stopping before more go down")
	errInterrupted = errors.New("interrupted")
)

// errHalted: the step's group halted (its breaker tripped) before it ran.
type errHalted struct{ why string }

func (e *errHalted) Error() string { return "halted: " + e.why }

// permanentError is a failure retrying cannot fix: a bad image, failing
// checks, a revert, a held lease.
type permanentError struct{ err error }

func (p *permanentError) Error() string { return p.err.Error() }
func (p *permanentError) Unwrap() error { return p.err }

func permanent(format string, args ...any) error {
	return &permanentError{err: fmt.Errorf(format, args...)}
}

// retryable says whether another attempt may succeed. Rate limits, 5xx,
// timeouts, a machine busy replacing and network failures may; validation,
// authorization, held leases, bad images and failing checks may not.
func retryable(err error) bool {
	var p *permanentError
	if err == nil || errors.As(err, &p) {
		return false
	}
	var h *errHalted
	if errors.Is(err, context.Canceled) || errors.Is(err, errInterrupted) || errors.Is(err, errBudgetSpent) || errors.As(err, &h) {
		return false
	}
	return flyclient.IsTransient(err)
}

// retry is the engine's retry policy: flyrescue's one policy, with the
// engine's bounds and jitter.
func (e *Engine) retry() flyclient.RetryPolicy {
	return flyclient.RetryPolicy{Attempts: e.opts.Retries + 1, Base: e.opts.BackoffBase, Max: e.opts.BackoffMax, Jitter: true}
}

// backoff is the pause before a step's next attempt.
func (e *Engine) backoff(attempt int) time.Duration { return e.retry().Delay(attempt) }

// call runs one API request under the per-machine pacer and the global
// rate limiter, and slows the
// limiter down when the API says 429 anyway.
func (e *Engine) call(ctx context.Context, action, scope string, fn func(context.Context) error) error {
	if err := e.pacer.Wait(ctx, action, scope); err != nil {
		return err
	}
	if err := e.limiter.Wait(ctx); err != nil {
		return err
	}
	err := fn(ctx)
	if errors.Is(err, flyclient.ErrRateLimited) {
		e.limiter.SlowDown()
	}
	if h := healthFrom(ctx); h != nil {
		h.observe(err)
	}
	return err
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retrying runs fn until it succeeds, fails for good, or the attempts run
// out (used for reads outside a step, such as the planning List). An API
// that has given no answer for APIDownAfter is not asked again: each try
// against a hanging API costs a whole request deadline.
func (e *Engine) retrying(ctx context.Context, fn func() error) error {
	began := time.Now()
	return e.retry().Do(ctx, fn, func(err error) bool {
		return retryable(err) && !(errors.Is(err, flyclient.ErrUnreachable) && time.Since(began) >= e.opts.APIDownAfter)
	})
}
