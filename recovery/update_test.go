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
	// The scenario leases N/100 old-image machines to the deploy bot for a
	// day: the plan leaves that one out and names the holder.
	if len(p.Steps) != 79 || len(p.Skipped) != 21 || p.HeldByOthers != 1 {
		t.Fatalf("want 79 steps, 21 skipped (1 held by the bot), got %d, %d, %d", len(p.Steps), len(p.Skipped), p.HeldByOthers)
	}
	held := 0
	for _, s := range p.Skipped {
		if contains(s.Reason, flysim.LeaseBot) && contains(s.Reason, "deploy") {
			held++
		}
	}
	if held != 1 {
		t.Errorf("the skipped list does not name the lease holder and what it does: %+v", p.Skipped)
	}
	res := r.run(e, p)
	for _, m := range failures(res) {
		t.Errorf("%s: %s %s", m.MachineID, m.Outcome, m.Error)
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
