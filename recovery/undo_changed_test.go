package recovery

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

const hotfixImage = "registry.fly.io/demo-app:hotfix-99"

// TestUndoLeavesOutMachinesChangedSince: action A moves 8 machines to the
// previous release; action B then puts 3 of them on a hotfix and someone
// outside flyrescue stops a 4th. Undoing A must put back only the 4 that
// are still as A left them, say why the others are left out, and take
// them too only when asked.
func TestUndoLeavesOutMachinesChangedSince(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "healthy", Machines: 12, NoRateLimit: true})
	// Groups of 3 to 6 machines, one of which gets stopped: a budget of 4
	// leaves room for the undo (budgets are tested elsewhere).
	e := r.engine(Options{MaxUnavailable: 4})
	ctx := context.Background()
	target, previous := r.sim.TargetImage(), r.sim.PreviousImage()

	touched := ids(r, 8, func(m flysim.MachineView) bool { return m.State == "started" })
	a, err := e.PlanUpdate(ctx, UpdateRequest{Selector: Selector{MachineIDs: touched}, Image: previous})
	if err != nil || len(a.Steps) != 8 {
		t.Fatalf("plan A: %v, %+v", err, a)
	}
	if res := r.run(e, a); res.OK != 8 {
		t.Fatalf("A: %+v", failures(res))
	}
	leftByA := r.machines()

	hotfixed := touched[:3]
	b, err := e.PlanUpdate(ctx, UpdateRequest{Selector: Selector{MachineIDs: hotfixed}, Image: hotfixImage})
	if err != nil || len(b.Steps) != 3 {
		t.Fatalf("plan B: %v, %+v", err, b)
	}
	if res := r.run(e, b); res.OK != 3 {
		t.Fatalf("B: %+v", failures(res))
	}
	// Someone with fly CLI stops another: no journal knows.
	stoppedOutside := touched[3]
	if err := r.client.Stop(ctx, r.sim.App(), stoppedOutside, "", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := r.client.WaitFor(ctx, r.sim.App(), stoppedOutside, []string{"stopped"}, "", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	now := r.machines()

	u, err := e.PlanUndo(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.Undoes != a.ID || len(u.Steps) != 4 || len(u.Skipped) != 4 {
		t.Fatalf("undo A: %d steps, %d skipped, notes %q", len(u.Steps), len(u.Skipped), u.Notes)
	}
	skipped := map[string]string{}
	for _, s := range u.Skipped {
		skipped[s.MachineID] = s.Reason
	}
	for _, id := range hotfixed {
		why := skipped[id]
		for _, want := range []string{"changed since " + DisplayID(a.ID), "by " + DisplayID(b.ID), "hotfix-99", now[id].InstanceID, leftByA[id].InstanceID} {
			if !strings.Contains(why, want) {
				t.Errorf("%s: reason %q does not say %q", id, why, want)
			}
		}
	}
	if why := skipped[stoppedOutside]; !strings.Contains(why, "outside flyrescue") || !strings.Contains(why, "stopped") {
		t.Errorf("%s, stopped outside the journal: reason %q", stoppedOutside, why)
	}
	if !strings.Contains(strings.Join(u.Notes, "\n"), "4 machines changed since "+DisplayID(a.ID)+": left out") {
		t.Errorf("notes do not count the machines left out: %q", u.Notes)
	}
	for _, s := range u.Steps {
		if _, left := skipped[s.MachineID]; left || s.ToImage != target {
			t.Errorf("step %s to %s", s.MachineID, s.ToImage)
		}
	}

	all, err := e.PlanUndoWith(ctx, UndoRequest{ActionID: a.ID, IncludeChanged: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Steps) != 8 || len(all.Skipped) != 0 {
		t.Fatalf("undo A with changed machines: %d steps, %d skipped", len(all.Steps), len(all.Skipped))
	}
	if !strings.Contains(strings.Join(all.Notes, "\n"), "4 machines changed since "+DisplayID(a.ID)+": put back anyway") {
		t.Errorf("notes: %q", all.Notes)
	}

	// The default plan runs: only the 4 unchanged machines move.
	r.sim.ResetStats()
	if res := r.run(e, u); res.OK != 4 {
		t.Fatalf("undo: %+v", failures(res))
	}
	after := r.machines()
	for _, id := range touched {
		_, left := skipped[id]
		switch {
		case left && (after[id].Image != now[id].Image || after[id].State != now[id].State):
			t.Errorf("%s was changed since A and left out, yet moved from %s %s to %s %s", id, now[id].Image, now[id].State, after[id].Image, after[id].State)
		case !left && after[id].Image != target:
			t.Errorf("%s not put back: on %s", id, after[id].Image)
		}
	}
	mutated := r.sim.Stats().MutationsPerMachine
	if len(mutated) != 4 {
		t.Errorf("undo mutated %d machines, want 4: %v", len(mutated), mutated)
	}
}

// undoItems folds a step a resume ran again into the machine's one item:
// the interrupted run's intent (what it was before) and the resume's outcome
// (what it was left as). Two items would put one machine back twice.
func TestUndoItemsOneMachineOneItem(t *testing.T) {
	a := &ActionLog{Action: ActionRecord{ID: "a"}, Machines: []MachineLog{
		{Seq: 1, MachineID: "m1", Intent: &IntentRecord{ActionID: "a", Seq: 1, MachineID: "m1", Op: OpUpdate, ImageBefore: "old"}},
		{Seq: 2, MachineID: "m2", Intent: &IntentRecord{ActionID: "a", Seq: 2, MachineID: "m2", Op: OpUpdate, ImageBefore: "old"},
			Outcome: &OutcomeRecord{Outcome: OutcomeOK, InstanceAfter: "i2"}},
	}}
	r := &ActionLog{Action: ActionRecord{ID: "r", Resumes: "a"}, Machines: []MachineLog{
		{Seq: 1, MachineID: "m1", Intent: &IntentRecord{ActionID: "r", Seq: 1, MachineID: "m1", Op: OpUpdate, ImageBefore: "half-way"},
			Outcome: &OutcomeRecord{Outcome: OutcomeOK, InstanceAfter: "i1"}},
	}}
	items := undoItems([]*ActionLog{a, r})
	if len(items) != 2 {
		t.Fatalf("%d items for 2 machines", len(items))
	}
	m1 := items[0]
	if m1.first.ImageBefore != "old" || m1.last.Outcome == nil || m1.last.Outcome.InstanceAfter != "i1" || m1.by != r {
		t.Errorf("m1: before %q, left by %s as %+v", m1.first.ImageBefore, m1.by.Action.ID, m1.last.Outcome)
	}
}

// A saved config the journal could keep only redacted is not applied:
// the machine would get "[REDACTED]" for a value.
func TestUndoRefusesRedactedConfig(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "healthy", Machines: 4, NoRateLimit: true})
	e := r.engine(Options{})
	ctx := context.Background()
	id := ids(r, 1, func(flysim.MachineView) bool { return true })[0]
	live := r.machines()[id]
	const action = "20250101T000000-abcdef"
	recs := []Record{
		{Type: RecordAction, Action: &ActionRecord{ID: action, Kind: KindUpdate, App: r.sim.App(),
			Steps: []Step{{Seq: 1, MachineID: id, Op: OpUpdate, ToImage: live.Image}}}},
		{Type: RecordIntent, Intent: &IntentRecord{ActionID: action, Seq: 1, MachineID: id, Op: OpUpdate, ImageBefore: hotfixImage,
			StateBefore: "started", ConfigBefore: &flyclient.MachineConfig{Image: hotfixImage, Env: map[string]string{"UPSTREAM_AUTH": "Bearer abcdefgh12345678"}}}},
		{Type: RecordOutcome, Outcome: &OutcomeRecord{ActionID: action, Seq: 1, MachineID: id, Outcome: OutcomeOK,
			InstanceAfter: live.InstanceID, ImageAfter: live.Image, StateAfter: live.State}},
	}
	for _, rec := range recs {
		if err := e.journal.Append(rec); err != nil {
			t.Fatal(err)
		}
	}
	u, err := e.PlanUndo(ctx, action)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Steps) != 0 || len(u.Skipped) != 1 || !strings.Contains(u.Skipped[0].Reason, "by hand") {
		t.Fatalf("undo of a redacted config: %d steps, skipped %+v", len(u.Steps), u.Skipped)
	}
}

