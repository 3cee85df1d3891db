package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
)

// handleFilterKey edits the query live: every keystroke re-filters, so the
// match count answers "how many?" before the operator presses enter.
//
// The query is --select's language (model.ParseFilter), read as it is
// typed (model.ParseFilterTyping): while the word at the end could still
// become valid (`group:`, `state:fai`, an open quote), the words before it
// apply and its complaint is a dim hint; an error no typing can fix
// (`grup:`), a bad word before the last, or any error once the operator
// leaves the filter, makes the filter invalid: it matches nothing, the
// error is shown in full, and no action runs until it is fixed or cleared.
func (m *Model) handleFilterKey(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "esc":
		m.filterInput.value = ""
		m.typingFilter = false
		m.setQuery("")
		return nil
	case "enter", "tab":
		m.typingFilter = false
		if m.filterTyping != nil {
			// The word is finished now: its error is an error.
			m.setQuery(m.filterInput.value)
		}
		return nil
	case "up", "down":
		// Let the operator glance through matches without leaving the filter.
		if msg.String() == "up" {
			m.moveCursor(-1)
		} else {
			m.moveCursor(1)
		}
		return nil
	}
	if m.filterInput.handle(msg) {
		m.setQuery(m.filterInput.value)
	}
	return nil
}

// setQuery parses and applies a filter query: as typed while the filter
// line has the keys, strictly otherwise.
func (m *Model) setQuery(q string) {
	m.filterInput.value = q
	var f *model.Filter
	var typing, err error
	if m.typingFilter {
		f, typing, err = model.ParseFilterTyping(q)
	} else {
		f, err = model.ParseFilter(q)
	}
	m.filter, m.filterTyping, m.filterErr = f, typing, err
	m.rebuild()
}

// filtering reports whether the table shows a subset: a filter applies,
// or an invalid one hides everything.
func (m *Model) filtering() bool { return !m.filter.Empty() || m.filterErr != nil }

// filterBlocks refuses the keys that act on what the table shows (marking,
// and actions on the marks or the cursor row) while the filter is invalid:
// what the operator meant to select is unknown.
func (m *Model) filterBlocks(msg tea.KeyPressMsg) bool {
	if m.filterErr == nil {
		return false
	}
	k := &m.keys
	blocked := []key.Binding{k.Mark, k.MarkAll}
	for _, a := range k.actionKeys() {
		if a.onTargets() {
			blocked = append(blocked, *a.Binding)
		}
	}
	for _, b := range blocked {
		if key.Matches(msg, b) {
			m.status = fmt.Sprintf("%s does nothing: the filter is invalid (see above); / to fix it, esc to clear it", b.Help().Desc)
			return true
		}
	}
	return false
}

// cycleGroup rewrites the group: term of the query to the next process
// group (then none), since `group:worker_autoscale` is what people type most.
func (m *Model) cycleGroup() {
	if m.snap == nil || len(m.snap.Groups) == 0 {
		return
	}
	words := strings.Fields(m.filterInput.value)
	current := ""
	kept := words[:0]
	for _, w := range words {
		if g, ok := strings.CutPrefix(w, "group:"); ok {
			current = g
			continue
		}
		kept = append(kept, w)
	}
	next := m.snap.Groups[0].Name
	for i, g := range m.snap.Groups {
		if g.Name == current {
			next = ""
			if i+1 < len(m.snap.Groups) {
				next = m.snap.Groups[i+1].Name
			}
		}
	}
	if next != "" {
		kept = append([]string{"group:" + next}, kept...)
	}
	m.setQuery(strings.Join(kept, " "))
	if next == "" {
		m.status = "group filter off"
	} else {
		m.status = "group filter: " + next + " (g for the next group)"
	}
}

// filterLine is the footer line that shows the query and its match count.
func (m *Model) filterLine(width int) string {
	t := m.theme
	if !m.typingFilter && m.filterInput.value == "" {
		return ""
	}
	total := 0
	if m.snap != nil {
		total = len(m.snap.Machines)
	}
	line := t.Key.Render("/") + m.filterInput.view(m.typingFilter)
	switch {
	case m.filterErr != nil:
		line += "   " + t.Bad.Render("invalid filter: matches nothing")
	default:
		line += t.Muted.Render(fmt.Sprintf("   %d of %d match", len(m.visible), total))
		if m.filterTyping != nil {
			line += t.Muted.Render("   … " + m.filterTyping.Error())
		}
	}
	if m.typingFilter && m.filterTyping == nil {
		line += t.Muted.Render("   enter keeps · esc clears")
	}
	return truncate(line, width)
}

// filterErrLines show an invalid filter's error in full, wrapped to the
// width (the filter line itself only says that it is invalid).
func (m *Model) filterErrLines(width int) []string {
	if m.filterErr == nil || width < 10 {
		return nil
	}
	text := ansi.Wordwrap(flyclient.PrintableLine(m.filterErr.Error()), width-3, "")
	var out []string
	for _, l := range strings.Split(text, "\n") {
		out = append(out, m.theme.Bad.Render("  "+l))
	}
	return out
}
