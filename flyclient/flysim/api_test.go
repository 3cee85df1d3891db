package flysim

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
)

// raw sends one plain request and decodes the JSON body.
func raw(t *testing.T, e *env, method, path, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx(t), method, e.srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: content type %q", method, path, ct)
	}
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

func TestLeases(t *testing.T) {
	e := newEnv(t, Options{Scenario: "healthy", Machines: 10, NoRateLimit: true})
	id := e.sim.Machines()[0].ID
	if err := e.sim.HoldLease(id, "alice@example.com", time.Minute); err != nil {
		t.Fatal(err)
	}
	l, err := e.flaps.FindLease(ctx(t), e.app, id)
	if err != nil || l.Status != "success" || l.Data.Owner != "alice@example.com" || l.Data.ExpiresAt < time.Now().Unix() {
		t.Fatalf("find lease: %+v %v", l, err)
	}
	_, err = updateTo(t, e, id, e.sim.PreviousImage(), "")
	if status(err) != 409 || !strings.Contains(err.Error(), "lease currently held by alice@example.com, expires at") {
		t.Fatalf("update of leased machine: %v", err)
	}
	short, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := e.flaps.AcquireLease(short, e.app, id, fly.IntPointer(30)); err == nil {
		t.Fatal("acquired a lease someone else holds")
	}
	if code, body := raw(t, e, "POST", "/v1/apps/"+e.app+"/machines/"+id+"/lease?ttl=5", "t"); code != 409 ||
		body["status"] != "error" || !strings.Contains(body["message"].(string), "machine ID "+id+" lease currently held by alice") {
		t.Fatalf("raw acquire: %d %v", code, body)
	}
	// Clearing it as `fly machine leases clear` does: FindLease then release with its nonce.
	if err := e.flaps.ReleaseLease(ctx(t), e.app, id, l.Data.Nonce); err != nil {
		t.Fatal(err)
	}
	mine, err := e.flaps.AcquireLease(ctx(t), e.app, id, fly.IntPointer(30))
	if err != nil || mine.Data.Nonce == "" || mine.Data.Owner == "" {
		t.Fatalf("acquire: %+v %v", mine, err)
	}
	if v, _ := e.sim.Machine(id); mine.Data.Version != v.InstanceID {
		t.Fatal("lease version must be the instance_id")
	}
	ref, err := e.flaps.RefreshLease(ctx(t), e.app, id, fly.IntPointer(60), mine.Data.Nonce)
	if err != nil || ref.Data.Nonce != mine.Data.Nonce || ref.Data.ExpiresAt <= mine.Data.ExpiresAt {
		t.Fatalf("refresh: %+v %v", ref, err)
	}
	if _, err := updateTo(t, e, id, e.sim.PreviousImage(), mine.Data.Nonce); err != nil {
		t.Fatalf("update with nonce: %v", err)
	}
	if err := e.flaps.ReleaseLease(ctx(t), e.app, id, mine.Data.Nonce); err != nil {
		t.Fatal(err)
	}
	if _, err := e.flaps.FindLease(ctx(t), e.app, id); status(err) != 404 {
		t.Fatalf("find after release: %v", err)
	}
	st := e.sim.Stats()
	if st.LeaseConflicts < 2 || st.MutationsPerMachine[id] != 1 {
		t.Fatalf("stats: conflicts %d, mutations %d", st.LeaseConflicts, st.MutationsPerMachine[id])
	}
}

