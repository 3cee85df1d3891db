package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
	"github.com/flyrescue/flyrescue/recovery"
)

// The verbs the registry added reach the dashboard by their keys alone:
// these tests press them over flysim and read the simulator's state.

// markStarted marks, with space, n started machines nobody holds, each of
// another process group.
func (h *harness) markStarted(n int) []string {
	h.t.Helper()
	groups := map[string]bool{}
	var ids []string
	for _, mv := range h.srv.Sim.Machines() {
		if len(ids) == n {
			break
		}
		if mv.State != "started" || mv.LeaseOwner != "" || mv.Destroyed || groups[mv.Group] {
			continue
		}
		h.cursorTo(mv.ID)
		h.press("space")
		if !h.m.marks.Has(mv.ID) {
			h.t.Fatalf("space did not mark %s", mv.ID)
		}
		groups[mv.Group] = true
		ids = append(ids, mv.ID)
	}
	if len(ids) < n {
		h.t.Fatalf("only %d started machines of distinct groups", len(ids))
	}
	return ids
}

// openPlan presses a verb's key and waits for its plan dialog, which must
// start on No.
func (h *harness) openPlan(key, title string) string {
	h.t.Helper()
	h.press(key)
	h.waitFor("the plan of "+key, func() bool { return h.m.mode() == modeConfirm || (!h.m.planning && h.m.status != "") })
	s := h.screen()
	if h.m.mode() != modeConfirm {
		h.t.Fatalf("%s opened no plan: %s\n%s", key, h.m.status, s)
	}
	if !strings.Contains(s, title) || !strings.Contains(s, "[default: No]") {
		h.t.Fatalf("%s: the dialog lacks %q or its default No:\n%s", key, title, s)
	}
	return s
}

// confirmRun presses y on the open plan and waits for the run to end.
func (h *harness) confirmRun() *recovery.Result {
	h.t.Helper()
	h.press("y")
	h.waitFor("the run to finish", func() bool { return h.m.run != nil && h.m.run.done })
	if h.m.run.err != nil || h.m.run.result == nil {
		h.t.Fatalf("run: %v", h.m.run.err)
	}
	return h.m.run.result
}

// planRun plans a verb by its key and runs it; every step must succeed.
func (h *harness) planRun(key, title string, steps int) {
	h.t.Helper()
	h.openPlan(key, title)
	if r := h.confirmRun(); r.OK != steps || r.Failed+r.Interrupted != 0 {
		h.t.Fatalf("%s: %+v, want %d done", key, r, steps)
	}
}

// simStates waits until every machine of ids is in state.
func (h *harness) simStates(state string, ids []string) {
	h.t.Helper()
	h.waitFor("machines "+state, func() bool {
		for _, id := range ids {
			if mv, _ := h.srv.Sim.Machine(id); mv.State != state {
				return false
			}
		}
		return true
	})
}

// S stops the marks (the dialog counting the one the filter hides), the
// rows and the journal show it; T starts them again.
func TestVerbKeysStopAndStart(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "healthy", machines: 12})
	ids := h.markStarted(2)
	first, _ := h.m.snap.Machine(ids[0])
	h.press("/")
	h.typeText("group:" + first.Group)
	h.press("enter")
	if s := h.openPlan("S", "Stop 2 machines?"); !strings.Contains(s, "1 of these marked machines are hidden by the filter") {
		t.Errorf("the stop plan does not count the hidden mark:\n%s", s)
	}
	if r := h.confirmRun(); r.OK != 2 {
		t.Fatalf("stop: %+v", r)
	}
	h.simStates("stopped", ids)
	if s := h.screen(); !strings.Contains(s, "✓ stopped") {
		t.Errorf("the row does not say stopped:\n%s", s)
	}
	h.press("J")
	h.waitFor("the journal", func() bool { return len(h.m.journal.logs) == 1 })
	if a := h.m.journal.logs[0].Action; a.Kind != recovery.KindStop || !strings.Contains(h.screen(), "stop") {
		t.Errorf("the journal has %s:\n%s", a.Kind, h.screen())
	}
	h.press("esc", "esc") // the journal, then the filter
	h.planRun("T", "Start 2 machines?", 2)
	h.simStates("started", ids)
}

// Z suspends the marks; U (undo the last action) starts them again.
func TestVerbKeysSuspendAndUndo(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "healthy", machines: 12})
	ids := h.markStarted(2)
	h.planRun("Z", "Suspend 2 machines?", 2)
	h.simStates("suspended", ids)
	// The undo says what it undoes: the suspend, by its ID, and when.
	if s := h.openPlan("U", "Undo suspend "); !strings.Contains(s, "ago): start 2 machines?") {
		t.Errorf("the undo dialog does not say what it undoes:\n%s", s)
	}
	if r := h.confirmRun(); r.OK != 2 {
		t.Fatalf("undo: %+v", r)
	}
	h.simStates("started", ids)
}

