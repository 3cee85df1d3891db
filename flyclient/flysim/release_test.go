package flysim

import (
	"strings"
	"testing"
	"time"

	fly "github.com/superfly/fly-go"
)

// releasesVia reads the release history and the current release the way
// flyrescue does, through fly-go's GraphQL client.
func releasesVia(t *testing.T, e *env) ([]fly.Release, *fly.Release) {
	t.Helper()
	rels, err := e.gql.GetAppReleasesMachines(ctx(t), e.app, "", 25)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := e.gql.GetAppCurrentReleaseMachines(ctx(t), e.app)
	if err != nil {
		t.Fatal(err)
	}
	return rels, cur
}

// waitRelease polls fly-go until the newest release has left "running" and
// returns it; currentRelease must then say the same.
func waitRelease(t *testing.T, e *env) fly.Release {
	t.Helper()
	var top fly.Release
	waitFor(t, func() bool {
		rels, _ := releasesVia(t, e)
		top = rels[0]
		return top.Status != ReleaseRunning
	})
	if _, cur := releasesVia(t, e); cur.Status != top.Status || cur.Version != top.Version {
		t.Fatalf("releases say v%d %s, currentRelease v%d %s", top.Version, top.Status, cur.Version, cur.Status)
	}
	return top
}

// At real-time speed the mover's first step is 3 s away: the release a
// running deploy rolls out says so.
func TestDeployingReleaseRunning(t *testing.T) {
	e := newEnv(t, Options{Scenario: "minority", Machines: 40, Speed: 1, Deploying: true, NoRateLimit: true})
	rels, cur := releasesVia(t, e)
	if rels[0].Version != 62 || rels[0].Status != "running" || cur.Version != 62 || cur.Status != "running" || cur.Stable {
		t.Fatalf("newest %+v, current %+v", rels[0], cur)
	}
	if rels[1].Status != "complete" {
		t.Fatalf("v61 %s", rels[1].Status)
	}
}

// When the mover has reached every machine and they are all started with
// passing checks, the release is complete; at that moment nothing old is left.
func TestDeployingReleaseCompletes(t *testing.T) {
	e := newEnv(t, Options{Scenario: "minority", Machines: 40, Speed: 500, Deploying: true, NoRateLimit: true})
	top := waitRelease(t, e)
	if top.Version != 62 || top.Status != "complete" || !top.Stable {
		t.Fatalf("v62 ended %+v", top)
	}
	ms, err := e.flaps.List(ctx(t), e.app, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Config.Image != e.sim.TargetImage() || m.State != "started" || !m.AllHealthChecks().AllPassing() {
			t.Fatalf("complete while %s is %s on %s, checks %+v", m.ID, m.State, m.Config.Image, m.AllHealthChecks())
		}
	}
	st := e.sim.Stats()
	if want := 40 - ScenarioCounts("minority", 40).Target; st.ActorChanges[DeployUpdated] != want {
		t.Fatalf("deploy updated %d machines, want %d", st.ActorChanges[DeployUpdated], want)
	}
	if len(st.MutationsPerMachine) != 0 {
		t.Fatalf("the deploy counted as a client: %v", st.MutationsPerMachine)
	}
	v := firstWhere(t, e.sim, func(m MachineView) bool { return m.ChangedBy == ActorDeploy })
	if v.Image != e.sim.TargetImage() {
		t.Fatalf("deploy-changed machine on %s", v.Image)
	}
}

// A target that fails its checks fails the deploy, once the mover is done.
func TestDeployingReleaseFailsChecks(t *testing.T) {
	e := newEnv(t, Options{Scenario: "minority", Machines: 40, Speed: 500, Deploying: true, NoRateLimit: true,
		TargetBehavior: ImageFailsChecks})
	top := waitRelease(t, e)
	if top.Version != 62 || top.Status != "failed" || top.Stable {
		t.Fatalf("v62 ended %+v", top)
	}
	if n := e.sim.Stats().ActorChanges[DeployUpdated]; n != 40-ScenarioCounts("minority", 40).Target {
		t.Fatalf("failed after %d updates: the mover had not finished", n)
	}
}

// One machine that flyd reverts is enough to fail an otherwise good deploy.
func TestDeployingReleaseFailsOnRevert(t *testing.T) {
	e := newEnv(t, Options{Scenario: "minority", Machines: 40, Speed: 500, Deploying: true, NoRateLimit: true})
	old := firstWhere(t, e.sim, func(m MachineView) bool { return m.Image == e.sim.PreviousImage() && m.LeaseOwner == "" })
	e.sim.SetMachineFault(old.ID, FaultRevert)
	if top := waitRelease(t, e); top.Status != "failed" {
		t.Fatalf("v62 ended %s with a reverted machine", top.Status)
	}
	if v, _ := e.sim.Machine(old.ID); v.Image != e.sim.PreviousImage() || v.State != "started" {
		t.Fatalf("reverted machine: %s on %s", v.State, v.Image)
	}
}

