package recovery

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
)

// apiHealth notices the API going away during a run: when no request has
// had any answer (even an error status) for downAfter and one more fails
// without an answer, it calls down once. Lost answers on a live API do not
// trip it: other requests keep being answered.
type apiHealth struct {
	mu         sync.Mutex
	downAfter  time.Duration
	lastAnswer time.Time
	tripped    bool
	gone       chan struct{} // closed when tripped
	down       func(error)
}

func newAPIHealth(downAfter time.Duration, down func(error)) *apiHealth {
	return &apiHealth{downAfter: downAfter, lastAnswer: time.Now(), down: down, gone: make(chan struct{})}
}

// bind returns ctx, also cancelled when the API is declared gone: for calls
// made outside the run's context (lease acquisition and release), which
// must not keep the run waiting on a dead API.
func (h *apiHealth) bind(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	if h == nil {
		return ctx, cancel
	}
	ctx = withHealth(ctx, h)
	go func() {
		select {
		case <-h.gone:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

func (h *apiHealth) observe(err error) {
	var fe *flyclient.Error
	answered := err == nil || (errors.As(err, &fe) && fe.Status != 0) || errors.Is(err, flyclient.ErrLeaseHeld)
	h.mu.Lock()
	now := time.Now()
	if answered {
		h.lastAnswer = now
		h.mu.Unlock()
		return
	}
	// A tenth of slack: the request that ran out its deadline may have been
	// sent just before the last answer came in.
	if !errors.Is(err, flyclient.ErrUnreachable) || h.tripped || now.Sub(h.lastAnswer) < h.downAfter*9/10 {
		h.mu.Unlock()
		return
	}
	h.tripped = true
	close(h.gone)
	silent := now.Sub(h.lastAnswer).Round(time.Second)
	h.mu.Unlock()
	h.down(&flyclient.Error{Kind: flyclient.ErrUnreachable, Op: "run", Err: err,
		Message: fmt.Sprintf("the Machines API gave no answer for %s (last: %v); stopped, and what was in flight is recorded interrupted: run `flyrescue resume` when the API is back", silent, err)})
}

// isDown reports whether the tracker has declared the API gone (nil: no).
func (h *apiHealth) isDown() bool {
	if h == nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.tripped
}

type healthKey struct{}

func withHealth(ctx context.Context, h *apiHealth) context.Context {
	return context.WithValue(ctx, healthKey{}, h)
}

func healthFrom(ctx context.Context) *apiHealth {
	h, _ := ctx.Value(healthKey{}).(*apiHealth)
	return h
}
