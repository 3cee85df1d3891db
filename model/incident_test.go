package model

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// judge runs the whole pure pipeline as callers do: target, intent,
// snapshot, incident, verdict.
func judge(machines []Machine, releases []Release, facts IncidentFacts) (*Snapshot, Incident, Classification) {
	t := FollowIntent(ChooseTarget("", releases, machines), releases, machines, facts)
	s := NewSnapshot("app", machines, releases, t, Options{Now: testNow})
	inc := BuildIncident(s, facts, testNow)
	return s, inc, ClassifyIncident(s, &inc)
}

func hasLeft(inc Incident, sub string) bool {
	return slices.ContainsFunc(inc.Left, func(l string) bool { return strings.Contains(l, sub) })
}

func TestIncidentNotDoneWhileMachinesAreInFlight(t *testing.T) {
	justStarted := func(m *Machine) { m.StateSince = testNow.Add(-10 * time.Second); m.Checks = Checks{} }
	for _, tc := range []struct {
		name  string
		tweak func(*Machine)
	}{
		{"replacing", inState(StateReplacing, 30*time.Second)},
		{"created", inState(StateCreated, 30*time.Second)},
		{"starting", inState(StateStarting, 30*time.Second)},
		{"started with 0 of 0 checks where the group has checks", justStarted},
		{"started with checks not yet passing", func(m *Machine) {
			m.StateSince = testNow.Add(-10 * time.Second)
			m.Checks = Checks{Total: 1, Warning: 1}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms := []Machine{mach("a", "web", imgV62), mach("b", "web", imgV62), mach("c", "web", imgV62, tc.tweak)}
			_, inc, c := judge(ms, testReleases, IncidentFacts{})
			if inc.Done || c.Case == CaseComplete {
				t.Fatalf("done=%v case=%s with a machine %s", inc.Done, c.Case, tc.name)
			}
			if inc.InFlight() != 1 || !hasLeft(inc, "web: 1 machine in flight") {
				t.Fatalf("in flight %d, left %q", inc.InFlight(), inc.Left)
			}
			if c.Case != CaseInProgress {
				t.Fatalf("case %s, want in_progress", c.Case)
			}
		})
	}
	// The same fleet settled is complete.
	ms := []Machine{mach("a", "web", imgV62), mach("b", "web", imgV62), mach("c", "web", imgV62)}
	_, inc, c := judge(ms, testReleases, IncidentFacts{})
	if !inc.Done || c.Case != CaseComplete || len(inc.Left) != 0 {
		t.Fatalf("settled fleet: done=%v case=%s left=%q", inc.Done, c.Case, inc.Left)
	}
}

func TestIncidentScaleBackStaysUntilBaseline(t *testing.T) {
	facts := IncidentFacts{Baseline: map[string]int{"web": 2, "worker": 4}}
	ms := []Machine{mach("a", "web", imgV62), mach("b", "web", imgV62), mach("w1", "worker", imgV62), mach("w2", "worker", imgV62)}
	_, inc, c := judge(ms, testReleases, facts)
	if inc.Done || c.Case == CaseComplete || !hasLeft(inc, "worker: scale back to 4 (2 now)") {
		t.Fatalf("below baseline: done=%v case=%s left=%q", inc.Done, c.Case, inc.Left)
	}
	if len(c.Advice) != 1 || c.Advice[0].Action != ActionScale || c.Advice[0].Group != "worker" || c.Advice[0].Count != 4 || c.Advice[0].Image != imgV62 {
		t.Fatalf("advice %+v", c.Advice)
	}
	ms = append(ms, mach("w3", "worker", imgV62), mach("w4", "worker", imgV62))
	_, inc, c = judge(ms, testReleases, facts)
	if !inc.Done || c.Case != CaseComplete {
		t.Fatalf("back at baseline: done=%v case=%s left=%q", inc.Done, c.Case, inc.Left)
	}
	// Without a journal the first poll's counts are the baseline.
	_, inc, _ = judge(ms[:5], testReleases, IncidentFacts{FirstSeen: map[string]int{"web": 2, "worker": 4}})
	if inc.BaselineFrom != "first poll" || !hasLeft(inc, "worker: scale back to 4 (3 now)") {
		t.Fatalf("first poll baseline: %s %q", inc.BaselineFrom, inc.Left)
	}
}