// A deploy with nothing left to move is complete at once.
func TestDeployingNothingToMove(t *testing.T) {
	e := newEnv(t, Options{Scenario: "healthy", Machines: 10, Speed: 1, Deploying: true, NoRateLimit: true})
	if _, cur := releasesVia(t, e); cur.Status != "complete" {
		t.Fatalf("healthy fleet, deploy %s", cur.Status)
	}
}

// An interrupted deploy (SetReleaseStatus) stops moving machines and keeps
// the status it was given.
func TestDeployingInterrupted(t *testing.T) {
	e := newEnv(t, Options{Scenario: "minority", Machines: 40, Speed: 100, Deploying: true, NoRateLimit: true})
	if err := e.sim.SetReleaseStatus(62, ReleaseInterrupted); err != nil {
		t.Fatal(err)
	}
	moved := e.sim.Stats().ActorChanges[DeployUpdated]
	// The whole deploy would take 3+32*1.5+8+5 s simulated: 0.65 s real.
	time.Sleep(800 * time.Millisecond)
	if n := e.sim.Stats().ActorChanges[DeployUpdated]; n != moved || n >= 32 {
		t.Fatalf("mover went on after the interrupt: %d -> %d updates", moved, n)
	}
	if _, cur := releasesVia(t, e); cur.Status != "interrupted" {
		t.Fatalf("status %s", cur.Status)
	}
}

func TestCreateReleaseAndSetStatus(t *testing.T) {
	e := newEnv(t, Options{Scenario: "bad-release", Machines: 20, NoRateLimit: true})
	prev := e.sim.PreviousImage()
	hotfix := "registry.fly.io/" + e.app + ":" + e.app + ".v63-hotfix"
	v63 := e.sim.CreateRelease(hotfix, ReleaseRunning)
	if v63.Version != 63 || v63.Image != hotfix || v63.Status != "running" || v63.ID == "" || v63.CreatedAt.IsZero() {
		t.Fatalf("CreateRelease: %+v", v63)
	}
	rels, cur := releasesVia(t, e)
	if len(rels) != 6 || rels[0].Version != 63 || rels[0].ImageRef != hotfix || rels[0].Status != "running" ||
		rels[1].Version != 62 || rels[1].Status != "failed" || cur.Version != 63 || cur.ID != v63.ID {
		t.Fatalf("after CreateRelease: %+v / current %+v", rels[:2], cur)
	}
	if img, err := e.gql.LatestImage(ctx(t), e.app); err != nil || img != hotfix || e.sim.TargetImage() != hotfix {
		t.Fatalf("latest image %q %v", img, err)
	}
	if e.sim.PreviousImage() != prev {
		t.Fatal("PreviousImage moved")
	}
	if err := e.sim.SetReleaseStatus(63, ReleaseFailed); err != nil {
		t.Fatal(err)
	}
	if _, cur := releasesVia(t, e); cur.Status != "failed" {
		t.Fatalf("SetReleaseStatus not visible: %s", cur.Status)
	}
	// A rollback deploy of v61's image is v64 with v61's label and digest.
	v64 := e.sim.CreateRelease(prev, ReleaseComplete)
	if v64.Version != 64 || e.sim.TargetImage() != prev {
		t.Fatalf("rollback release %+v", v64)
	}
	old := firstWhere(t, e.sim, func(m MachineView) bool { return m.Image == prev })
	m, err := e.flaps.Get(ctx(t), e.app, old.ID)
	if err != nil || !strings.HasSuffix(prev, ":"+m.ImageRef.Tag) || m.ImageRef.Digest == "" {
		t.Fatalf("image_ref of a v61 machine: %+v %v", m.ImageRef, err)
	}
	if err := e.sim.SetReleaseStatus(99, ReleaseFailed); err == nil || !strings.Contains(err.Error(), "v99") {
		t.Fatalf("unknown version: %v", err)
	}
	if err := e.sim.SetReleaseStatus(62, "succeeded"); err == nil || !strings.Contains(err.Error(), "complete") {
		t.Fatalf("unknown status: %v", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("CreateRelease accepted status \"done\"")
			}
		}()
		e.sim.CreateRelease(hotfix, "done")
	}()
}

// A deploy keeps rolling out its own release when a newer one is created
// on top (someone else deployed), and still ends with a status.
func TestDeployingKeepsItsRelease(t *testing.T) {
	e := newEnv(t, Options{Scenario: "minority", Machines: 40, Speed: 200, Deploying: true, NoRateLimit: true})
	v62 := e.sim.TargetImage()
	e.sim.CreateRelease("registry.fly.io/"+e.app+":hotfix", ReleaseComplete)
	waitFor(t, func() bool { return e.sim.Releases()[1].Status != ReleaseRunning })
	if st := e.sim.Releases()[1]; st.Version != 62 || st.Status != "complete" {
		t.Fatalf("v62: %+v", st)
	}
	for _, m := range e.sim.Machines() {
		if m.Image != v62 {
			t.Fatalf("%s on %s: the mover followed the new release", m.ID, m.Image)
		}
	}
}
