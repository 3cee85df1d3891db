package main

import (
	"strings"
	"testing"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

// A count's noun and verb agree with it: "1 machine needs", "2 machines
// need", in the plan and in its summary of machines left alone.
func TestCountedWordsAgree(t *testing.T) {
	srv := simEnv(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 6, NoRateLimit: true})
	ids := startedIDs(srv, 2)
	for n, want := range map[int][]string{
		1: {"restart 1 machine of shop", "1 machine needs nothing"},
		2: {"restart 2 machines of shop", "2 machines need nothing"},
	} {
		r := runCLI(t, append([]string{"restart", "-a", "shop", "--dry-run"}, ids[:n]...)...)
		if r.code != 0 || !strings.Contains(r.stdout, want[0]) {
			t.Errorf("restart of %d: exit %d, want %q:\n%s", n, r.code, want[0], r.stdout)
		}
		r = runCLI(t, append([]string{"start", "-a", "shop", "--dry-run"}, ids[:n]...)...)
		if r.code != 0 || !strings.Contains(r.stdout, want[1]) {
			t.Errorf("start of %d started: exit %d, want %q:\n%s", n, r.code, want[1], r.stdout)
		}
	}
	if m := srv.Sim.Stats().MutationsPerMachine; len(m) != 0 {
		t.Fatalf("dry runs changed machines: %v", m)
	}
}
