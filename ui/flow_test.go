package ui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/flyclient/flysim"
	"github.com/flyrescue/flyrescue/recovery"
)

// Flow 1, as the issue words it: filter `group:worker_autoscale
// state:failed`, mark all, `u`, `y`; flysim ends with every one of them on
// the target image, started on a new instance, and the journal holds the
// action with one outcome per machine. The failed machines are of both
// kinds: ones the deploy left failed on the target image, and one that
// failed on the old image.
func TestFlowFilterMarkUpdate(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "majority", machines: 300})
	broken := breakOldWorkers(t, h, 1)
	h.waitFor("the broken worker to show as failed", func() bool {
		i, ok := h.m.snap.Index(broken[0])
		return ok && h.m.snap.EffectiveState(i) == "failed"
	})
	h.press("/")
	h.typeText("group:worker_autoscale state:failed")
	if h.m.mode() != modeFilter {
		t.Fatal("typing a query left the filter")
	}
	h.press("enter")
	before := map[string]string{}
	for _, i := range h.m.visible {
		mc := h.m.snap.Machines[i]
		if mc.Group != "worker_autoscale" || mc.State != "failed" {
			t.Fatalf("filter let through %s (%s, %s)", mc.ID, mc.Group, mc.State)
		}
		before[mc.ID] = mc.InstanceID
	}
	if len(before) < 2 || before[broken[0]] == "" {
		t.Fatalf("want the broken worker and the deploy's failed ones, got %v; screen:\n%s", before, h.screen())
	}
	if !strings.Contains(h.screen(), fmt.Sprintf("%d of %d match", len(h.m.visible), len(h.m.snap.Machines))) {
		t.Errorf("match count missing:\n%s", h.screen())
	}
	h.press("a")
	if h.m.marks.Len() != len(before) {
		t.Fatalf("marked %d, want %d", h.m.marks.Len(), len(before))
	}
	h.press("u")
	h.waitFor("the plan dialog", func() bool { return h.m.mode() == modeConfirm || (!h.m.planning && h.m.status != "") })
	if h.m.mode() != modeConfirm {
		t.Fatalf("no plan: %s", h.m.status)
	}
	if s := h.screen(); !strings.Contains(s, "[default: No]") || !strings.Contains(s, "worker_autoscale") || !strings.Contains(s, fmt.Sprintf("%d machines", len(before))) {
		t.Errorf("plan dialog incomplete:\n%s", s)
	}
	h.press("y")
	h.waitFor("the run to finish", func() bool { return h.m.run != nil && h.m.run.done })
	target := h.srv.Sim.TargetImage()
	ids := make([]string, 0, len(before))
	for id, inst := range before {
		ids = append(ids, id)
		mv, ok := h.srv.Sim.Machine(id)
		if !ok || mv.Image != target || mv.State != "started" || mv.InstanceID == inst {
			t.Errorf("machine %s: %s on %q (instance %s, was %s), want started on %q", id, mv.State, mv.Image, mv.InstanceID, inst, target)
		}
	}
	recs, _, err := h.journal.Records()
	if err != nil {
		t.Fatal(err)
	}
	hist := recovery.History(recs)
	if len(hist) != 1 || hist[0].Action.Kind != recovery.KindUpdate {
		t.Fatalf("journal: %d actions, want one update", len(hist))
	}
	journaled := map[string]bool{}
	for _, ml := range hist[0].Machines {
		journaled[ml.MachineID] = ml.Outcome != nil
	}
	for _, id := range ids {
		if !journaled[id] {
			t.Errorf("journal has no outcome for %s", id)
		}
	}
	// The journal pane shows it.
	h.press("J")
	h.waitFor("journal", func() bool { return len(h.m.journal.logs) == 1 })
	if s := h.screen(); !strings.Contains(s, "update") || !strings.Contains(s, "ok") {
		t.Errorf("journal pane:\n%s", s)
	}
}

