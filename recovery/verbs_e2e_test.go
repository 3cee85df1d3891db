package recovery

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/flyclient/flysim"
	"github.com/flyrescue/flyrescue/model"
)

// live reads a machine through the API, as the real Machines API shows it
// (the cordoned flag included).
func (r *rig) live(id string) *flyclient.Machine {
	r.t.Helper()
	m, err := r.client.Get(context.Background(), r.sim.App(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	return m
}

// journaled returns action id's log.
func journaled(t *testing.T, e *Engine, id string) *ActionLog {
	t.Helper()
	hist, err := e.history()
	if err != nil {
		t.Fatal(err)
	}
	a, err := FindAction(hist, id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// planVerb plans kind on the machines named.
func planVerb(t *testing.T, e *Engine, kind Kind, ids ...string) *Plan {
	t.Helper()
	p, err := e.PlanVerb(context.Background(), kind, VerbRequest{Selector: Selector{MachineIDs: ids}})
	if err != nil {
		t.Fatalf("plan %s: %v", kind, err)
	}
	return p
}

func started(m flysim.MachineView) bool { return m.State == model.StateStarted }

// Suspend: plan (a stopped machine is left out), run, the simulator shows
// the machines suspended, the journal has each intent and outcome, and undo
// starts them again.
func TestSuspendJournalsAndUndoStarts(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "healthy", Machines: 12, NoRateLimit: true})
	e := r.engine(Options{})
	sel := ids(r, 4, started)
	if err := r.client.Stop(context.Background(), r.sim.App(), sel[3], "", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := r.client.WaitFor(context.Background(), r.sim.App(), sel[3], []string{"stopped"}, "", time.Minute); err != nil {
		t.Fatal(err)
	}
	p := planVerb(t, e, KindSuspend, sel...)
	if p.Kind != KindSuspend || len(p.Steps) != 3 || len(p.Skipped) != 1 || !strings.Contains(p.Skipped[0].Reason, "cannot be suspended") {
		t.Fatalf("plan: %d steps, skipped %+v", len(p.Steps), p.Skipped)
	}
	if res := r.run(e, p); res.OK != 3 {
		t.Fatalf("suspend: %+v", failures(res))
	}
	for _, id := range sel[:3] {
		if s := r.machines()[id].State; s != model.StateSuspended {
			t.Errorf("%s is %s after suspend", id, s)
		}
	}
	for _, ml := range journaled(t, e, p.ID).Machines {
		if ml.Intent == nil || ml.Intent.Op != OpSuspend || ml.Intent.StateBefore != model.StateStarted ||
			ml.Outcome == nil || ml.Outcome.Outcome != OutcomeOK || ml.Outcome.StateAfter != model.StateSuspended {
			t.Errorf("journal of %s: intent %+v outcome %+v", ml.MachineID, ml.Intent, ml.Outcome)
		}
	}
	u, err := e.PlanUndo(context.Background(), p.ID)
	if err != nil || len(u.Steps) != 3 || u.Steps[0].Op != OpStart {
		t.Fatalf("plan undo: %v %+v", err, u)
	}
	if res := r.run(e, u); res.OK != 3 {
		t.Fatalf("undo: %+v", failures(res))
	}
	for _, id := range sel[:3] {
		if s := r.machines()[id].State; s != model.StateStarted {
			t.Errorf("%s is %s after undoing the suspend", id, s)
		}
	}
}

// Cordon and uncordon change the machine's cordoned flag and not its state;
// each undoes the other, and a machine already as asked is left out.
func TestCordonUncordonAndUndo(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "healthy", Machines: 12, NoRateLimit: true})
	e := r.engine(Options{})
	sel := ids(r, 2, started)
	p := planVerb(t, e, KindCordon, sel...)
	if len(p.Steps) != 2 || p.Steps[0].ToState != model.StateStarted {
		t.Fatalf("plan cordon: %+v", p.Steps)
	}
	if res := r.run(e, p); res.OK != 2 {
		t.Fatalf("cordon: %+v", failures(res))
	}
	for _, id := range sel {
		if m := r.live(id); !m.Cordoned || m.State != model.StateStarted {
			t.Errorf("%s after cordon: cordoned %v, %s", id, m.Cordoned, m.State)
		}
	}
	if again := planVerb(t, e, KindCordon, sel...); len(again.Steps) != 0 || !strings.Contains(again.Skipped[0].Reason, "already cordoned") {
		t.Errorf("cordoning cordoned machines: %d steps, %+v", len(again.Steps), again.Skipped)
	}
	u, err := e.PlanUndo(context.Background(), p.ID)
	if err != nil || len(u.Steps) != 2 || u.Steps[0].Op != OpUncordon {
		t.Fatalf("plan undo of cordon: %v %+v", err, u)
	}
	if res := r.run(e, u); res.OK != 2 {
		t.Fatalf("undo cordon: %+v", failures(res))
	}
	for _, id := range sel {
		if r.live(id).Cordoned {
			t.Errorf("%s still cordoned after the undo", id)
		}
	}
	// Uncordon on its own, and its undo cordons again.
	if res := r.run(e, planVerb(t, e, KindCordon, sel[0])); res.OK != 1 {
		t.Fatalf("cordon: %+v", failures(res))
	}
	un := planVerb(t, e, KindUncordon, sel...)
	if len(un.Steps) != 1 || un.Steps[0].MachineID != sel[0] || un.Skipped[0].Reason != "not cordoned" {
		t.Fatalf("plan uncordon: %+v skipped %+v", un.Steps, un.Skipped)
	}
	if res := r.run(e, un); res.OK != 1 || r.live(sel[0]).Cordoned {
		t.Fatalf("uncordon: %+v", failures(res))
	}
	u, err = e.PlanUndo(context.Background(), un.ID)
	if err != nil || len(u.Steps) != 1 || u.Steps[0].Op != OpCordon {
		t.Fatalf("plan undo of uncordon: %v %+v", err, u)
	}
	if res := r.run(e, u); res.OK != 1 || !r.live(sel[0]).Cordoned {
		t.Fatalf("undo uncordon: %+v", failures(res))
	}
}

// A cordoned machine serves nothing, so it counts against its group's
// budget: with worker's one unit spent on a cordoned machine, neither a
// second cordon nor a suspend may take another worker out of service.
func TestCordonedMachineCountsAgainstTheBudget(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "healthy", Machines: 12, NoRateLimit: true})
	e := r.engine(Options{})
	workers := ids(r, 3, func(m flysim.MachineView) bool { return m.Group == "worker" && started(m) })
	first := planVerb(t, e, KindCordon, workers[0])
	if first.Limits.GroupBudget["worker"] != 1 {
		t.Fatalf("worker budget %d, want 1", first.Limits.GroupBudget["worker"])
	}
	if res := r.run(e, first); res.OK != 1 {
		t.Fatalf("cordon: %+v", failures(res))
	}
	for _, kind := range []Kind{KindCordon, KindSuspend} {
		res := r.run(e, planVerb(t, e, kind, workers[1]))
		if res.Failed != 1 || !contains(res.Machines[0].Error, "already not serving") {
			t.Errorf("%s with the budget spent on a cordoned machine: %+v", kind, res.Machines)
		}
	}
	if m := r.live(workers[1]); m.Cordoned || m.State != model.StateStarted {
		t.Errorf("%s was taken out of service over the budget: cordoned %v, %s", workers[1], m.Cordoned, m.State)
	}
}

