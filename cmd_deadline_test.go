package main

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// hangingAPI accepts connections on loopback and never answers.
func hangingAPI(t *testing.T) string {
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

// runBounded runs the CLI and fails the test, rather than hanging it, when
// the run does not end within limit.
func runBounded(t *testing.T, limit time.Duration, args ...string) (cliResult, time.Duration) {
	t.Helper()
	began := time.Now()
	done := make(chan cliResult, 1)
	go func() { done <- runCLI(t, args...) }()
	select {
	case r := <-done:
		return r, time.Since(began)
	case <-time.After(limit):
		t.Fatalf("%v still running after %s", args, limit)
		return cliResult{}, 0
	}
}

// Against an API that accepts and never answers, status and an action end
// with exit 5 and say no answer came, in a bounded time.
func TestHangingAPIExitsUnreachable(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		env  bool // the deadline from FLYRESCUE_REQUEST_TIMEOUT, else the hidden flag
	}{
		{"status, env", []string{"status", "-a", "shop"}, true},
		{"status, flag", []string{"status", "-a", "shop", "--request-timeout", "300ms"}, false},
		// The engine does not retry an API that gave no answer for a whole
		// deadline: one deadline, not six.
		{"restart", []string{"restart", "-a", "shop", "--all", "--yes"}, true},
		{"update --dry-run", []string{"update", "-a", "shop", "--dry-run"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			isolate(t)
			url := hangingAPI(t)
			t.Setenv("FLY_FLAPS_BASE_URL", url)
			t.Setenv("FLY_API_BASE_URL", url)
			t.Setenv("FLY_API_TOKEN", "t0ken-of-test")
			if c.env {
				t.Setenv("FLYRESCUE_REQUEST_TIMEOUT", "300ms")
			}
			r, took := runBounded(t, 60*time.Second, c.args...)
			if r.code != exitUnreachable || !strings.Contains(r.err.Error(), "no answer from the Machines API within 300ms") {
				t.Fatalf("code %d after %s: %v", r.code, took, r.err)
			}
			if took > 2*time.Second {
				t.Errorf("%v took %s against a 300ms deadline", c.args, took)
			}
			t.Logf("%v: exit %d after %s", c.args, r.code, took)
		})
	}
}

func TestRequestTimeoutRefusesNonsense(t *testing.T) {
	isolate(t)
	t.Setenv("FLY_API_TOKEN", "t")
	for _, c := range []struct {
		env  string
		args []string
		want string
	}{
		{"soon", nil, "FLYRESCUE_REQUEST_TIMEOUT=\"soon\" is not a duration"},
		{"1ns", nil, "out of range"},
		{"", []string{"--request-timeout", "1h"}, "out of range"},
	} {
		t.Setenv("FLYRESCUE_REQUEST_TIMEOUT", c.env)
		r := runCLI(t, append([]string{"status", "-a", "shop"}, c.args...)...)
		if r.code != exitUsage || !strings.Contains(r.err.Error(), c.want) {
			t.Errorf("%q %v: code %d: %v", c.env, c.args, r.code, r.err)
		}
	}
}