// Flow 2: watch a minority deploy progress while another client updates
// machines: the header's counts follow.
func TestFlowWatchOtherClient(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "minority", machines: 100})
	before := h.m.snap.OnTarget
	if !strings.Contains(h.screen(), fmt.Sprintf("%d on target", before)) {
		t.Fatalf("header lacks the on-target count:\n%s", h.screen())
	}
	other := newSimClient(t, h.srv)
	target := h.srv.Sim.TargetImage()
	ctx := context.Background()
	moved := 0
	for _, mv := range h.srv.Sim.Machines() {
		if mv.Image == target || mv.State != "started" || mv.LeaseOwner != "" {
			continue
		}
		m, err := other.Get(ctx, "demo-app", mv.ID)
		if err != nil {
			t.Fatal(err)
		}
		cfg := cloneConfig(t, m.Config)
		cfg.Image = target
		if _, err := other.Update(ctx, "demo-app", flyclient.UpdateInput{ID: m.ID, Region: m.Region, Config: cfg}); err != nil {
			t.Fatal(err)
		}
		if moved++; moved == 10 {
			break
		}
	}
	h.waitFor("the table to see the other client's updates", func() bool { return h.m.snap.OnTarget >= before+moved })
	if s := h.screen(); !strings.Contains(s, fmt.Sprintf("%d on target", h.m.snap.OnTarget)) {
		t.Errorf("header not updated:\n%s", s)
	}
}

// Flow 3: destroy a stuck machine with force, then scale its group back.
func TestFlowDestroyStuckAndScaleBack(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "stuck", machines: 100})
	if len(h.m.snap.Stuck) == 0 {
		t.Fatal("no stuck machine")
	}
	victim := h.m.snap.Stuck[0]
	vm, _ := h.m.snap.Machine(victim)
	group := vm.Group
	groupTotal := func() int {
		for _, g := range h.m.snap.Groups {
			if g.Name == group {
				return g.Total
			}
		}
		return 0
	}
	want := groupTotal()
	h.cursorTo(victim)
	h.press("D")
	h.waitFor("destroy plan", func() bool { return h.m.mode() == modeConfirm })
	if !strings.Contains(h.screen(), "press f") {
		t.Errorf("destroy plan does not offer force:\n%s", h.screen())
	}
	h.press("f")
	h.waitFor("forced plan", func() bool { return h.m.mode() == modeConfirm && h.m.pending().req.force })
	if !strings.Contains(h.screen(), "FORCE-destroy 1 machine") {
		t.Errorf("forced plan:\n%s", h.screen())
	}
	h.press("y")
	h.waitFor("destroy to finish", func() bool { return h.m.run != nil && h.m.run.done })
	if mv, ok := h.srv.Sim.Machine(victim); ok && !mv.Destroyed {
		t.Fatalf("victim not destroyed: %+v (%s)", mv.State, h.m.status)
	}
	h.waitFor("a poll without the victim", func() bool { return groupTotal() == want-1 })

	h.press("c", "s")
	if h.m.mode() != modeForm {
		t.Fatalf("scale form did not open: %s", h.m.status)
	}
	for h.m.form().groups[h.m.form().group] != group {
		h.press("space")
	}
	h.press("tab", "ctrl+u")
	h.typeText(strconv.Itoa(want))
	h.press("enter")
	h.waitFor("scale plan", func() bool { return h.m.mode() == modeConfirm })
	h.press("y")
	h.waitFor("scale to finish", func() bool { return h.m.run != nil && h.m.run.done })
	h.waitFor("the group back at its count", func() bool { return groupTotal() == want })
}

// Read-only refuses every action and says why; nothing reaches the API.
func TestReadOnlyRefusesEveryAction(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "majority", machines: 60, readOnly: true})
	h.press("a")
	for _, k := range []string{"u", "r", "D", "s", "b", "U", "R", "f"} {
		h.press(k)
		if h.m.mode() != modeNormal || h.m.planning {
			t.Fatalf("%s opened mode %d in read-only", k, h.m.mode())
		}
		if !strings.Contains(h.m.status, "disabled") {
			t.Errorf("%s: status %q does not say why", k, h.m.status)
		}
	}
	h.settle(100 * time.Millisecond)
	if n := len(h.srv.Sim.Stats().MutationsPerMachine); n != 0 {
		t.Errorf("%d machines mutated in read-only", n)
	}
	h.press("?")
	if s := h.screen(); !strings.Contains(s, "update to target (read-only)") {
		t.Errorf("help does not say why update is disabled:\n%s", s)
	}
}