// Suspend and cordon hold a budget unit while they take a serving machine
// down, and give it back once it is down as asked (as stop does): the
// budget paces them, and the machine is not counted as an outage after.
func TestSuspendAndCordonHoldTheBudgetWhileInFlight(t *testing.T) {
	for _, op := range []Op{OpSuspend, OpCordon} {
		var steps []*stepState
		read := &fleetRead{down: map[string]string{}, up: map[string]bool{}, size: map[string]int{"web": 3}, healthy: map[string]map[string]int{}, moving: map[string]int{}}
		for _, id := range []string{"m1", "m2", "m3"} {
			steps = append(steps, &stepState{step: Step{MachineID: id, Op: op, Group: "web", FromState: model.StateStarted}})
			read.up[id] = true
		}
		s := newScheduler(append([]*stepState(nil), steps...), map[string]int{"web": 1}, 0, time.Second, time.Minute)
		s.observe(read)
		st := s.next()
		if st == nil || !st.slot || s.freeLocked("web") {
			t.Fatalf("%s: first step took no budget unit, or the group still has room", op)
		}
		// Down as asked: its machine is ours now, not an outage.
		s.saw(st.step.MachineID, "web", false)
		s.end(st, OutcomeOK, "")
		if !s.freeLocked("web") || s.external["web"] != 0 {
			t.Errorf("%s: after the first machine is down as asked, room %v, external %d", op, s.freeLocked("web"), s.external["web"])
		}
		if next := s.next(); next == nil || !next.slot {
			t.Errorf("%s: the next step did not get the unit back", op)
		}
	}
}

// A machine someone else holds a long lease on is left out of the plan
// with its holder named, as for every verb.
func TestCordonLeavesOutMachinesHeldByOthers(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "healthy", Machines: 12, NoRateLimit: true})
	e := r.engine(Options{})
	sel := ids(r, 2, started)
	if err := r.sim.HoldLease(sel[0], "alice@example.com", time.Hour); err != nil {
		t.Fatal(err)
	}
	p := planVerb(t, e, KindCordon, sel...)
	if len(p.Steps) != 1 || p.HeldByOthers != 1 || !strings.Contains(p.Held[0].Reason, "alice@example.com") {
		t.Fatalf("plan: %d steps, held %+v", len(p.Steps), p.Held)
	}
}

