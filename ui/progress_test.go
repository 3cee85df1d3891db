package ui

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

// testClock is a dashboard clock that moves only when told to. Polls read
// it from their goroutines, hence the lock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// runWithTimedFinishes processes messages until the run ends, handing the
// run's events to Update one at a time and moving the clock on by every
// before each step that finishes; after it, at(finished) runs. Whatever
// the batching, the k-th finish then lands k·every after the start, so
// the rate and ETA are known in advance.
func (h *harness) runWithTimedFinishes(clock *testClock, every time.Duration, at func(finished int)) {
	h.t.Helper()
	finished := 0
	deadline := time.After(60 * time.Second)
	for h.m.run == nil || !h.m.run.done {
		select {
		case msg := <-h.msgs:
			batch, ok := msg.(runEventsMsg)
			if !ok || h.m.run == nil || batch.runID != h.m.run.id {
				h.dispatch(msg)
				continue
			}
			for i, ev := range batch.events {
				st := h.m.run.steps[ev.Seq]
				finish := ev.Seq != 0 && ev.Phase.Final() && ev.Phase != recovery.PhaseSkipped && ev.Phase != recovery.PhaseHalted &&
					(st == nil || !st.phase.Final())
				if finish {
					clock.advance(every)
				}
				_, cmd := h.m.Update(runEventsMsg{runID: batch.runID, events: []recovery.Event{ev}})
				if i == len(batch.events)-1 {
					h.run(cmd) // the next wait for events; the others are the same wait
				}
				if finish {
					finished++
					at(finished)
				}
			}
		case <-deadline:
			h.t.Fatalf("the run did not end; screen:\n%s", h.screen())
		}
	}
}

// A real restart over flysim, its finishes timed by a fixed clock (one
// every 10 s): the footer's rate and ETA are computed from them, and the
// journal pane shows the same figures.
func TestFooterETAFromObservedCompletions(t *testing.T) {
	// An hour ahead of the engine's own clock: the figures must come from
	// the dashboard's clock alone.
	clock := &testClock{t: time.Now().Add(time.Hour).Truncate(time.Second)}
	h := newHarness(t, harnessOpts{scenario: "healthy", machines: 40, now: clock.now})
	h.press("/")
	h.typeText("group:web")
	h.press("enter", "a", "r")
	h.waitFor("the plan", func() bool { return h.m.mode() == modeConfirm })
	h.press("y")
	var footer, journal string
	var at6 recovery.ProgressFigures
	h.runWithTimedFinishes(clock, 10*time.Second, func(finished int) {
		if finished != 6 {
			return
		}
		at6 = h.m.figures()
		footer = h.screen()
		h.press("J")
		journal = h.screen()
		h.press("esc")
	})
	// Six finishes in the first minute: 6 a minute, and what is left at
	// that rate.
	if at6.Done+at6.Failed != 6 || at6.PerMinute != 6 || !at6.ETAKnown {
		t.Fatalf("after six finishes a minute in: %+v", at6)
	}
	if want := time.Duration(at6.Left()) * 10 * time.Second; at6.ETA != want {
		t.Errorf("ETA %s, want %s (%d left at 6/min)", at6.ETA, want, at6.Left())
	}
	line := at6.String()
	for _, want := range []string{fmt.Sprintf("%d/%d done", at6.Done, at6.Total), "6.0/min", "ETA " + recovery.ShortDuration(at6.ETA)} {
		if !strings.Contains(line, want) {
			t.Errorf("figures %q lack %q", line, want)
		}
	}
	if l := lineWith(footer, "running:"); !strings.Contains(l, line) {
		t.Errorf("the footer does not show %q:\n%s", line, footer)
	}
	if l := lineWith(journal, "▶ running restart"); !strings.Contains(l, line) {
		t.Errorf("the journal pane does not show %q:\n%s", line, journal)
	}
	end := h.m.figures()
	s := h.screen()
	if end.Left() != 0 || !strings.Contains(lineWith(s, "finished:"), fmt.Sprintf("%d/%d done", end.Done, end.Total)) {
		t.Errorf("after the run: %+v\n%s", end, s)
	}
	if strings.Contains(lineWith(s, "finished:"), "ETA") {
		t.Errorf("a finished run still gives an ETA:\n%s", s)
	}
}

// Machines in flight stay on screen when the filter would hide them,
// pinned in their group with a note in the header; when their steps end
// they follow the filter again.
func TestInFlightPinnedOutsideFilter(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "healthy", machines: 40})
	h.srv.Sim.SetLatency(20 * time.Millisecond)
	h.press("/")
	h.typeText("group:web")
	h.press("enter", "a", "r")
	h.waitFor("the plan", func() bool { return h.m.mode() == modeConfirm })
	h.press("y")
	h.press("/", "ctrl+u")
	h.typeText("group:worker")
	h.press("enter")
	h.waitFor("a web machine in flight", func() bool { return h.m.run != nil && len(h.m.run.inFlight) > 0 })
	s := h.screen()
	note := fmt.Sprintf("@ %d in flight shown outside the filter", len(h.m.run.inFlight))
	if !strings.Contains(s, note) {
		t.Errorf("the header lacks %q:\n%s", note, s)
	}
	pinnedRow := regexp.MustCompile(`^..@([0-9a-f]{14}) .* web `)
	shown := 0
	for _, l := range strings.Split(s, "\n") {
		if m := pinnedRow.FindStringSubmatch(l); m != nil {
			shown++
			if mc, _ := h.m.snap.Machine(m[1]); mc.Group != "web" {
				t.Errorf("pinned row %s is not a web machine", m[1])
			}
		}
	}
	if shown != len(h.m.run.inFlight) {
		t.Errorf("%d pinned rows on screen, %d machines in flight (%v):\n%s", shown, len(h.m.run.inFlight), h.m.run.inFlight, s)
	}
	for _, i := range h.m.visible {
		if h.m.snap.Machines[i].Group != "worker" {
			t.Fatalf("pinned machine %s counted as matching the filter", h.m.snap.Machines[i].ID)
		}
	}
	h.waitFor("the run to end", func() bool { return h.m.run.done })
	s = h.screen()
	webRow := regexp.MustCompile(`(?m)^...[0-9a-f]{14} .* web `)
	if strings.Contains(s, "in flight shown outside") || webRow.MatchString(s) {
		t.Errorf("finished machines still shown outside the filter:\n%s", s)
	}
}