func TestIncidentStuckScaleUsesBaseline(t *testing.T) {
	facts := IncidentFacts{Baseline: map[string]int{"worker": 5}}
	ms := []Machine{mach("w1", "worker", imgV62), mach("w2", "worker", imgV62), mach("w3", "worker", imgV62, inState(StateReplacing, time.Hour))}
	_, _, c := judge(ms, testReleases, facts)
	var scale *Advice
	for k := range c.Advice {
		if c.Advice[k].Action == ActionScale {
			scale = &c.Advice[k]
		}
	}
	if scale == nil || scale.Count != 5 {
		t.Fatalf("scale advice %+v, want back to 5", c.Advice)
	}
}

func rollbackReleases(rollbackAt time.Time) []Release {
	return []Release{
		{ID: "r61", Version: 61, Status: "complete", Image: imgV61, CreatedAt: rollbackAt.Add(-2 * time.Hour)},
		{ID: "r62", Version: 62, Status: "complete", Image: imgV62, CreatedAt: rollbackAt.Add(-time.Hour)},
	}
}

func TestIntentWholeAppRollbackIsTheTarget(t *testing.T) {
	at := testNow.Add(-10 * time.Minute)
	rels := rollbackReleases(at)
	facts := IncidentFacts{Rollbacks: []Rollback{{Version: 61, At: at, By: "alice@example.com", ActionID: "act1"}}}
	// Half rolled back already, half still on v62.
	ms := []Machine{mach("a", "web", imgV61), mach("b", "web", imgV61), mach("c", "web", imgV62), mach("d", "web", imgV61)}
	s, inc, c := judge(ms, rels, facts)
	if s.Target.Image != imgV61 || s.Target.Source != TargetFromRollback || s.Target.By != "alice@example.com" {
		t.Fatalf("target %+v", s.Target)
	}
	if d := s.Target.Describe(); !strings.Contains(d, "rollback to v61") || !strings.Contains(d, "by alice@example.com") {
		t.Fatalf("describe %q", d)
	}
	for _, a := range c.Advice {
		if a.Image == imgV62 {
			t.Fatalf("advice proposes the image rolled back from: %+v", a)
		}
	}
	if len(c.Advice) == 0 || c.Advice[0].Action != ActionUpdate || c.Advice[0].Image != imgV61 || !slices.Equal(c.Advice[0].Machines, []string{"c"}) {
		t.Fatalf("advice %+v", c.Advice)
	}
	if inc.Done {
		t.Fatal("done with a machine still on v62")
	}
	// A release newer than the rollback ends it.
	rels = append(rels, Release{ID: "r63", Version: 63, Status: "complete", Image: "registry.fly.io/app:app.v63-1-gddddddd", CreatedAt: at.Add(time.Minute)})
	s, _, _ = judge(ms, rels, facts)
	if s.Target.Release == nil || s.Target.Release.Version != 63 || s.Target.Source != TargetFromReleases {
		t.Fatalf("after a newer release the target is %+v", s.Target)
	}
	// --image still wins.
	flag := ChooseTarget(imgV62, rels, ms)
	if got := FollowIntent(flag, rels, ms, facts); got.Image != imgV62 || got.Source != TargetFromFlag {
		t.Fatalf("flag lost to the rollback: %+v", got)
	}
}

func TestIntentOneRegionRollback(t *testing.T) {
	at := testNow.Add(-10 * time.Minute)
	rels := rollbackReleases(at)
	facts := IncidentFacts{Rollbacks: []Rollback{{Version: 61, Region: "iad", At: at, By: "alice", ActionID: "act1"}}}
	ms := []Machine{
		mach("i1", "web", imgV61), mach("i2", "web", imgV61), mach("i3", "web", imgV62), // iad: rolled back, one left
		mach("o1", "web", imgV62, inRegion("ord")), mach("o2", "web", imgV61, inRegion("ord")), // ord: newest
	}
	s, _, c := judge(ms, rels, facts)
	if s.Target.Image != imgV62 || s.Target.For("iad").Image != imgV61 || s.Target.For("ord").Image != imgV62 {
		t.Fatalf("target %+v", s.Target)
	}
	got := map[string][]string{}
	for _, a := range c.Advice {
		if a.Action == ActionUpdate {
			got[a.Image] = a.Machines
		}
	}
	if !slices.Equal(got[imgV61], []string{"i3"}) || !slices.Equal(got[imgV62], []string{"o2"}) {
		t.Fatalf("updates %v", got)
	}
	if !strings.Contains(s.Target.Describe(), "iad: rollback to v61") {
		t.Fatalf("describe %q", s.Target.Describe())
	}
}

