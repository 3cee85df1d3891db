package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

// After an operator's rollback (of the whole app, or of one region), the
// dashboard's target follows it and `f` never plans the newer image there.
func TestAdviceNeverReversesARollback(t *testing.T) {
	for _, region := range []string{"", "iad"} {
		t.Run("region="+region, func(t *testing.T) {
			h := newHarness(t, harnessOpts{scenario: "majority", machines: 60})
			e := h.m.opts.Engine
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			p, err := e.PlanRollback(ctx, recovery.RollbackRequest{Release: "v61", Selector: recovery.Selector{Region: region}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.Execute(ctx, p, nil); err != nil {
				t.Fatal(err)
			}
			newer := h.srv.Sim.TargetImage()
			h.press("ctrl+r")
			h.waitFor("the target to follow the rollback", func() bool {
				return h.m.snap != nil && h.m.snap.Target.For(region).Source == model.TargetFromRollback
			})
			if !strings.Contains(h.screen(), "rollback to v61") {
				t.Fatalf("header does not say where the target comes from (%+v; %s):\n%s", h.m.snap.Target, p.Args, h.screen())
			}
			h.press("f")
			h.waitFor("the advised plan", func() bool { return h.m.pending != nil || strings.Contains(h.m.status, "no step") })
			if h.m.pending == nil {
				return // nothing advised: nothing reversed
			}
			for _, s := range h.m.pending.plan.Steps {
				if s.Op == recovery.OpUpdate && s.ToImage == newer && (region == "" || s.Region == region) {
					t.Fatalf("f plans %s (%s) back to the newer image %s:\n%s", s.MachineID, s.Region, newer, h.screen())
				}
			}
		})
	}
}
