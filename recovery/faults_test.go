package recovery

import (
	"context"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

// TestUpdate500UnderFaults: 10% of mutations fail with 500, rate limiting is
// on, some machines are leased by a deploy bot and some revert. Every
// machine must end updated and verified, or failed with its reason; no
// machine is mutated after its verified success; no group ever has more
// machines down than the budget.
func TestUpdate500UnderFaults(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "minority", Machines: 500, Seed: 7})
	var reverting []string
	for _, m := range r.sim.Machines() {
		if m.Image != r.sim.TargetImage() && m.LeaseOwner == "" && len(reverting) < 4 {
			reverting = append(reverting, m.ID)
			r.sim.SetMachineFault(m.ID, flysim.FaultRevert)
		}
	}
	r.sim.SetFaultRate(0.10)
	e := r.engine(Options{Concurrency: 64})
	p, err := e.PlanUpdate(context.Background(), UpdateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	r.sim.ResetStats()
	began := time.Now()
	res := r.run(e, p)
	stats := r.sim.Stats()
	t.Logf("%d steps in %s: ok %d failed %d skipped %d interrupted %d; requests 429=%d faults=%d lease conflicts=%d peak=%v budget=%v",
		len(p.Steps), time.Since(began).Round(time.Millisecond), res.OK, res.Failed, res.Skipped, res.Interrupted,
		stats.RateLimited, stats.Faults, stats.LeaseConflicts, stats.PeakUnavailable, p.Limits.GroupBudget)

	live := r.machines()
	isReverting := map[string]bool{}
	for _, id := range reverting {
		isReverting[id] = true
	}
	leased, reverted := 0, 0
	for _, m := range res.Machines {
		switch m.Outcome {
		case OutcomeOK:
			v := live[m.MachineID]
			if v.Image != r.sim.TargetImage() || v.State != "started" {
				t.Errorf("%s reported ok but is %s on %s", m.MachineID, v.State, v.Image)
			}
			if n := stats.MutationsPerMachine[m.MachineID]; n != 1 {
				t.Errorf("%s: %d accepted mutations, want exactly 1", m.MachineID, n)
			}
		case OutcomeFailed:
			switch {
			case contains(m.Error, flysim.LeaseBot):
				leased++
			case isReverting[m.MachineID] && contains(m.Error, "reverted"):
				reverted++
			default:
				t.Errorf("%s failed: %s", m.MachineID, m.Error)
			}
		default:
			t.Errorf("%s: %s %s", m.MachineID, m.Outcome, m.Error)
		}
	}
	// The bot's 5 day-long leases are left out by the plan, naming it.
	if p.HeldByOthers != 5 || leased != 0 || reverted != len(reverting) {
		t.Errorf("want 5 machines held by the bot left out, no lease failures and %d reverts, got %d, %d and %d",
			len(reverting), p.HeldByOthers, leased, reverted)
	}
	for g, peak := range stats.PeakUnavailable {
		if b := p.Limits.GroupBudget[g]; peak > b {
			t.Errorf("group %s: peak unavailable %d over the budget %d", g, peak, b)
		}
	}
	if stats.Faults == 0 {
		t.Error("no faults were injected")
	}
}
