package flysim

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
)

// settledChecks waits until a started machine's checks have been evaluated
// after its start (the output is no longer the boot-time "connection
// refused"), then returns it as fly-go sees it.
func settledChecks(t *testing.T, e *env, id string) *fly.Machine {
	t.Helper()
	var m *fly.Machine
	waitFor(t, func() bool {
		var err error
		if m, err = e.flaps.Get(ctx(t), e.app, id); err != nil {
			t.Fatal(err)
		}
		return m.State == "started" && len(m.Checks) > 0 && m.Checks[0].Output != "connect: connection refused"
	})
	return m
}

// fails-checks: a machine updated to the target reaches started and its
// checks stay critical, and so are those the scenario already has on it.
func TestTargetFailsChecks(t *testing.T) {
	e := newEnv(t, Options{Scenario: "minority", Machines: 20, NoRateLimit: true, TargetBehavior: ImageFailsChecks})
	if e.sim.TargetBehavior() != ImageFailsChecks {
		t.Fatal("TargetBehavior not set")
	}
	ms, err := e.flaps.List(ctx(t), e.app, "")
	if err != nil {
		t.Fatal(err)
	}
	onTarget := 0
	for _, m := range ms {
		if m.Config.Image == e.sim.TargetImage() {
			onTarget++
			if m.State != "started" || m.AllHealthChecks().AllPassing() || !strings.Contains(m.Checks[0].Output, "500") {
				t.Fatalf("scenario machine on the bad target: %s, checks %+v", m.State, m.Checks[0])
			}
		} else if !m.AllHealthChecks().AllPassing() {
			t.Fatalf("old-image machine %s failing checks", m.ID)
		}
	}
	if onTarget != ScenarioCounts("minority", 20).Target {
		t.Fatalf("%d on target", onTarget)
	}
	old := firstWhere(t, e.sim, func(m MachineView) bool { return m.Image == e.sim.PreviousImage() })
	upd, err := updateTo(t, e, old.ID, e.sim.TargetImage(), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.flaps.Wait(ctx(t), e.app, old.ID, flaps.WithWaitStates("started"), flaps.WithWaitVersion(upd.InstanceID)); err != nil {
		t.Fatal(err)
	}
	m := settledChecks(t, e, old.ID)
	if hc := m.AllHealthChecks(); hc.AllPassing() || hc.Critical == 0 || m.Checks[0].Status != "critical" ||
		m.Checks[0].Output != "GET /health: 500 Internal Server Error" || m.Config.Image != e.sim.TargetImage() {
		t.Fatalf("updated to the bad target: %s %+v", m.State, m.Checks[0])
	}
	// Switched to ok at run time, the target's started machines pass at once.
	e.sim.SetTargetBehavior(ImageOK)
	for _, v := range e.sim.Machines() {
		if v.Image == e.sim.TargetImage() && !v.ChecksPassing {
			t.Fatalf("%s still failing after SetTargetBehavior(ImageOK)", v.ID)
		}
	}
	e.sim.SetTargetBehavior(ImageFailsChecks)
	if v, _ := e.sim.Machine(old.ID); v.ChecksPassing {
		t.Fatal("SetTargetBehavior(ImageFailsChecks) left checks passing")
	}
}

// fails-start: the scenario's started target machines are failed, updates
// to the target end failed, and Unavailable counts them all.
func TestTargetFailsStart(t *testing.T) {
	const n = 100
	e := newEnv(t, Options{Scenario: "majority", Machines: n, NoRateLimit: true, Speed: 0.001, TargetBehavior: ImageFailsStart})
	c := ScenarioCounts("majority", n)
	failed, started := 0, 0
	for _, v := range e.sim.Machines() {
		switch {
		case v.Image == e.sim.TargetImage() && v.State == "started":
			started++
		case v.State == "failed":
			failed++
		}
	}
	// Target machines the scenario had started (those not replacing,
	// failed or created) fail instead.
	if want := c.Target - c.Replacing - c.Failed - c.Created + c.Failed; started != 0 || failed != want {
		t.Fatalf("on the target: %d started, %d failed, want 0 and %d", started, failed, want)
	}
	total := 0
	for _, k := range e.sim.Unavailable() {
		total += k
	}
	if want := failed + c.Replacing + c.Created; total != want {
		t.Fatalf("Unavailable %v sums to %d, want %d", e.sim.Unavailable(), total, want)
	}
	peak := e.sim.Stats().PeakUnavailable
	if !reflect.DeepEqual(peak, e.sim.Unavailable()) {
		t.Fatalf("peak %v at start, unavailable %v", peak, e.sim.Unavailable())
	}

	e2 := newEnv(t, Options{Scenario: "total-failure", Machines: 10, NoRateLimit: true, TargetBehavior: ImageFailsStart})
	old := e2.sim.Machines()[0]
	if _, err := updateTo(t, e2, old.ID, e2.sim.TargetImage(), ""); err != nil {
		t.Fatal(err)
	}
	if err := e2.flaps.Wait(ctx(t), e2.app, old.ID, flaps.WithWaitStates("settled")); err != nil {
		t.Fatal(err)
	}
	if v, _ := e2.sim.Machine(old.ID); v.State != "failed" || e2.sim.Unavailable()[v.Group] != 1 {
		t.Fatalf("update to a target that fails to start: %+v, unavailable %v", v, e2.sim.Unavailable())
	}
}

// reverts: scenario machines already on the target keep it; updates to it
// come back on the previous image.
func TestTargetReverts(t *testing.T) {
	e := newEnv(t, Options{Scenario: "minority", Machines: 20, NoRateLimit: true, TargetBehavior: ImageReverts})
	onTarget := 0
	for _, v := range e.sim.Machines() {
		if v.Image == e.sim.TargetImage() && v.State == "started" && v.ChecksPassing {
			onTarget++
		}
	}
	if onTarget != ScenarioCounts("minority", 20).Target {
		t.Fatalf("%d healthy on target", onTarget)
	}
	old := firstWhere(t, e.sim, func(m MachineView) bool { return m.Image == e.sim.PreviousImage() })
	if _, err := updateTo(t, e, old.ID, e.sim.TargetImage(), ""); err != nil {
		t.Fatal(err)
	}
	if err := e.flaps.Wait(ctx(t), e.app, old.ID, flaps.WithWaitStates("settled")); err != nil {
		t.Fatal(err)
	}
	if v, _ := e.sim.Machine(old.ID); v.State != "started" || v.Image != e.sim.PreviousImage() || v.InstanceID != old.InstanceID {
		t.Fatalf("after a reverted update: %+v", v)
	}
}

func TestParseImageBehavior(t *testing.T) {
	for _, name := range ImageBehaviors {
		b, err := ParseImageBehavior(name)
		if err != nil || b.String() != name {
			t.Errorf("%s: %v %v", name, b, err)
		}
	}
	if _, err := ParseImageBehavior("broken"); err == nil || !strings.Contains(err.Error(), "fails-checks") {
		t.Errorf("bad name: %v", err)
	}
	if _, err := New(Options{TargetBehavior: 9}); err == nil {
		t.Error("unknown behaviour accepted")
	}
}

// leaseJSON reads a lease as the API sends it: fly-go's MachineLeaseData
// (v0.9.3) has no description field, so FindLease cannot show it.
func leaseJSON(t *testing.T, e *env, id string) map[string]any {
	t.Helper()
	code, body := raw(t, e, http.MethodGet, "/v1/apps/"+e.app+"/machines/"+id+"/lease", "t")
	if code != 200 || body["status"] != "success" {
		t.Fatalf("lease of %s: %d %v", id, code, body)
	}
	return body["data"].(map[string]any)
}

func TestHeldLeases(t *testing.T) {
	opts := Options{Scenario: "majority", Machines: 200, NoRateLimit: true}
	probe, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	named := probe.Machines()[0].ID
	opts.Leases = []HeldLease{
		{MachineID: named, Owner: "alice@example.com", Description: "alice: fly machine update", TTL: time.Minute},
		{Owner: "bob@example.com", Description: "bob: fly scale count"},
		{Owner: "bob@example.com", Description: "bob: fly scale count"},
	}
	e := newEnv(t, opts)
	l, err := e.flaps.FindLease(ctx(t), e.app, named)
	if err != nil || l.Data.Owner != "alice@example.com" || l.Data.ExpiresAt > time.Now().Add(time.Minute+time.Second).Unix() {
		t.Fatalf("named lease: %+v %v", l, err)
	}
	if d := leaseJSON(t, e, named)["description"]; d != "alice: fly machine update" {
		t.Fatalf("description on the wire: %v", d)
	}
	var bobs, bots []MachineView
	for _, v := range e.sim.Machines() {
		switch v.LeaseOwner {
		case "bob@example.com":
			bobs = append(bobs, v)
		case LeaseBot:
			bots = append(bots, v)
		}
	}
	if len(bobs) != 2 || len(bots) != ScenarioCounts("majority", 200).Leased {
		t.Fatalf("%d bob leases, %d deploy-bot leases", len(bobs), len(bots))
	}
	for _, v := range bobs {
		if v.Image != e.sim.PreviousImage() || v.State != "started" || v.LeaseDescription != "bob: fly scale count" {
			t.Fatalf("lease-any picked %+v", v)
		}
		if l, err := e.flaps.FindLease(ctx(t), e.app, v.ID); err != nil || l.Data.Owner != "bob@example.com" ||
			l.Data.ExpiresAt < time.Now().Add(23*time.Hour).Unix() {
			t.Fatalf("FindLease %s: %+v %v", v.ID, l, err)
		}
	}
	for _, v := range bots {
		if d := leaseJSON(t, e, v.ID)["description"]; d != LeaseBotDescription || v.LeaseDescription != LeaseBotDescription {
			t.Fatalf("deploy-bot lease description %v", d)
		}
	}
	// The same seed picks the same machines.
	again, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range bobs {
		if w, _ := again.Machine(v.ID); w.LeaseOwner != "bob@example.com" {
			t.Fatalf("%s not leased in a second sim with the same seed", v.ID)
		}
	}
	// A leased machine refuses other callers, naming the holder.
	if err := e.flaps.Cordon(ctx(t), e.app, bobs[0].ID, ""); status(err) != 409 || !strings.Contains(err.Error(), "held by bob@example.com") {
		t.Fatalf("cordon: %v", err)
	}
	for _, bad := range [][]HeldLease{{{MachineID: "nope", Owner: "x"}}, {{MachineID: named}}} {
		if _, err := New(Options{Scenario: "majority", Machines: 200, Leases: bad}); err == nil {
			t.Errorf("lease %+v accepted", bad)
		}
	}
	ids, err := e.sim.HoldLeases(HeldLease{Owner: "carol@example.com", TTL: time.Hour})
	if err != nil || len(ids) != 1 {
		t.Fatalf("HoldLeases: %v %v", ids, err)
	}
	if v, _ := e.sim.Machine(ids[0]); v.LeaseOwner != "carol@example.com" {
		t.Fatalf("HoldLeases: %+v", v)
	}
}

// The deploy mover keeps 5 or 6 machines in flight across the whole fleet
// (one every 1.5 s, each replacing for 8 s), as scenario.go documents.
func TestDeployingInFlight(t *testing.T) {
	e := newEnv(t, Options{Scenario: "minority", Machines: 40, Speed: 1000, Deploying: true, NoRateLimit: true})
	waitFor(t, func() bool {
		for _, m := range e.sim.Machines() {
			if m.Image != e.sim.TargetImage() || m.State != "started" {
				return false
			}
		}
		return true
	})
	sum := 0
	for g, p := range e.sim.Stats().PeakUnavailable {
		if p > 6 {
			t.Fatalf("group %s had %d machines in flight at once", g, p)
		}
		sum += p
	}
	if sum < 6 {
		t.Fatalf("peaks %v: the mover never had 6 in flight", e.sim.Stats().PeakUnavailable)
	}
	if len(e.sim.Unavailable()) != 0 {
		t.Fatalf("unavailable after the deploy: %v", e.sim.Unavailable())
	}
}
