package recovery

import (
	"context"
	"testing"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
	"github.com/flyrescue/flyrescue/model"
)

func TestUpdateMinorityToTarget(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "minority", Machines: 100, NoRateLimit: true})
	e := r.engine(Options{})
	p, err := e.PlanUpdate(context.Background(), UpdateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	target := r.sim.TargetImage()
	if p.Args["image"] != target {
		t.Fatalf("plan image %q, want target %q", p.Args["image"], target)
	}
	if len(p.Steps) != 80 || len(p.Skipped) != 20 {
		t.Fatalf("want 80 steps and 20 skipped, got %d and %d", len(p.Steps), len(p.Skipped))
	}
	res := r.run(e, p)
	leased := 0
	for _, m := range failures(res) {
		if m.Outcome != OutcomeFailed || !contains(m.Error, flysim.LeaseBot) {
			t.Errorf("%s: %s %s", m.MachineID, m.Outcome, m.Error)
		}
		leased++
	}
	// The scenario leases N/100 old-image machines to the deploy bot.
	if leased != 1 {
		t.Errorf("want 1 lease failure, got %d", leased)
	}
	label := model.LabelFromImage(target)
	for _, m := range r.machines() {
		if m.LeaseOwner == flysim.LeaseBot {
			continue
		}
		if m.Image != target || m.Env["RELEASE_LABEL"] != label || m.State != "started" {
			t.Errorf("%s: image %s label %s state %s", m.ID, m.Image, m.Env["RELEASE_LABEL"], m.State)
		}
		if m.Metadata["fly_release_version"] != "62" {
			t.Errorf("%s: fly_release_version %q", m.ID, m.Metadata["fly_release_version"])
		}
	}
}

func contains(s, sub string) bool { return len(sub) == 0 || indexOf(s, sub) >= 0 }

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
