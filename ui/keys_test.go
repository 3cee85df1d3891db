package ui

import (
	"testing"

	tea "charm.land/bubbletea/v2"
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
	if cmd != nil || m.mode != modeFilter || m.filterInput.value != "q" {
		t.Fatalf("q in filter: mode %d, value %q, cmd %v", m.mode, m.filterInput.value, cmd != nil)
	}
	m.Update(keyPress("esc"))
	if m.mode != modeNormal || m.filterInput.value != "" || len(m.visible) != 50 {
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
