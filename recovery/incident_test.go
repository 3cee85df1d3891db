package recovery

import (
	"context"
	"testing"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
	"github.com/flyrescue/flyrescue/model"
)

// A rollback leaves its marks in each machine's metadata with the same
// update call (one mutation per machine), and a second flyrescue with its
// own, empty journal takes the rolled-back release as the target: its
// default update goes to v61, not back to v62.
func TestRollbackMarksMachinesAndASecondFlyrescueFollowsIt(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "bad-release", Machines: 24, NoRateLimit: true})
	alice := r.engine(Options{Operator: "alice@example.com"})
	ctx := context.Background()
	p, err := alice.PlanRollback(ctx, RollbackRequest{Selector: Selector{Region: "iad"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Steps) == 0 {
		t.Fatal("nothing to roll back in iad")
	}
	r.sim.ResetStats()
	res := r.run(alice, NewSkipChecks(p))
	if f := failures(res); len(f) > 0 {
		t.Fatalf("rollback failures: %+v", f)
	}
	mut := r.sim.Stats().MutationsPerMachine
	for _, s := range p.Steps {
		m, _ := r.sim.Machine(s.MachineID)
		if m.Metadata[model.MarkAction] != p.ID || m.Metadata[model.MarkBy] != "alice@example.com" ||
			m.Metadata[model.MarkRollback] != "61" || m.Metadata[model.MarkRollbackRegion] != "iad" || m.Metadata[model.MarkRollbackAt] == "" {
			t.Fatalf("%s metadata %v", s.MachineID, m.Metadata)
		}
		if mut[s.MachineID] != 1 {
			t.Fatalf("%s got %d mutations, want exactly the one update", s.MachineID, mut[s.MachineID])
		}
	}

	// Bob runs flyrescue elsewhere: another journal directory.
	other := &rig{t: t, srv: r.srv, sim: r.sim, client: r.client, dir: t.TempDir(), unpaced: true}
	bob := other.engine(Options{Operator: "bob@example.com"})
	f, err := bob.survey(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.target.For("iad"); got.Image != r.sim.PreviousImage() || got.Source != model.TargetFromMetadata || got.By != "alice@example.com" {
		t.Fatalf("bob's iad target %+v", got)
	}
	up, err := bob.PlanUpdate(ctx, UpdateRequest{Selector: Selector{Region: "iad"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range up.Steps {
		if s.ToImage == r.sim.TargetImage() {
			t.Fatalf("bob's update reverses alice's rollback on %s: %s", s.MachineID, s.ToImage)
		}
	}
	// Alice's own journal says the same, from the journal.
	fa, err := alice.survey(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := fa.target.For("iad"); got.Source != model.TargetFromRollback || got.Image != r.sim.PreviousImage() {
		t.Fatalf("alice's iad target %+v", got)
	}
	// Facts from the journal: the baseline and the rollback.
	hist, err := alice.history()
	if err != nil {
		t.Fatal(err)
	}
	facts := IncidentFacts(hist, r.sim.App())
	if len(facts.Rollbacks) != 1 || facts.Rollbacks[0].Version != 61 || facts.Rollbacks[0].Region != "iad" || facts.Rollbacks[0].By != "alice@example.com" {
		t.Fatalf("rollbacks %+v", facts.Rollbacks)
	}
	total := 0
	for _, n := range facts.Baseline {
		total += n
	}
	if total != 24 || len(facts.Touched) != len(p.Steps) {
		t.Fatalf("baseline %v (total %d), touched %d of %d", facts.Baseline, total, len(facts.Touched), len(p.Steps))
	}
}
