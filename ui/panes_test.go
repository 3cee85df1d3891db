package ui

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

// startedMachine is a started machine of the simulator nobody holds.
func startedMachine(t *testing.T, h *harness) string {
	t.Helper()
	for _, mv := range h.srv.Sim.Machines() {
		if mv.State == "started" && mv.LeaseOwner == "" && !mv.Destroyed {
			return mv.ID
		}
	}
	t.Fatal("no started machine")
	return ""
}

// openDetail opens the detail of machine id and waits for its data.
func (h *harness) openDetail(id string) *detailPane {
	h.t.Helper()
	h.cursorTo(id)
	h.press("enter")
	d, ok := h.m.focus.(*detailPane)
	if !ok {
		h.t.Fatalf("enter did not open the detail: %s", h.m.status)
	}
	h.waitFor("the detail", func() bool { return !d.loading })
	return d
}

// stopOutside stops a machine as another client would, and waits until the
// simulator has it stopped.
func (h *harness) stopOutside(id string) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.client.Stop(ctx, "demo-app", id, "", 0); err != nil {
		h.t.Fatal(err)
	}
	h.waitFor("the machine to stop", func() bool { mv, _ := h.srv.Sim.Machine(id); return mv.State == "stopped" })
}

// Each pane's keys are its own, and Rebind reaches them: the new key does
// the pane's thing against flysim, the old one no longer does.
func TestPaneKeysRebound(t *testing.T) {
	t.Run("detail.refresh", func(t *testing.T) {
		h := newHarness(t, harnessOpts{scenario: "healthy", machines: 12, keys: map[string]string{"detail.refresh": "x"}})
		id := startedMachine(t, h)
		d := h.openDetail(id)
		h.stopOutside(id)
		h.press("ctrl+r")
		if d.loading || d.machine.State != "started" || h.m.focus != d {
			t.Fatalf("ctrl+r still reloads the detail (loading %v, state %s)", d.loading, d.machine.State)
		}
		h.press("x")
		h.waitFor("the reload", func() bool { return !d.loading && d.machine.State == "stopped" })
		if s := h.screen(); !strings.Contains(s, "stopped") || !strings.Contains(s, "x reload") {
			t.Errorf("the detail does not show the reload or its key:\n%s", s)
		}
	})
	// The bug: refresh could be rebound, but the detail reloaded on
	// a hard-coded ctrl+r. Its reload follows refresh now.
	t.Run("refresh reaches the detail", func(t *testing.T) {
		h := newHarness(t, harnessOpts{scenario: "healthy", machines: 12, keys: map[string]string{"refresh": "f5"}})
		id := startedMachine(t, h)
		d := h.openDetail(id)
		h.stopOutside(id)
		h.dispatch(tea.KeyPressMsg{Code: tea.KeyF5})
		h.waitFor("the reload", func() bool { return !d.loading && d.machine.State == "stopped" })
		if s := h.screen(); !strings.Contains(s, "f5 reload") {
			t.Errorf("the detail's footer does not name f5:\n%s", s)
		}
	})
	t.Run("journal.undo", func(t *testing.T) {
		h := newHarness(t, harnessOpts{scenario: "healthy", machines: 12, keys: map[string]string{"journal.undo": "x"}})
		id := startedMachine(t, h)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		eng := h.m.opts.Engine
		p, err := eng.PlanStop(ctx, recovery.Selector{MachineIDs: []string{id}})
		if err != nil {
			t.Fatal(err)
		}
		if res, err := eng.Execute(ctx, p, nil); err != nil || res.OK != 1 {
			t.Fatalf("stop: %v %+v", err, res)
		}
		h.press("J")
		h.waitFor("the journal", func() bool { return len(h.m.journal.logs) == 1 })
		h.press("U")
		if h.m.mode() != modeJournal || h.m.planning {
			t.Fatalf("U still undoes in the journal (mode %d, planning %v)", h.m.mode(), h.m.planning)
		}
		h.press("x")
		h.waitFor("the undo plan", func() bool { return h.m.mode() == modeConfirm || (!h.m.planning && h.m.status != "") })
		if h.m.mode() != modeConfirm || h.m.pending().req.kind != recovery.KindUndo || h.m.pending().req.actionID != p.ID {
			t.Fatalf("x did not plan the undo of %s: %s", p.ID, h.m.status)
		}
		h.press("y")
		h.waitFor("the undo to finish", func() bool { return h.m.run != nil && h.m.run.done })
		if mv, _ := h.srv.Sim.Machine(id); mv.State != "started" {
			t.Fatalf("%s is %s after undoing its stop", id, mv.State)
		}
	})
	t.Run("form.submit", func(t *testing.T) {
		h := newHarness(t, harnessOpts{scenario: "healthy", machines: 12, keys: map[string]string{"form.submit": "p"}})
		f := h.openForm("s")
		total := 0
		for _, g := range h.m.snap.Groups {
			if g.Name == f.groups[f.group] {
				total = g.Total
			}
		}
		h.press("tab", "ctrl+u")
		h.typeText(strconv.Itoa(total + 1))
		h.press("enter")
		if h.m.form() != f || h.m.planning {
			t.Fatal("enter still submits the form")
		}
		if s := h.screen(); !strings.Contains(s, "p plan") {
			t.Errorf("the form does not name its submit key:\n%s", s)
		}
		h.press("p")
		h.waitFor("the scale plan", func() bool { return h.m.mode() == modeConfirm || (!h.m.planning && h.m.status != "") })
		if h.m.mode() != modeConfirm || h.m.pending().req.kind != recovery.KindScale || h.m.pending().req.group != f.groups[f.group] {
			t.Fatalf("p did not plan the scale: %s", h.m.status)
		}
	})
	t.Run("plan.force", func(t *testing.T) {
		h := newHarness(t, harnessOpts{scenario: "healthy", machines: 12, keys: map[string]string{"plan.force": "F"}})
		h.cursorTo(startedMachine(t, h))
		destroyPlan := func() {
			h.press("D")
			h.waitFor("the destroy plan", func() bool { return h.m.mode() == modeConfirm || (!h.m.planning && h.m.status != "") })
			if h.m.mode() != modeConfirm || h.m.pending().req.force {
				t.Fatalf("no unforced destroy plan: %s", h.m.status)
			}
		}
		destroyPlan()
		if s := h.screen(); !strings.Contains(s, "F toggle force") {
			t.Errorf("the dialog does not name F:\n%s", s)
		}
		h.press("f")
		if h.m.mode() != modeNormal || h.m.planning || h.m.status != "cancelled: nothing was changed" {
			t.Fatalf("f should cancel now: mode %d, status %q", h.m.mode(), h.m.status)
		}
		destroyPlan()
		h.press("F")
		h.waitFor("the forced plan", func() bool { return h.m.mode() == modeConfirm && h.m.pending().req.force })
		h.press("n")
		if n := len(h.srv.Sim.Stats().MutationsPerMachine); n != 0 {
			t.Fatalf("%d machines changed", n)
		}
	})
	t.Run("help.down", func(t *testing.T) {
		m := fixedModel(t, 50, 80, 24)
		if err := m.keys.Rebind(map[string]string{"help.down": "n"}); err != nil {
			t.Fatal(err)
		}
		m.Update(keyPress("?"))
		if s := m.render(); !strings.Contains(s, "(n/k scroll") || !strings.Contains(s, "more lines (n)") {
			t.Fatalf("the help does not name n:\n%s", s)
		}
		m.Update(keyPress("n"))
		if h, ok := m.focus.(*helpPane); !ok || h.scroll != 1 {
			t.Fatalf("n did not scroll the help: %#v", m.focus)
		}
		m.Update(keyPress("j"))
		if m.focus != nil {
			t.Fatal("j should close the help now, as any key but its own does")
		}
	})
}