func TestIntentFromAnotherFlyrescuesMarks(t *testing.T) {
	at := testNow.Add(-10 * time.Minute)
	rels := rollbackReleases(at)
	mark := func(m *Machine) {
		m.ReleaseVersion = 61
		m.Mark = &Mark{Action: "theirs", By: "bob", RollbackVersion: 61, RollbackAt: at}
	}
	ms := []Machine{mach("a", "web", imgV61, mark), mach("b", "web", imgV62)}
	s, _, c := judge(ms, rels, IncidentFacts{})
	if s.Target.Image != imgV61 || s.Target.Source != TargetFromMetadata || s.Target.By != "bob" {
		t.Fatalf("target %+v", s.Target)
	}
	for _, a := range c.Advice {
		if a.Image == imgV62 {
			t.Fatalf("advice reverses bob's rollback: %+v", a)
		}
	}
	// A mark on a machine since moved to another release no longer counts.
	ms[0].ReleaseVersion = 62
	ms[0].Image = imgV62
	if s, _, _ := judge(ms, rels, IncidentFacts{}); s.Target.Image != imgV62 {
		t.Fatalf("a stale mark still sets the target: %+v", s.Target)
	}
}

func TestIncidentLeasedMachinesAreNamedNotAdvised(t *testing.T) {
	ms := []Machine{mach("a", "web", imgV62), mach("b", "web", imgV62), mach("c", "web", imgV61), mach("d", "web", imgV61)}
	facts := IncidentFacts{Leases: map[string]Lease{"d": {Owner: "deploy-bot@example.com", Description: "fly deploy", Expires: testNow.Add(24 * time.Hour)}}}
	_, inc, c := judge(ms, testReleases, facts)
	if len(c.Advice) == 0 || !slices.Equal(c.Advice[0].Machines, []string{"c"}) || !strings.Contains(c.Advice[0].Why, "1 leased by deploy-bot@example.com") {
		t.Fatalf("advice %+v", c.Advice)
	}
	if len(inc.Others) != 1 || inc.Others[0].Kind != OtherLease || inc.Others[0].Holder != "deploy-bot@example.com" || !strings.Contains(inc.Others[0].What, "fly deploy") {
		t.Fatalf("others %+v", inc.Others)
	}
	// Our own leases are not someone else's: they say so in their
	// description (the owner is the token's user, shared with teammates).
	facts.Operator = "alice"
	facts.Leases["d"] = Lease{Owner: "deploy-bot@example.com", Description: LeaseDescription("20261129T190000-abcdef", "alice"), Expires: testNow.Add(time.Minute)}
	if _, inc, _ := judge(ms, testReleases, facts); len(inc.Others) != 0 {
		t.Fatalf("our lease listed as another's: %+v", inc.Others)
	}
	// A teammate's flyrescue lease, same owner, is someone else's.
	facts.Leases["d"] = Lease{Owner: "deploy-bot@example.com", Description: LeaseDescription("20261129T190000-abcdef", "bob"), Expires: testNow.Add(time.Minute)}
	if _, inc, _ := judge(ms, testReleases, facts); len(inc.Others) != 1 {
		t.Fatalf("a teammate's lease is not listed: %+v", inc.Others)
	}
}

func TestIncidentRunningDeployIsNeverComplete(t *testing.T) {
	rels := []Release{
		{ID: "r61", Version: 61, Status: "complete", Image: imgV61},
		{ID: "r62", Version: 62, Status: "running", Image: imgV62, User: "ci@example.com"},
	}
	// None on v62 yet: not a total failure, a deploy at work.
	ms := []Machine{mach("a", "web", imgV61), mach("b", "web", imgV61)}
	_, inc, c := judge(ms, rels, IncidentFacts{})
	if c.Case != CaseInProgress || len(c.Advice) != 0 || inc.Deploy == nil || !hasLeft(inc, "deploy of v62 is running by ci@example.com") {
		t.Fatalf("case %s advice %+v left %q", c.Case, c.Advice, inc.Left)
	}
	// Every machine on v62 while the release still runs: not complete.
	ms = []Machine{mach("a", "web", imgV62), mach("b", "web", imgV62)}
	if _, inc, c := judge(ms, rels, IncidentFacts{}); c.Case == CaseComplete || inc.Done {
		t.Fatalf("complete while the deploy runs: %s", c.Case)
	}
}

