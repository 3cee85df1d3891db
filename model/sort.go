package model

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"
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
//
// Each row's key is read once into a slice and the slice sorted: comparing
// in place would chase every machine (a few hundred bytes apart) on each of
// n·log n comparisons, which at 10,000 machines costs more than the sort.
func (s *Snapshot) Sort(rows []int, by SortColumn, desc bool) {
	ms := s.Machines
	switch by {
	case SortByName:
		sortStrings(rows, desc, func(i int) string { return ms[i].Name })
	case SortByGroup:
		sortStrings(rows, desc, func(i int) string { return ms[i].Group })
	case SortByRegion:
		sortStrings(rows, desc, func(i int) string { return ms[i].Region })
	case SortByState:
		sortStrings(rows, desc, func(i int) string { return ms[i].State })
	case SortByAge:
		// A later StateSince is a younger age.
		sortTimes(rows, desc, func(i int) int64 { return ^timeKey(ms[i].StateSince) })
	case SortByImage:
		sortStrings(rows, desc, func(i int) string { return ms[i].ImageTag })
	case SortByRelease:
		sortSmall(rows, desc, func(i int) int32 { return int32(min(ms[i].ReleaseVersion, math.MaxInt32)) })
	case SortByChecks:
		sortSmall(rows, desc, func(i int) int32 { return int32(checksRank(s.checksAt(i))) })
	case SortByEvent:
		sortTimes(rows, desc, func(i int) int64 { return ^timeKey(ms[i].LastEvent.At) })
	default:
		// Machines are sorted by ID, so the index order is the ID order.
		slices.Sort(rows)
		if desc {
			slices.Reverse(rows)
		}
	}
}

// keyedRow is a row with its sort key read out.
type keyedRow[K any] struct {
	key K
	row int
}

// sortKeyed sorts rows by key, ties by row (machine ID), both directions.
// The order is total, so an unstable sort gives the same result every time.
func sortKeyed[K any](rows []int, desc bool, key func(int) K, compare func(a, b K) int) {
	keyed := make([]keyedRow[K], len(rows))
	for i, r := range rows {
		keyed[i] = keyedRow[K]{key(r), r}
	}
	slices.SortFunc(keyed, func(a, b keyedRow[K]) int {
		c := compare(a.key, b.key)
		if desc {
			c = -c
		}
		if c == 0 {
			return cmp.Compare(a.row, b.row)
		}
		return c
	})
	for i := range keyed {
		rows[i] = keyed[i].row
	}
}

// sortTimes sorts rows by a time key (timeKey), ties by row.
func sortTimes(rows []int, desc bool, key func(int) int64) {
	sortKeyed(rows, desc, key, cmp.Compare[int64])
}

// prefixed is a string with its first eight bytes as a number, which
// settles most comparisons without reading the strings.
type prefixed struct {
	prefix uint64
	s      string
}

func prefixOf(s string) prefixed {
	var p uint64
	for j := range 8 {
		p <<= 8
		if j < len(s) {
			p |= uint64(s[j])
		}
	}
	return prefixed{p, s}
}

func comparePrefixed(a, b prefixed) int {
	if c := cmp.Compare(a.prefix, b.prefix); c != 0 {
		return c
	}
	return strings.Compare(a.s, b.s)
}

// sortStrings sorts rows by a string key, ties by row.
func sortStrings(rows []int, desc bool, key func(int) string) {
	sortKeyed(rows, desc, func(i int) prefixed { return prefixOf(key(i)) }, comparePrefixed)
}

// sortSmall sorts rows by a small key, ties by row, as sortKeyed does:
// key and row packed in one int64 sort as plain integers, which matters for
// columns with few values (checks, release), where nearly every comparison
// is a tie.
func sortSmall(rows []int, desc bool, key func(int) int32) {
	packed := make([]int64, len(rows))
	for i, r := range rows {
		k := int64(key(r))
		if desc {
			k = -k
		}
		packed[i] = k<<32 | int64(uint32(r))
	}
	slices.Sort(packed)
	for i, p := range packed {
		rows[i] = int(uint32(p))
	}
}

// timeKey orders times as an int64: the zero time (unknown) first, as
// time.Time.Compare puts it. UnixNano covers the years 1678 to 2262.
func timeKey(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return t.UnixNano()
}

// checksRank orders check summaries worst first.
func checksRank(status string) int {
	switch status {
	case ChecksCritical:
		return 0
	case ChecksWarning:
		return 1
	case ChecksNone:
		return 2
	}
	return 3
}
