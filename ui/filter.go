package ui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/flyrescue/flyrescue/model"
)

// handleFilterKey edits the query live: every keystroke re-filters, so the
// match count answers "how many?" before the operator presses enter. While
// the query does not parse, the last good filter stays applied.
func (m *Model) handleFilterKey(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "esc":
		m.filterInput.value = ""
		m.setQuery("")
		m.mode = modeNormal
		return nil
	case "enter", "tab":
		m.mode = modeNormal
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

// setQuery parses and applies a filter query.
func (m *Model) setQuery(q string) {
	m.filterInput.value = q
	f, err := model.ParseFilter(q)
	if err != nil {
		m.filterErr = err
		return
	}
	m.filterErr = nil
	m.filter = f
	m.rebuild()
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
	if m.mode != modeFilter && m.filterInput.value == "" {
		return ""
	}
	total := 0
	if m.snap != nil {
		total = len(m.snap.Machines)
	}
	line := t.Key.Render("/") + m.filterInput.view(m.mode == modeFilter) +
		t.Muted.Render(fmt.Sprintf("   %d of %d match", len(m.visible), total))
	if m.filterErr != nil {
		line += "  " + t.Bad.Render(m.filterErr.Error())
	}
	if m.mode == modeFilter {
		line += t.Muted.Render("   enter keeps · esc clears")
	}
	return truncate(line, width)
}
