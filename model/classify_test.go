package model

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	stuckReplacing := inState(StateReplacing, time.Hour)
	type want struct {
		kase    DeployCase
		actions []Verb     // Advice actions, in order
		targets [][]string // Advice machine lists, in order
		bad     int        // BadRelease version, 0 for none
		summary string     // substring
		check   func(*testing.T, Classification)
	}
	for _, tc := range []struct {
		name     string
		machines []Machine
		want     want
	}{
		{
			name: "complete",
			machines: []Machine{
				mach("a", "web", imgV62), mach("b", "worker", imgV62), mach("c", "worker_autoscale", imgV62),
			},
			want: want{kase: CaseComplete, summary: "all 3 machines on v62-3-gccccccc"},
		},
		{
			name: "total failure restarts one started worker_autoscale machine",
			machines: []Machine{
				mach("a", "web", imgV61),
				mach("b", "worker", imgV61),
				mach("c1", "worker_autoscale", imgV61, inState(StateStopped, time.Hour)),
				mach("c2", "worker_autoscale", imgV61),
				mach("c3", "worker_autoscale", imgV61),
			},
			want: want{
				kase:    CaseTotalFailure,
				actions: []Verb{ActionRestart, ActionUpdate},
				targets: [][]string{{"c2"}, {"a", "b", "c1", "c2", "c3"}},
				summary: "none of 5 machines",
			},
		},
		{
			name: "total failure falls back to the worker group",
			machines: []Machine{
				mach("a", "web", imgV61), mach("w2", "worker", imgV61), mach("w1", "worker", imgV61, withChecks(critical)),
			},
			want: want{kase: CaseTotalFailure, actions: []Verb{ActionRestart, ActionUpdate}, targets: [][]string{{"w2"}, {"a", "w1", "w2"}}},
		},
		{
			name: "total failure with stuck machines",
			machines: []Machine{
				mach("a", "worker_autoscale", imgV61, stuckReplacing),
				mach("b", "worker_autoscale", imgV61),
			},
			want: want{
				kase:    CaseTotalFailure,
				actions: []Verb{ActionRestart, ActionUpdate, ActionDestroy, ActionScale},
				targets: [][]string{{"b"}, {"b"}, {"a"}, nil},
				summary: "1 failed/stuck",
			},
		},
		{
			name: "minority updated",
			machines: []Machine{
				mach("a", "web", imgV62), mach("b", "web", imgV61), mach("c", "worker", imgV61), mach("d", "worker", imgV60),
			},
			want: want{kase: CaseMinorityUpdated, actions: []Verb{ActionUpdate}, targets: [][]string{{"b", "c", "d"}}, summary: "1 of 4"},
		},
		{
			name: "exactly half is majority",
			machines: []Machine{
				mach("a", "web", imgV62), mach("b", "web", imgV62), mach("c", "worker", imgV61), mach("d", "worker", imgV61),
			},
			want: want{kase: CaseMajorityUpdated, actions: []Verb{ActionUpdate}, targets: [][]string{{"c", "d"}}},
		},
		{
			name: "majority with a stuck straggler: destroy and scale, do not update it",
			machines: []Machine{
				mach("a", "web", imgV62), mach("b", "web", imgV62), mach("c", "web", imgV62),
				mach("d", "web", imgV61), mach("e", "web", imgV61, stuckReplacing),
				mach("f", "worker", imgV62, inState(StateFailed, time.Minute)),
				mach("g", "worker", imgV62),
			},
			want: want{
				kase:    CaseMajorityUpdated,
				actions: []Verb{ActionUpdate, ActionDestroy, ActionScale, ActionDestroy, ActionScale},
				targets: [][]string{{"d"}, {"e"}, nil, {"f"}, nil},
				summary: "5 of 7",
				check: func(t *testing.T, c Classification) {
					d, sc := c.Advice[1], c.Advice[2]
					if !d.Force || d.Group != "web" || d.Count != 5 || sc.Group != "web" || sc.Count != 5 || sc.Image != imgV62 {
						t.Errorf("destroy/scale advice = %+v / %+v", d, sc)
					}
					if c.Advice[0].Image != imgV62 || c.Advice[0].Label != "v62-3-gccccccc" {
						t.Errorf("update advice image/label = %q %q", c.Advice[0].Image, c.Advice[0].Label)
					}
				},
			},
		},
		{
			name: "all on target but one stuck is not complete",
			machines: []Machine{
				mach("a", "web", imgV62), mach("b", "web", imgV62, stuckReplacing),
			},
			want: want{kase: CaseMajorityUpdated, actions: []Verb{ActionDestroy, ActionScale}, targets: [][]string{{"b"}, nil}},
		},
		{
			name: "bad release rolls back to the newest healthy older release",
			machines: []Machine{
				mach("a", "web", imgV62, withChecks(critical)),
				mach("b", "web", imgV62, inState(StateFailed, time.Minute)),
				mach("c", "web", imgV62, withChecks(critical)),
				mach("d", "web", imgV62),
				mach("e", "web", imgV61), mach("f", "web", imgV61),
			},
			want: want{
				kase:    CaseMajorityUpdated,
				actions: []Verb{ActionRollback, ActionDestroy, ActionScale},
				targets: [][]string{{"a", "c", "d"}, {"b"}, nil},
				bad:     61,
				summary: "roll back to v61",
				check: func(t *testing.T, c Classification) {
					if c.Advice[0].Image != imgV61 || c.Advice[2].Image != imgV61 {
						t.Errorf("rollback/scale image = %q / %q, want v61", c.Advice[0].Image, c.Advice[2].Image)
					}
				},
			},
		},
		{
			name: "bad release skips an older release nobody runs healthily",
			machines: []Machine{
				mach("a", "web", imgV62, withChecks(critical)),
				mach("b", "web", imgV62, withChecks(critical)),
				mach("c", "web", imgV61, withChecks(critical)),
				mach("d", "web", imgV60),
			},
			want: want{kase: CaseMajorityUpdated, actions: []Verb{ActionRollback}, targets: [][]string{{"a", "b", "c"}}, bad: 60},
		},
		{
			name: "a few failing target machines are not a bad release",
			machines: []Machine{
				mach("a", "web", imgV62, withChecks(critical)),
				mach("b", "web", imgV62), mach("c", "web", imgV62),
				mach("d", "web", imgV61),
			},
			want: want{kase: CaseMajorityUpdated, actions: []Verb{ActionUpdate}, targets: [][]string{{"d"}}},
		},
		{
			name: "failing everywhere is not the release's fault",
			machines: []Machine{
				mach("a", "web", imgV62, withChecks(critical)),
				mach("b", "web", imgV61, withChecks(critical)),
			},
			want: want{kase: CaseMajorityUpdated, actions: []Verb{ActionUpdate}, targets: [][]string{{"b"}}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Classify(snap(tc.machines, testReleases))
			if c.Case != tc.want.kase {
				t.Fatalf("Case = %s, want %s (%s)", c.Case, tc.want.kase, c.Summary)
			}
			var actions, want []string
			for _, a := range c.Advice {
				actions = append(actions, string(a.Action))
			}
			for _, v := range tc.want.actions {
				want = append(want, string(v))
			}
			equalStrings(t, "actions", actions, want)
			for k := range min(len(c.Advice), len(tc.want.targets)) {
				equalStrings(t, "advice "+string(c.Advice[k].Action)+" machines", c.Advice[k].Machines, tc.want.targets[k])
			}
			switch {
			case tc.want.bad == 0 && c.BadRelease != nil:
				t.Errorf("BadRelease = v%d, want none", c.BadRelease.Version)
			case tc.want.bad != 0 && (c.BadRelease == nil || c.BadRelease.Version != tc.want.bad):
				t.Errorf("BadRelease = %+v, want v%d", c.BadRelease, tc.want.bad)
			}
			if !strings.Contains(c.Summary, tc.want.summary) {
				t.Errorf("Summary = %q, want it to contain %q", c.Summary, tc.want.summary)
			}
			if tc.want.check != nil {
				tc.want.check(t, c)
			}
		})
	}
}

func TestClassifyUnknown(t *testing.T) {
	s := NewSnapshot("app", []Machine{mach("a", "web", "")}, nil, Target{Source: TargetNone}, Options{Now: testNow})
	if c := Classify(s); c.Case != CaseUnknown || c.Summary == "" {
		t.Fatalf("got %+v", c)
	}
	if c := Classify(snap(nil, testReleases)); c.Case != CaseUnknown {
		t.Fatalf("empty fleet: got %+v", c)
	}
}

func TestClassifySyntheticIsDeterministic(t *testing.T) {
	m, r := SyntheticFleet(500, 7)
	s := NewSnapshot(SyntheticApp, m, r, ChooseTarget("", r, m), Options{Now: SyntheticNow})
	a, b := Classify(s), Classify(s)
	if a.Case != CaseMajorityUpdated || a.BadRelease != nil || a.Summary != b.Summary || len(a.Advice) != len(b.Advice) {
		t.Fatalf("synthetic fleet: %+v", a)
	}
	m2, _ := SyntheticFleet(500, 7)
	for i := range m {
		if !reflect.DeepEqual(m[i], m2[i]) { // an exit event's Exit is a pointer
			t.Fatalf("SyntheticFleet not deterministic at %d", i)
		}
	}
}
