package ui

import (
	"context"
	"encoding/json"
	"fmt"
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
	h.waitFor("the resume plan", func() bool { return h.m.mode() == modeConfirm || (!h.m.planning && h.m.status != "") })
	if h.m.mode() != modeConfirm {
		t.Fatalf("no plan: %s", h.m.status)
	}
	if s := h.screen(); !strings.Contains(s, "stop 1 machine?") || !strings.Contains(s, "1 interrupted step of") ||
		!strings.Contains(s, "y records it in the journal") || !strings.Contains(s, "Resume stop ") {
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
	h.waitFor("the resume plan again", func() bool { return h.m.mode() == modeConfirm || (!h.m.planning && h.m.status != "") })
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

// The repro: `/state:created`, enter, `a`, `D`, `f`, `y` destroys
// the marked machines; the next poll drops their marks with one line, so
// the header stops counting them and the next plan does not fail on them.
func TestMarksOnDestroyedMachinesAreDropped(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "majority", machines: 300})
	h.press("/")
	h.typeText("state:created")
	h.press("enter", "a")
	marked := h.m.marks.IDs()
	if len(marked) < 2 {
		t.Fatalf("want several created machines marked, got %v", marked)
	}
	h.press("D")
	h.waitFor("the destroy plan", func() bool { return h.m.mode() == modeConfirm || (!h.m.planning && h.m.status != "") })
	h.press("f")
	h.waitFor("the forced plan", func() bool { return h.m.mode() == modeConfirm && h.m.pending().req.force })
	h.press("y")
	h.waitFor("the destroy to finish", func() bool { return h.m.run != nil && h.m.run.done })
	for _, id := range marked {
		if mv, ok := h.srv.Sim.Machine(id); !ok || !mv.Destroyed {
			t.Fatalf("%s was not destroyed: %+v", id, mv)
		}
	}
	h.waitFor("a poll without them", func() bool { return h.m.marks.Len() == 0 })
	want := fmt.Sprintf("%d marked machines are gone (destroyed?) and were unmarked", len(marked))
	if s := h.screen(); !strings.Contains(s, want) || strings.Contains(s, "marked ·") {
		t.Fatalf("want %q and no marked count in the header:\n%s", want, s)
	}
	// The next plan, on the cursor row, plans; it does not fail on them.
	h.press("esc")
	h.waitFor("the table", func() bool { return len(h.m.rows) > 0 })
	h.press("down", "down", "r")
	h.waitFor("the restart plan", func() bool { return h.m.mode() == modeConfirm || (!h.m.planning && h.m.status != "") })
	if h.m.mode() != modeConfirm {
		t.Fatalf("restart after the destroy did not plan: %s", h.m.status)
	}
}

// A marked machine destroyed after the last poll, before the plan: the plan
// is made without it (its mark goes, with the same line), never failing
// with "no live machine".
func TestPlanSkipsMarkDestroyedSincePoll(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "healthy", machines: 12})
	var ids []string
	for _, i := range h.m.visible[:2] {
		ids = append(ids, h.m.snap.Machines[i].ID)
	}
	h.m.marks.Add(ids...)
	// Destroyed out of band; no poll result is handled before the plan.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.client.Destroy(ctx, "demo-app", ids[0], "", true); err != nil {
		t.Fatal(err)
	}
	h.srv.Sim.ResetStats()
	h.press("r")
	h.waitFor("the restart plan", func() bool { return h.m.mode() == modeConfirm || (!h.m.planning && h.m.status != "") })
	if h.m.mode() != modeConfirm {
		t.Fatalf("no plan: %s", h.m.status)
	}
	if p := h.m.pending().plan; len(p.Steps) != 1 || p.Steps[0].MachineID != ids[1] {
		t.Fatalf("plan: %+v, want only %s", p.Steps, ids[1])
	}
	if s := h.screen(); !strings.Contains(s, "1 marked machine is gone (destroyed?) and was unmarked") || !strings.Contains(s, "Restart 1 machine?") {
		t.Fatalf("screen:\n%s", s)
	}
	if h.m.marks.Has(ids[0]) || !h.m.marks.Has(ids[1]) {
		t.Fatalf("marks after the plan: %v", h.m.marks.IDs())
	}
	h.press("y")
	h.waitFor("the restart to finish", func() bool { return h.m.run != nil && h.m.run.done })
	if st := h.srv.Sim.Stats().MutationsPerMachine; st[ids[1]] != 1 || st[ids[0]] != 0 {
		t.Fatalf("mutations: %v", st)
	}
}

