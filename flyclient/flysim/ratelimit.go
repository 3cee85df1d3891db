package flysim

import (
	"sync"
	"time"
)

// limiter implements the documented Machines API limits with token buckets
// in real time: 1 req/s burst 3 per action per machine (or per app for
// app-scoped actions such as list and create); Get Machine 5 req/s burst 10.
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
	if action == "get" {
		rate, burst = 5, 10
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
