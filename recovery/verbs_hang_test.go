package recovery

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

// The new verbs meet a hanging API as update does: the run ends as
// unreachable within the deadline, what was in flight is interrupted, and
// the resume finishes the rest without sending any machine's call twice.
func TestNewVerbsMeetAHangingAPI(t *testing.T) {
	for _, kind := range []Kind{KindSuspend, KindCordon} {
		t.Run(string(kind), func(t *testing.T) {
			r := newRig(t, flysim.Options{Scenario: "healthy", Machines: 60, NoRateLimit: true, Seed: 31, Speed: 20})
			const deadline = 500 * time.Millisecond
			c, err := flyclient.New(context.Background(), flyclient.Config{Token: testToken, FlapsBaseURL: r.srv.URL, APIBaseURL: r.srv.URL, RequestTimeout: deadline})
			if err != nil {
				t.Fatal(err)
			}
			r.client = c
			// A short lease: the resume waits out the leases the cut run could not
			// release (it never takes a lease it does not hold the nonce of).
			e := r.engine(Options{APIDownAfter: deadline, Concurrency: 8, MaxUnavailable: 0.5, LeaseTTL: 2 * time.Second})
			p, err := e.PlanVerb(context.Background(), kind, VerbRequest{Selector: Selector{Query: "group:web"}})
			if err != nil || len(p.Steps) < 10 {
				t.Fatalf("plan: %v", err)
			}
			began := time.Now()
			var once sync.Once
			res, err := e.Execute(context.Background(), p, func(ev Event) {
				if ev.Phase == PhaseDone && ev.MachineID != "" {
					once.Do(func() { r.sim.SetOutage(flysim.OutageHang, 0) })
				}
			})
			r.sim.SetOutage(flysim.OutageNone, 0)
			t.Logf("run %s: %d ok, %d interrupted", time.Since(began), res.OK, res.Interrupted)
			if !errors.Is(err, flyclient.ErrUnreachable) {
				t.Fatalf("run ended with %v, want the API unreachable", err)
			}
			if res.OK == len(p.Steps) || res.Failed != 0 {
				t.Fatalf("want a run cut short with nothing failed: %d ok, %d failed, %d interrupted", res.OK, res.Failed, res.Interrupted)
			}
			rp, err := e.PlanResume(context.Background(), p.ID)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("resume plan after %s: %d steps", time.Since(began), len(rp.Steps))
			if len(rp.Steps) > 0 {
				if rres := r.run(e, rp); rres.Failed != 0 {
					t.Fatalf("resume: %+v", failures(rres))
				}
			}
			for id, n := range r.sim.Stats().MutationsPerMachine {
				if n > 1 {
					t.Errorf("%s: %d calls across the run and its resume", id, n)
				}
			}
			for _, m := range r.machines() {
				if m.Group != "web" {
					continue
				}
				live := r.live(m.ID)
				if kind == KindSuspend && live.State != "suspended" || kind == KindCordon && !live.Cordoned {
					t.Errorf("%s after the resume: state %s, cordoned %v", m.ID, live.State, live.Cordoned)
				}
			}
		})
	}
}
