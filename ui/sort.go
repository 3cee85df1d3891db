package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/flyrescue/flyrescue/model"
)

// tableSort is the order of the machines within each image and state
// group, and the groups' rows in that order for one snapshot: a keystroke
// or a frame never sorts, only a new poll or a new order does (a sort of
// 10,000 machines costs a millisecond or more; see BenchmarkSort).
type tableSort struct {
	by   model.SortColumn
	desc bool

	// The cache: rows[image][state] sorted by sortedBy, sortedDesc for
	// snap, all slices of flat.
	snap       *model.Snapshot
	sortedBy   model.SortColumn
	sortedDesc bool
	rows       [][][]int
	flat       []int
}

// natural reports whether the order is the snapshot's own (by ID,
// ascending), which needs no sorting.
func (s *tableSort) natural() bool { return s.by == model.SortByID && !s.desc }

// groupRows is a state group's machines in the sort order. The slice is
// the cache's (or the snapshot's): callers read it and keep nothing.
func (s *tableSort) groupRows(snap *model.Snapshot, image, state int) []int {
	if s.natural() {
		s.snap = nil // hold no old poll while the cache is unused
		return snap.ImageGroups[image].States[state].Rows
	}
	if s.snap != snap || s.sortedBy != s.by || s.sortedDesc != s.desc {
		s.resort(snap)
	}
	return s.rows[image][state]
}

// resort sorts every group of snap into the cache, reusing its memory.
func (s *tableSort) resort(snap *model.Snapshot) {
	s.snap, s.sortedBy, s.sortedDesc = snap, s.by, s.desc
	if cap(s.flat) < len(snap.Machines) {
		s.flat = make([]int, len(snap.Machines))
	}
	flat := s.flat[:0]
	s.rows = s.rows[:0]
	for ii := range snap.ImageGroups {
		states := make([][]int, len(snap.ImageGroups[ii].States))
		for si, sg := range snap.ImageGroups[ii].States {
			start := len(flat)
			flat = append(flat, sg.Rows...)
			states[si] = flat[start:len(flat):len(flat)]
			snap.Sort(states[si], s.by, s.desc)
		}
		s.rows = append(s.rows, states)
	}
}

// sortColumnOf is the table column a sort column orders by.
func sortColumnOf(by model.SortColumn) colID {
	switch by {
	case model.SortByName:
		return colName
	case model.SortByGroup:
		return colGroup
	case model.SortByRegion:
		return colRegion
	case model.SortByState:
		return colState
	case model.SortByAge:
		return colAge
	case model.SortByImage:
		return colImage
	case model.SortByRelease:
		return colRelease
	case model.SortByChecks:
		return colChecks
	case model.SortByEvent:
		return colEvent
	}
	return colID_
}

// handleSortKey applies a sort key; false: msg is none of them.
func (m *Model) handleSortKey(msg tea.KeyPressMsg) bool {
	k := &m.keys.Sort
	s := &m.sort
	switch {
	case key.Matches(msg, k.Next):
		m.setSort(stepSortColumn(s.by, 1), false)
	case key.Matches(msg, k.Prev):
		m.setSort(stepSortColumn(s.by, -1), false)
	case key.Matches(msg, k.Invert):
		m.setSort(s.by, !s.desc)
	default:
		return false
	}
	return true
}

// stepSortColumn is the column delta places after by, round the list.
// A new column starts ascending, each column's useful way round (the
// youngest, the most recent event, the worst checks first).
func stepSortColumn(by model.SortColumn, delta int) model.SortColumn {
	n := len(model.SortColumns)
	for i, sc := range model.SortColumns {
		if sc.Column == by {
			return model.SortColumns[((i+delta)%n+n)%n].Column
		}
	}
	return model.SortByID
}

// setSort re-orders the table; the cursor stays on its machine (rebuild
// keeps it by row key).
func (m *Model) setSort(by model.SortColumn, desc bool) {
	m.sort.by, m.sort.desc = by, desc
	m.rebuild()
	m.status = m.sortText() + fmt.Sprintf(" · %s/%s column, %s inverts",
		m.keys.Sort.Next.Help().Key, m.keys.Sort.Prev.Help().Key, m.keys.Sort.Invert.Help().Key)
}

// sortText says the order: "sorted by age ▼ (descending)".
func (m *Model) sortText() string {
	way := "ascending"
	if m.sort.desc {
		way = "descending"
	}
	return fmt.Sprintf("sorted by %s %s (%s)", m.sort.by, m.sortArrow(), way)
}

// sortArrow is the direction's glyph: ▲ ascending, ▼ descending; ^ and v
// with plain glyphs.
func (m *Model) sortArrow() string {
	if m.sort.desc {
		return m.glyphs.sortDesc
	}
	return m.glyphs.sortAsc
}

// headerLine is the column titles at a layout, laid out as rows are, the
// sort column's title ending in the direction's arrow (the title cut to
// keep the arrow in a narrow column: REGIO▲).
func headerLine(l colLayout, sorted colID, arrow string) string {
	var titles [numCols]string
	for c := range numCols {
		titles[c] = columns[c].title
	}
	if w := l[sorted]; w > 0 {
		t := titles[sorted]
		titles[sorted] = t[:min(len(t), w-textWidth(arrow))] + arrow
	}
	var b strings.Builder
	b.WriteString(strings.Repeat(" ", gutterWidth))
	writeCells(&b, titles, l, nil)
	return b.String()
}