// "Nothing to undo" and "nothing to resume" match ErrNothingToDo, so the
// command line can give them their own exit code.
func TestNothingToUndoOrResume(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "healthy", Machines: 4, NoRateLimit: true})
	e := r.engine(Options{})
	ctx := context.Background()
	_, err := e.PlanUndo(ctx, "")
	if !errors.Is(err, ErrNothingToDo) || !strings.Contains(err.Error(), "nothing to undo") {
		t.Errorf("undo on an empty journal: %v", err)
	}
	_, err = e.PlanResume(ctx, "")
	if !errors.Is(err, ErrNothingToDo) || !strings.Contains(err.Error(), "nothing to resume") {
		t.Errorf("resume on an empty journal: %v", err)
	}
	p, _ := e.PlanStop(ctx, Selector{MachineIDs: ids(r, 1, func(flysim.MachineView) bool { return true })})
	r.run(e, p)
	u, err := e.PlanUndo(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	r.run(e, u)
	if _, err := e.PlanUndo(ctx, p.ID); !errors.Is(err, ErrNothingToDo) || !strings.Contains(err.Error(), "already undone by "+DisplayID(u.ID)) {
		t.Errorf("undo twice: %v", err)
	}
	if _, err := e.PlanUndo(ctx, "no-such-action"); err == nil || errors.Is(err, ErrNothingToDo) {
		t.Errorf("an unknown action is not 'nothing to do': %v", err)
	}
}
