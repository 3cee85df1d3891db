package model

import (
	"slices"
	"testing"
	"time"
)

var testNow = time.Date(2025, 6, 2, 12, 0, 0, 0, time.UTC)

const (
	imgV60 = "registry.fly.io/app:app.v60-1-gaaaaaaa"
	imgV61 = "registry.fly.io/app:app.v61-2-gbbbbbbb"
	imgV62 = "registry.fly.io/app:app.v62-3-gccccccc"
)

var testReleases = []Release{
	{ID: "r60", Version: 60, Status: "complete", Image: imgV60},
	{ID: "r62", Version: 62, Status: "failed", Image: imgV62},
	{ID: "r61", Version: 61, Status: "complete", Image: imgV61},
}

var (
	passing  = Checks{Total: 1, Passing: 1}
	critical = Checks{Total: 1, Critical: 1}
)

// mach builds a started machine, healthy, that entered its state an hour ago;
// tweak applies the test's differences.
func mach(id, group, image string, tweak ...func(*Machine)) Machine {
	m := Machine{
		ID: id, Name: "name-" + id, State: StateStarted, Region: "iad", Group: group,
		Image: image, ImageTag: ImageTag(image), Checks: passing,
		StateSince: testNow.Add(-time.Hour),
	}
	for _, t := range tweak {
		t(&m)
	}
	return m
}

func inState(state string, ago time.Duration) func(*Machine) {
	return func(m *Machine) { m.State = state; m.StateSince = testNow.Add(-ago) }
}

func withChecks(c Checks) func(*Machine) { return func(m *Machine) { m.Checks = c } }
func inRegion(r string) func(*Machine)   { return func(m *Machine) { m.Region = r } }

func snap(machines []Machine, releases []Release) *Snapshot {
	return NewSnapshot("app", machines, releases, ChooseTarget("", releases, machines), Options{Now: testNow})
}

func ids(s *Snapshot, rows []int) []string {
	out := make([]string, len(rows))
	for k, i := range rows {
		out[k] = s.Machines[i].ID
	}
	return out
}

func equalStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}
