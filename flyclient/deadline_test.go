package flyclient_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
)

// hangingServer accepts connections on loopback, reads what is sent, and
// never answers.
func hangingServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() { _, _ = c.Read(make([]byte, 64<<10)) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}

// drippingServer answers status with headers at once, then a JSON-looking
// body one byte every 50ms that never ends.
func drippingServer(t *testing.T, status int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.(http.Flusher).Flush()
		for i := 0; ; i++ {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
			b := byte(' ')
			if i == 0 {
				b = '['
			}
			if _, err := w.Write([]byte{b}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	}))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv.URL
}

// Every call against an API that never (completely) answers ends within
// about its deadline with ErrUnreachable, not ErrTimeout: fly-go's own
// retries included.
func TestEveryCallHasADeadline(t *testing.T) {
	const deadline = 400 * time.Millisecond
	servers := map[string]func(*testing.T) string{
		"accepts, never answers":         hangingServer,
		"headers then a dripping body":   func(t *testing.T) string { return drippingServer(t, http.StatusOK) },
		"503 (retried) with a drip body": func(t *testing.T) string { return drippingServer(t, http.StatusServiceUnavailable) },
	}
	// stop, destroy and wait decode no body: a 200 is their whole answer,
	// so against a 200 with a dripping body they succeed, promptly.
	noBody := map[string]bool{"stop (body)": true, "destroy": true, "wait (held 1s by the server)": true,
		"suspend": true, "cordon": true, "uncordon": true}
	calls := map[string]struct {
		extra time.Duration // what the server may hold the call for on top
		call  func(context.Context, *flyclient.Client) error
	}{
		"list": {0, func(ctx context.Context, c *flyclient.Client) error {
			_, err := c.List(ctx, "shop", flyclient.ListOptions{})
			return err
		}},
		"get": {0, func(ctx context.Context, c *flyclient.Client) error { _, err := c.Get(ctx, "shop", "m1"); return err }},
		"update (body)": {0, func(ctx context.Context, c *flyclient.Client) error {
			_, err := c.Update(ctx, "shop", flyclient.UpdateInput{ID: "m1", Config: &flyclient.MachineConfig{Image: "x:1"}})
			return err
		}},
		"stop (body)": {0, func(ctx context.Context, c *flyclient.Client) error { return c.Stop(ctx, "shop", "m1", "", 0) }},
		"destroy":     {0, func(ctx context.Context, c *flyclient.Client) error { return c.Destroy(ctx, "shop", "m1", "", true) }},
		"suspend":     {0, func(ctx context.Context, c *flyclient.Client) error { return c.Suspend(ctx, "shop", "m1", "") }},
		"cordon":      {0, func(ctx context.Context, c *flyclient.Client) error { return c.Cordon(ctx, "shop", "m1", "") }},
		"uncordon":    {0, func(ctx context.Context, c *flyclient.Client) error { return c.Uncordon(ctx, "shop", "m1", "") }},
		"find lease": {0, func(ctx context.Context, c *flyclient.Client) error {
			_, err := c.FindLease(ctx, "shop", "m1")
			return err
		}},
		"acquire lease": {0, func(ctx context.Context, c *flyclient.Client) error {
			_, err := c.AcquireLease(ctx, "shop", "m1", time.Minute)
			return err
		}},
		"app": {0, func(ctx context.Context, c *flyclient.Client) error { _, err := c.App(ctx, "shop"); return err }},
		"releases (GraphQL)": {0, func(ctx context.Context, c *flyclient.Client) error {
			_, err := c.Releases(ctx, "shop", 5)
			return err
		}},
		"wait (held 1s by the server)": {time.Second, func(ctx context.Context, c *flyclient.Client) error {
			return c.Wait(ctx, "shop", "m1", flyclient.WaitOptions{Timeout: time.Second})
		}},
	}
	for sname, start := range servers {
		answers200 := strings.HasPrefix(sname, "headers")
		answers503 := strings.HasPrefix(sname, "503")
		t.Run(sname, func(t *testing.T) {
			url := start(t)
			c, err := flyclient.New(context.Background(), flyclient.Config{
				Token: "test-token", FlapsBaseURL: url, APIBaseURL: url, RequestTimeout: deadline,
			})
			if err != nil {
				t.Fatal(err)
			}
			for cname, tc := range calls {
				// fly-go retries a 503 with its JSON body racily (flygo-api.md
				// 0.8: rehttp and otelhttp share the body; the race detector
				// flags it, and the retry goes out empty), so body-bearing
				// calls are not sent 503s.
				if answers503 && strings.Contains(cname, "(body)") {
					continue
				}
				t.Run(cname, func(t *testing.T) {
					t.Parallel()
					limit := deadline + tc.extra
					began := time.Now()
					done := make(chan error, 1)
					go func() { done <- tc.call(context.Background(), c) }()
					var err error
					select {
					case err = <-done:
					case <-time.After(20 * limit):
						t.Fatalf("still waiting after %s: the call has no deadline", 20*limit)
					}
					took := time.Since(began)
					if took > 2*limit {
						t.Errorf("ended after %s, more than twice its %s deadline", took, limit)
					}
					if err == nil && answers200 && noBody[cname] {
						return
					}
					if !errors.Is(err, flyclient.ErrUnreachable) || errors.Is(err, flyclient.ErrTimeout) {
						t.Fatalf("want ErrUnreachable (and not ErrTimeout), got %v", err)
					}
					if !strings.Contains(err.Error(), "no answer from the") || !strings.Contains(err.Error(), "within "+limit.String()) {
						t.Errorf("error does not say no answer came within %s: %v", limit, err)
					}
				})
			}
		})
	}
}

// WaitFor rides out unanswered waits until its own total, then reports the
// API unreachable: bounded by the total plus one request deadline or so.
func TestWaitForAgainstAHangingAPIIsBounded(t *testing.T) {
	const deadline = 300 * time.Millisecond
	const total = time.Second
	url := hangingServer(t)
	c, err := flyclient.New(context.Background(), flyclient.Config{
		Token: "test-token", FlapsBaseURL: url, APIBaseURL: url, RequestTimeout: deadline,
	})
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	done := make(chan error, 1)
	go func() {
		_, err := c.WaitFor(context.Background(), "shop", "m1", []string{"started"}, "", total)
		done <- err
	}()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("WaitFor against a hanging API did not end in 30s")
	}
	if bound := 2 * (total + deadline); time.Since(began) > bound {
		t.Errorf("WaitFor took %s, more than %s", time.Since(began), bound)
	}
	if !errors.Is(err, flyclient.ErrUnreachable) {
		t.Fatalf("want ErrUnreachable, got %v", err)
	}
}

// The caller's own deadline, when it comes first, is still the caller's:
// the call ends then, and the error is not "no answer within 30s".
func TestCallerDeadlineWinsOverRequestTimeout(t *testing.T) {
	url := hangingServer(t)
	c, err := flyclient.New(context.Background(), flyclient.Config{Token: "test-token", FlapsBaseURL: url, APIBaseURL: url})
	if err != nil {
		t.Fatal(err)
	}
	if c.RequestTimeout() != flyclient.DefaultRequestTimeout {
		t.Fatalf("default request timeout %s", c.RequestTimeout())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err = c.List(ctx, "shop", flyclient.ListOptions{})
	if time.Since(began) > 5*time.Second || err == nil || strings.Contains(err.Error(), "within 30s") {
		t.Fatalf("after %s: %v", time.Since(began), err)
	}
}
