package ui

import (
	"slices"

	"github.com/flyrescue/flyrescue/model"
)

// pins marks, by machine index in snap, the machines of the running action
// that are in flight, when a filter might hide them: an operator must see
// what is being changed right now, whatever the table was narrowed to.
// Nil when nothing needs pinning.
func (m *Model) pins(snap *model.Snapshot, filtering bool) []bool {
	if !filtering || m.run == nil || m.run.done || len(m.run.inFlight) == 0 {
		return nil
	}
	if cap(m.pinMask) < len(snap.Machines) {
		m.pinMask = make([]bool, len(snap.Machines))
	}
	m.pinMask = m.pinMask[:len(snap.Machines)]
	clear(m.pinMask)
	for _, id := range m.run.inFlight {
		if i, ok := snap.Index(id); ok {
			m.pinMask[i] = true
		}
	}
	return m.pinMask
}

// followInFlight re-reads which machines are in flight after a batch of
// events, and rebuilds the table when a filter hides some of them (or
// hid those that just finished: they follow the filter again).
func (m *Model) followInFlight() {
	rs := m.run
	var now []string
	if !rs.done {
		now = rs.progress.InFlight()
	}
	if slices.Equal(now, rs.inFlight) {
		return
	}
	rs.inFlight = now
	if m.snap != nil && m.filtering() {
		m.rebuild()
	}
}

// pinned reports whether row r is a machine shown only because it is in
// flight.
func (m *Model) pinned(r tableRow) bool {
	return r.kind == rowMachine && m.pinnedShown > 0 && m.filtering() && !m.match[r.machine]
}
