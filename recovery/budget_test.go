package recovery

import (
	"context"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

// A tight budget (2 per group) really bounds how many machines are down.
func TestBudgetBoundsUnavailable(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "total-failure", Machines: 30, NoRateLimit: true, Speed: 100})
	e := r.engine(Options{MaxUnavailable: 2, Concurrency: 50})
	p, err := e.PlanUpdate(context.Background(), UpdateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	r.sim.ResetStats()
	res := r.run(e, p)
	if res.OK+res.Failed != len(p.Steps) {
		t.Fatalf("%+v", failures(res))
	}
	for g, peak := range r.sim.Stats().PeakUnavailable {
		if peak > 2 {
			t.Errorf("group %s: %d machines down at once, budget 2", g, peak)
		}
	}
}

func TestGroupBudget(t *testing.T) {
	for _, c := range []struct {
		mu   float64
		n    int
		want int
	}{{0.33, 500, 165}, {0.33, 2, 1}, {0.5, 3, 2}, {10, 500, 10}, {0.01, 10, 1}} {
		if got := groupBudget(c.mu, c.n); got != c.want {
			t.Errorf("groupBudget(%v, %d) = %d, want %d", c.mu, c.n, got, c.want)
		}
	}
}

// Cancelling stops new work, lets in-flight steps end (done or interrupted),
// releases our leases, and leaves the rest for resume.
func TestCancelReleasesLeasesAndResumes(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "total-failure", Machines: 60, NoRateLimit: true, Speed: 30})
	e := r.engine(Options{Concurrency: 8})
	p, _ := e.PlanUpdate(context.Background(), UpdateRequest{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	run := e.Start(ctx, p)
	done, phases := 0, map[Phase]int{}
	for ev := range run.Events() {
		if ev.MachineID == "" {
			continue
		}
		if ev.Phase == PhaseDone {
			done++
			if done == 5 {
				cancel()
			}
		}
		if ev.Phase.Final() {
			phases[ev.Phase]++
		}
	}
	res, err := run.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if res.Interrupted == 0 || res.OK+res.Interrupted+res.Failed != len(p.Steps) {
		t.Fatalf("after cancel: %+v (phases %v)", res, phases)
	}
	time.Sleep(50 * time.Millisecond)
	for _, m := range r.sim.Machines() {
		if m.LeaseOwner != "" && m.LeaseOwner != flysim.LeaseBot {
			t.Errorf("%s still leased by %s after cancel", m.ID, m.LeaseOwner)
		}
	}
	rp, err := e.PlanResume(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	rp.Limits.Concurrency = 40
	res2 := r.run(e, rp)
	if res.OK+res2.OK+res.Failed+res2.Failed < len(p.Steps) {
		t.Errorf("resume left work: first %+v, then %+v", res, res2)
	}
}
