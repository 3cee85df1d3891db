package flyclient_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

// The runbook's update: lease, new image and label on the full config,
// replacing, then started on a new instance.
func TestUpdateLifecycleChangesInstance(t *testing.T) {
	srv, c := startSim(t, flysim.Options{App: "shop", Scenario: "minority", Machines: 30, NoRateLimit: true})
	target := srv.Sim.TargetImage()
	var view flysim.MachineView
	for _, v := range srv.Sim.Machines() {
		if v.State == "started" && v.Image != target && v.LeaseOwner == "" {
			view = v
			break
		}
	}
	if view.ID == "" {
		t.Fatal("no old-image started machine")
	}
	lease, err := c.AcquireLease(ctx(t), "shop", view.ID, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if lease.Nonce == "" || lease.Version != view.InstanceID {
		t.Fatalf("lease %+v for instance %s", lease, view.InstanceID)
	}
	m, err := c.Get(ctx(t), "shop", view.ID)
	if err != nil {
		t.Fatal(err)
	}
	cfg := cloneConfig(t, m.Config)
	cfg.Image = target
	cfg.Env["RELEASE_LABEL"] = "v-test"
	// Without the nonce the leased machine refuses the change.
	if _, err := c.Update(ctx(t), "shop", flyclient.UpdateInput{ID: m.ID, Region: m.Region, Name: m.Name, Config: cfg}); err == nil {
		t.Fatal("update without the lease nonce succeeded")
	}
	updated, err := c.Update(ctx(t), "shop", flyclient.UpdateInput{ID: m.ID, Region: m.Region, Name: m.Name, Config: cfg, Nonce: lease.Nonce})
	if err != nil {
		t.Fatal(err)
	}
	if updated.InstanceID == view.InstanceID {
		t.Fatal("instance ID did not change on update")
	}
	if m.Config.Image == target {
		t.Fatal("CloneConfig aliased the original config")
	}
	final, err := c.WaitFor(ctx(t), "shop", m.ID, []string{"started"}, updated.InstanceID, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if final.State != "started" || final.Config.Image != target || final.InstanceID != updated.InstanceID || final.Config.Env["RELEASE_LABEL"] != "v-test" {
		t.Fatalf("after update: %s %s %s %q", final.State, final.Config.Image, final.InstanceID, final.Config.Env["RELEASE_LABEL"])
	}
	if err := c.ReleaseLease(ctx(t), "shop", m.ID, lease.Nonce); err != nil {
		t.Fatal(err)
	}
	if l, err := c.FindLease(ctx(t), "shop", m.ID); err != nil || l != nil {
		t.Fatalf("lease after release: %+v, %v", l, err)
	}
}

func TestLeaseHeldByOtherReportsOwnerQuickly(t *testing.T) {
	srv, c := startSim(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 4, NoRateLimit: true})
	id := srv.Sim.Machines()[0].ID
	if err := srv.Sim.HoldLease(id, "alice@example.com", time.Minute); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := c.AcquireLease(ctx(t), "shop", id, 30*time.Second)
	var held *flyclient.LeaseHeldError
	if !errors.As(err, &held) || !errors.Is(err, flyclient.ErrLeaseHeld) {
		t.Fatalf("want LeaseHeldError, got %v", err)
	}
	if held.Owner != "alice@example.com" || !strings.Contains(err.Error(), "alice@example.com") {
		t.Fatalf("owner %q in %q", held.Owner, err)
	}
	// fly-go alone would retry the 409 for a minute; the issue asks for an
	// answer within five seconds.
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("lease conflict took %s to report", took)
	}
}

func TestDestroyRefusedWithoutForceThenForced(t *testing.T) {
	srv, c := startSim(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 4, NoRateLimit: true})
	v := firstInState(t, srv.Sim, "started")
	err := c.Destroy(ctx(t), "shop", v.ID, "", false)
	if !errors.Is(err, flyclient.ErrPrecondition) || !strings.Contains(err.Error(), "force") {
		t.Fatalf("destroy of a started machine without force: %v", err)
	}
	if err := c.Destroy(ctx(t), "shop", v.ID, "", true); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitFor(ctx(t), "shop", v.ID, []string{"destroyed"}, "", time.Minute); err != nil {
		t.Fatal(err)
	}
	ms, err := c.List(ctx(t), "shop", flyclient.ListOptions{})
	if err != nil || len(ms) != 3 {
		t.Fatalf("after destroy: %d machines, %v", len(ms), err)
	}
}