// Quitting while an action runs asks first (default No), then cancels the
// run cleanly before quitting.
func TestQuitWhileRunningCancels(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "minority", machines: 100})
	h.srv.Sim.SetLatency(30 * time.Millisecond)
	h.updateOldImageUntilInFlight()
	h.press("q")
	if h.m.mode() != modeConfirmQuit || h.quit {
		t.Fatalf("q while running did not ask (mode %d, quit %v)", h.m.mode(), h.quit)
	}
	h.press("n")
	if h.quit || h.m.run.done {
		t.Fatal("answering n quit or cancelled")
	}
	h.press("q", "y")
	h.waitFor("quit", func() bool { return h.quit })
	if !h.m.run.done || h.m.run.result == nil {
		t.Fatal("quit before the run wound down")
	}
	r := h.m.run.result
	if r.OK+r.Failed+r.Skipped+r.Interrupted >= len(h.m.visible) && r.Interrupted == 0 && r.OK == len(h.m.visible) {
		t.Errorf("run was not cancelled: %+v", r)
	}
	for _, mv := range h.srv.Sim.Machines() {
		if mv.LeaseOwner != "" && mv.LeaseOwner != "deploy-bot@example.com" {
			t.Errorf("lease left on %s by %s", mv.ID, mv.LeaseOwner)
		}
	}
}

// breakOldWorkers re-deploys n old-image worker_autoscale machines on their
// own image after making that image fail to boot, so they end failed.
func breakOldWorkers(t *testing.T, h *harness, n int) []string {
	t.Helper()
	sim := h.srv.Sim
	prev := sim.PreviousImage()
	sim.SetImageBehavior(prev, flysim.ImageFailsStart)
	other := newSimClient(t, h.srv)
	ctx := context.Background()
	var ids []string
	for _, mv := range sim.Machines() {
		if mv.Image != prev || mv.Group != "worker_autoscale" || mv.State != "started" || mv.LeaseOwner != "" {
			continue
		}
		m, err := other.Get(ctx, "demo-app", mv.ID)
		if err != nil {
			t.Fatal(err)
		}
		cfg := cloneConfig(t, m.Config)
		cfg.Env["BROKEN_BY_TEST"] = "1"
		if _, err := other.Update(ctx, "demo-app", flyclient.UpdateInput{ID: m.ID, Region: m.Region, Config: cfg}); err != nil {
			t.Fatal(err)
		}
		if ids = append(ids, mv.ID); len(ids) == n {
			break
		}
	}
	if len(ids) < n {
		t.Fatalf("only %d old worker_autoscale machines to break", len(ids))
	}
	return ids
}

// cursorTo walks the cursor to a machine with real key presses.
func (h *harness) cursorTo(id string) {
	h.t.Helper()
	h.press("home")
	for range len(h.m.rows) {
		if mc, ok := h.m.cursorMachine(); ok && mc.ID == id {
			return
		}
		h.press("down")
	}
	h.t.Fatalf("machine %s not in the table", id)
}

// The scale form picks a region from those the group runs in; picking one
// makes the count that region's, and the plan scales only there.
func TestFlowScaleOneRegion(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "healthy", machines: 80})
	f := h.openForm("s")
	group := f.groups[f.group]
	h.press("tab", "tab") // to the region picker
	if !strings.Contains(h.screen(), "every region") {
		t.Fatalf("region picker does not start on every region:\n%s", h.screen())
	}
	h.press("right")
	region, inRegion := f.regionName(), f.regions[f.region].count
	if region == "" || f.count.value != strconv.Itoa(inRegion) {
		t.Fatalf("picked %q (%d machines), count %q", region, inRegion, f.count.value)
	}
	if !strings.Contains(h.screen(), "‹ "+region+" ›") {
		t.Errorf("picker does not show %s:\n%s", region, h.screen())
	}
	h.press("shift+tab", "ctrl+u")
	h.typeText(strconv.Itoa(inRegion + 1))
	h.press("enter")
	h.waitFor("scale plan", func() bool { return h.m.mode() == modeConfirm || (!h.m.planning && h.m.status != "") })
	if h.m.mode() != modeConfirm {
		t.Fatalf("no plan: %s", h.m.status)
	}
	p := h.m.pending().plan
	if len(p.Steps) != 1 || p.Steps[0].Region != region || p.Args["region"] != region || p.Args["group"] != group {
		t.Fatalf("plan: %d steps, args %v", len(p.Steps), p.Args)
	}
	h.press("y")
	h.waitFor("scale to finish", func() bool { return h.m.run != nil && h.m.run.done })
	n := 0
	for _, mv := range h.srv.Sim.Machines() {
		if mv.Group == group && mv.Region == region && !mv.Destroyed {
			n++
		}
	}
	if n != inRegion+1 {
		t.Fatalf("%s in %s: %d machines, want %d", group, region, n, inRegion+1)
	}
}

