package ui

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/recovery"
)

// interruptStop stops two started machines through the engine, then
// rewrites the journal as a process killed mid-run leaves it: step 1 has
// its intent and no outcome (the stop landed), step 2 has neither.
func interruptStop(t *testing.T, h *harness) []string {
	t.Helper()
	var ids []string
	for _, m := range h.srv.Sim.Machines() {
		if m.State == "started" && len(ids) < 2 {
			ids = append(ids, m.ID)
		}
	}
	eng := h.m.opts.Engine
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := eng.PlanStop(ctx, recovery.Selector{MachineIDs: ids})
	if err != nil || len(p.Steps) != 2 {
		t.Fatalf("plan stop: %v", err)
	}
	if res, err := eng.Execute(ctx, p, nil); err != nil || res.OK != 2 {
		t.Fatalf("stop: %v %+v", err, res)
	}
	path := h.journal.Path()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.SplitAfter(string(b), "\n") {
		var rec recovery.Record
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		if rec.Type == recovery.RecordOutcome || rec.Type == recovery.RecordIntent && rec.Intent.Seq != 1 {
			continue
		}
		kept = append(kept, line)
	}
	if err := os.WriteFile(path, []byte(strings.Join(kept, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	return ids
}

// R opens the resume plan; any key but y cancels it, and the journal is then
// byte for byte what it was (planning found step 1 done but did not write
// that), and no machine was touched. y then runs it: step 1 is journaled as
// found done and step 2 is run.
func TestResumeDialogCancelWritesNothing(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "healthy", machines: 12})
	ids := interruptStop(t, h)
	before, err := os.ReadFile(h.journal.Path())
	if err != nil {
		t.Fatal(err)
	}
	h.srv.Sim.ResetStats()

	h.press("R")
	h.waitFor("the resume plan", func() bool { return h.m.mode == modeConfirm || (!h.m.planning && h.m.status != "") })
	if h.m.mode != modeConfirm {
		t.Fatalf("no plan: %s", h.m.status)
	}
	if s := h.screen(); !strings.Contains(s, "stop 1 machine?") || !strings.Contains(s, "1 interrupted steps of") ||
		!strings.Contains(s, "y records them in the journal") {
		t.Fatalf("resume dialog:\n%s", s)
	}
	h.press("n")
	if s := h.screen(); !strings.Contains(s, "cancelled: nothing was changed") {
		t.Fatalf("after n:\n%s", s)
	}
	after, err := os.ReadFile(h.journal.Path())
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Fatalf("a cancelled resume wrote to the journal:\n%s", strings.TrimPrefix(string(after), string(before)))
	}
	if n := len(h.srv.Sim.Stats().MutationsPerMachine); n != 0 {
		t.Fatalf("a cancelled resume changed %d machines", n)
	}

	h.press("R")
	h.waitFor("the resume plan again", func() bool { return h.m.mode == modeConfirm || (!h.m.planning && h.m.status != "") })
	h.press("y")
	h.waitFor("the resume to finish", func() bool { return h.m.run != nil && h.m.run.done })
	if s := h.screen(); !strings.Contains(s, "1 found done, now journaled") {
		t.Errorf("finish line:\n%s", s)
	}
	recs, _, err := h.journal.Records()
	if err != nil {
		t.Fatal(err)
	}
	hist := recovery.History(recs)
	if len(hist) != 2 || hist[1].Action.Resumes != hist[0].Action.ID {
		t.Fatalf("journal: %d actions, want the stop and its resume", len(hist))
	}
	if o := hist[0].Machines[0].Outcome; o == nil || !o.Reconciled || o.Outcome != recovery.OutcomeOK {
		t.Errorf("step 1 after the resume: %+v, want ok, reconciled", o)
	}
	for _, id := range ids {
		if mv, ok := h.srv.Sim.Machine(id); !ok || mv.State != "stopped" {
			t.Errorf("%s is %s after the resume, want stopped", id, mv.State)
		}
	}
}
