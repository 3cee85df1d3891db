package flysim

import (
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
)

// groupVia lists the live machines of a process group through fly-go.
func groupVia(t *testing.T, e *env, group string) []*fly.Machine {
	t.Helper()
	ms, err := e.flaps.List(ctx(t), e.app, "")
	if err != nil {
		t.Fatal(err)
	}
	var out []*fly.Machine
	for _, m := range ms {
		if m.Config.Metadata["fly_process_group"] == group && m.State != "destroying" {
			out = append(out, m)
		}
	}
	return out
}

// The autoscaler clones the first worker_autoscale machine, old image and
// all, up to 3 above the group's starting count, then destroys its clones
// back down; none of it is a client's mutation, and nothing on the wire
// marks the clones.
func TestAutoscalerClonesFirstMachine(t *testing.T) {
	// A turn every 15 s simulated = 150 ms real: plenty of polls see each step.
	e := newEnv(t, Options{Scenario: "minority", Machines: 40, Speed: 100, NoRateLimit: true, Autoscaler: true,
		AutoscalerEvery: 15 * time.Second})
	start := groupVia(t, e, AutoscaleGroup)
	first := start[0]
	if first.Config.Image != e.sim.PreviousImage() {
		t.Fatalf("seed 1: the first %s machine runs %s; the test wants the old image", AutoscaleGroup, first.Config.Image)
	}
	// Watch the group grow and shrink.
	peak, clones := len(start), map[string]*fly.Machine{}
	waitFor(t, func() bool {
		g := groupVia(t, e, AutoscaleGroup)
		peak = max(peak, len(g))
		for _, m := range g {
			if v, _ := e.sim.Machine(m.ID); v.ChangedBy == ActorAutoscaler {
				clones[m.ID] = m
			}
		}
		return e.sim.Stats().ActorChanges[AutoscalerDestroyed] >= 3
	})
	if peak != len(start)+3 {
		t.Fatalf("group peaked at %d, want %d+3", peak, len(start))
	}
	if len(clones) < 3 {
		t.Fatalf("saw %d clones", len(clones))
	}
	full := first.FullImageRef()
	for id, c := range clones {
		if c.Config.Image != full || c.ImageRef.Tag != first.ImageRef.Tag || c.Region != first.Region {
			t.Fatalf("clone %s: image %s (want %s), region %s", id, c.Config.Image, full, c.Region)
		}
		if !maps.Equal(c.Config.Metadata, first.Config.Metadata) || !maps.Equal(c.Config.Env, first.Config.Env) {
			t.Fatalf("clone %s config differs: %v vs %v", id, c.Config.Metadata, first.Config.Metadata)
		}
		got, err := e.flaps.Get(ctx(t), e.app, id)
		if err != nil {
			t.Fatal(err)
		}
		launch := got.Events[len(got.Events)-1]
		if launch.Type != "launch" || launch.Source != "user" {
			t.Fatalf("clone %s first event %+v", id, launch)
		}
	}
	st := e.sim.Stats()
	if len(st.MutationsPerMachine) != 0 || st.ActorChanges[AutoscalerCreated] < 3 {
		t.Fatalf("mutations %v, actor changes %v", st.MutationsPerMachine, st.ActorChanges)
	}
	// It only ever destroys its own clones: every starting machine is live.
	for _, m := range start {
		if v, _ := e.sim.Machine(m.ID); v.Destroyed || v.State == "destroying" {
			t.Fatalf("autoscaler destroyed %s, a machine it did not create", m.ID)
		}
	}
}

// Below its starting count (an operator destroyed one), it creates; it
// never destroys a clone someone holds a lease on: with every clone leased
// as soon as it appears, it stops at the top and destroys nothing.
func TestAutoscalerRefillsAndRespectsLeases(t *testing.T) {
	// Turns 1 s of real time apart: the leases below are taken within
	// milliseconds, and a loaded CI machine must not stretch that to a turn.
	e := newEnv(t, Options{Scenario: "healthy", Machines: 40, Speed: 20, NoRateLimit: true, Autoscaler: true,
		AutoscalerEvery: 20 * time.Second})
	start := groupVia(t, e, AutoscaleGroup)
	victim := start[len(start)-1].ID
	if err := e.flaps.Destroy(ctx(t), e.app, fly.RemoveMachineInput{ID: victim, Kill: true}, ""); err != nil {
		t.Fatal(err)
	}
	// Polling every 5 ms leases each clone long before the autoscaler's
	// next turn could pick it.
	waitForWithin(t, 15*time.Second, func() bool {
		for _, v := range e.sim.Machines() {
			if v.ChangedBy == ActorAutoscaler && v.LeaseOwner == "" {
				if err := e.sim.HoldLease(v.ID, "alice@example.com", time.Minute); err != nil {
					t.Fatal(err)
				}
			}
		}
		return e.sim.Stats().ActorChanges[AutoscalerCreated] == 4
	})
	time.Sleep(3 * time.Second) // three more turns
	st := e.sim.Stats()
	if st.ActorChanges[AutoscalerCreated] != 4 || st.ActorChanges[AutoscalerDestroyed] != 0 {
		t.Fatalf("actor changes %v: want 4 created (1 refill + 3), none destroyed under alice's leases", st.ActorChanges)
	}
	if g := groupVia(t, e, AutoscaleGroup); len(g) != len(start)+3 {
		t.Fatalf("group at %d, want %d", len(g), len(start)+3)
	}
	if len(st.MutationsPerMachine) != 1 || st.MutationsPerMachine[victim] != 1 {
		t.Fatalf("mutations %v: only the operator's destroy counts", st.MutationsPerMachine)
	}
}