// The rollback form offers the release the runbook picks and a region
// picker; the plan rolls back only that region, to that release's image.
func TestFlowRollbackOneRegion(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "bad-release", machines: 80})
	f := h.openForm("b")
	rel := f.releases[f.release]
	if rel.Image != h.srv.Sim.PreviousImage() {
		t.Fatalf("form starts on v%d (%s), want the previous good image", rel.Version, rel.Image)
	}
	h.press("tab", "right")
	region := f.regionName()
	h.press("enter")
	h.waitFor("rollback plan", func() bool { return h.m.mode() == modeConfirm || (!h.m.planning && h.m.status != "") })
	if h.m.mode() != modeConfirm {
		t.Fatalf("no plan: %s", h.m.status)
	}
	p := h.m.pending().plan
	if len(p.Steps) == 0 {
		t.Fatal("empty rollback plan")
	}
	for _, s := range p.Steps {
		if s.Region != region || s.ToImage != rel.Image {
			t.Fatalf("step %s in %s to %s, want %s to %s", s.MachineID, s.Region, s.ToImage, region, rel.Image)
		}
	}
	h.press("n")
	if h.m.mode() != modeNormal || len(h.srv.Sim.Stats().MutationsPerMachine) != 0 {
		t.Fatal("n did not cancel cleanly")
	}
}

// While polls fail (here: the API answers 429 to everything) the dashboard
// keeps the last fleet on screen, says so, and polls less often; ctrl+r
// polls at once and a good poll restores the pace.
func TestPollBacksOffWhileFailing(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "majority", machines: 40})
	before := len(h.m.snap.Machines)
	h.srv.Sim.SetThrottled(true)
	h.waitFor("three failed polls", func() bool { return h.m.pollFails >= 3 })
	if got, base := h.m.pollInterval(), h.m.opts.Refresh; got < 8*base {
		t.Errorf("interval %s after %d failures, want at least 8x %s", got, h.m.pollFails, base)
	}
	s := h.screen()
	if !strings.Contains(s, "poll failed") || !strings.Contains(s, "rate limit") || len(h.m.snap.Machines) != before {
		t.Errorf("a failing poll should keep the fleet and say why:\n%s", s)
	}
	if n := len(strings.Split(s, "\n")); n != h.m.height || len(h.m.headerLines(h.m.width)) != h.m.headerHeight() {
		t.Errorf("%d lines on a %d-line screen; header %d lines, headerHeight %d", n, h.m.height, len(h.m.headerLines(h.m.width)), h.m.headerHeight())
	}
	h.srv.Sim.SetThrottled(false)
	h.press("ctrl+r")
	h.waitFor("a good poll", func() bool { return h.m.pollErr == nil })
	if h.m.pollFails != 0 || h.m.pollInterval() != h.m.opts.Refresh {
		t.Fatalf("after recovery: %d fails, interval %s", h.m.pollFails, h.m.pollInterval())
	}
}

// openForm presses k and returns the form it must open.
func (h *harness) openForm(k string) *form {
	h.t.Helper()
	h.press(k)
	if h.m.mode() != modeForm || h.m.form() == nil {
		h.t.Fatalf("%s did not open a form: %s", k, h.m.status)
	}
	return h.m.form()
}

// cloneConfig is flyclient.CloneConfig for tests: a config that does not
// round-trip ends the test.
func cloneConfig(tb testing.TB, c *flyclient.MachineConfig) *flyclient.MachineConfig {
	tb.Helper()
	out, err := flyclient.CloneConfig(c)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// updateOldImageUntilInFlight marks every old-image machine, confirms an
// update of them, and returns once steps are in flight.
func (h *harness) updateOldImageUntilInFlight() {
	h.t.Helper()
	h.press("/")
	h.typeText("image:old")
	h.press("enter", "a", "u")
	h.waitFor("plan", func() bool { return h.m.mode() == modeConfirm })
	h.press("y")
	h.waitFor("steps in flight", func() bool {
		if h.m.run == nil {
			return false
		}
		return h.m.figures().InFlight > 0
	})
}
