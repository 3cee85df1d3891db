package recovery

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

// TestResumeAfterCrash fakes a process that died mid-run by cutting the
// journal back: some steps lose their outcome (the update happened), others
// lose intent and outcome (never started). Resume must mark the first done
// without touching them and finish the rest, each exactly once.
func TestResumeAfterCrash(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "minority", Machines: 40, NoRateLimit: true})
	e := r.engine(Options{})
	ctx := context.Background()
	p, _ := e.PlanUpdate(ctx, UpdateRequest{Selector: Selector{Query: "group:web"}})
	// Run only the first half for real.
	half := *p
	half.Steps = p.Steps[:len(p.Steps)/2]
	r.sim.ResetStats()
	if res := r.run(e, &half); res.OK != len(half.Steps) {
		t.Fatalf("first half: %+v", failures(res))
	}
	// Rewrite the journal as a crash would have left it: the action
	// planned all steps; the last 3 done steps have no outcome.
	path := e.journal.Path()
	data, _ := os.ReadFile(path)
	var kept []string
	cut := map[int]bool{}
	for i := len(half.Steps) - 3; i < len(half.Steps); i++ {
		cut[half.Steps[i].Seq] = true
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var rec Record
		json.Unmarshal([]byte(line), &rec)
		switch {
		case rec.Type == RecordAction:
			rec.Action.Steps = p.Steps
			b, _ := json.Marshal(rec)
			line = string(b)
		case rec.Type == RecordOutcome && cut[rec.Outcome.Seq]:
			continue
		}
		kept = append(kept, line)
	}
	// And one step died after its intent, before its API call.
	next := p.Steps[len(half.Steps)]
	b, _ := json.Marshal(Record{Type: RecordIntent, Intent: &IntentRecord{ActionID: p.ID, Seq: next.Seq, MachineID: next.MachineID,
		Op: OpUpdate, InstanceBefore: next.FromInstanceID, ToImage: next.ToImage}})
	kept = append(kept, string(b))
	os.WriteFile(path, []byte(strings.Join(kept, "\n")+"\n"), 0o600)

	hist, err := e.history()
	if err != nil || len(hist) != 1 {
		t.Fatalf("history: %v, %d actions", err, len(hist))
	}
	c := hist[0].Counts()
	if c[OutcomeInterrupted] != 4 || c[""] != len(p.Steps)-len(half.Steps)-1 {
		t.Fatalf("log before resume: %v", c)
	}
	before, _ := os.ReadFile(path)
	rp, err := e.PlanResume(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if rp.Resumes != p.ID || len(rp.Steps) != len(p.Steps)-len(half.Steps) {
		t.Fatalf("resume plan: resumes %s, %d steps, notes %q", rp.Resumes, len(rp.Steps), rp.Notes)
	}
	// Planning is pure: the 3 steps found done are in the plan, not yet in
	// the journal, which is byte for byte what it was.
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Fatalf("planning the resume wrote to the journal:\n%s", strings.TrimPrefix(string(after), string(before)))
	}
	if len(rp.Reconciled) != 3 {
		t.Fatalf("plan found %d steps done, want 3: %+v", len(rp.Reconciled), rp.Reconciled)
	}
	res := r.run(e, rp)
	if res.OK != len(rp.Steps) || res.Reconciled != 3 {
		t.Fatalf("resume: %d found done; %+v", res.Reconciled, failures(res))
	}
	// The run journals them right after its own action record.
	recs, _, err := e.journal.Records()
	if err != nil {
		t.Fatal(err)
	}
	at := -1
	for i, rec := range recs {
		if rec.Type == RecordAction && rec.Action.ID == rp.ID {
			at = i
		}
	}
	for k := 1; k <= 3; k++ {
		if at < 0 || at+k >= len(recs) || recs[at+k].Outcome == nil || !recs[at+k].Outcome.Reconciled ||
			recs[at+k].Outcome.ActionID != p.ID || !cut[recs[at+k].Outcome.Seq] {
			t.Fatalf("record %d after the resume's action (at %d) is not a reconciled outcome of a cut step", k, at)
		}
	}
	for id, n := range r.sim.Stats().MutationsPerMachine {
		if n != 1 {
			t.Errorf("%s mutated %d times", id, n)
		}
	}
	hist, err = e.history()
	if err != nil || len(hist) != 2 {
		t.Fatalf("history after resume: %v, %d actions", err, len(hist))
	}
	if c := hist[0].Counts(); c[OutcomeOK] != len(half.Steps) {
		t.Errorf("original action after resume: %v", c)
	}
	if _, err := e.PlanResume(ctx, ""); err == nil {
		t.Error("a second resume found work")
	}
}