// The repro: `/grup:worker_autoscale` used to keep matching "grup"
// fuzzily, and `a`, `r` planned a restart of what it matched. The filter is
// --select's language: the unknown qualifier is an error shown in full, it
// matches nothing, and the keys that act on what the table shows say why
// they do nothing.
func TestFilterUnknownQualifierMatchesNothing(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "majority", machines: 300})
	h.press("/")
	h.typeText("grup")
	if s := h.screen(); len(h.m.visible) == 0 || strings.Contains(s, "invalid") {
		t.Fatalf("free text should match fuzzily while typed:\n%s", s)
	}
	h.typeText(":worker_autoscale")
	h.press("enter")
	s := h.screen()
	for _, want := range []string{
		"invalid filter: matches nothing",
		`unknown qualifier "grup:" (use group:, state:, region:, image:, checks:, stuck)`,
		"the filter is invalid: no machine is shown and no action runs",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("screen lacks %q:\n%s", want, s)
		}
	}
	if len(h.m.visible) != 0 || len(h.m.rows) != 0 {
		t.Fatalf("an invalid filter shows %d machines", len(h.m.visible))
	}
	h.srv.Sim.ResetStats()
	h.press("a")
	if h.m.marks.Len() != 0 || !strings.Contains(h.screen(), "does nothing: the filter is invalid") {
		t.Fatalf("a on an invalid filter: %d marked\n%s", h.m.marks.Len(), h.screen())
	}
	h.press("r")
	if h.m.planning || h.m.mode() == modeConfirm || !strings.Contains(h.m.status, "does nothing: the filter is invalid") {
		t.Fatalf("r on an invalid filter: planning %v, status %q", h.m.planning, h.m.status)
	}
	// Fixed, it selects exactly the group, as the simulator has it.
	h.press("/")
	for range "grup:worker_autoscale" {
		h.press("backspace")
	}
	h.typeText("group:worker_autoscale")
	h.press("enter")
	want := 0
	for _, mv := range h.srv.Sim.Machines() {
		if !mv.Destroyed && mv.Group == "worker_autoscale" {
			want++
		}
	}
	if h.m.filterErr != nil || len(h.m.visible) != want {
		t.Fatalf("group:worker_autoscale shows %d machines, the simulator has %d (err %v)", len(h.m.visible), want, h.m.filterErr)
	}
	if n := len(h.srv.Sim.Stats().MutationsPerMachine); n != 0 {
		t.Fatalf("%d machines changed", n)
	}
}

// Mid-word, an error the word can grow out of is a dim hint and the words
// before it keep applying; once the operator leaves the filter, the same
// error makes it invalid, shown in full (wrapped) however long it is.
func TestFilterTypingHintThenError(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "majority", machines: 300})
	total := len(h.m.snap.Machines)
	h.press("/")
	h.typeText("image:old state:fai")
	old := 0
	for _, mc := range h.m.snap.Machines {
		if mc.Image != h.m.snap.Target.Image {
			old++
		}
	}
	s := h.screen()
	if h.m.filterErr != nil || len(h.m.visible) != old || old == 0 || old == total {
		t.Fatalf("mid-word: err %v, %d shown, want the %d on an old image", h.m.filterErr, len(h.m.visible), old)
	}
	if !strings.Contains(s, `… unknown state "fai"`) || strings.Contains(s, "invalid") {
		t.Fatalf("mid-word the error should be a hint:\n%s", s)
	}
	h.typeText("led")
	if h.m.filterTyping != nil || h.m.filterErr != nil {
		t.Fatalf("state:failed: typing %v, err %v", h.m.filterTyping, h.m.filterErr)
	}
	for range "led" {
		h.press("backspace")
	}
	h.press("enter")
	s = h.screen()
	if len(h.m.visible) != 0 || !strings.Contains(s, "invalid filter: matches nothing") ||
		!strings.Contains(s, `unknown state "fai"`) || !strings.Contains(s, "launch_failed, replaced, migrated)") {
		t.Fatalf("after enter the error should be shown in full and match nothing:\n%s", s)
	}
	h.press("esc")
	if h.m.filterErr != nil || len(h.m.visible) != total {
		t.Fatalf("esc: err %v, %d of %d shown", h.m.filterErr, len(h.m.visible), total)
	}
}
