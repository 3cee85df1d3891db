package ui

import (
	"context"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/flyrescue/flyrescue/recovery"
)

// interruptUpdate runs an update of the old-image machines with the keys
// and cancels it mid-way, as a SIGTERM to the dashboard would; it returns
// the action as the journal has it.
func interruptUpdate(t *testing.T) (*harness, *recovery.ActionLog) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := newHarness(t, harnessOpts{scenario: "minority", machines: 100, ctx: ctx})
	h.srv.Sim.SetLatency(30e6) // 30 ms: the run is still going when cancelled
	h.updateOldImageUntilInFlight()
	cancel()
	h.waitFor("the run to wind down", func() bool { return h.m.run.done })
	h.srv.Sim.SetLatency(0)
	recs, _, err := h.journal.Records()
	if err != nil {
		t.Fatal(err)
	}
	hist := recovery.History(recs)
	if len(hist) != 1 || hist[0].UnfinishedText() == "" {
		t.Fatalf("want one unfinished update in the journal, got %d actions", len(hist))
	}
	return h, hist[0]
}

// A dashboard started on a journal whose newest action was interrupted says
// so in its header, with the count of steps left in the journal's words and
// the resume key as bound; that key plans the resume of that action, the
// dismiss key hides the notice, and once resumed it is gone.
func TestInterruptedActionNamedOnStart(t *testing.T) {
	first, a := interruptUpdate(t)
	id := recovery.DisplayID(a.Action.ID)

	h := newHarness(t, harnessOpts{reopen: first})
	// The count of what is left as the journal pane and `flyrescue log`
	// say it, as much of it as fits.
	for width, left := range map[int]string{120: a.UnfinishedSteps(), 160: a.UnfinishedText()} {
		h.dispatch(tea.WindowSizeMsg{Width: width, Height: 40})
		want := "! action " + id + " (update) was interrupted: " + left + " · R resumes, c dismisses"
		if s := h.screen(); !strings.Contains(s, want) {
			t.Fatalf("%dx40 header lacks %q:\n%s", width, want, s)
		}
	}
	h.dispatch(tea.WindowSizeMsg{Width: 80, Height: 24})
	short := "! action " + id + " (update) was interrupted · R resumes, c dismisses"
	if s := h.screen(); !strings.Contains(s, short) || len(strings.Split(s, "\n")) != 24 {
		t.Fatalf("80x24 header lacks %q (or the screen is not 24 lines):\n%s", short, s)
	}
	h.dispatch(tea.WindowSizeMsg{Width: 120, Height: 40})

	h.press("R")
	h.waitFor("the resume plan", func() bool { return h.m.mode() == modeConfirm || (!h.m.planning && h.m.status != "") })
	if p := h.m.pending(); p == nil || p.req.actionID != a.Action.ID || p.plan.Resumes != a.Action.ID {
		t.Fatalf("R did not plan the resume of %s: %s\n%s", id, h.m.status, h.screen())
	}
	h.press("n")
	before := h.m.headerHeight()
	h.press("c")
	if s := h.screen(); strings.Contains(s, "was interrupted") || h.m.headerHeight() != before-1 || len(strings.Split(s, "\n")) != 40 {
		t.Fatalf("c did not dismiss the notice:\n%s", s)
	}
	h.polls(2)
	if strings.Contains(h.screen(), "was interrupted") {
		t.Fatal("a poll brought the dismissed notice back")
	}

	// A rebound resume key is the one named, and resuming ends the notice.
	h = newHarness(t, harnessOpts{reopen: first, keys: map[string]string{"resume": "W"}})
	if s := h.screen(); !strings.Contains(s, "· W resumes, c dismisses") {
		t.Fatalf("the notice does not name the rebound key:\n%s", s)
	}
	h.press("W")
	h.waitFor("the resume plan", func() bool { return h.m.mode() == modeConfirm })
	h.confirmRun()
	h.polls(2)
	if s := h.screen(); strings.Contains(s, "was interrupted") {
		t.Fatalf("the notice outlived the resume:\n%s", s)
	}
	recs, _, _ := h.journal.Records()
	if hist := recovery.History(recs); len(hist[0].ResumedBy) != 1 {
		t.Fatalf("the journal has no resume of %s", id)
	}
}
