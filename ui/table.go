package ui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/flyrescue/flyrescue/model"
)

// rowKind distinguishes group header rows from machine rows.
type rowKind uint8

const (
	rowImage rowKind = iota
	rowState
	rowMachine
)

// tableRow is one line of the grouped table: indices only, so rebuilding the
// view at 10,000 machines copies no machine data.
type tableRow struct {
	kind    rowKind
	image   int32 // index into Snapshot.ImageGroups
	state   int32 // index into ImageGroups[image].States (headers and machines)
	machine int32 // index into Snapshot.Machines, -1 for headers
	count   int32 // machines under a header that pass the filter
	pinned  int32 // machines under a header shown only because they are in flight
}

func imageKey(ig *model.ImageGroup) string               { return "i:" + ig.Image }
func stateKey(ig *model.ImageGroup, state string) string { return "s:" + ig.Image + "|" + state }

// rowKey identifies a row across rebuilds so the cursor stays put.
func (m *Model) rowKey(r tableRow) string { return rowKeyOf(m.snap, r) }

func rowKeyOf(snap *model.Snapshot, r tableRow) string {
	ig := &snap.ImageGroups[r.image]
	switch r.kind {
	case rowImage:
		return imageKey(ig)
	case rowState:
		return stateKey(ig, ig.States[r.state].State)
	}
	return snap.Machines[r.machine].ID
}

// rebuild derives the view from the data: the filter's matches, grouped by
// image then state, each group in the sort order, minus collapsed groups.
// Machines in flight stay in their group whatever the filter says (pinned):
// they are rows, but not visible (marking all and the counts ignore them).
// Marks are untouched: they are IDs and outlive any view.
func (m *Model) rebuild() {
	if m.snap == nil {
		m.rows, m.visible = nil, nil
		return
	}
	keep := ""
	if m.cursor >= 0 && m.cursor < len(m.rows) && m.rowsSnap != nil {
		keep = rowKeyOf(m.rowsSnap, m.rows[m.cursor])
	}
	snap := m.snap
	n := len(snap.Machines)
	if cap(m.match) < n {
		m.match = make([]bool, n)
	}
	m.match = m.match[:n]
	filtering := m.filtering()
	if filtering {
		clear(m.match)
		if m.filterErr == nil {
			for _, i := range m.filter.Apply(snap) {
				m.match[i] = true
			}
		}
	}
	pins := m.pins(snap, filtering)
	m.pinnedShown = 0
	m.rows = m.rows[:0]
	m.visible = m.visible[:0]
	for ii := range snap.ImageGroups {
		ig := &snap.ImageGroups[ii]
		imgAt := len(m.rows)
		m.rows = append(m.rows, tableRow{kind: rowImage, image: int32(ii), machine: -1})
		imgCollapsed := m.collapsed[imageKey(ig)]
		total, pinnedHere := 0, 0
		for si := range ig.States {
			sg := &ig.States[si]
			stAt := len(m.rows)
			stCollapsed := imgCollapsed || m.collapsed[stateKey(ig, sg.State)]
			if !imgCollapsed {
				m.rows = append(m.rows, tableRow{kind: rowState, image: int32(ii), state: int32(si), machine: -1})
			}
			count, pinned := 0, 0
			for _, mi := range m.sort.groupRows(snap, ii, si) {
				switch {
				case !filtering || m.match[mi]:
					count++
					m.visible = append(m.visible, mi)
				case pins != nil && pins[mi]:
					pinned++
				default:
					continue
				}
				if !stCollapsed {
					m.rows = append(m.rows, tableRow{kind: rowMachine, image: int32(ii), state: int32(si), machine: int32(mi)})
				}
			}
			total += count
			pinnedHere += pinned
			if !imgCollapsed {
				if count+pinned == 0 {
					m.rows = m.rows[:stAt] // a state with no match shows no header
				} else {
					m.rows[stAt].count, m.rows[stAt].pinned = int32(count), int32(pinned)
				}
			}
		}
		m.pinnedShown += pinnedHere
		if total+pinnedHere == 0 && filtering {
			m.rows = m.rows[:imgAt]
			continue
		}
		m.rows[imgAt].count, m.rows[imgAt].pinned = int32(total), int32(pinnedHere)
	}
	m.rowsSnap = snap
	m.cursor = m.findRow(keep, m.cursor)
	m.ensureVisible()
}

