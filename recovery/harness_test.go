package recovery

import (
	"context"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

const testToken = "test-token-must-never-be-journaled"

type rig struct {
	t      *testing.T
	srv    *flysim.Server
	sim    *flysim.Sim
	client *flyclient.Client
	dir    string
	// unpaced: the sim runs without rate limits, so skip client pacing.
	unpaced bool
}

// newRig starts flysim on loopback and a real flyclient against it.
func newRig(t *testing.T, opts flysim.Options) *rig {
	t.Helper()
	if opts.Speed == 0 {
		opts.Speed = 200
	}
	opts.Token = testToken
	srv, err := flysim.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	c, err := flyclient.New(context.Background(), flyclient.Config{Token: testToken, FlapsBaseURL: srv.URL, APIBaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return &rig{t: t, srv: srv, sim: srv.Sim, client: c, dir: t.TempDir(), unpaced: opts.NoRateLimit}
}

// engine opens the rig's journal and builds an engine with fast test
// timings.
func (r *rig) engine(opts Options) *Engine {
	r.t.Helper()
	j, err := OpenJournal(r.dir, r.sim.App())
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { j.Close() })
	opts.App = r.sim.App()
	opts.Unpaced = r.unpaced
	if opts.WaitTimeout == 0 {
		opts.WaitTimeout = 10 * time.Second
	}
	if opts.BackoffBase == 0 {
		opts.BackoffBase = 20 * time.Millisecond
		opts.BackoffMax = 300 * time.Millisecond
	}
	if opts.Operator == "" {
		opts.Operator = "tester"
	}
	return NewEngine(r.client, j, opts)
}

func (r *rig) run(e *Engine, p *Plan) *Result {
	r.t.Helper()
	return r.run2(e, p, nil)
}

// run2 is run with an event callback.
func (r *rig) run2(e *Engine, p *Plan, onEvent func(Event)) *Result {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	res, err := e.Execute(ctx, p, onEvent)
	if err != nil {
		r.t.Fatalf("execute %s: %v", p.Kind, err)
	}
	return res
}

func (r *rig) machines() map[string]flysim.MachineView {
	out := map[string]flysim.MachineView{}
	for _, m := range r.sim.Machines() {
		if !m.Destroyed {
			out[m.ID] = m
		}
	}
	return out
}

func failures(res *Result) []MachineResult {
	var out []MachineResult
	for _, m := range res.Machines {
		if m.Outcome != OutcomeOK {
			out = append(out, m)
		}
	}
	return out
}
