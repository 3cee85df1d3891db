package model

import (
	"strings"
	"testing"
	"time"
)

// A destroy's title names its group and agrees with its count, and the
// machines someone else holds the lease of are left out and said so: the
// header's failed/stuck count for the group is the step's plus those.
func TestStuckAdviceNamesItsGroupAndWhatItLeavesOut(t *testing.T) {
	failed := inState(StateFailed, time.Hour)
	s := snap([]Machine{
		mach("w1", "web", imgV62, failed), mach("w2", "web", imgV62, failed), mach("w3", "web", imgV62, failed),
		mach("k1", "worker", imgV62, failed), mach("k2", "worker", imgV62),
	}, testReleases)
	facts := IncidentFacts{Leases: map[string]Lease{"w3": {Owner: "deploy-bot"}}}
	inc := BuildIncident(s, facts, testNow)
	c := ClassifyIncident(s, &inc)
	var destroys []Advice
	for _, a := range c.Advice {
		if a.Action == ActionDestroy {
			destroys = append(destroys, a)
		}
	}
	if len(destroys) != 2 {
		t.Fatalf("want a destroy per group, got %+v", c.Advice)
	}
	web, worker := destroys[0], destroys[1]
	equalStrings(t, "web destroy", web.Machines, []string{"w1", "w2"})
	equalStrings(t, "web held", web.Held, []string{"w3"})
	for _, tc := range []struct{ got, want string }{
		{web.Title(), "destroy 2 failed/stuck web machines with --force"},
		{worker.Title(), "destroy 1 failed/stuck worker machine with --force"},
		{web.HeldText(&inc), "1 more is leased by deploy-bot"},
		{worker.HeldText(&inc), ""},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	if !strings.Contains(web.Why, "left out: 1 leased by deploy-bot") {
		t.Errorf("web's why does not say what it leaves out: %q", web.Why)
	}
	if !strings.Contains(c.Summary, "4 failed/stuck") {
		t.Errorf("summary %q does not count the fleet's failed/stuck machines", c.Summary)
	}
}

func TestAdviceTitlesAgreeWithTheirCount(t *testing.T) {
	for _, tc := range []struct {
		a    Advice
		want string
	}{
		{Advice{Action: ActionUpdate, Machines: []string{"a"}, Image: imgV62}, "update 1 machine to v62-3-gccccccc"},
		{Advice{Action: ActionUpdate, Machines: []string{"a", "b"}, Image: imgV62}, "update 2 machines to v62-3-gccccccc"},
		{Advice{Action: ActionRestart, Machines: []string{"a"}, Group: "worker"}, "restart 1 worker machine"},
		{Advice{Action: ActionDestroy, Machines: []string{"a", "b"}}, "destroy 2 failed/stuck machines"},
	} {
		if got := tc.a.Title(); got != tc.want {
			t.Errorf("Title() = %q, want %q", got, tc.want)
		}
	}
}
