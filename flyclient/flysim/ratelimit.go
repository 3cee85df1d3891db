package flysim

import (
	"sync"
	"time"
)

// limiter implements the documented Machines API limits with token buckets
// in real time: 1 req/s burst 3 per action per machine (or per app for
// app-scoped actions such as list); Get Machine 5 req/s burst 10; create
// (per app) 5 req/s burst 20, see allow.
type limiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter() *limiter { return &limiter{buckets: map[string]*bucket{}} }

// allow takes a token for (action, scope), reporting false when exhausted.
func (l *limiter) allow(action, scope string, now time.Time) bool {
	rate, burst := 1.0, 3.0
	switch action {
	case "get":
		rate, burst = 5, 10
	case "create":
		// UNVERIFIED: the docs do not say how creates (no machine ID yet)
		// are scoped. flyctl's `scale count` launches 5 at a time and never
		// retries a 429 on a launch, and scaling a group back by a dozen
		// machines works on Fly; 1/s burst 3 per app would fail it at the
		// fourth. So creates get room for a runbook's scale-back.
		rate, burst = 5, 20
	}
	key := action + "\x00" + scope
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: burst, last: now}
		l.buckets[key] = b
	}
	b.tokens += now.Sub(b.last).Seconds() * rate
	if b.tokens > burst {
		b.tokens = burst
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
