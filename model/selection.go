package model

import (
	"maps"
	"slices"
)

// Selection is the set of marked machines. It holds IDs, not row indices,
// so marks survive polls that reorder or replace rows and filters that hide them.
type Selection struct {
	ids map[string]struct{}
}

// NewSelection returns an empty selection.
func NewSelection() *Selection { return &Selection{ids: make(map[string]struct{})} }

// Toggle marks id, or unmarks it when it is marked already.
func (s *Selection) Toggle(id string) {
	if _, ok := s.ids[id]; ok {
		delete(s.ids, id)
		return
	}
	s.ids[id] = struct{}{}
}

// Add marks ids.
func (s *Selection) Add(ids ...string) {
	for _, id := range ids {
		s.ids[id] = struct{}{}
	}
}

// Remove unmarks id.
func (s *Selection) Remove(id string) { delete(s.ids, id) }

// Clear unmarks everything.
func (s *Selection) Clear() { clear(s.ids) }

// Has reports whether id is marked.
func (s *Selection) Has(id string) bool {
	_, ok := s.ids[id]
	return ok
}

// Len is the number of marked machines.
func (s *Selection) Len() int { return len(s.ids) }

// IDs returns the marked IDs, sorted, so actions run in a predictable order.
func (s *Selection) IDs() []string { return slices.Sorted(maps.Keys(s.ids)) }

// Prune drops marks on machines that are gone: no longer in snap (destroyed
// or replaced under a new ID), or listed there as destroyed or destroying
// (the engine plans on neither). A mark on one would only make every later
// plan fail. It returns how many it dropped, so the UI can say so.
func (s *Selection) Prune(snap *Snapshot) int {
	n := 0
	for id := range s.ids {
		if i, ok := snap.Index(id); !ok || !deployable(snap.Machines[i].State) {
			delete(s.ids, id)
			n++
		}
	}
	return n
}

// Drop unmarks ids and returns how many of them were marked.
func (s *Selection) Drop(ids []string) int {
	n := 0
	for _, id := range ids {
		if _, ok := s.ids[id]; ok {
			delete(s.ids, id)
			n++
		}
	}
	return n
}

// Hidden counts marked machines that are in snap but not among the visible
// rows, so a confirmation can say "N marked machines are hidden by the filter".
// Marks on machines missing from snap are not counted: Prune reports those.
func (s *Selection) Hidden(visible []int, snap *Snapshot) int {
	if len(s.ids) == 0 {
		return 0
	}
	shown := make(map[string]struct{}, len(visible))
	for _, i := range visible {
		if i >= 0 && i < len(snap.Machines) {
			shown[snap.Machines[i].ID] = struct{}{}
		}
	}
	n := 0
	for id := range s.ids {
		if _, present := snap.Index(id); !present {
			continue
		}
		if _, ok := shown[id]; !ok {
			n++
		}
	}
	return n
}