// In read-only the journal's undo is disabled with the table's, and says
// why.
func TestReadOnlyJournalSaysWhy(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "healthy", machines: 12, readOnly: true, keys: map[string]string{"journal.undo": "x"}})
	h.press("J", "x")
	if h.m.mode() != modeJournal || h.m.planning || !strings.Contains(h.m.status, "undo is disabled") {
		t.Fatalf("x in the read-only journal: mode %d, status %q", h.m.mode(), h.m.status)
	}
}

// The help lists every pane's keys, as each pane reports them, rebound
// keys included.
func TestHelpListsPaneKeys(t *testing.T) {
	m := fixedModel(t, 50, 200, 80)
	if err := m.keys.Rebind(map[string]string{"detail.refresh": "f5", "journal.undo": "x", "form.cancel": "Q"}); err != nil {
		t.Fatal(err)
	}
	m.Update(keyPress("?"))
	s := ansi.Strip(m.render())
	panes := []pane{newDetailPane(m.shared, ""), m.journal, newHelpPane(m.shared), newForm(m.shared, m, formScale), newPlanPane(m.shared, m, nil), newQuitPane(m.shared, m, nil),
		&handoffPane{paneBase: paneBase{m.shared, "handoff", true}}}
	for _, p := range panes {
		for _, b := range p.keyHelp() {
			if want := b.Help().Key + " " + b.Help().Desc; !strings.Contains(s, want) {
				t.Errorf("%T: the help lacks %q", p, want)
			}
		}
	}
	for _, want := range []string{"f5 reload", "x undo the chosen action", "Q cancel"} {
		if !strings.Contains(s, want) {
			t.Errorf("the help lacks the rebound %q", want)
		}
	}
	if t.Failed() {
		t.Log(s)
	}
}