func TestRateLimitAndStats(t *testing.T) {
	e := newEnv(t, Options{Scenario: "healthy", Machines: 5})
	id := e.sim.Machines()[0].ID
	limited := 0
	for i := 0; i < 15; i++ {
		if _, err := e.flaps.Get(ctx(t), e.app, id); status(err) == 429 {
			if !strings.Contains(err.Error(), "rate limit exceeded") {
				t.Fatal(err)
			}
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("15 gets in a burst were never limited (limit 5/s burst 10)")
	}
	e.sim.SetRateLimit(false)
	for i := 0; i < 15; i++ {
		if _, err := e.flaps.Get(ctx(t), e.app, id); err != nil {
			t.Fatal(err)
		}
	}
	code, body := raw(t, e, "GET", "/_sim/stats", "")
	if code != 200 {
		t.Fatal(code)
	}
	for _, k := range []string{"requests", "mutations_per_machine", "rate_limited", "lease_conflicts", "peak_unavailable"} {
		if _, ok := body[k]; !ok {
			t.Fatalf("stats lacks %q: %v", k, body)
		}
	}
	byStatus := body["requests"].(map[string]any)["GET /v1/apps/{app}/machines/{id}"].(map[string]any)
	if byStatus["429"].(float64) != float64(limited) || int(body["rate_limited"].(float64)) != limited {
		t.Fatalf("stats: %v", body)
	}
	e.sim.ResetStats()
	if st := e.sim.Stats(); st.RateLimited != 0 || len(st.Requests) != 0 {
		t.Fatalf("reset: %+v", st)
	}
}

func TestAuthAndUnknownApp(t *testing.T) {
	e := newEnv(t, Options{Scenario: "healthy", Machines: 3, Token: "FlyV1 fm2_secret", NoRateLimit: true})
	if _, err := e.flaps.List(ctx(t), e.app, ""); status(err) != 401 || !strings.HasSuffix(err.Error(), ": unauthorized") {
		t.Fatalf("wrong token: %v", err)
	}
	if _, err := gqlFor(e.srv, "wrong").GetAppReleasesMachines(ctx(t), e.app, "", 5); err == nil || !strings.Contains(err.Error(), "authenticated") {
		t.Fatalf("graphql wrong token: %v", err)
	}
	good := clientFor(t, e.srv, "FlyV1 fm2_secret")
	if _, err := good.List(ctx(t), e.app, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := good.List(ctx(t), "nope", ""); status(err) != 404 || !strings.Contains(err.Error(), "app not found") {
		t.Fatalf("unknown app: %v", err)
	}
	if code, _ := raw(t, e, "GET", "/v1/apps/"+e.app+"/machines", ""); code != 401 {
		t.Fatalf("no token: %d", code)
	}
	_, err := gqlFor(e.srv, "fm2_secret").GetAppReleasesMachines(ctx(t), "nope", "", 5)
	if err == nil || !strings.Contains(err.Error(), `Could not find App "nope"`) {
		t.Fatalf("graphql unknown app: %v", err)
	}
}

func TestGraphQLReleases(t *testing.T) {
	e := newEnv(t, Options{Scenario: "bad-release", Machines: 10, NoRateLimit: true})
	rels, err := e.gql.GetAppReleasesMachines(ctx(t), e.app, "", 25)
	if err != nil {
		t.Fatal(err)
	}
	if len(rels) != 5 || rels[0].Version != 62 || rels[0].Status != "failed" || rels[0].ImageRef != e.sim.TargetImage() ||
		rels[1].Status != "complete" || rels[1].ImageRef != e.sim.PreviousImage() || rels[0].CreatedAt.IsZero() {
		t.Fatalf("releases: %+v", rels)
	}
	if sims := e.sim.Releases(); sims[0].ID != rels[0].ID || sims[0].Version != 62 {
		t.Fatalf("Releases(): %+v", sims[0])
	}
	cur, err := e.gql.GetAppCurrentReleaseMachines(ctx(t), e.app)
	if err != nil || cur.Version != 62 {
		t.Fatalf("current: %+v %v", cur, err)
	}
	img, err := e.gql.LatestImage(ctx(t), e.app)
	if err != nil || img != e.sim.TargetImage() {
		t.Fatalf("latest image: %q %v", img, err)
	}
	app, err := e.gql.GetAppCompact(ctx(t), e.app)
	if err != nil || app.Name != e.app || app.Organization == nil {
		t.Fatalf("app compact: %+v %v", app, err)
	}
}

func TestLaunchActionsAndReads(t *testing.T) {
	e := newEnv(t, Options{Scenario: "healthy", Machines: 8, NoRateLimit: true})
	src, err := e.flaps.Get(ctx(t), e.app, e.sim.Machines()[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.flaps.Launch(ctx(t), e.app, fly.LaunchMachineInput{Region: "ord", Config: src.Config, LeaseTTL: 30})
	if err != nil || m.State != "created" || m.LeaseNonce == "" || m.Name == "" {
		t.Fatalf("launch: %+v %v", m, err)
	}
	if err := e.flaps.Wait(ctx(t), e.app, m.ID, flaps.WithWaitStates("started")); err != nil {
		t.Fatal(err)
	}
	n := m.LeaseNonce
	steps := []struct {
		name string
		do   func() error
		want string
	}{
		{"stop", func() error { return e.flaps.Stop(ctx(t), e.app, fly.StopMachineInput{ID: m.ID, Signal: "SIGINT"}, n) }, "stopped"},
		{"start", func() error { _, err := e.flaps.Start(ctx(t), e.app, m.ID, n); return err }, "started"},
		{"restart", func() error {
			return e.flaps.Restart(ctx(t), e.app, fly.RestartMachineInput{ID: m.ID, ForceStop: true, Timeout: time.Second, Signal: "SIGTERM"}, n)
		}, "started"},
		{"suspend", func() error { return e.flaps.Suspend(ctx(t), e.app, m.ID, n) }, "suspended"},
		{"start again", func() error { _, err := e.flaps.Start(ctx(t), e.app, m.ID, n); return err }, "started"},
		{"kill", func() error { return e.flaps.Kill(ctx(t), e.app, m.ID) }, "stopped"},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if err := e.flaps.Wait(ctx(t), e.app, m.ID, flaps.WithWaitStates(st.want)); err != nil {
			t.Fatalf("%s wait: %v", st.name, err)
		}
	}
	if err := e.flaps.Stop(ctx(t), e.app, fly.StopMachineInput{ID: m.ID}, "wrong"); status(err) != 409 {
		t.Fatalf("stop with wrong nonce: %v", err)
	}
	if err := e.flaps.Cordon(ctx(t), e.app, m.ID, n); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.flaps.Get(ctx(t), e.app, m.ID); !got.Cordoned {
		t.Fatal("not cordoned")
	}
	if err := e.flaps.Uncordon(ctx(t), e.app, m.ID, n); err != nil {
		t.Fatal(err)
	}
	if err := e.flaps.SetMetadata(ctx(t), e.app, m.ID, "owner", "ops"); err != nil {
		t.Fatal(err)
	}
	md, err := e.flaps.GetMetadata(ctx(t), e.app, m.ID)
	if err != nil || md["owner"] != "ops" || md["fly_process_group"] == "" {
		t.Fatalf("metadata: %v %v", md, err)
	}
	if err := e.flaps.DeleteMetadata(ctx(t), e.app, m.ID, "owner"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.flaps.GetProcesses(ctx(t), e.app, m.ID); err != nil {
		t.Fatal(err)
	}
	app, err := e.flaps.GetApp(ctx(t), e.app)
	if err != nil || app.MachineCount != 9 || !app.Deployed() {
		t.Fatalf("app: %+v %v", app, err)
	}
	stopped, err := e.flaps.List(ctx(t), e.app, "state=stopped,suspended")
	if err != nil || len(stopped) != 1 || stopped[0].ID != m.ID {
		t.Fatalf("state filter: %d %v", len(stopped), err)
	}
	if ms, err := e.flaps.List(ctx(t), e.app, "started"); err != nil || len(ms) != 9 {
		t.Fatalf("bare ?started: %d %v", len(ms), err)
	}
	if ms, err := e.flaps.List(ctx(t), e.app, "region=ord&summary=true"); err != nil || len(ms) == 0 || ms[0].Config != nil {
		t.Fatalf("region+summary: %v", err)
	}
	if _, err := e.flaps.Get(ctx(t), e.app, "00000000000000"); status(err) != 404 || !strings.HasSuffix(err.Error(), "machine not found") {
		t.Fatalf("missing machine: %v", err)
	}
}

func TestFaultInjection(t *testing.T) {
	e := newEnv(t, Options{Scenario: "healthy", Machines: 4, NoRateLimit: true, FaultRate: 1})
	id := e.sim.Machines()[0].ID
	err := e.flaps.Cordon(ctx(t), e.app, id, "")
	if status(err) != 500 || !strings.Contains(err.Error(), "internal: simulated fault") {
		t.Fatalf("fault: %v", err)
	}
	if _, err := e.flaps.Get(ctx(t), e.app, id); err != nil {
		t.Fatalf("reads are not faulted: %v", err)
	}
	if e.sim.Stats().MutationsPerMachine[id] != 0 {
		t.Fatal("a faulted call mutated")
	}
}

func benchList(b *testing.B, n int) {
	e := newEnv(b, Options{Scenario: "majority", Machines: n, NoRateLimit: true, Speed: 1})
	c := context.Background()
	if _, err := e.flaps.List(c, e.app, ""); err != nil { // warm the JSON cache
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ms, err := e.flaps.List(c, e.app, "")
		if err != nil || len(ms) != n {
			b.Fatal(err)
		}
	}
}

func BenchmarkList500(b *testing.B)  { benchList(b, 500) }
func BenchmarkList5000(b *testing.B) { benchList(b, 5000) }

func BenchmarkNew5000(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := New(Options{Machines: 5000}); err != nil {
			b.Fatal(err)
		}
	}
}

// Creates have room for a runbook's scale-back: flyctl's `scale count`
// launches 5 at a time and never retries a 429 on a launch, so a dozen new
// machines in a burst must pass; a runaway loop is still limited.
func TestCreateLimitLetsAScaleBackThrough(t *testing.T) {
	e := newEnv(t, Options{Scenario: "healthy", Machines: 5})
	m, err := e.flaps.Get(ctx(t), e.app, e.sim.Machines()[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	launch := func() error {
		_, err := e.flaps.Launch(ctx(t), e.app, fly.LaunchMachineInput{Config: m.Config, Region: m.Region})
		return err
	}
	for i := range 15 {
		if err := launch(); err != nil {
			t.Fatalf("launch %d of a scale-back: %v", i+1, err)
		}
	}
	limited := false
	for range 30 {
		if status(launch()) == 429 {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("45 launches in a burst were never limited")
	}
}
