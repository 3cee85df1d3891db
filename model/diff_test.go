package model

import (
	"testing"
	"time"
)

func TestDiff(t *testing.T) {
	old := snap([]Machine{
		mach("a", "web", imgV61),
		mach("b", "web", imgV61),
		mach("c", "web", imgV61),
		mach("d", "web", imgV61, inState(StateReplacing, 2*time.Minute)),
		mach("e", "web", imgV61),
		mach("f", "web", imgV61),
		mach("g", "web", imgV61),
	}, testReleases)
	next := snap([]Machine{
		mach("a", "web", imgV61),                                              // same
		mach("b", "web", imgV62),                                              // image
		mach("c", "web", imgV61, withChecks(critical)),                        // checks
		mach("d", "web", imgV61, inState(StateReplacing, 2*time.Minute)),      // same machine...
		mach("e", "web", imgV61, func(m *Machine) { m.InstanceID = "new" }),   // instance
		mach("f", "web", imgV61, func(m *Machine) { m.LastEvent.Type = "x" }), // event
		mach("h", "web", imgV61),                                              // added
	}, testReleases)
	// ...that turns stuck when the clock moves on, which the row must show.
	next = NewSnapshot("app", next.Machines, next.Releases, next.Target, Options{Now: testNow.Add(10 * time.Minute)})

	d := Diff(old, next)
	equalStrings(t, "Added", d.Added, []string{"h"})
	equalStrings(t, "Removed", d.Removed, []string{"g"})
	equalStrings(t, "Changed", d.Changed, []string{"b", "c", "d", "e", "f"})

	all := Diff(nil, old)
	equalStrings(t, "Added from nil", all.Added, []string{"a", "b", "c", "d", "e", "f", "g"})
	if len(all.Removed)+len(all.Changed) != 0 {
		t.Errorf("Diff(nil, s) = %+v", all)
	}
	if !Diff(old, old).Empty() {
		t.Error("Diff(s, s) not empty")
	}
}
