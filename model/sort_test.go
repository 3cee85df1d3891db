package model

import (
	"fmt"
	"testing"
	"time"
)

func TestSortOrdersRowsAndKeepsIDOrderOnTies(t *testing.T) {
	ago := func(d time.Duration) func(*Machine) {
		return func(m *Machine) { m.StateSince = testNow.Add(-d) }
	}
	event := func(d time.Duration) func(*Machine) {
		return func(m *Machine) { m.LastEvent = Event{Type: "exit", At: testNow.Add(-d)} }
	}
	s := snap([]Machine{
		mach("a1", "web", imgV62, ago(3*time.Hour), inRegion("ord"), event(time.Minute)),
		mach("b2", "worker", imgV62, ago(time.Minute), withChecks(critical), event(time.Hour)),
		mach("c3", "web", imgV62, ago(time.Hour), inRegion("ams")),
		mach("d4", "app", imgV62, ago(time.Hour), withChecks(Checks{Total: 2, Warning: 1, Passing: 1}), event(2*time.Minute)),
	}, testReleases)
	all := func() []int { return []int{3, 2, 1, 0} }
	cases := []struct {
		by   SortColumn
		desc bool
		want []string
	}{
		{SortByID, false, []string{"a1", "b2", "c3", "d4"}},
		{SortByID, true, []string{"d4", "c3", "b2", "a1"}},
		{SortByAge, false, []string{"b2", "c3", "d4", "a1"}}, // youngest first, ties by ID
		{SortByAge, true, []string{"a1", "c3", "d4", "b2"}},
		{SortByGroup, false, []string{"d4", "a1", "c3", "b2"}},
		{SortByRegion, false, []string{"c3", "b2", "d4", "a1"}},
		{SortByChecks, false, []string{"b2", "d4", "a1", "c3"}}, // worst first
		{SortByEvent, false, []string{"a1", "d4", "b2", "c3"}},  // most recent first, none last
		// Descending reverses the column, never the ties: they stay in ID order.
		{SortByChecks, true, []string{"a1", "c3", "d4", "b2"}},
		{SortByGroup, true, []string{"b2", "a1", "c3", "d4"}},
		{SortByEvent, true, []string{"c3", "b2", "d4", "a1"}},
		{SortByRelease, true, []string{"a1", "b2", "c3", "d4"}},
	}
	for _, c := range cases {
		rows := all()
		s.Sort(rows, c.by, c.desc)
		equalStrings(t, c.by.String(), ids(s, rows), c.want)
	}
}

func TestSortColumnNamesAreDistinct(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range SortColumns {
		if seen[c.Name] || c.Column.String() != c.Name {
			t.Errorf("column %d: name %q repeated or not round-tripping", c.Column, c.Name)
		}
		seen[c.Name] = true
	}
}

// BenchmarkSort sorts every machine row (the worst case: one group) by the
// columns that compare strings and times.
func BenchmarkSort(b *testing.B) {
	for _, n := range benchSizes {
		s := benchSnapshot(n)
		rows := make([]int, len(s.Machines))
		for _, by := range []SortColumn{SortByAge, SortByName, SortByChecks} {
			b.Run(fmt.Sprintf("%d/%s", n, by), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					for i := range rows {
						rows[i] = len(rows) - 1 - i
					}
					s.Sort(rows, by, false)
				}
			})
		}
	}
}