// The footer at 80x24 while a run goes: fed the engine's events through
// Update with a fixed clock, it keeps the done count, the ETA, ? help and
// q quit, dropping the rate and the in-flight count first; the journal
// pane gives the whole line.
func TestFooterAt80KeepsETAAndHelp(t *testing.T) {
	m := fixedModel(t, 500, 80, 24)
	clock := &testClock{t: model.SyntheticNow}
	m.opts.Now = clock.now
	plan := &recovery.Plan{ID: "20261123T031500-abc123", Kind: recovery.KindUpdate}
	var rows []int
	for _, ig := range m.snap.ImageGroups {
		for _, sg := range ig.States {
			if len(sg.Rows) > len(rows) {
				rows = sg.Rows
			}
		}
	}
	for i, mi := range rows[:30] {
		plan.Steps = append(plan.Steps, recovery.Step{Seq: i + 1, MachineID: m.snap.Machines[mi].ID, Op: recovery.OpUpdate})
	}
	m.run = m.newRun(plan, func() {})
	var evs []recovery.Event
	for i, st := range plan.Steps {
		switch {
		case i < 4:
			evs = append(evs, recovery.Event{Seq: st.Seq, MachineID: st.MachineID, Phase: recovery.PhaseDone})
		case i == 4:
			evs = append(evs, recovery.Event{Seq: st.Seq, MachineID: st.MachineID, Phase: recovery.PhaseFailed, Reason: "exit 137 oom"})
		case i < 8:
			evs = append(evs, recovery.Event{Seq: st.Seq, MachineID: st.MachineID, Phase: recovery.PhaseActing})
		case i < 12:
			evs = append(evs, recovery.Event{Seq: st.Seq, MachineID: st.MachineID, Phase: recovery.PhaseQueued, Reason: "waiting for room in web"})
		}
	}
	clock.advance(30 * time.Second)
	m.Update(runEventsMsg{runID: m.run.id, events: evs})
	clock.advance(30 * time.Second)
	// Five finished in a minute: 5/min, 25 left, 5 minutes.
	f := m.figures()
	if f.Done != 4 || f.Failed != 1 || f.InFlight != 3 || f.Waiting != 4 || f.PerMinute != 5 || f.ETA != 5*time.Minute {
		t.Fatalf("figures = %+v", f)
	}
	s := ansi.Strip(m.render())
	foot := lineWith(s, "running:")
	for _, want := range []string{"4/30 done", "1 failed", "ETA 5m"} {
		if !strings.Contains(foot, want) {
			t.Errorf("the footer at 80 columns lacks %q: %q", want, foot)
		}
	}
	if strings.Contains(foot, "…") {
		t.Errorf("the footer was cut rather than fitted: %q", foot)
	}
	if keys := lineWith(s, "? help"); !strings.Contains(keys, "q quit") {
		t.Errorf("the footer's keys lack ? help or q quit:\n%s", s)
	}
	if !strings.Contains(s, "waiting for room in web") {
		t.Errorf("the footer does not say why steps wait:\n%s", s)
	}
	for i, l := range strings.Split(s, "\n") {
		if w := ansi.StringWidth(l); w > 80 {
			t.Errorf("line %d is %d wide: %q", i, w, l)
		}
	}
	m.Update(keyPress("J"))
	m.Update(journalMsg{path: "/tmp/flyrescue/app.jsonl", logs: fakeHistory()})
	j := ansi.Strip(m.render())
	if !strings.Contains(j, f.String()) && !strings.Contains(lineWith(j, "▶ running"), "ETA 5m") {
		t.Errorf("the journal pane lacks the figures %q:\n%s", f.String(), j)
	}
	if !strings.Contains(j, "running: 4/30 done") {
		t.Errorf("the running action's row does not follow the run:\n%s", j)
	}
}

// An invalid filter still says so when machines in flight are pinned
// under it, and shows them.
func TestInvalidFilterStillShowsPinned(t *testing.T) {
	m := fixedModel(t, 200, 120, 40)
	id := m.snap.Machines[7].ID
	plan := &recovery.Plan{ID: "20261123T031500-abc123", Kind: recovery.KindRestart, Steps: []recovery.Step{{Seq: 1, MachineID: id, Op: recovery.OpRestart}}}
	m.run = m.newRun(plan, func() {})
	m.Update(runEventsMsg{runID: m.run.id, events: []recovery.Event{{Seq: 1, MachineID: id, Phase: recovery.PhaseActing}}})
	m.Update(keyPress("/"))
	for _, r := range "grup:web" {
		m.Update(keyPressRune(r))
	}
	m.Update(keyPress("enter"))
	s := ansi.Strip(m.render())
	if !strings.Contains(s, "the filter is invalid") || !strings.Contains(s, "@"+id) || len(m.visible) != 0 {
		t.Errorf("an invalid filter with %s in flight: want the invalid note and the pinned row, nothing visible (%d):\n%s", id, len(m.visible), s)
	}
}
