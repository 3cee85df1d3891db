package recovery

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

func ids(r *rig, n int, ok func(flysim.MachineView) bool) []string {
	var out []string
	for _, m := range r.sim.Machines() {
		if len(out) < n && !m.Destroyed && m.LeaseOwner == "" && ok(m) {
			out = append(out, m.ID)
		}
	}
	return out
}

func TestStopStartRestartAndUndoStop(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "healthy", Machines: 12, NoRateLimit: true})
	e := r.engine(Options{})
	ctx := context.Background()
	sel := Selector{MachineIDs: ids(r, 3, func(flysim.MachineView) bool { return true })}

	p, err := e.PlanStop(ctx, sel)
	if err != nil || len(p.Steps) != 3 {
		t.Fatalf("plan stop: %v, %+v", err, p)
	}
	if res := r.run(e, p); res.OK != 3 {
		t.Fatalf("stop: %+v", failures(res))
	}
	for _, id := range sel.MachineIDs {
		if s := r.machines()[id].State; s != "stopped" {
			t.Errorf("%s is %s after stop", id, s)
		}
	}
	// Undo of a stop starts them again.
	u, err := e.PlanUndo(ctx, "")
	if err != nil || u.Undoes != p.ID || len(u.Steps) != 3 || u.Steps[0].Op != OpStart {
		t.Fatalf("plan undo: %v %+v", err, u)
	}
	if res := r.run(e, u); res.OK != 3 {
		t.Fatalf("undo: %+v", failures(res))
	}
	if _, err := e.PlanUndo(ctx, p.ID); err == nil || !strings.Contains(err.Error(), "already undone") {
		t.Errorf("undoing twice: %v", err)
	}
	p, _ = e.PlanStart(ctx, sel)
	if len(p.Steps) != 0 || len(p.Skipped) != 3 {
		t.Errorf("start of started machines should skip them all: %d steps", len(p.Steps))
	}
	p, _ = e.PlanRestart(ctx, Selector{MachineIDs: sel.MachineIDs[:1]})
	if res := r.run(e, p); res.OK != 1 {
		t.Fatalf("restart: %+v", failures(res))
	}
	if _, err := e.PlanUndo(ctx, p.ID); err == nil || !strings.Contains(err.Error(), "cannot be undone") {
		t.Errorf("undo of restart: %v", err)
	}
}

func TestDestroyStuckThenUndoRelaunches(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "stuck", Machines: 100, NoRateLimit: true})
	e := r.engine(Options{})
	ctx := context.Background()
	before := len(r.machines())
	p, err := e.PlanDestroy(ctx, DestroyRequest{Selector: Selector{Query: "stuck"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Steps) != 0 {
		t.Fatalf("without force, stuck machines must be refused, got %d steps", len(p.Steps))
	}
	p, err = e.PlanDestroy(ctx, DestroyRequest{Selector: Selector{Query: "stuck"}, Force: true})
	if err != nil || len(p.Steps) != 2 {
		t.Fatalf("plan destroy --force: %v, %d steps", err, len(p.Steps))
	}
	gone := map[string]flysim.MachineView{}
	for _, s := range p.Steps {
		gone[s.MachineID] = r.machines()[s.MachineID]
	}
	if res := r.run(e, p); res.OK != 2 {
		t.Fatalf("destroy: %+v", failures(res))
	}
	if n := len(r.machines()); n != before-2 {
		t.Fatalf("%d machines after destroying 2 of %d", n, before)
	}
	u, err := e.PlanUndo(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(u.Notes, " "), "NEW machines") {
		t.Errorf("undo of destroy should say it makes new machines: %q", u.Notes)
	}
	res := r.run(e, u)
	if res.OK != 2 {
		t.Fatalf("undo destroy: %+v", failures(res))
	}
	after := r.machines()
	if len(after) != before {
		t.Fatalf("%d machines after undo, want %d", len(after), before)
	}
	for _, m := range res.Machines {
		v := after[m.NewMachineID]
		var old flysim.MachineView
		for _, g := range gone {
			if g.Region == v.Region && g.Group == v.Group && g.Image == v.Image {
				old = g
			}
		}
		if old.ID == "" || v.State != "started" {
			t.Errorf("relaunched %s (%s %s %s %s) matches no destroyed machine", v.ID, v.State, v.Region, v.Group, v.Image)
		}
	}
}

func TestScaleUpClonesTargetImageDownRemovesWorstAndBack(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "majority", Machines: 100, NoRateLimit: true})
	e := r.engine(Options{SkipHealthChecks: true})
	ctx := context.Background()
	count := func(group string) (n int) {
		for _, m := range r.machines() {
			if m.Group == group {
				n++
			}
		}
		return n
	}
	web := count("web")
	// Record the pre-incident count the way any first action does.
	p, err := e.PlanScale(ctx, ScaleRequest{Group: "web", Count: web + 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Steps) != 3 || p.Steps[0].Config.Image != r.sim.TargetImage() {
		t.Fatalf("scale up must clone a target-image config: %+v", p.Steps)
	}
	res := r.run(e, p)
	if res.OK != 3 {
		t.Fatalf("scale up: %+v", failures(res))
	}
	for _, m := range res.Machines {
		v := r.machines()[m.NewMachineID]
		if v.Image != r.sim.TargetImage() || v.Group != "web" || v.State != "started" {
			t.Errorf("new machine %s: %s %s %s", v.ID, v.Group, v.State, v.Image)
		}
	}
	if count("web") != web+3 {
		t.Fatalf("web has %d, want %d", count("web"), web+3)
	}
	u, err := e.PlanUndo(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res := r.run(e, u); res.OK != 3 {
		t.Fatalf("undo scale: %+v", failures(res))
	}
	if count("web") != web {
		t.Fatalf("undo: web has %d, want %d", count("web"), web)
	}
	// Down by 4: failed machines go first.
	p, err = e.PlanScale(ctx, ScaleRequest{Group: "web", Count: web - 4})
	if err != nil {
		t.Fatal(err)
	}
	states := r.machines()
	failedInWeb := 0
	for _, m := range states {
		if m.Group == "web" && m.State == "failed" {
			failedInWeb++
		}
	}
	for i, s := range p.Steps {
		if i < failedInWeb && states[s.MachineID].State != "failed" {
			t.Errorf("step %d removes %s (%s, %s) before a failed machine", i, s.MachineID, states[s.MachineID].State, s.Reason)
		}
	}
	if res := r.run(e, p); res.OK != 4 {
		t.Fatalf("scale down: %+v", failures(res))
	}
	// Back to the remembered count in one step.
	p, err = e.PlanScale(ctx, ScaleRequest{Group: "web", Back: true})
	if err != nil || p.Args["count"] != p.Args["from"] && len(p.Steps) != 4 {
		t.Fatalf("scale --back: %v %+v", err, p.Args)
	}
	if res := r.run(e, p); res.OK != 4 {
		t.Fatalf("scale back: %+v", failures(res))
	}
	if count("web") != web {
		t.Fatalf("after --back web has %d, want %d", count("web"), web)
	}
}

func TestRollbackBadReleaseAndUndoUpdate(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "bad-release", Machines: 30, NoRateLimit: true})
	e := r.engine(Options{})
	ctx := context.Background()
	prevImages := map[string]string{}
	for id, m := range r.machines() {
		prevImages[id] = m.Image
	}
	p, err := e.PlanRollback(ctx, RollbackRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Args["image"] != r.sim.PreviousImage() || p.Args["release"] != "v61" {
		t.Fatalf("rollback chose %s (%s), want %s", p.Args["image"], p.Args["release"], r.sim.PreviousImage())
	}
	res := r.run(e, p)
	for _, m := range r.machines() {
		if m.LeaseOwner != "" {
			continue
		}
		if m.Image != r.sim.PreviousImage() || m.State != "started" || m.Metadata["fly_release_version"] != "61" {
			t.Errorf("%s after rollback: %s %s v%s", m.ID, m.State, m.Image, m.Metadata["fly_release_version"])
		}
	}
	// Undo of the rollback (an update) restores every prior image.
	u, err := e.PlanUndo(ctx, res.ActionID)
	if err != nil {
		t.Fatal(err)
	}
	r.run(e, NewSkipChecks(u))
	for id, m := range r.machines() {
		if m.Image != prevImages[id] {
			t.Errorf("%s: %s after undo, was %s", id, m.Image, prevImages[id])
		}
	}
}