// findRow returns the row with key, else the nearest valid position.
func (m *Model) findRow(key string, fallback int) int {
	if key != "" {
		for i, r := range m.rows {
			if r.kind == rowMachine && m.snap.Machines[r.machine].ID == key {
				return i
			}
			if r.kind != rowMachine && m.rowKey(r) == key {
				return i
			}
		}
	}
	return max(0, min(fallback, len(m.rows)-1))
}

// cursorMachine returns the machine under the cursor.
func (m *Model) cursorMachine() (*model.Machine, bool) {
	if m.snap == nil || m.cursor < 0 || m.cursor >= len(m.rows) || m.rows[m.cursor].kind != rowMachine {
		return nil, false
	}
	return &m.snap.Machines[m.rows[m.cursor].machine], true
}

// groupMachines lists the visible machines under the header row r.
func (m *Model) groupMachines(r tableRow) []string {
	ig := &m.snap.ImageGroups[r.image]
	var ids []string
	for si, sg := range ig.States {
		if r.kind == rowState && int32(si) != r.state {
			continue
		}
		for _, mi := range sg.Rows {
			if !m.filtering() || m.match[mi] {
				ids = append(ids, m.snap.Machines[mi].ID)
			}
		}
	}
	return ids
}

func (m *Model) moveCursor(delta int) {
	m.cursor = max(0, min(m.cursor+delta, len(m.rows)-1))
	m.ensureVisible()
}

// ensureVisible scrolls so the cursor row is on screen.
func (m *Model) ensureVisible() {
	h := m.tableHeight()
	if h <= 0 {
		return
	}
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+h {
		m.offset = m.cursor - h + 1
	}
	m.offset = max(0, min(m.offset, len(m.rows)-h))
}

// toggleCollapse folds the group under the cursor (the row's own group when
// on a header, the machine's state group otherwise).
func (m *Model) toggleCollapse() {
	if m.cursor >= len(m.rows) {
		return
	}
	r := m.rows[m.cursor]
	ig := &m.snap.ImageGroups[r.image]
	var k string
	if r.kind == rowImage {
		k = imageKey(ig)
	} else {
		k = stateKey(ig, ig.States[r.state].State)
	}
	m.collapsed[k] = !m.collapsed[k]
	// Keep the cursor on the header of what was folded.
	for i := m.cursor; i >= 0; i-- {
		if m.rows[i].kind != rowMachine && m.rowKey(m.rows[i]) == k {
			m.cursor = i
			break
		}
	}
	m.rebuild()
}

// renderTable draws only the rows on screen, so a frame costs the same at
// 10 machines and at 10,000.
func (m *Model) renderTable(b *strings.Builder, width, height int) {
	withStep := m.run != nil && len(m.run.steps) > 0
	sorted := sortColumnOf(m.sort.by)
	layout := layoutColumns(width, withStep, sorted)
	b.WriteString(m.theme.ColumnHeader.Render(fit(headerLine(layout, sorted, m.sortArrow()), width, false, false)))
	b.WriteByte('\n')
	height--
	if m.snap == nil {
		b.WriteString(m.theme.Muted.Render(" waiting for the first poll…"))
		b.WriteByte('\n')
		height--
	} else if len(m.visible) == 0 && m.filterErr != nil { // pinned rows may follow
		b.WriteString(m.theme.Bad.Render(" the filter is invalid: no machine is shown and no action runs (/ to fix it, esc to clear it)"))
		b.WriteByte('\n')
		height--
	} else if len(m.rows) == 0 || (len(m.visible) == 0 && m.filtering()) {
		b.WriteString(m.theme.Muted.Render(" no machine matches the filter (esc clears it)"))
		b.WriteByte('\n')
		height--
	}
	now := m.now()
	end := min(len(m.rows), m.offset+height)
	for i := m.offset; i < end; i++ {
		b.WriteString(m.renderRow(m.rows[i], i == m.cursor, layout, width, now))
		b.WriteByte('\n')
	}
	for i := end - m.offset; i < height; i++ {
		b.WriteByte('\n')
	}
}

