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
			h.waitFor("the advised plan", func() bool { return h.m.pending() != nil || strings.Contains(h.m.status, "no step") })
			if h.m.pending() == nil {
				return // nothing advised: nothing reversed
			}
			for _, s := range h.m.pending().plan.Steps {
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
	if s := h.screen(); !strings.Contains(s, "unexplained") || strings.Contains(s, "unexplained: unexplained") {
		t.Errorf("the header does not name the unexplained changes (once):\n%s", s)
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
	if h.m.form() == nil {
		t.Fatal("no scale form")
	}
	for i := 0; h.m.form().groups[h.m.form().group] != "web" && i < 5; i++ {
		h.press("right")
	}
	if got := h.m.form().count.value; got != strconv.Itoa(web) {
		t.Errorf("scale form offers %s for web, want the baseline %d", got, web)
	}
	if s := h.screen(); !strings.Contains(s, fmt.Sprintf("back to %d: the count before the incident", web)) {
		t.Errorf("the form does not say where %d comes from:\n%s", web, s)
	}
}

// TestBadReleaseLeadsAt120Columns: on the bad-release fleet the banner leads
// with the bad release and the rollback, and its reason is not cut off at
// 120 columns (it was, behind "MINORITY UPDATED").
func TestBadReleaseLeadsAt120Columns(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "bad-release", machines: 100})
	s := h.screen()
	var banner string
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, "BAD RELEASE") {
			banner = line
			break
		}
	}
	if banner == "" {
		t.Fatalf("no BAD RELEASE banner:\n%s", s)
	}
	if !strings.Contains(banner, "roll back to v61") || strings.Contains(banner, "MINORITY") {
		t.Errorf("banner does not lead with the rollback: %q", banner)
	}
	why := h.m.class.BadRelease
	if why == nil {
		t.Fatal("the classification has no bad release")
	}
	// The reason (failing checks) must be on screen, not cut off.
	if !strings.Contains(banner, "fail") {
		t.Errorf("the reason is cut off: %q", banner)
	}
	t.Logf("%s", banner)
}

// TestDashboardNamesLeaseHolders: a teammate holds a long lease on an old
// machine. The dashboard's others acting name the holder, and the advised
// update leaves that machine out of its plan, naming the holder there too.
func TestDashboardNamesLeaseHolders(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "minority", machines: 40})
	ids, err := h.srv.Sim.HoldLeases(flysim.HeldLease{Owner: "alice@example.com", Description: "alice: fixing web by hand", TTL: time.Hour})
	if err != nil || len(ids) != 1 {
		t.Fatalf("hold: %v %v", ids, err)
	}
	h.waitFor("the lease among the others acting", func() bool {
		for _, o := range h.m.incident.Others {
			if o.Kind == model.OtherLease && strings.Contains(o.Holder, "alice@example.com") {
				return true
			}
		}
		return false
	})
	if s := h.screen(); !strings.Contains(s, "alice@example.com") {
		t.Errorf("the header does not name the holder:\n%s", s)
	}
	h.press("f")
	h.waitFor("the advised plan", func() bool { return h.m.mode() == modeConfirm && h.m.pending() != nil })
	for _, s := range h.m.pending().plan.Steps {
		if s.MachineID == ids[0] {
			t.Fatalf("the advised plan acts on %s, which alice holds", ids[0])
		}
	}
}
