package model

import (
	"testing"
	"time"
)

func TestStuckDetection(t *testing.T) {
	for _, tc := range []struct {
		name  string
		m     Machine
		stuck bool
		eff   string
	}{
		{"failed is stuck at once", mach("a", "web", imgV62, inState(StateFailed, time.Second)), true, StateFailed},
		{"replacing past threshold", mach("a", "web", imgV62, inState(StateReplacing, 6*time.Minute)), true, StateStuck},
		{"replacing under threshold", mach("a", "web", imgV62, inState(StateReplacing, 4*time.Minute)), false, StateReplacing},
		{"exactly at threshold is not yet stuck", mach("a", "web", imgV62, inState(StateStarting, 5*time.Minute)), false, StateStarting},
		{"created for hours", mach("a", "web", imgV62, inState(StateCreated, 2*time.Hour)), true, StateStuck},
		{"stopping too long", mach("a", "web", imgV62, inState(StateStopping, 10*time.Minute)), true, StateStuck},
		{"started long ago is not stuck", mach("a", "web", imgV62, inState(StateStarted, 90*24*time.Hour)), false, StateStarted},
		{"stopped long ago is not stuck", mach("a", "web", imgV62, inState(StateStopped, 48*time.Hour)), false, StateStopped},
		{"unknown since is not stuck", mach("a", "web", imgV62, func(m *Machine) { m.State = StateReplacing; m.StateSince = time.Time{} }), false, StateReplacing},
		{"falls back to last event", mach("a", "web", imgV62, func(m *Machine) {
			m.State, m.StateSince, m.LastEvent.At = StateUpdating, time.Time{}, testNow.Add(-time.Hour)
		}), true, StateStuck},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := snap([]Machine{tc.m}, testReleases)
			if got := s.IsStuck("a"); got != tc.stuck {
				t.Errorf("IsStuck = %v, want %v", got, tc.stuck)
			}
			if got := s.EffectiveState(0); got != tc.eff {
				t.Errorf("EffectiveState = %q, want %q", got, tc.eff)
			}
			if tc.stuck != (len(s.Stuck) == 1) {
				t.Errorf("Stuck = %v", s.Stuck)
			}
		})
	}
}

func TestStuckAfterOption(t *testing.T) {
	m := mach("a", "web", imgV62, inState(StateReplacing, 8*time.Minute))
	s := NewSnapshot("app", []Machine{m}, nil, Target{Image: imgV62}, Options{Now: testNow, StuckAfter: 10 * time.Minute})
	if s.IsStuck("a") {
		t.Fatal("8m replacing should not be stuck with a 10m threshold")
	}
}

func TestSnapshotGrouping(t *testing.T) {
	machines := []Machine{
		mach("m5", "web", imgV62),
		mach("m1", "worker", imgV61, inState(StateStopped, time.Hour)),
		mach("m3", "web", imgV62, inState(StateFailed, time.Minute), withChecks(critical)),
		mach("m2", "web", imgV60, inRegion("syd")),
		mach("m4", "worker", "registry.fly.io/other:x"),
		mach("m6", "web", imgV62, inState(StateReplacing, time.Hour)),
	}
	s := snap(machines, testReleases)
	var order []string
	for _, m := range s.Machines {
		order = append(order, m.ID)
	}
	equalStrings(t, "machine order", order, []string{"m1", "m2", "m3", "m4", "m5", "m6"})
	if m, ok := s.Machine("m4"); !ok || m.Group != "worker" {
		t.Errorf("Machine(m4) = %+v, %v", m, ok)
	}
	if _, ok := s.Machine("nope"); ok {
		t.Error("Machine(nope) found")
	}
	if s.Releases[0].Version != 62 || s.Releases[2].Version != 60 {
		t.Errorf("releases not newest first: %+v", s.Releases)
	}
	var tags []string
	var kinds []ImageKind
	for _, g := range s.ImageGroups {
		tags = append(tags, g.Tag)
		kinds = append(kinds, g.Kind)
	}
	equalStrings(t, "image group order", tags, []string{"app.v62-3-gccccccc", "app.v61-2-gbbbbbbb", "app.v60-1-gaaaaaaa", "x"})
	if kinds[0] != ImageTarget || kinds[1] != ImageOld || kinds[3] != ImageOther {
		t.Errorf("kinds = %v", kinds)
	}
	var states []string
	for _, sg := range s.ImageGroups[0].States {
		states = append(states, sg.State)
	}
	equalStrings(t, "target states, most urgent first", states, []string{StateFailed, StateStuck, StateStarted})
	if s.OnTarget != 3 || s.States[StateStuck] != 1 || s.States[StateFailed] != 1 || s.Regions["syd"] != 1 {
		t.Errorf("OnTarget=%d States=%v Regions=%v", s.OnTarget, s.States, s.Regions)
	}
	equalStrings(t, "stuck", s.Stuck, []string{"m3", "m6"})
	if len(s.Groups) != 2 || s.Groups[0].Name != "web" || s.Groups[0].Total != 4 || s.Groups[0].OnTarget != 3 || s.Groups[0].Ready != 1 {
		t.Errorf("groups = %+v", s.Groups)
	}
}

func TestStateOrder(t *testing.T) {
	order := []string{StateFailed, StateStuck, StateReplacing, StateCreated, StateStarting, StateStopping, StateStopped, StateStarted, "launch_failed", StateDestroyed}
	for k := 1; k < len(order); k++ {
		if StateOrder(order[k-1]) >= StateOrder(order[k]) {
			t.Errorf("%s should sort before %s", order[k-1], order[k])
		}
	}
}

// A cordoned machine gets no traffic: started and healthy on the target,
// it still is not ready.
func TestCordonedMachineIsNotReady(t *testing.T) {
	cordoned := func(m *Machine) { m.Cordoned = true }
	s := snap([]Machine{mach("a", "web", imgV62), mach("b", "web", imgV62, cordoned)}, testReleases)
	for _, g := range s.Groups {
		if g.Name == "web" && (g.OnTarget != 2 || g.Ready != 1) {
			t.Fatalf("web: %d on target, %d ready; want 2 and 1", g.OnTarget, g.Ready)
		}
	}
}
