package recovery

import (
	"context"
	"math"
	"sync"
	"time"
)

// tokenBucket is a client-side request budget, so a wide run stays under
// the API's rate limits instead of discovering them through 429s. On a 429
// it halves its rate for a while (pace down) and then creeps back up.
type tokenBucket struct {
	mu       sync.Mutex
	rate     float64 // tokens per second now
	maxRate  float64
	burst    float64
	tokens   float64
	last     time.Time
	lastSlow time.Time
}

func newTokenBucket(perSecond float64, burst int) *tokenBucket {
	return &tokenBucket{rate: perSecond, maxRate: perSecond, burst: float64(burst), tokens: float64(burst), last: time.Now()}
}

// Wait takes one token, sleeping until one is available or ctx ends.
func (b *tokenBucket) Wait(ctx context.Context) error {
	for {
		b.mu.Lock()
		now := time.Now()
		b.refill(now)
		if b.tokens >= 1 {
			b.tokens--
			b.mu.Unlock()
			return nil
		}
		need := time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
		b.mu.Unlock()
		t := time.NewTimer(need)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (b *tokenBucket) refill(now time.Time) {
	dt := now.Sub(b.last).Seconds()
	b.last = now
	// Recover 10% of the full rate per second since the last slow-down.
	if b.rate < b.maxRate && now.Sub(b.lastSlow) > time.Second {
		b.rate = math.Min(b.maxRate, b.rate+b.maxRate*0.1*dt)
	}
	b.tokens = math.Min(b.burst, b.tokens+dt*b.rate)
}

// SlowDown is called on a 429: halve the rate (at most once per 500ms, so a
// burst of 429s from one wave counts once) and drop the saved burst.
func (b *tokenBucket) SlowDown() {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	if now.Sub(b.lastSlow) < 500*time.Millisecond {
		return
	}
	b.lastSlow = now
	b.rate = math.Max(b.maxRate/16, b.rate/2)
	b.tokens = 0
}

// Rate is the current rate (tests, progress display).
func (b *tokenBucket) Rate() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rate
}

// pacer mirrors the Machines API's documented limits client-side: 1 request
// per second, burst 3, per action and machine (per app for list and
// create); Get 5/s, burst 10. Waiting here costs nothing the server would not
// have refused anyway, and keeps 429s (and their backoff) rare.
type pacer struct {
	on      bool
	mu      sync.Mutex
	buckets map[string]*paceBucket
}

type paceBucket struct {
	tokens float64
	last   time.Time
}

func newPacer(on bool) *pacer { return &pacer{on: on, buckets: map[string]*paceBucket{}} }

// Slightly under the server's numbers, so skew and latency do not make our
// "allowed" the server's "too many".
func paceLimits(action string) (rate, burst float64) {
	if action == "get" {
		return 4.5, 8
	}
	return 0.9, 2
}

// Wait blocks until a request of action on scope (machine ID or app) may go.
func (p *pacer) Wait(ctx context.Context, action, scope string) error {
	if !p.on || action == "" {
		return nil
	}
	rate, burst := paceLimits(action)
	key := action + "\x00" + scope
	for {
		p.mu.Lock()
		now := time.Now()
		b := p.buckets[key]
		if b == nil {
			b = &paceBucket{tokens: burst, last: now}
			p.buckets[key] = b
		}
		b.tokens = math.Min(burst, b.tokens+now.Sub(b.last).Seconds()*rate)
		b.last = now
		if b.tokens >= 1 {
			b.tokens--
			p.mu.Unlock()
			return nil
		}
		need := time.Duration((1 - b.tokens) / rate * float64(time.Second))
		p.mu.Unlock()
		if err := sleep(ctx, need); err != nil {
			return err
		}
	}
}
