package flyclient

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestRetryPolicyDelays(t *testing.T) {
	p := RetryPolicy{Base: 100 * time.Millisecond, Max: time.Second}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if d := p.Delay(i + 1); d != w*time.Millisecond {
			t.Errorf("Delay(%d) = %s, want %s", i+1, d, w*time.Millisecond)
		}
	}
	p.Jitter = true
	for attempt := 1; attempt < 40; attempt++ {
		full := RetryPolicy{Base: p.Base, Max: p.Max}.Delay(attempt)
		if d := p.Delay(attempt); d < full/2 || d > full {
			t.Errorf("jittered Delay(%d) = %s outside [%s, %s]", attempt, d, full/2, full)
		}
	}
}

func TestRetryPolicyDo(t *testing.T) {
	transient := &Error{Kind: ErrServer, Message: "502"}
	p := RetryPolicy{Attempts: 3, Base: time.Millisecond, Max: time.Millisecond}
	calls := 0
	err := p.Do(context.Background(), func() error { calls++; return transient }, nil)
	if calls != 3 || !errors.Is(err, ErrServer) {
		t.Errorf("transient: %d calls, %v; want 3 and the last error", calls, err)
	}
	calls = 0
	err = p.Do(context.Background(), func() error { calls++; return &Error{Kind: ErrInvalid} }, nil)
	if calls != 1 || !errors.Is(err, ErrInvalid) {
		t.Errorf("permanent: %d calls, %v; want 1", calls, err)
	}
	calls = 0
	if err := p.Do(context.Background(), func() error {
		if calls++; calls < 2 {
			return transient
		}
		return nil
	}, nil); err != nil || calls != 2 {
		t.Errorf("recovering: %d calls, %v", calls, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls = 0
	slow := RetryPolicy{Base: time.Hour, Max: time.Hour}
	if err := slow.Do(ctx, func() error { calls++; return transient }, nil); calls != 1 || err == nil {
		t.Errorf("cancelled: %d calls, %v", calls, err)
	}
}
