package main

import (
	"strings"
	"testing"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

// A tired operator's typos and wrong places get a plain answer, not a
// surprise: 0 machines is not 500, and no terminal is said in words.
func TestDemoRefusesZeroMachines(t *testing.T) {
	isolate(t)
	for _, n := range []string{"0", "-3"} {
		r := runCLI(t, "demo", "--machines", n)
		if r.code != exitUsage || !strings.Contains(r.stderr, "--machines must be at least 1") {
			t.Errorf("--machines %s: exit %d, stderr %q", n, r.code, r.stderr)
		}
	}
}

func TestDashboardWithoutTerminalSaysSo(t *testing.T) {
	isolate(t)
	prev := stdioIsTerminal
	stdioIsTerminal = func() bool { return false }
	t.Cleanup(func() { stdioIsTerminal = prev })
	r := runCLI(t, "demo", "--machines", "5")
	if r.code != exitUsage || !strings.Contains(r.stderr, "needs a terminal") || strings.Contains(r.stderr, "TTY") {
		t.Errorf("demo without a terminal: exit %d, stderr %q", r.code, r.stderr)
	}
	simEnv(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 3})
	if r := runCLI(t, "-a", "shop"); r.code != exitUsage || !strings.Contains(r.stderr, "needs a terminal") {
		t.Errorf("dashboard without a terminal: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestScaleTypoSuggestsTheGroup(t *testing.T) {
	isolate(t)
	simEnv(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 12})
	r := runCLI(t, "scale", "wrker", "3", "-a", "shop", "--yes")
	if r.code == 0 || !strings.Contains(r.stderr, "did you mean worker?") {
		t.Errorf("scale wrker: exit %d, stderr %q", r.code, r.stderr)
	}
}
