package ui

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/flyrescue/flyrescue/recovery"
)

func teaSize(w, h int) tea.WindowSizeMsg { return tea.WindowSizeMsg{Width: w, Height: h} }

func keyPressRune(r rune) tea.KeyPressMsg {
	if r == ' ' {
		return keyPress("space")
	}
	return tea.KeyPressMsg{Code: r, Text: string(r)}
}

// No key may dispatch two bindings of the normal mode.
func TestKeyMapHasNoDuplicates(t *testing.T) {
	k := DefaultKeyMap()
	seen := map[string]string{}
	for _, b := range k.all() {
		for _, key := range b.Keys() {
			if other, dup := seen[key]; dup {
				t.Errorf("key %q bound to both %q and %q", key, other, b.Help().Desc)
			}
			seen[key] = b.Help().Desc
		}
	}
	if len(k.all()) != countHelp(k) {
		t.Errorf("FullHelp lists %d bindings, the KeyMap has %d: help drifted from dispatch", countHelp(k), len(k.all()))
	}
}

func countHelp(k KeyMap) int {
	n := 0
	for _, g := range k.FullHelp() {
		n += len(g)
	}
	return n
}

// Mutating actions never sit on a ctrl+letter, and read-only disables
// all of them while still recognising the key to explain why.
func TestActionKeysSafe(t *testing.T) {
	k := DefaultKeyMap()
	for _, a := range k.actionKeys() {
		for _, key := range a.Binding.Keys() {
			if len(key) > 5 && key[:5] == "ctrl+" {
				t.Errorf("action %s on %s", a.Name, key)
			}
		}
	}
	k.SetReadOnly("read-only")
	for _, a := range k.actionKeys() {
		if a.Binding.Enabled() {
			t.Errorf("%s still enabled in read-only", a.Name)
		}
		msg := keyPress(a.Binding.Keys()[0])
		if name, ok := k.disabledAction(msg); !ok || name != a.Name {
			t.Errorf("disabledAction(%s) = %q, %v", a.Binding.Keys()[0], name, ok)
		}
	}
}

// Typing q in the filter edits the query; it never quits.
func TestFilterModeSwallowsQuit(t *testing.T) {
	m := fixedModel(t, 50, 120, 40)
	m.Update(keyPress("/"))
	_, cmd := m.Update(keyPress("q"))
	if cmd != nil || m.mode() != modeFilter || m.filterInput.value != "q" {
		t.Fatalf("q in filter: mode %d, value %q, cmd %v", m.mode(), m.filterInput.value, cmd != nil)
	}
	m.Update(keyPress("esc"))
	if m.mode() != modeNormal || m.filterInput.value != "" || len(m.visible) != 50 {
		t.Fatalf("esc did not clear the filter")
	}
}

// Marks survive filters and polls.
func TestMarksSurviveFilterAndPoll(t *testing.T) {
	m := fixedModel(t, 200, 120, 40)
	m.Update(keyPress("down"))
	m.Update(keyPress("down"))
	m.Update(keyPress("space"))
	mc := m.snap.Machines[m.visible[0]]
	if !m.marks.Has(mc.ID) {
		t.Fatalf("space did not mark %s", mc.ID)
	}
	m.setQuery("group:nothing-like-this")
	m.setQuery("")
	m.Update(pollResultMsg{gen: m.pollGen, snap: buildSnapshot(m.opts, m.snap.Machines, m.snap.Releases)})
	if !m.marks.Has(mc.ID) || m.marks.Len() != 1 {
		t.Fatalf("marks lost: %v", m.marks.IDs())
	}
}

// A poll from an older generation is dropped.
func TestStalePollDropped(t *testing.T) {
	m := fixedModel(t, 20, 120, 40)
	old := m.snap
	m.pollGen++
	m.Update(pollResultMsg{gen: m.pollGen - 1, snap: buildSnapshot(m.opts, nil, nil)})
	if m.snap != old {
		t.Fatal("stale poll applied")
	}
}

// Rebinding from the settings file: the new key acts, the old one no longer
// does, and help and the banner show the new key.
func TestRebindActsAndShows(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "majority", machines: 60, keys: map[string]string{"update": "x", "advice": "F", "undo": "u"}})
	old := h.m.snap.Machines[h.m.visible[0]]
	for _, mc := range h.m.snap.Machines {
		if mc.Image != h.srv.Sim.TargetImage() && mc.State == "started" {
			old = mc
			break
		}
	}
	h.cursorTo(old.ID)
	h.press("space")
	h.press("u") // now undo: with nothing to undo it must not update
	h.settle(100 * time.Millisecond)
	if h.m.mode() == modeConfirm && h.m.pending() != nil && h.m.pending().plan.Kind == recovery.KindUpdate {
		t.Fatal("the old key u still plans an update")
	}
	h.press("esc")
	h.press("x")
	h.waitFor("the plan dialog", func() bool { return h.m.mode() == modeConfirm || (!h.m.planning && h.m.status != "") })
	if h.m.mode() != modeConfirm || h.m.pending().plan.Kind != recovery.KindUpdate {
		t.Fatalf("x did not plan an update: mode %d, status %q", h.m.mode(), h.m.status)
	}
	h.press("y")
	h.waitFor("the run to finish", func() bool { return h.m.run != nil && h.m.run.done })
	if mv, _ := h.srv.Sim.Machine(old.ID); mv.Image != h.srv.Sim.TargetImage() {
		t.Fatalf("%s still on %s", old.ID, mv.Image)
	}
	if s := h.screen(); !strings.Contains(s, "press F to") {
		t.Errorf("banner does not name the rebound advice key:\n%s", s)
	}
	h.press("?")
	if s := h.screen(); !regexp.MustCompile(`\bx +update to target`).MatchString(s) || !strings.Contains(s, "u undo the chosen action") {
		t.Errorf("help does not show the rebound keys:\n%s", s)
	}
}

