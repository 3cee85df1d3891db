package flyclient

import (
	"context"
	"math/rand/v2"
	"time"
)

// RetryPolicy is flyrescue's one way of retrying a call that failed
// transiently: exponential delays from Base, doubling up to Max, for at most
// Attempts tries in all (0: until ctx ends). With Jitter each delay is drawn
// from its upper half, so hundreds of machines that failed together do not
// retry together. The dashboard's polls, `status`, the preflight, waits and
// the recovery engine all retry through it.
type RetryPolicy struct {
	Attempts int
	Base     time.Duration
	Max      time.Duration
	Jitter   bool
}

// The policies in use, named for where they apply.
var (
	// SurveyRetry: one reading of the fleet (status). Its 1.5 s of waiting
	// outlasts a 429 from the list endpoint (about one a second per app).
	SurveyRetry = RetryPolicy{Attempts: 3, Base: 500 * time.Millisecond, Max: 2 * time.Second}
	// PreflightRetry: the app lookup before the dashboard takes the screen.
	PreflightRetry = RetryPolicy{Attempts: 5, Base: 300 * time.Millisecond, Max: 3 * time.Second}
	// WaitRetry: between server-side waits that failed transiently.
	WaitRetry = RetryPolicy{Base: 200 * time.Millisecond, Max: 2 * time.Second}
)

// Delay is the pause before try attempt+1 (attempt counts from 1).
func (p RetryPolicy) Delay(attempt int) time.Duration {
	d := p.Base << min(max(attempt-1, 0), 16)
	if d > p.Max || d <= 0 {
		d = p.Max
	}
	if p.Jitter && d > 1 {
		d = d/2 + rand.N(d/2+1)
	}
	return d
}

// Do calls call until it succeeds, fails with an error retryable rejects,
// the attempts run out, or ctx ends (then the last error is returned).
// A nil retryable means IsTransient.
func (p RetryPolicy) Do(ctx context.Context, call func() error, retryable func(error) bool) error {
	if retryable == nil {
		retryable = IsTransient
	}
	for attempt := 1; ; attempt++ {
		err := call()
		if err == nil || !retryable(err) || (p.Attempts > 0 && attempt >= p.Attempts) {
			return err
		}
		t := time.NewTimer(p.Delay(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}
