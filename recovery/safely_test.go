package recovery

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

// goroutineBugs plants panics in the calls the engine makes from its own
// goroutines (not the step workers): the fleet watcher's List after the
// run's first read, every lease refresh, and every lease lookup of planning.
type goroutineBugs struct {
	*flyclient.Client
	lists                    atomic.Int32
	listAfter                int32
	refresh, lookup, listBug bool
}

func (g *goroutineBugs) List(ctx context.Context, app string, o flyclient.ListOptions) ([]*flyclient.Machine, error) {
	if g.listBug && g.lists.Add(1) > g.listAfter {
		panic("planted bug in the watcher")
	}
	return g.Client.List(ctx, app, o)
}

func (g *goroutineBugs) RefreshLease(ctx context.Context, app, id, nonce string, ttl time.Duration) (*flyclient.Lease, error) {
	if g.refresh {
		panic("planted bug in the refresher")
	}
	return g.Client.RefreshLease(ctx, app, id, nonce, ttl)
}

func (g *goroutineBugs) FindLease(ctx context.Context, app, id string) (*flyclient.Lease, error) {
	if g.lookup {
		panic("planted bug in a lease lookup")
	}
	return g.Client.FindLease(ctx, app, id)
}

// A panic in the fleet watcher ends the run with the reason (budgets would
// go stale otherwise) instead of killing the process; leases are released.
func TestPanicInTheFleetWatcherEndsTheRun(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "minority", Machines: 40, NoRateLimit: true, Seed: 22, Speed: 20})
	e := r.engine(Options{FleetRefresh: 20 * time.Millisecond, Concurrency: 1})
	p, err := e.PlanRestart(context.Background(), Selector{Query: "image:old"})
	if err != nil {
		t.Fatal(err)
	}
	// Planning listed already; the run's first read is the next List.
	e.api = &goroutineBugs{Client: r.client, listBug: true, listAfter: 1}
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	res, err := e.Execute(ctx, p, nil)
	if err == nil || !strings.Contains(err.Error(), "internal error watching the fleet") {
		t.Fatalf("run ended with %v, want the watcher's internal error", err)
	}
	if res != nil && res.OK == len(p.Steps) {
		t.Fatalf("every step ran although the watcher died: %+v", res)
	}
	for _, m := range r.sim.Machines() {
		if m.LeaseOwner != "" {
			t.Errorf("%s still leased after the run ended", m.ID)
		}
	}
}

// A refresher or a planning lookup that panics does not take the process
// down: the lookup counts as unanswered and the run goes on.
func TestPanicInLeaseGoroutinesIsContained(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "minority", Machines: 20, NoRateLimit: true, Seed: 23})
	e := r.engine(Options{LeaseTTL: 2 * time.Second})
	e.api = &goroutineBugs{Client: r.client, refresh: true, lookup: true}
	p, err := e.PlanRestart(context.Background(), Selector{Query: "image:old"})
	if err != nil || len(p.Steps) == 0 {
		t.Fatalf("plan with panicking lookups: %v", err)
	}
	res := r.run(e, p)
	if res.OK+res.Failed != len(p.Steps) {
		t.Fatalf("steps did not all end: %+v", res)
	}
}