// C cordons the marks (after a first dialog answered No changes nothing);
// O uncordons them. The API's cordoned flag says so, the state stays.
func TestVerbKeysCordonAndUncordon(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "healthy", machines: 12})
	ids := h.markStarted(2)
	cordoned := func(id string) bool {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		m, err := h.client.Get(ctx, "demo-app", id)
		if err != nil {
			t.Fatal(err)
		}
		return m.Cordoned
	}
	h.openPlan("C", "Cordon 2 machines?")
	h.press("n")
	if h.m.status != "cancelled: nothing was changed" || cordoned(ids[0]) || len(h.srv.Sim.Stats().MutationsPerMachine) != 0 {
		t.Fatalf("n on the cordon plan: %q", h.m.status)
	}
	h.planRun("C", "Cordon 2 machines?", 2)
	for _, id := range ids {
		if mv, _ := h.srv.Sim.Machine(id); !cordoned(id) || mv.State != "started" {
			t.Errorf("%s after C: cordoned %v, %s", id, cordoned(id), mv.State)
		}
	}
	h.planRun("O", "Uncordon 2 machines?", 2)
	for _, id := range ids {
		if cordoned(id) {
			t.Errorf("%s still cordoned after O", id)
		}
	}
}

// L clears the lease a stalled deploy left on the cursor machine; U then
// says why a cleared lease cannot be undone.
func TestVerbKeysClearLease(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "healthy", machines: 12})
	var id string
	for _, mv := range h.srv.Sim.Machines() {
		if mv.State == "started" && mv.LeaseOwner == "" {
			id = mv.ID
			break
		}
	}
	if _, err := h.srv.Sim.HoldLeases(flysim.HeldLease{MachineID: id, Owner: "deploy-bot@example.com", Description: "fly deploy"}); err != nil {
		t.Fatal(err)
	}
	h.cursorTo(id)
	h.planRun("L", "Clear the leases of 1 machine?", 1)
	if mv, _ := h.srv.Sim.Machine(id); mv.LeaseOwner != "" {
		t.Fatalf("%s still leased by %s", id, mv.LeaseOwner)
	}
	h.press("U")
	h.waitFor("the undo to be refused", func() bool { return !h.m.planning })
	if h.m.mode() != modeNormal || !strings.Contains(h.m.status, "cannot be given back") {
		t.Errorf("U after a clear-lease: mode %d, status %q", h.m.mode(), h.m.status)
	}
}

// Read-only: every verb's key that changes machines is refused with the
// reason, nothing reaches the API, and the help says which are disabled.
func TestReadOnlyRefusesEveryVerb(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "healthy", machines: 12, readOnly: true})
	h.press("a")
	for _, v := range recovery.Verbs() {
		if recovery.ReadOnlyAllowed(v.Kind) {
			continue
		}
		h.press(v.Key)
		name := strings.ReplaceAll(string(v.Kind), "-", " ")
		if h.m.mode() != modeNormal || h.m.planning || !strings.Contains(h.m.status, name+" is disabled: flyrescue runs read-only") {
			t.Errorf("%s (%s) in read-only: mode %d, planning %v, status %q", v.Key, v.Kind, h.m.mode(), h.m.planning, h.m.status)
		}
	}
	h.settle(100 * time.Millisecond)
	if n := len(h.srv.Sim.Stats().MutationsPerMachine); n != 0 {
		t.Errorf("%d machines mutated in read-only", n)
	}
	h.dispatch(teaSize(200, 80))
	h.press("?")
	s := h.screen()
	for _, v := range recovery.Verbs() {
		if !recovery.ReadOnlyAllowed(v.Kind) && !strings.Contains(s, v.Help+" (read-only)") {
			t.Errorf("the help does not say %s is disabled:\n%s", v.Kind, s)
		}
	}
}

// A row's step reads as its op: the op's progressive while it acts, its
// past once done.
func TestStepTextFromOps(t *testing.T) {
	for _, o := range recovery.Ops() {
		if got := stepText(&stepState{op: o.Op, phase: recovery.PhaseActing}, "*"); got != "* "+o.Progressive {
			t.Errorf("%s acting: %q", o.Op, got)
		}
		if got := stepText(&stepState{op: o.Op, phase: recovery.PhaseDone}, "*"); got != "✓ "+o.Past {
			t.Errorf("%s done: %q", o.Op, got)
		}
	}
	if got := stepText(&stepState{op: "teleport", phase: recovery.PhaseActing}, "*"); got != "* teleport" {
		t.Errorf("an op this version does not know: %q", got)
	}
}