func TestRebindRefusesBadBindings(t *testing.T) {
	cases := map[string]struct {
		keys map[string]string
		says string
	}{
		"unknown binding":    {map[string]string{"updte": "x"}, "keys.updte: no such binding"},
		"not a key":          {map[string]string{"update": "ctlr+u"}, `keys.update: "ctlr+u" is not a key`},
		"two runes":          {map[string]string{"restart": "rr"}, `"rr" is not a key`},
		"ctrl on a mutation": {map[string]string{"destroy": "ctrl+d"}, "keys.destroy: ctrl+d is too easy to hit"},
		"confirm key":        {map[string]string{"update": "y"}, "keys.update: y confirms a plan"},
		"clash with default": {map[string]string{"destroy": "q"}, `"q" would trigger both destroy and quit`},
		"clash in the file":  {map[string]string{"restart": "x", "scale": "x"}, `"x" would trigger both restart and scale`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			k := DefaultKeyMap()
			err := k.Rebind(c.keys)
			if err == nil || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("got %v, want %q", err, c.says)
			}
			if !slices.Equal(k.Action(recovery.KindUpdate).Keys(), []string{"u"}) || !slices.Equal(k.Action(recovery.KindDestroy).Keys(), []string{"D"}) {
				t.Fatal("a refused rebind changed the KeyMap")
			}
		})
	}
	k := DefaultKeyMap()
	if err := k.Rebind(map[string]string{"refresh": "f5", "quit": "ctrl+q", "mark": "x"}); err != nil {
		t.Fatalf("valid rebinds refused: %v", err)
	}
}

// A theme from the settings file wins over the terminal's reported
// background; auto follows it.
func TestThemeSetting(t *testing.T) {
	for _, c := range []struct {
		theme       string
		reportDark  bool
		wantDarkEnd bool
	}{
		{"light", true, false},
		{"dark", false, true},
		{"auto", false, false},
		{"", true, true},
	} {
		m := New(Options{App: "a", Theme: c.theme, Now: time.Now, NoPoll: true})
		if c.theme == "light" && m.theme.Dark {
			t.Errorf("theme light starts dark")
		}
		bg := lipgloss.Color("#000000")
		if !c.reportDark {
			bg = lipgloss.Color("#ffffff")
		}
		m.Update(tea.BackgroundColorMsg{Color: bg})
		if m.theme.Dark != c.wantDarkEnd {
			t.Errorf("theme %q, terminal dark=%v: dark=%v, want %v", c.theme, c.reportDark, m.theme.Dark, c.wantDarkEnd)
		}
	}
}

// At 80x24 the help does not fit: j scrolls to its last note, and any
// other key closes it.
func TestHelpScrollsAt80x24(t *testing.T) {
	m := fixedModel(t, 50, 80, 24)
	m.Update(keyPress("?"))
	screen := func() string { return m.render() }
	if !strings.Contains(screen(), "more lines (j)") || strings.Contains(screen(), "-term negates.") {
		t.Fatalf("help at 80x24 should scroll:\n%s", screen())
	}
	for range 80 {
		m.Update(keyPress("j"))
	}
	s := screen()
	// The panes' own keys close the help, after the notes.
	if !strings.Contains(s, "end of help") || !strings.Contains(s, "Hand-off") || m.mode() != modeHelp {
		t.Fatalf("after scrolling down:\n%s", s)
	}
	if n := len(strings.Split(s, "\n")); n != 24 {
		t.Fatalf("%d lines", n)
	}
	m.Update(keyPress("x"))
	if m.mode() != modeNormal {
		t.Fatal("x did not close the help")
	}
	m.Update(keyPress("?"))
	if !strings.Contains(screen(), "more lines (j)") {
		t.Fatal("help reopened scrolled")
	}
}

// On a journal longer than the pane, the chosen action stays in view.
func TestJournalPaneScrollsToCursor(t *testing.T) {
	m := fixedModel(t, 20, 80, 24)
	var logs []*recovery.ActionLog
	for i := range 60 {
		logs = append(logs, &recovery.ActionLog{Action: recovery.ActionRecord{ID: fmt.Sprintf("20261123T0300%02d-act%03d", i%60, i), Kind: recovery.KindRestart}})
	}
	m.journal.logs = logs
	m.open(m.journal)
	for range 50 {
		m.Update(keyPress("down"))
	}
	s := m.render()
	if !strings.Contains(s, "act009") || strings.Contains(s, "act059") {
		t.Fatalf("cursor on the 51st newest (act009) not in view, or the newest still shown:\n%s", s)
	}
	if n := len(strings.Split(s, "\n")); n != 24 {
		t.Fatalf("%d lines", n)
	}
}
