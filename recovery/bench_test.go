package recovery

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

// Benchmark settings: a realistic 30 ms per request, and simulated time 50x
// so an 8 s machine update takes 160 ms.
const (
	benchLatency = 30 * time.Millisecond
	benchSpeed   = 50
	benchFleet   = 500
	// The one-at-a-time loop is linear in machines; timing a sample and
	// scaling keeps the benchmark to seconds.
	benchSeqSample = 12
	benchApp       = "demo-app"
)

// BenchmarkUpdate500VsLoop times a 500-machine update (minority scenario:
// 400 to update) against the runbook's loop, `for each machine: fly m
// update` (get, lease, update, wait, checks, release, one machine at a time),
// and against the floor the budget sets:
//
//	go test -run '^$' -bench Update500 -benchtime 1x ./recovery/
func BenchmarkUpdate500VsLoop(b *testing.B) {
	for range b.N {
		seqPer := sequentialLoop(b)
		// Budget-bound (concurrency above the budgets' sum, no global cap),
		// then the defaults.
		for _, cfg := range []Options{{Concurrency: 200, RatePerSecond: 10000, RateBurst: 1000}, {}} {
			cfg.App = benchApp
			r := benchRig(b)
			e := NewEngine(r.client, r.journal(b), cfg)
			conc := e.Options().Concurrency
			p, err := e.PlanUpdate(context.Background(), UpdateRequest{})
			if err != nil {
				b.Fatal(err)
			}
			began := time.Now()
			res, err := e.Execute(context.Background(), p, nil)
			took := time.Since(began)
			if err != nil || res.OK+res.Failed != len(p.Steps) {
				b.Fatalf("%v %+v", err, res)
			}
			steps := map[string]int{}
			for _, s := range p.Steps {
				steps[s.Group]++
			}
			// The budget's floor: each group can at best run budget machines
			// at once, each taking an uncontended step's time.
			// Equal-length jobs on b slots take ceil(n/b) rounds.
			var waves float64
			for g, n := range steps {
				b := p.Limits.GroupBudget[g]
				waves = max(waves, float64((n+b-1)/b))
			}
			floor := time.Duration(waves * float64(seqPer))
			loop := seqPer * time.Duration(len(p.Steps))
			b.Logf("concurrency %d, %g req/s: %d machines in %s (%d ok, %d failed: leased); loop %s (%s/machine); %.1fx faster; floor %s (%.2f waves), %.2fx the floor; 429s %d",
				conc, e.Options().RatePerSecond, len(p.Steps), took.Round(time.Millisecond), res.OK, res.Failed, loop.Round(time.Millisecond), seqPer.Round(time.Millisecond),
				float64(loop)/float64(took), floor.Round(time.Millisecond), waves, float64(took)/float64(floor), r.sim.Stats().RateLimited)
			r.close()
			b.ReportMetric(float64(loop)/float64(took), fmt.Sprintf("x-vs-loop/c%d", conc))
			b.ReportMetric(float64(took)/float64(floor), fmt.Sprintf("x-floor/c%d", conc))
		}
	}
}

type benchR struct {
	srv    *flysim.Server
	sim    *flysim.Sim
	client *flyclient.Client
	dir    string
}

func benchRig(b *testing.B) *benchR {
	srv, err := flysim.Start(flysim.Options{Scenario: "minority", Machines: benchFleet, Speed: benchSpeed, Latency: benchLatency, Token: testToken, Seed: 5})
	if err != nil {
		b.Fatal(err)
	}
	c, err := flyclient.New(context.Background(), flyclient.Config{Token: testToken, FlapsBaseURL: srv.URL, APIBaseURL: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	return &benchR{srv: srv, sim: srv.Sim, client: c, dir: b.TempDir()}
}

func (r *benchR) close() { r.srv.Close() }

func (r *benchR) journal(b *testing.B) *Journal {
	j, err := OpenJournal(r.dir, r.sim.App())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { j.Close() })
	return j
}

// sequentialLoop is the runbook's loop over a sample of machines; it returns
// the time per machine.
func sequentialLoop(b *testing.B) time.Duration {
	r := benchRig(b)
	ctx := context.Background()
	app, target := r.sim.App(), r.sim.TargetImage()
	var todo []string
	for _, m := range r.sim.Machines() {
		if m.Image != target && m.LeaseOwner == "" && len(todo) < benchSeqSample {
			todo = append(todo, m.ID)
		}
	}
	began := time.Now()
	for _, id := range todo {
		m, err := r.client.Get(ctx, app, id)
		if err != nil {
			b.Fatal(err)
		}
		l, err := r.client.AcquireLease(ctx, app, id, 120*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		cfg := cloneConfig(b, m.Config)
		cfg.Image = target
		if _, err := r.client.Update(ctx, app, flyclient.UpdateInput{ID: id, Region: m.Region, Name: m.Name, Config: cfg, Nonce: l.Nonce}); err != nil {
			b.Fatal(err)
		}
		if _, err := r.client.WaitFor(ctx, app, id, []string{"started"}, "", time.Minute); err != nil {
			b.Fatal(err)
		}
		for { // fly m update then watches the checks
			m, err = r.client.Get(ctx, app, id)
			if err != nil {
				b.Fatal(err)
			}
			if p, n, _ := checkSummary(m); n > 0 && p == n {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err := r.client.ReleaseLease(ctx, app, id, l.Nonce); err != nil {
			b.Fatal(err)
		}
	}
	per := time.Since(began) / time.Duration(len(todo))
	r.close()
	return per
}

// BenchmarkFleetRead10k is the run's own work on each fleet re-read (every
// FleetRefresh while an action runs) at 10,000 machines, on top of the
// listing itself (see flyclient's BenchmarkListAndConvert):
//
//	go test -run '^$' -bench FleetRead -benchmem ./recovery/
func BenchmarkFleetRead10k(b *testing.B) {
	srv, err := flysim.Start(flysim.Options{Scenario: "majority", Machines: 10000, NoRateLimit: true})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	c, err := flyclient.New(context.Background(), flyclient.Config{Token: "bench", FlapsBaseURL: srv.URL, APIBaseURL: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	list, err := c.List(context.Background(), srv.Sim.App(), flyclient.ListOptions{})
	if err != nil {
		b.Fatal(err)
	}
	steps := make([]*stepState, 0, len(list))
	for i, m := range list {
		steps = append(steps, &stepState{step: Step{Seq: i + 1, MachineID: m.ID, Op: OpUpdate, Group: m.ProcessGroup(), FromState: m.State, ToImage: srv.Sim.TargetImage()}})
	}
	sched := newScheduler(steps, map[string]int{"web": 1650, "worker": 990, "worker_autoscale": 660}, 0, time.Second, time.Minute)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		sched.observe(newFleetRead(list))
	}
}

// cloneConfig is flyclient.CloneConfig for tests: a config that does not
// round-trip ends the test.
func cloneConfig(tb testing.TB, c *flyclient.MachineConfig) *flyclient.MachineConfig {
	tb.Helper()
	out, err := flyclient.CloneConfig(c)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}