// renderRow draws one row; the cursor row is one plain reversed line so
// nested colours do not break its background.
func (m *Model) renderRow(r tableRow, isCursor bool, l colLayout, width int, now time.Time) string {
	t := m.theme
	if r.kind != rowMachine {
		line := m.groupHeaderText(r)
		style := t.ImageHeader
		if r.kind == rowState {
			style = t.State(m.snap.ImageGroups[r.image].States[r.state].State).Bold(true)
		}
		cur := " "
		if isCursor {
			cur = m.glyphs.cursor
			style = t.Cursor
		}
		return style.Render(fit(cur+line, width, false, false))
	}
	mc := &m.snap.Machines[r.machine]
	eff := m.snap.EffectiveState(int(r.machine))
	var step *stepState
	if m.run != nil {
		step = m.run.stepFor(mc.ID)
	}
	cells := rowCells(mc, eff, now, step, &m.glyphs, m.spinnerGlyph())
	marked := m.marks.Has(mc.ID)
	changed := m.changed[mc.ID].After(now)
	gutter := [3]string{" ", " ", " "}
	if isCursor {
		gutter[0] = m.glyphs.cursor
	}
	if marked {
		gutter[1] = m.glyphs.mark
	}
	if changed {
		gutter[2] = m.glyphs.changed
	}
	if m.pinned(r) {
		gutter[2] = m.glyphs.pin // in flight, shown outside the filter
	}
	var b strings.Builder
	b.Grow(width + 64)
	if isCursor || t.NoColor {
		b.WriteString(gutter[0] + gutter[1] + gutter[2])
		writeCells(&b, cells, l, nil)
		return t.Cursor.Render(fit(b.String(), width, false, false))
	}
	b.WriteString(gutter[0])
	b.WriteString(t.cellInk("marked", func() lipgloss.Style { return t.Marked }).paint(gutter[1]))
	b.WriteString(t.cellInk("changed", func() lipgloss.Style { return t.Changed }).paint(gutter[2]))
	stateInk := t.cellInk("state:"+eff, func() lipgloss.Style { return t.State(eff) })
	checks := mc.Checks.Status()
	checksInk := t.cellInk("checks:"+checks, func() lipgloss.Style { return t.Checks(checks) })
	var stepInk ink
	if step != nil {
		stepInk = t.cellInk("step:"+string(step.phase), func() lipgloss.Style { return t.Step(step.phase) })
	}
	markedInk := t.cellInk("marked", func() lipgloss.Style { return t.Marked })
	changedInk := t.cellInk("changed", func() lipgloss.Style { return t.Changed })
	mutedInk := t.cellInk("muted", func() lipgloss.Style { return t.Muted })
	writeCells(&b, cells, l, func(c colID, s string) string {
		switch {
		case c == colState:
			return stateInk.paint(s)
		case c == colChecks:
			return checksInk.paint(s)
		case c == colStep && step != nil:
			return stepInk.paint(s)
		case c == colID_ && marked:
			return markedInk.paint(s)
		case changed:
			return changedInk.paint(s)
		case c == colAge || c == colEvent || c == colRelease:
			return mutedInk.paint(s)
		}
		return s
	})
	return b.String()
}

// writeCells lays cells out at l, styling each through style when given.
func writeCells(b *strings.Builder, cells [numCols]string, l colLayout, style func(colID, string) string) {
	first := true
	for c := range numCols {
		if l[c] == 0 {
			continue
		}
		if !first {
			b.WriteByte(' ')
		}
		first = false
		var s string
		if columns[c].keepAge {
			s = fitAge(cells[c], l[c])
		} else {
			s = fit(cells[c], l[c], columns[c].right, columns[c].leftTrunc)
		}
		if style != nil {
			s = style(c, s)
		}
		b.WriteString(s)
	}
}

// groupHeaderText is the text of an image or state header row.
func (m *Model) groupHeaderText(r tableRow) string {
	ig := &m.snap.ImageGroups[r.image]
	if r.kind == rowImage {
		fold := m.glyphs.open
		if m.collapsed[imageKey(ig)] {
			fold = m.glyphs.closed
		}
		rel := ""
		if ig.ReleaseVersion > 0 {
			rel = fmt.Sprintf(" v%d", ig.ReleaseVersion)
		}
		return fmt.Sprintf("%s %s %s%s · %s", fold, strings.ToUpper(ig.Kind.String()), ig.Tag, rel, model.Counted(int(r.count), "machine")) + m.pinnedText(r)
	}
	sg := &ig.States[r.state]
	fold := m.glyphs.open
	if m.collapsed[stateKey(ig, sg.State)] {
		fold = m.glyphs.closed
	}
	return fmt.Sprintf("  %s %s %d", fold, sg.State, r.count) + m.pinnedText(r)
}

// pinnedText says how many machines under a header are shown only
// because they are in flight.
func (m *Model) pinnedText(r tableRow) string {
	if r.pinned == 0 {
		return ""
	}
	return fmt.Sprintf(" + %d in flight %s", r.pinned, m.glyphs.pin)
}