func TestStopStartRestart(t *testing.T) {
	srv, c := startSim(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 3, NoRateLimit: true})
	v := firstInState(t, srv.Sim, "started")
	if err := c.Stop(ctx(t), "shop", v.ID, "", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if m, err := c.WaitFor(ctx(t), "shop", v.ID, []string{"stopped"}, "", time.Minute); err != nil || m.State != "stopped" {
		t.Fatalf("stop: %v", err)
	}
	if err := c.Start(ctx(t), "shop", v.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitFor(ctx(t), "shop", v.ID, []string{"started"}, "", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := c.Restart(ctx(t), "shop", v.ID, "", false); err != nil {
		t.Fatal(err)
	}
	if m, err := c.WaitFor(ctx(t), "shop", v.ID, []string{"started"}, "", time.Minute); err != nil || m.State != "started" {
		t.Fatalf("restart: %v", err)
	}
}

func TestLaunchClonesConfig(t *testing.T) {
	srv, c := startSim(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 2, NoRateLimit: true})
	src, err := c.Get(ctx(t), "shop", srv.Sim.Machines()[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Launch(ctx(t), "shop", flyclient.LaunchInput{Region: src.Region, Config: cloneConfig(t, src.Config)})
	if err != nil {
		t.Fatal(err)
	}
	if m.ID == src.ID || m.Config.Image != src.Config.Image || m.ProcessGroup() != src.ProcessGroup() {
		t.Fatalf("clone %s of %s: %s/%s", m.ID, src.ID, m.Config.Image, m.ProcessGroup())
	}
	if _, err := c.WaitFor(ctx(t), "shop", m.ID, []string{"started"}, "", time.Minute); err != nil {
		t.Fatal(err)
	}
}

func TestWaitTimeoutIsTyped(t *testing.T) {
	srv, c := startSim(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 2, NoRateLimit: true, Speed: 1000})
	v := firstInState(t, srv.Sim, "started")
	// A started machine never becomes stopped by itself; at Speed 1000 a
	// one-second server wait is one millisecond.
	err := c.Wait(ctx(t), "shop", v.ID, flyclient.WaitOptions{States: []string{"stopped"}, Timeout: time.Second})
	if !errors.Is(err, flyclient.ErrTimeout) || !flyclient.IsTransient(err) {
		t.Fatalf("want timeout, got %v", err)
	}
	m, err := c.WaitFor(ctx(t), "shop", v.ID, []string{"stopped"}, "", 300*time.Millisecond)
	if !errors.Is(err, flyclient.ErrTimeout) || m == nil || m.State != "started" {
		t.Fatalf("WaitFor past its total: %v (%v)", err, m)
	}
}

// At realistic speed an update stays replacing for seconds; a second update
// in that window is refused as busy, which callers retry.
func TestUpdateWhileReplacingIsBusy(t *testing.T) {
	srv, c := startSim(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 2, NoRateLimit: true, Speed: 1})
	v := firstInState(t, srv.Sim, "started")
	m, err := c.Get(ctx(t), "shop", v.ID)
	if err != nil {
		t.Fatal(err)
	}
	in := flyclient.UpdateInput{ID: m.ID, Region: m.Region, Name: m.Name, Config: cloneConfig(t, m.Config)}
	if _, err := c.Update(ctx(t), "shop", in); err != nil {
		t.Fatal(err)
	}
	if cur, _ := srv.Sim.Machine(v.ID); cur.State != "replacing" {
		t.Fatalf("state right after update: %s", cur.State)
	}
	_, err = c.Update(ctx(t), "shop", in)
	if !errors.Is(err, flyclient.ErrMachineBusy) || !flyclient.IsTransient(err) || !strings.Contains(err.Error(), "settle") {
		t.Fatalf("update while replacing: %v", err)
	}
}

// cloneConfig is flyclient.CloneConfig for tests: a config that does not
// round-trip ends the test.
func cloneConfig(tb testing.TB, c *flyclient.MachineConfig) *flyclient.MachineConfig {
	tb.Helper()
	out, err := flyclient.CloneConfig(c)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// Suspend ends suspended and a start resumes it; cordon and uncordon show on
// the machine as the API reports them (Machine.Cordoned and an event), and
// a leased machine refuses both without the nonce.
func TestSuspendCordonUncordon(t *testing.T) {
	srv, c := startSim(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 3, NoRateLimit: true})
	v := firstInState(t, srv.Sim, "started")
	if err := c.Suspend(ctx(t), "shop", v.ID, ""); err != nil {
		t.Fatal(err)
	}
	if m, err := c.WaitFor(ctx(t), "shop", v.ID, []string{"suspended"}, "", time.Minute); err != nil || m.State != "suspended" {
		t.Fatalf("suspend: %v", err)
	}
	if err := c.Suspend(ctx(t), "shop", v.ID, ""); !errors.Is(err, flyclient.ErrPrecondition) {
		t.Errorf("suspending a suspended machine: %v, want a precondition error", err)
	}
	if err := c.Start(ctx(t), "shop", v.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitFor(ctx(t), "shop", v.ID, []string{"started"}, "", time.Minute); err != nil {
		t.Fatal(err)
	}
	lease, err := c.AcquireLease(ctx(t), "shop", v.ID, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Cordon(ctx(t), "shop", v.ID, ""); !errors.Is(err, flyclient.ErrLeaseHeld) {
		t.Fatalf("cordon of a leased machine without its nonce: %v", err)
	}
	if err := c.Cordon(ctx(t), "shop", v.ID, lease.Nonce); err != nil {
		t.Fatal(err)
	}
	m, err := c.Get(ctx(t), "shop", v.ID)
	if err != nil || !m.Cordoned || m.State != "started" {
		t.Fatalf("after cordon: %v, cordoned %v, %s", err, m != nil && m.Cordoned, m.State)
	}
	if len(m.Events) == 0 || m.Events[0].Type != "cordon" {
		t.Errorf("no cordon event first: %+v", m.Events)
	}
	if err := c.Uncordon(ctx(t), "shop", v.ID, lease.Nonce); err != nil {
		t.Fatal(err)
	}
	if m, err := c.Get(ctx(t), "shop", v.ID); err != nil || m.Cordoned {
		t.Fatalf("after uncordon: %v, still cordoned", err)
	}
}
