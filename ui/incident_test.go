package ui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
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

// TestAutoscalerClonesAreUnexplained: an autoscaler creating and destroying
// worker_autoscale machines between polls is named among the others acting
// ("unexplained": no journal record or flyrescue mark explains it), with
// exactly the machines the simulator's autoscaler made.
func TestAutoscalerClonesAreUnexplained(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "minority", machines: 40, autoscaler: true})
	var seen []string
	h.waitFor("an unexplained creation", func() bool {
		for _, o := range h.m.incident.Others {
			if o.Kind == model.OtherUnexplained && strings.Contains(o.What, "created") {
				seen = o.Machines
				return true
			}
		}
		return false
	})
	byAutoscaler := map[string]bool{}
	for _, mv := range h.srv.Sim.Machines() {
		if mv.ChangedBy == flysim.ActorAutoscaler {
			byAutoscaler[mv.ID] = true
		}
	}
	for _, id := range seen {
		if !byAutoscaler[id] {
			t.Errorf("%s reported as an unexplained creation but the autoscaler did not make it", id)
		}
	}
	if s := h.screen(); !strings.Contains(s, "unexplained") {
		t.Errorf("the header does not name the unexplained changes:\n%s", s)
	}
}

// TestScaleFormOffersTheBaseline: machines of web are destroyed outside
// flyrescue; the scale form then starts at web's count before the incident,
// and says so.
func TestScaleFormOffersTheBaseline(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "healthy", machines: 20})
	before := h.m.snap.Groups
	web := 0
	for _, g := range before {
		if g.Name == "web" {
			web = g.Total
		}
	}
	var gone []string
	for _, mv := range h.srv.Sim.Machines() {
		if mv.Group == "web" && len(gone) < 3 {
			if err := h.srv.Sim.DestroyOutside(mv.ID); err != nil {
				t.Fatal(err)
			}
			gone = append(gone, mv.ID)
		}
	}
	h.waitFor("the poll to see web shrink", func() bool {
		for _, g := range h.m.snap.Groups {
			if g.Name == "web" {
				return g.Total == web-3
			}
		}
		return false
	})
	h.press("s")
	if h.m.form == nil {
		t.Fatal("no scale form")
	}
	for i := 0; h.m.form.groups[h.m.form.group] != "web" && i < 5; i++ {
		h.press("right")
	}
	if got := h.m.form.count.value; got != strconv.Itoa(web) {
		t.Errorf("scale form offers %s for web, want the baseline %d", got, web)
	}
	if s := h.screen(); !strings.Contains(s, fmt.Sprintf("back to %d: the count before the incident", web)) {
		t.Errorf("the form does not say where %d comes from:\n%s", web, s)
	}
}