// fly-autoscaler skips its turn while the current release is running.
func TestAutoscalerWaitsForRunningDeploy(t *testing.T) {
	e := newEnv(t, Options{Scenario: "minority", Machines: 40, Speed: 200, NoRateLimit: true, Autoscaler: true, Deploying: true})
	waitFor(t, func() bool {
		created := e.sim.Stats().ActorChanges[AutoscalerCreated]
		status := e.sim.Releases()[0].Status // read after: running then means running before too
		if created > 0 && status == ReleaseRunning {
			t.Fatalf("autoscaler created %d machines during the deploy", created)
		}
		return created > 0
	})
}

func TestAutoscalerOptionsRejected(t *testing.T) {
	for _, o := range []Options{{AutoscalerEvery: -time.Second}, {AutoscalerBurst: -1}, {Teammate: -time.Second}} {
		if _, err := New(o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

// Actors leave the seeded fleet alone when off, and a sim with them on is
// the same fleet at the start.
func TestActorsOffKeepDeterminism(t *testing.T) {
	a, _ := New(Options{Seed: 3, Machines: 100})
	b, _ := New(Options{Seed: 3, Machines: 100, Autoscaler: true, Teammate: time.Hour})
	am, bm := a.Machines(), b.Machines()
	if len(am) != len(bm) {
		t.Fatal("fleet sizes differ")
	}
	for i := range am {
		if am[i].ID != bm[i].ID || am[i].Image != bm[i].Image || am[i].InstanceID != bm[i].InstanceID {
			t.Fatalf("machine %d differs: %+v / %+v", i, am[i], bm[i])
		}
	}
}

// ChangeOutside is a teammate's fly machine update --image: the usual
// replacing -> started with a new instance, the rest of the config kept,
// refused under someone's lease and while replacing, not a client mutation.
func TestChangeOutside(t *testing.T) {
	e := newEnv(t, Options{Scenario: "total-failure", Machines: 100, Speed: 200, NoRateLimit: true})
	old := firstWhere(t, e.sim, func(m MachineView) bool { return m.LeaseOwner == "" })
	before, err := e.flaps.Get(ctx(t), e.app, old.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sim.ChangeOutside(old.ID, e.sim.TargetImage()); err != nil {
		t.Fatal(err)
	}
	got, err := e.flaps.Get(ctx(t), e.app, old.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != "replacing" || got.InstanceID == before.InstanceID || got.Config.Image != e.sim.TargetImage() ||
		got.Events[0].Type != "update" || got.Events[0].Source != "user" {
		t.Fatalf("after ChangeOutside: %s %s %s %+v", got.State, got.InstanceID, got.Config.Image, got.Events[0])
	}
	if !maps.Equal(got.Config.Metadata, before.Config.Metadata) || !maps.Equal(got.Config.Env, before.Config.Env) {
		t.Fatalf("config changed beyond the image: %v -> %v", before.Config.Metadata, got.Config.Metadata)
	}
	if err := e.sim.ChangeOutside(old.ID, e.sim.PreviousImage()); err == nil || !strings.Contains(err.Error(), "replacing") {
		t.Fatalf("second change while replacing: %v", err)
	}
	if err := e.flaps.Wait(ctx(t), e.app, old.ID, flaps.WithWaitStates("started"), flaps.WithWaitVersion(got.InstanceID)); err != nil {
		t.Fatal(err)
	}
	if v, _ := e.sim.Machine(old.ID); v.ChangedBy != ActorOutside || v.Image != e.sim.TargetImage() {
		t.Fatalf("view %+v", v)
	}
	leased := firstWhere(t, e.sim, func(m MachineView) bool { return m.LeaseOwner == LeaseBot })
	if err := e.sim.ChangeOutside(leased.ID, e.sim.TargetImage()); err == nil || !strings.Contains(err.Error(), LeaseBot) {
		t.Fatalf("change under deploy-bot's lease: %v", err)
	}
	if err := e.sim.ChangeOutside("nope", e.sim.TargetImage()); err == nil {
		t.Fatal("unknown machine changed")
	}
	st := e.sim.Stats()
	if len(st.MutationsPerMachine) != 0 || st.ActorChanges[OutsideUpdated] != 1 {
		t.Fatalf("mutations %v, actor changes %v", st.MutationsPerMachine, st.ActorChanges)
	}
	// An API client's update makes the machine the client's again.
	if _, err := updateTo(t, e, old.ID, e.sim.PreviousImage(), ""); err != nil {
		t.Fatal(err)
	}
	if v, _ := e.sim.Machine(old.ID); v.ChangedBy != "" {
		t.Fatalf("ChangedBy %q after a client's update", v.ChangedBy)
	}
}

func TestCreateAndDestroyOutside(t *testing.T) {
	e := newEnv(t, Options{Scenario: "healthy", Machines: 10, Speed: 200, NoRateLimit: true})
	id := e.sim.CreateOutside("worker", "syd", e.sim.PreviousImage())
	m, err := e.flaps.Get(ctx(t), e.app, id)
	if err != nil {
		t.Fatal(err)
	}
	if m.Region != "syd" || m.Config.Metadata["fly_process_group"] != "worker" || m.Config.Image != e.sim.PreviousImage() ||
		m.Config.Metadata["fly_release_version"] != "61" || m.Events[0].Source != "user" {
		t.Fatalf("created: %s %v %s %+v", m.Region, m.Config.Metadata, m.Config.Image, m.Events[0])
	}
	if err := e.flaps.Wait(ctx(t), e.app, id, flaps.WithWaitStates("started")); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.HoldLease(id, "alice@example.com", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.DestroyOutside(id); err == nil || !strings.Contains(err.Error(), "alice@example.com") {
		t.Fatalf("destroy under alice's lease: %v", err)
	}
	other := e.sim.Machines()[0].ID
	if err := e.sim.DestroyOutside(other); err != nil {
		t.Fatal(err)
	}
	if err := e.flaps.Wait(ctx(t), e.app, other, flaps.WithWaitStates("destroyed")); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.DestroyOutside(other); err == nil {
		t.Fatal("destroyed a destroyed machine")
	}
	if v, _ := e.sim.Machine(other); !v.Destroyed || v.ChangedBy != ActorOutside {
		t.Fatalf("view %+v", v)
	}
	st := e.sim.Stats()
	if len(st.MutationsPerMachine) != 0 || st.ActorChanges[OutsideCreated] != 1 || st.ActorChanges[OutsideDestroyed] != 1 {
		t.Fatalf("mutations %v, actor changes %v", st.MutationsPerMachine, st.ActorChanges)
	}
	// /_sim/stats reports them too.
	code, body := raw(t, e, http.MethodGet, "/_sim/stats", "")
	if ac, _ := body["actor_changes"].(map[string]any); code != 200 || ac[OutsideCreated] != 1.0 {
		t.Fatalf("/_sim/stats: %d %v", code, body["actor_changes"])
	}
}

// Options.Teammate updates old-image machines to the target, one a turn,
// skipping leased ones.
func TestTeammate(t *testing.T) {
	e := newEnv(t, Options{Scenario: "minority", Machines: 20, Speed: 500, NoRateLimit: true, Teammate: 2 * time.Second})
	waitFor(t, func() bool {
		for _, v := range e.sim.Machines() {
			if v.Image != e.sim.TargetImage() && v.LeaseOwner == "" || v.State != "started" {
				return false
			}
		}
		return true
	})
	st := e.sim.Stats()
	if want := 20 - ScenarioCounts("minority", 20).Target - ScenarioCounts("minority", 20).Leased; st.ActorChanges[TeammateUpdated] != want ||
		len(st.MutationsPerMachine) != 0 {
		t.Fatalf("teammate updated %d (want %d), mutations %v", st.ActorChanges[TeammateUpdated], want, st.MutationsPerMachine)
	}
	for _, v := range e.sim.Machines() {
		if v.LeaseOwner == LeaseBot && v.Image != e.sim.PreviousImage() {
			t.Fatalf("teammate updated leased %s", v.ID)
		}
	}
}

// The lease endpoint carries the description fly-go v0.9.3 cannot decode:
// a raw GET sees every field of the API's lease.
func TestLeaseWireHasDescription(t *testing.T) {
	e := newEnv(t, Options{Scenario: "majority", Machines: 100, NoRateLimit: true})
	v := firstWhere(t, e.sim, func(m MachineView) bool { return m.LeaseOwner == LeaseBot })
	code, body := raw(t, e, http.MethodGet, "/v1/apps/"+e.app+"/machines/"+v.ID+"/lease", "t")
	data, _ := body["data"].(map[string]any)
	if code != 200 || body["status"] != "success" || data == nil {
		t.Fatalf("lease: %d %v", code, body)
	}
	if nonce, _ := data["nonce"].(string); nonce == "" {
		t.Fatalf("nonce %v", data["nonce"])
	}
	if exp, _ := data["expires_at"].(float64); int64(exp) < time.Now().Add(23*time.Hour).Unix() {
		t.Fatalf("expires_at %v", data["expires_at"])
	}
	if data["owner"] != LeaseBot || data["description"] != LeaseBotDescription || data["version"] != v.InstanceID || len(data) != 5 {
		t.Fatalf("lease data %v", data)
	}
}