func TestRebindPaneKeys(t *testing.T) {
	refused := map[string]struct {
		keys map[string]string
		says string
	}{
		"unknown pane key":     {map[string]string{"detail.reload": "x"}, "keys.detail.reload: no such binding"},
		"the fixed confirm":    {map[string]string{"plan.confirm": "x"}, "keys.plan.confirm: y confirms everywhere"},
		"ctrl on a mutation":   {map[string]string{"journal.undo": "ctrl+u"}, "keys.journal.undo: ctrl+u is too easy to hit"},
		"confirm key":          {map[string]string{"journal.resume": "y"}, "keys.journal.resume: y confirms a plan"},
		"clash in one pane":    {map[string]string{"detail.refresh": "q"}, `keys.detail.refresh: "q" would trigger both detail.close and detail.refresh`},
		"clash with confirm":   {map[string]string{"plan.force": "y"}, `keys.plan.force: "y" would trigger both plan.confirm and plan.force`},
		"clash by following":   {map[string]string{"refresh": "h"}, `keys.refresh: "h" would trigger both detail.close and detail.refresh (detail.refresh follows refresh)`},
		"clash in the help":    {map[string]string{"help.up": "j"}, `"j" would trigger both help.down and help.up`},
		"clash in the journal": {map[string]string{"journal.close": "U"}, `keys.journal.close: "U" would trigger both journal.close and journal.undo`},
	}
	for name, c := range refused {
		t.Run(name, func(t *testing.T) {
			k := DefaultKeyMap()
			before := k
			err := k.Rebind(c.keys)
			if err == nil || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("got %v, want %q", err, c.says)
			}
			if !reflect.DeepEqual(k, before) {
				t.Fatal("a refused rebind changed the KeyMap")
			}
		})
	}
	// A key may mean one thing in a pane and another in the table or
	// another pane.
	k := DefaultKeyMap()
	if err := k.Rebind(map[string]string{"journal.undo": "x", "detail.refresh": "x", "form.submit": "x", "plan.force": "u"}); err != nil {
		t.Fatalf("pane keys shared across panes refused: %v", err)
	}
	// The table's names keep working: they reach the pane keys that follow
	// them, but not one bound by its own name, even in a later Rebind (the
	// settings file, then --keys).
	k = DefaultKeyMap()
	if err := k.Rebind(map[string]string{"journal.refresh": "x"}); err != nil {
		t.Fatal(err)
	}
	if err := k.Rebind(map[string]string{"refresh": "f5", "undo": "z", "down": "n"}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]string{
		"detail.refresh": {"f5"}, "journal.refresh": {"x"}, "journal.undo": {"z"}, "journal.down": {"n"}, "help.down": {"n"},
		"journal.close": {"esc", "q", "ctrl+c", "J"}, "detail.down": {"down", "j"},
	} {
		if got := paneKeyNamed(&k, name).Keys(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: keys %v, want %v", name, got, want)
		}
	}
	if got := k.JournalPane.Down.Help().Key; got != "n" {
		t.Errorf("journal.down shows %q after down became n", got)
	}
	names := strings.Join(BindingNames(), " ")
	for _, want := range []string{"update", "refresh", "detail.refresh", "journal.undo", "help.page_down", "form.submit", "plan.force"} {
		if !strings.Contains(" "+names+" ", " "+want+" ") {
			t.Errorf("BindingNames lacks %s", want)
		}
	}
	if strings.Contains(names, "plan.confirm") {
		t.Error("BindingNames offers the fixed plan.confirm")
	}
}

func paneKeyNamed(k *KeyMap, name string) *PaneKey {
	for _, pk := range k.paneKeys() {
		if pk.name == name {
			return pk.key
		}
	}
	panic(name)
}

