package model

import (
	"cmp"
	"slices"
	"strings"
)

// SortColumn is what the table's rows are ordered by inside each image and
// state group. The zero value keeps the snapshot's order (machine ID).
type SortColumn int

// Sort columns, as the table shows them.
const (
	SortByID SortColumn = iota
	SortByName
	SortByGroup
	SortByRegion
	SortByState
	SortByAge
	SortByImage
	SortByRelease
	SortByChecks
	SortByEvent
)

// SortColumns lists every column with the word the help and header use.
var SortColumns = []struct {
	Column SortColumn
	Name   string
}{
	{SortByID, "id"}, {SortByName, "name"}, {SortByGroup, "group"}, {SortByRegion, "region"},
	{SortByState, "state"}, {SortByAge, "age"}, {SortByImage, "image"}, {SortByRelease, "release"},
	{SortByChecks, "checks"}, {SortByEvent, "last event"},
}

// String is the column's name.
func (c SortColumn) String() string {
	for _, sc := range SortColumns {
		if sc.Column == c {
			return sc.Name
		}
	}
	return "id"
}

// Sort orders machine rows (indices into Machines) in place by a column,
// ascending unless desc. Ties keep machine-ID order, so the order is the same
// on every poll and a row does not jump between equal neighbours.
// Ascending means what the column shows grows: the youngest age first, the
// most recent event first, and the worst checks first (they matter most).
func (s *Snapshot) Sort(rows []int, by SortColumn, desc bool) {
	if by == SortByID && !desc {
		slices.Sort(rows) // Machines are sorted by ID
		return
	}
	compare := s.comparer(by)
	slices.SortStableFunc(rows, func(a, b int) int {
		c := compare(a, b)
		if desc {
			c = -c
		}
		if c == 0 {
			return cmp.Compare(a, b)
		}
		return c
	})
}

func (s *Snapshot) comparer(by SortColumn) func(a, b int) int {
	ms := s.Machines
	switch by {
	case SortByName:
		return func(a, b int) int { return strings.Compare(ms[a].Name, ms[b].Name) }
	case SortByGroup:
		return func(a, b int) int { return strings.Compare(ms[a].Group, ms[b].Group) }
	case SortByRegion:
		return func(a, b int) int { return strings.Compare(ms[a].Region, ms[b].Region) }
	case SortByState:
		return func(a, b int) int { return strings.Compare(ms[a].State, ms[b].State) }
	case SortByAge:
		// A later StateSince is a younger age.
		return func(a, b int) int { return ms[b].StateSince.Compare(ms[a].StateSince) }
	case SortByImage:
		return func(a, b int) int { return strings.Compare(ms[a].ImageTag, ms[b].ImageTag) }
	case SortByRelease:
		return func(a, b int) int { return cmp.Compare(ms[a].ReleaseVersion, ms[b].ReleaseVersion) }
	case SortByChecks:
		return func(a, b int) int { return cmp.Compare(checksRank(ms[a].Checks), checksRank(ms[b].Checks)) }
	case SortByEvent:
		return func(a, b int) int { return ms[b].LastEvent.At.Compare(ms[a].LastEvent.At) }
	}
	return func(a, b int) int { return strings.Compare(ms[a].ID, ms[b].ID) }
}

// checksRank orders check summaries worst first.
func checksRank(c Checks) int {
	switch c.Status() {
	case ChecksCritical:
		return 0
	case ChecksWarning:
		return 1
	case ChecksNone:
		return 2
	}
	return 3
}