// Suspends that do not take (the machine stays suspending) fail
// verification for one cause; two of them halt the group, and the rest of
// it is recorded halted, untouched.
func TestSuspendFailuresHaltTheGroup(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "healthy", Machines: 20, NoRateLimit: true})
	e := r.engine(Options{WaitTimeout: time.Second, Concurrency: 1, HaltAfter: 2})
	p, err := e.PlanVerb(context.Background(), KindSuspend, VerbRequest{Selector: Selector{Query: "group:web"}})
	if err != nil || len(p.Steps) < 4 {
		t.Fatalf("plan: %v, %d steps", err, len(p.Steps))
	}
	for _, s := range p.Steps[:2] {
		r.sim.SetMachineFault(s.MachineID, flysim.FaultStuck)
	}
	r.sim.ResetStats()
	res := r.run(e, p)
	if res.Failed != 2 || res.Halted != len(p.Steps)-2 || len(res.Halts) != 1 || res.Halts[0].Group != "web" {
		t.Fatalf("failed %d halted %d halts %+v", res.Failed, res.Halted, res.Halts)
	}
	if n := len(r.sim.Stats().MutationsPerMachine); n != 2 {
		t.Errorf("%d machines touched, want only the 2 that failed", n)
	}
}

// crashMidRun runs the first half of p for real, then leaves the journal as
// a process killed right after its last call would have: that step has its
// intent and no outcome, and the second half never began. It returns the
// half that ran.
func crashMidRun(t *testing.T, r *rig, e *Engine, p *Plan) []Step {
	t.Helper()
	half := *p
	half.Steps = p.Steps[:len(p.Steps)/2]
	if res := r.run(e, &half); res.OK != len(half.Steps) {
		t.Fatalf("first half: %+v", failures(res))
	}
	last := half.Steps[len(half.Steps)-1].Seq
	data, err := os.ReadFile(e.journal.Path())
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var rec Record
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		switch {
		case rec.Type == RecordAction && rec.Action.ID == p.ID:
			rec.Action.Steps = p.Steps
			b, _ := json.Marshal(rec)
			line = string(b)
		case rec.Type == RecordOutcome && rec.Outcome.ActionID == p.ID && rec.Outcome.Seq == last:
			continue
		}
		kept = append(kept, line)
	}
	if err := os.WriteFile(e.journal.Path(), []byte(strings.Join(kept, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return half.Steps
}

// Resume after a run of each new verb died mid-way: the step whose answer
// died with the process is found done from live state, the rest run once,
// and undo of the action reverses what both runs did.
func TestResumeSuspendAndCordonAfterACrash(t *testing.T) {
	for _, c := range []struct {
		kind       Kind
		done, undo func(*flyclient.Machine) bool
	}{
		{KindSuspend, func(m *flyclient.Machine) bool { return m.State == model.StateSuspended },
			func(m *flyclient.Machine) bool { return m.State == model.StateStarted }},
		{KindCordon, func(m *flyclient.Machine) bool { return m.Cordoned },
			func(m *flyclient.Machine) bool { return !m.Cordoned }},
	} {
		r := newRig(t, flysim.Options{Scenario: "healthy", Machines: 12, NoRateLimit: true})
		e := r.engine(Options{})
		p := planVerb(t, e, c.kind, ids(r, 6, started)...)
		r.sim.ResetStats()
		ran := crashMidRun(t, r, e, p)
		if c := journaled(t, e, p.ID).Counts(); c[OutcomeInterrupted] != 1 || c[""] != len(p.Steps)-len(ran) {
			t.Fatalf("%s: journal before resume: %v", p.Kind, c)
		}
		rp, err := e.PlanResume(context.Background(), "")
		if err != nil || rp.Resumes != p.ID || len(rp.Reconciled) != 1 || len(rp.Steps) != len(p.Steps)-len(ran) {
			t.Fatalf("%s: resume plan: %v, %d found done, %d steps", c.kind, err, len(rp.Reconciled), len(rp.Steps))
		}
		if res := r.run(e, rp); res.OK != len(rp.Steps) || res.Reconciled != 1 {
			t.Fatalf("%s: resume: %+v", c.kind, failures(res))
		}
		for id, n := range r.sim.Stats().MutationsPerMachine {
			if n != 1 {
				t.Errorf("%s: %s changed %d times", c.kind, id, n)
			}
		}
		for _, s := range p.Steps {
			if !c.done(r.live(s.MachineID)) {
				t.Errorf("%s: %s not done after the resume", c.kind, s.MachineID)
			}
		}
		u, err := e.PlanUndo(context.Background(), p.ID)
		if err != nil || len(u.Steps) != len(p.Steps) {
			t.Fatalf("%s: undo plan: %v, %+v", c.kind, err, u)
		}
		if res := r.run(e, u); res.OK != len(u.Steps) {
			t.Fatalf("%s: undo: %+v", c.kind, failures(res))
		}
		for _, s := range p.Steps {
			if !c.undo(r.live(s.MachineID)) {
				t.Errorf("%s: %s not put back by the undo", c.kind, s.MachineID)
			}
		}
	}
}