// No key triggers two keys of one pane by default.
func TestPaneKeysHaveNoDuplicates(t *testing.T) {
	k := DefaultKeyMap()
	if err := k.paneClash(nil); err != nil {
		t.Fatal(err)
	}
	for _, pk := range k.paneKeys() {
		if len(pk.key.Keys()) == 0 {
			t.Errorf("%s has no key", pk.name)
		}
	}
}

// View changes nothing: drawing any pane twice, even scrolled past its end
// or after the screen shrank, leaves the dashboard and the pane as they
// were, and draws the same twice.
func TestViewChangesNothing(t *testing.T) {
	scroll := func(m *Model) {
		for range 100 {
			m.Update(keyPress("j"))
		}
	}
	open := map[string]func(m *Model){
		"help": func(m *Model) {
			m.Update(keyPress("?"))
			scroll(m)
		},
		"detail": func(m *Model) {
			m.Update(keyPress("down"))
			m.Update(keyPress("down"))
			mc, _ := m.cursorMachine()
			m.open(newDetailPane(m.shared, mc.ID))
			m.Update(detailMsg{id: mc.ID, machine: fakeFlyMachine(*mc), lease: &flyclient.Lease{Owner: "bot", ExpiresAt: model.SyntheticNow}})
			scroll(m)
		},
		"journal": func(m *Model) {
			m.open(m.journal)
			m.Update(journalMsg{path: "/tmp/j.jsonl", logs: fakeHistory()})
			scroll(m)
		},
		"form": func(m *Model) {
			m.Update(keyPress("s"))
			m.Update(keyPress("j"))
		},
		"plan": func(m *Model) {
			m.Update(keyPress("a"))
			m.receivePlanForTest(recovery.KindUpdate)
		},
	}
	for name, setup := range open {
		t.Run(name, func(t *testing.T) {
			m := fixedModel(t, 50, 80, 24)
			setup(m)
			if m.focus == nil {
				t.Fatalf("%s did not open: %s", name, m.status)
			}
			// Grow the screen without telling the pane: its scroll is past
			// what the new size allows, and View must cope without
			// writing its clamp back.
			m.height = 40
			before, pane, sh := *m, reflect.ValueOf(m.focus).Elem().Interface(), *m.shared
			first, second := m.View().Content, m.View().Content
			if first != second {
				t.Error("two Views of one state differ")
			}
			if !reflect.DeepEqual(pane, reflect.ValueOf(m.focus).Elem().Interface()) {
				t.Errorf("View changed the %s pane", name)
			}
			sh.opts.Now, m.shared.opts.Now = nil, nil
			if !reflect.DeepEqual(sh, *m.shared) {
				t.Error("View changed what the panes share")
			}
			before.shared, before.opts.Now = nil, nil
			after := *m
			after.shared = nil
			if !reflect.DeepEqual(before, after) {
				t.Error("View changed the dashboard")
			}
		})
	}
}

// Scrolling is clamped as the keys arrive and as the screen resizes, not
// while drawing: past the end, one k scrolls up one line at once.
func TestHelpScrollClampedInUpdate(t *testing.T) {
	m := fixedModel(t, 50, 80, 24)
	m.Update(keyPress("?"))
	h := m.focus.(*helpPane)
	for range 100 {
		m.Update(keyPress("j"))
	}
	w, height := m.bodySize()
	end := len(h.lines(w)) - height + 1
	if h.scroll != end {
		t.Fatalf("scroll %d after 100 j, want the end %d", h.scroll, end)
	}
	m.Update(keyPress("k"))
	if s := m.render(); h.scroll != end-1 || !strings.Contains(s, "↓ 1 more line (j)") {
		t.Fatalf("k past the end: scroll %d, want %d\n%s", h.scroll, end-1, s)
	}
	m.Update(teaSize(200, 80))
	if h.scroll != 0 {
		t.Fatalf("the help fits at 200x80, scroll %d", h.scroll)
	}
}

// The journal is read only while the dashboard's base context lives, as
// every other command.
func TestJournalLoadHonoursBaseContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	j, err := recovery.OpenJournal(t.TempDir(), "demo-app")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = j.Close() })
	m := New(Options{App: "demo-app", Context: ctx, Engine: recovery.NewEngine(nil, j, recovery.Options{App: "demo-app"}), NoPoll: true})
	cancel()
	_, cmd := m.Update(keyPress("J"))
	if cmd == nil {
		t.Fatal("J started no journal read")
	}
	m.Update(cmd())
	if !errors.Is(m.journal.err, context.Canceled) {
		t.Fatalf("journal read after the base context ended: err %v", m.journal.err)
	}
}
