package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

// TestFlowBadImageHalts: the operator presses u on every old machine while
// the target image fails its health checks and runs nowhere yet. The plan
// says the groups go canary-first; the run halts each group after its
// canaries fail, says so in one line per group, and the simulator shows at
// most 3 machines per group got the bad image.
func TestFlowBadImageHalts(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "total-failure", machines: 100})
	h.srv.Sim.SetTargetBehavior(flysim.ImageFailsChecks)
	h.press("/")
	h.typeText("image:old")
	h.press("enter", "a", "u")
	h.waitFor("plan", func() bool { return h.m.mode() == modeConfirm })
	if s := h.screen(); !strings.Contains(s, "canary-first") {
		t.Errorf("the plan does not say the groups go canary-first:\n%s", s)
	}
	h.press("y")
	h.waitFor("the run to end", func() bool { return h.m.run != nil && h.m.run.done })
	h.settle(0)
	s := h.screen()
	for _, g := range []string{"web", "worker", "worker_autoscale"} {
		if !strings.Contains(s, "halted "+g+":") {
			t.Errorf("no halt line for %s:\n%s", g, s)
		}
	}
	if !strings.Contains(s, "HALTED 3 groups") {
		t.Errorf("status does not say the run halted:\n%s", s)
	}
	if inFlight := h.m.figures().InFlight; inFlight != 0 {
		t.Errorf("%d steps still shown in flight after the run ended (halted steps must show halted)", inFlight)
	}
	touched := map[string]int{}
	target := h.srv.Sim.TargetImage()
	for _, mv := range h.srv.Sim.Machines() {
		if mv.Image == target {
			touched[mv.Group]++
		}
	}
	for g, n := range touched {
		if n > 3 {
			t.Errorf("%s: %d machines on the failing image", g, n)
		}
	}
}

// TestBaseContextCancelsTheRun: the dashboard's base context (cancelled by
// a SIGTERM to the process) reaches the running action: it winds down,
// records what it did not finish as interrupted, and leaves no lease.
func TestBaseContextCancelsTheRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := newHarness(t, harnessOpts{scenario: "minority", machines: 100, ctx: ctx})
	h.srv.Sim.SetLatency(30 * time.Millisecond)
	h.updateOldImageUntilInFlight()
	cancel()
	h.waitFor("the run to wind down", func() bool { return h.m.run.done })
	if r := h.m.run.result; r == nil || r.Interrupted == 0 {
		t.Fatalf("cancelling the base context did not interrupt the run: %+v", h.m.run.result)
	}
	for _, mv := range h.srv.Sim.Machines() {
		if mv.LeaseOwner != "" && mv.LeaseOwner != flysim.LeaseBot {
			t.Errorf("lease left on %s by %s", mv.ID, mv.LeaseOwner)
		}
	}
}