// NewSkipChecks returns p with health checks skipped (the target image of
// bad-release never passes them).
func NewSkipChecks(p *Plan) *Plan { p.Limits.SkipHealthChecks = true; return p }

// Stopped machines are updated but left stopped, as deploys do.
func TestUpdateKeepsStoppedMachinesStopped(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "healthy", Machines: 8, NoRateLimit: true})
	e := r.engine(Options{})
	ctx := context.Background()
	sel := Selector{MachineIDs: ids(r, 2, func(flysim.MachineView) bool { return true })}
	p, _ := e.PlanStop(ctx, sel)
	r.run(e, p)
	prev := r.sim.PreviousImage()
	p, err := e.PlanUpdate(ctx, UpdateRequest{Selector: sel, Image: prev})
	if err != nil || len(p.Steps) != 2 || p.Steps[0].ToState != "stopped" {
		t.Fatalf("plan: %v %+v", err, p)
	}
	if res := r.run(e, p); res.OK != 2 {
		t.Fatalf("%+v", failures(res))
	}
	for _, id := range sel.MachineIDs {
		if m := r.machines()[id]; m.State != "stopped" || m.Image != prev || m.Metadata["fly_release_version"] != "61" {
			t.Errorf("%s: %s on %s v%s", id, m.State, m.Image, m.Metadata["fly_release_version"])
		}
	}
}

// Majority: stragglers are updated; replacing machines are waited on first;
// stuck ones are left out of an update with the runbook's advice.
func TestUpdateMajorityStragglers(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "majority", Machines: 100, NoRateLimit: true})
	e := r.engine(Options{WaitTimeout: 5 * time.Second})
	p, err := e.PlanUpdate(context.Background(), UpdateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	stuck := 0
	for _, s := range p.Skipped {
		if strings.HasPrefix(s.Reason, "stuck") {
			stuck++
		}
	}
	if stuck < 1 {
		t.Errorf("want the stuck machine skipped, got %d", stuck)
	}
	res := r.run(e, p)
	for _, m := range failures(res) {
		// A replacing machine may finish on its own before we get to it.
		if !strings.Contains(m.Error, flysim.LeaseBot) && !(m.Outcome == OutcomeSkipped && strings.HasPrefix(m.Error, "already")) {
			t.Errorf("%s: %s %s", m.MachineID, m.Outcome, m.Error)
		}
	}
}
