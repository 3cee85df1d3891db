package flysim

import (
	"strings"
	"testing"
	"time"

	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
)

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	waitForWithin(t, 5*time.Second, cond)
}

func waitForWithin(t *testing.T, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not reached in %s", limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// updateTo is what flyctl's machine update does: Get, full config, new image.
func updateTo(t *testing.T, e *env, id, image, nonce string) (*fly.Machine, error) {
	t.Helper()
	m, err := e.flaps.Get(ctx(t), e.app, id)
	if err != nil {
		t.Fatal(err)
	}
	cfg := *m.Config
	cfg.Image = image
	return e.flaps.Update(ctx(t), e.app, fly.LaunchMachineInput{ID: id, Region: m.Region, Name: m.Name, Config: &cfg}, nonce)
}

func TestUpdateReplacingLifecycle(t *testing.T) {
	e := newEnv(t, Options{Scenario: "total-failure", Machines: 20, NoRateLimit: true, Speed: 200})
	old := firstWhere(t, e.sim, func(m MachineView) bool { return m.LeaseOwner == "" })
	upd, err := updateTo(t, e, old.ID, e.sim.TargetImage(), "")
	if err != nil {
		t.Fatal(err)
	}
	if upd.State != "replacing" || upd.InstanceID == old.InstanceID || upd.Config.Image != e.sim.TargetImage() {
		t.Fatalf("update response: state %s instance %s (old %s)", upd.State, upd.InstanceID, old.InstanceID)
	}
	_, err = updateTo(t, e, old.ID, e.sim.TargetImage(), "")
	if status(err) != 409 || !strings.Contains(err.Error(), "aborted: machine is replacing: concurrent update in progress") {
		t.Fatalf("second update: %v", err)
	}
	if _, err := e.flaps.Start(ctx(t), e.app, old.ID, ""); status(err) != 412 || !strings.Contains(err.Error(), "unable to start machine from current state") {
		t.Fatalf("start while replacing: %v", err)
	}
	if err := e.flaps.Wait(ctx(t), e.app, old.ID, flaps.WithWaitStates("settled"), flaps.WithWaitVersion(upd.InstanceID)); err != nil {
		t.Fatal(err)
	}
	got, err := e.flaps.Get(ctx(t), e.app, old.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != "started" || got.InstanceID != upd.InstanceID || got.ImageRef.Tag != e.app+"."+strings.SplitN(e.sim.TargetImage(), ".", 4)[3] {
		t.Fatalf("after update: %s %s %+v", got.State, got.InstanceID, got.ImageRef)
	}
	if got.Events[0].Type != "start" || got.Events[1].Type != "update" || got.Events[0].Timestamp < got.Events[1].Timestamp {
		t.Fatalf("events not newest first: %+v %+v", got.Events[0], got.Events[1])
	}
	// Checks pass 5 s simulated (25 ms real) after the start.
	waitFor(t, func() bool { v, _ := e.sim.Machine(old.ID); return v.ChecksPassing })
	got, _ = e.flaps.Get(ctx(t), e.app, old.ID)
	if hc := got.AllHealthChecks(); !hc.AllPassing() || got.Checks[0].Name != "servicecheck-00-http-8080" || got.Checks[0].UpdatedAt == nil {
		t.Fatalf("checks: %+v", got.Checks)
	}
	if n := e.sim.Stats().MutationsPerMachine[old.ID]; n != 1 {
		t.Fatalf("mutations = %d, want 1 (rejected calls do not count)", n)
	}
}

func TestUpdateReverts(t *testing.T) {
	e := newEnv(t, Options{Scenario: "total-failure", Machines: 10, NoRateLimit: true})
	e.sim.SetImageBehavior(e.sim.TargetImage(), ImageReverts)
	old := firstWhere(t, e.sim, func(m MachineView) bool { return m.LeaseOwner == "" })
	upd, err := updateTo(t, e, old.ID, e.sim.TargetImage(), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.flaps.Wait(ctx(t), e.app, old.ID, flaps.WithWaitStates("started"), flaps.WithWaitVersion(upd.InstanceID)); err != nil {
		t.Fatal(err) // flyctl's trap: the wait succeeds
	}
	v, _ := e.sim.Machine(old.ID)
	if v.State != "started" || v.Image != e.sim.PreviousImage() || v.InstanceID != old.InstanceID {
		t.Fatalf("after revert: %+v", v)
	}
	// FaultRevert reverts only the next update.
	e.sim.SetImageBehavior(e.sim.TargetImage(), ImageOK)
	other := firstWhere(t, e.sim, func(m MachineView) bool { return m.ID != old.ID && m.LeaseOwner == "" })
	e.sim.SetMachineFault(other.ID, FaultRevert)
	if _, err := updateTo(t, e, other.ID, e.sim.TargetImage(), ""); err != nil {
		t.Fatal(err)
	}
	_ = e.flaps.Wait(ctx(t), e.app, other.ID, flaps.WithWaitStates("settled"))
	waitFor(t, func() bool { v, _ := e.sim.Machine(other.ID); return v.State == "started" })
	if v, _ := e.sim.Machine(other.ID); v.Image != e.sim.PreviousImage() {
		t.Fatalf("FaultRevert did not revert: %+v", v)
	}
}

func TestFailsStartAndSkipLaunch(t *testing.T) {
	e := newEnv(t, Options{Scenario: "total-failure", Machines: 10, NoRateLimit: true})
	e.sim.SetImageBehavior("registry.fly.io/broken:1", ImageFailsStart)
	a := e.sim.Machines()[0].ID
	if _, err := updateTo(t, e, a, "registry.fly.io/broken:1", ""); err != nil && status(err) != 409 {
		t.Fatal(err)
	}
	v, _ := e.sim.Machine(a)
	if v.LeaseOwner == "" {
		if err := e.flaps.Wait(ctx(t), e.app, a, flaps.WithWaitStates("settled")); err != nil {
			t.Fatal(err)
		}
		if v, _ := e.sim.Machine(a); v.State != "failed" {
			t.Fatalf("ImageFailsStart ended %s", v.State)
		}
	}
	b := firstWhere(t, e.sim, func(m MachineView) bool { return m.LeaseOwner == "" && m.ID != a })
	if err := e.flaps.Stop(ctx(t), e.app, fly.StopMachineInput{ID: b.ID}, ""); err != nil {
		t.Fatal(err)
	}
	if err := e.flaps.Wait(ctx(t), e.app, b.ID, flaps.WithWaitStates("stopped")); err != nil {
		t.Fatal(err)
	}
	if _, err := updateTo(t, e, b.ID, e.sim.TargetImage(), ""); err != nil {
		t.Fatal(err)
	}
	if err := e.flaps.Wait(ctx(t), e.app, b.ID, flaps.WithWaitStates("settled")); err != nil {
		t.Fatal(err)
	}
	if v, _ := e.sim.Machine(b.ID); v.State != "stopped" || v.Image != e.sim.TargetImage() {
		t.Fatalf("stopped machine after update: %+v", v)
	}
}

func TestDestroyRefusedAndForced(t *testing.T) {
	e := newEnv(t, Options{Scenario: "stuck", Machines: 100, NoRateLimit: true})
	started := firstWhere(t, e.sim, func(m MachineView) bool { return m.State == "started" })
	err := e.flaps.Destroy(ctx(t), e.app, fly.RemoveMachineInput{ID: started.ID}, "")
	if status(err) != 412 || !strings.Contains(err.Error(), "kill=true") {
		t.Fatalf("unforced destroy of started: %v", err)
	}
	stuck := firstWhere(t, e.sim, func(m MachineView) bool { return m.State == "stopping" })
	if err := e.flaps.Stop(ctx(t), e.app, fly.StopMachineInput{ID: stuck.ID}, ""); err != nil {
		t.Fatal(err)
	}
	if err := e.flaps.Wait(ctx(t), e.app, stuck.ID, flaps.WithWaitStates("stopped"), flaps.WithWaitTimeout(time.Second)); status(err) != 408 ||
		!strings.Contains(err.Error(), "machine failed to reach desired state") {
		t.Fatalf("stuck machine stopped? %v", err)
	}
	if err := e.flaps.Destroy(ctx(t), e.app, fly.RemoveMachineInput{ID: stuck.ID, Kill: true}, ""); err != nil {
		t.Fatal(err)
	}
	if err := e.flaps.Wait(ctx(t), e.app, stuck.ID, flaps.WithWaitStates("destroyed")); err != nil {
		t.Fatal(err)
	}
	ms, _ := e.flaps.List(ctx(t), e.app, "")
	all, _ := e.flaps.List(ctx(t), e.app, "include_deleted=true")
	if len(ms) != 99 || len(all) != 100 {
		t.Fatalf("list %d, include_deleted %d", len(ms), len(all))
	}
	got, err := e.flaps.Get(ctx(t), e.app, stuck.ID)
	if err != nil || got.State != "destroyed" {
		t.Fatalf("get destroyed: %v %v", got, err)
	}
	if err := e.flaps.Destroy(ctx(t), e.app, fly.RemoveMachineInput{ID: stuck.ID, Kill: true}, ""); status(err) != 404 {
		t.Fatalf("destroy again: %v", err)
	}
	if peak := e.sim.Stats().PeakUnavailable; peak["web"]+peak["worker"]+peak["worker_autoscale"] < 2 {
		t.Fatalf("peak_unavailable %v", peak)
	}
}

func TestWaitTimeoutAndArgs(t *testing.T) {
	e := newEnv(t, Options{Scenario: "majority", Machines: 100, NoRateLimit: true, Speed: 100})
	stuck := firstWhere(t, e.sim, func(m MachineView) bool { return m.State == "replacing" })
	e.sim.SetMachineFault(stuck.ID, FaultStuck)
	start := time.Now()
	err := e.flaps.Wait(ctx(t), e.app, stuck.ID, flaps.WithWaitStates("settled"), flaps.WithWaitTimeout(60*time.Second))
	if status(err) != 408 || !strings.Contains(err.Error(), "deadline_exceeded: machine failed to reach desired state") {
		t.Fatalf("wait on stuck: %v", err)
	}
	if d := time.Since(start); d < 500*time.Millisecond || d > 2*time.Second {
		t.Fatalf("60 s simulated at Speed 100 took %v", d)
	}
	if code, _ := raw(t, e, "GET", "/v1/apps/"+e.app+"/machines/"+stuck.ID+"/wait?timeout=61", "t"); code != 400 {
		t.Fatalf("timeout=61: %d", code)
	}
}