func TestIncidentBadReleaseLeads(t *testing.T) {
	ms := []Machine{
		mach("a", "web", imgV62, withChecks(critical)), mach("b", "web", imgV62, withChecks(critical)),
		mach("c", "web", imgV61), mach("d", "web", imgV61), mach("e", "web", imgV61),
	}
	_, inc, c := judge(ms, testReleases, IncidentFacts{})
	if !strings.HasPrefix(c.Summary, "BAD RELEASE v62 · roll back to v61") {
		t.Fatalf("summary %q", c.Summary)
	}
	if len(inc.Left) == 0 || inc.Left[0] != "BAD RELEASE v62: roll back to v61" {
		t.Fatalf("left %q", inc.Left)
	}
	if c.Advice[0].Action != ActionRollback {
		t.Fatalf("advice %+v", c.Advice)
	}
}

func TestIncidentUnexplainedChangesBetweenPolls(t *testing.T) {
	before := []Machine{mach("a", "worker", imgV62), mach("b", "worker", imgV62)}
	prev := NewSnapshot("app", before, testReleases, ChooseTarget("", testReleases, before), Options{Now: testNow.Add(-2 * time.Second)})
	// An autoscaler clones a machine on the old image; we launched another.
	after := append(slices.Clone(before),
		mach("c", "worker", imgV61),
		mach("d", "worker", imgV62))
	facts := IncidentFacts{Previous: prev, Touched: map[string]Touch{"d": {ActionID: "ours", Op: "launch", At: testNow}}}
	_, inc, _ := judge(after, testReleases, facts)
	var un []Other
	for _, o := range inc.Others {
		if o.Kind == OtherUnexplained {
			un = append(un, o)
		}
	}
	if len(un) != 1 || !slices.Equal(un[0].Machines, []string{"c"}) || !strings.Contains(un[0].What, "created") {
		t.Fatalf("unexplained %+v", un)
	}
	// A flyrescue mark explains a change too (another journal's action).
	after[2].Mark = &Mark{Action: "theirs"}
	if _, inc, _ := judge(after, testReleases, facts); len(inc.Others) != 0 {
		t.Fatalf("marked machine reported: %+v", inc.Others)
	}
	// ...but not a mark copied from a machine that already had it: the
	// autoscaler clones configs, metadata and all.
	before[0].Mark = &Mark{Action: "theirs"}
	prev = NewSnapshot("app", before, testReleases, ChooseTarget("", testReleases, before), Options{Now: testNow.Add(-2 * time.Second)})
	facts.Previous = prev
	after[0].Mark = before[0].Mark
	if _, inc, _ := judge(after, testReleases, facts); len(inc.Others) != 1 || !slices.Equal(inc.Others[0].Machines, []string{"c"}) {
		t.Fatalf("a clone carrying a copied mark was explained: %+v", inc.Others)
	}
}

// A deploy's release command runs on a short-lived machine flyctl creates
// and destroys: the header must not call it an unexplained change.
func TestReleaseCommandMachineIsExplained(t *testing.T) {
	before := []Machine{mach("a", "worker", imgV62)}
	prev := NewSnapshot("app", before, testReleases, ChooseTarget("", testReleases, before), Options{Now: testNow.Add(-2 * time.Second)})
	after := append(slices.Clone(before), mach("rc", ReleaseCommandGroup, imgV62), mach("x", "worker", imgV61))
	_, inc, _ := judge(after, testReleases, IncidentFacts{Previous: prev})
	for _, o := range inc.Others {
		if o.Kind == OtherUnexplained && slices.Contains(o.Machines, "rc") {
			t.Fatalf("the release command machine is unexplained: %+v", o)
		}
	}
	if len(inc.Others) != 1 || !slices.Equal(inc.Others[0].Machines, []string{"x"}) {
		t.Fatalf("want only x unexplained: %+v", inc.Others)
	}
}
