package flyclient_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

// startSim runs a simulator on loopback and a real client aimed at it.
func startSim(t testing.TB, opts flysim.Options) (*flysim.Server, *flyclient.Client) {
	t.Helper()
	if opts.Speed == 0 {
		opts.Speed = 500
	}
	srv, err := flysim.Start(opts)
	if err != nil {
		t.Fatalf("start sim: %v", err)
	}
	t.Cleanup(srv.Close)
	c, err := flyclient.New(context.Background(), flyclient.Config{
		Token: "test-token", FlapsBaseURL: srv.URL, APIBaseURL: srv.URL, UserAgent: "flyrescue/test",
	})
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	return srv, c
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// firstInState returns a machine the simulator has in state.
func firstInState(t testing.TB, sim *flysim.Sim, state string) flysim.MachineView {
	t.Helper()
	for _, m := range sim.Machines() {
		if m.State == state && !m.Destroyed && m.LeaseOwner == "" {
			return m
		}
	}
	t.Fatalf("no unleased machine in state %s", state)
	return flysim.MachineView{}
}

func TestListGetAndConvert(t *testing.T) {
	srv, c := startSim(t, flysim.Options{App: "shop", Scenario: "majority", Machines: 80, NoRateLimit: true})
	ms, err := c.List(ctx(t), "shop", flyclient.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	live := 0
	for _, m := range srv.Sim.Machines() {
		if !m.Destroyed {
			live++
		}
	}
	if len(ms) != live {
		t.Fatalf("listed %d machines, sim has %d", len(ms), live)
	}
	view := srv.Sim.Machines()[0]
	m, err := c.Get(ctx(t), "shop", view.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := flyclient.ToModel(m, "")
	if got.ID != view.ID || got.Group != view.Group || got.Region != view.Region || got.Image != view.Image || got.InstanceID != view.InstanceID {
		t.Fatalf("converted %+v, sim says %+v", got, view)
	}
	if got.ReleaseLabel == "" || got.ReleaseLabel != view.Env["RELEASE_LABEL"] {
		t.Fatalf("release label %q, env %q", got.ReleaseLabel, view.Env["RELEASE_LABEL"])
	}
	if got.ReleaseVersion == 0 || got.ImageTag == "" || got.StateSince.IsZero() {
		t.Fatalf("missing release version, tag or state time: %+v", got)
	}
}

func TestListFiltersByRegionAndState(t *testing.T) {
	srv, c := startSim(t, flysim.Options{App: "shop", Scenario: "majority", Machines: 60, NoRateLimit: true})
	region := srv.Sim.Machines()[0].Region
	ms, err := c.List(ctx(t), "shop", flyclient.ListOptions{Region: region, States: []string{"started"}})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, v := range srv.Sim.Machines() {
		if v.Region == region && v.State == "started" && !v.Destroyed {
			want++
		}
	}
	if len(ms) != want || want == 0 {
		t.Fatalf("listed %d, want %d", len(ms), want)
	}
	for _, m := range ms {
		if m.Region != region || m.State != "started" {
			t.Fatalf("filter leaked %s in %s/%s", m.ID, m.Region, m.State)
		}
	}
}

// Two simulators in one process must not see each other's traffic: the base
// URL is per client, not per process.
func TestTwoClientsTwoSimulators(t *testing.T) {
	a, ca := startSim(t, flysim.Options{App: "alpha", Scenario: "healthy", Machines: 5, NoRateLimit: true})
	b, cb := startSim(t, flysim.Options{App: "beta", Scenario: "healthy", Machines: 9, NoRateLimit: true})
	la, err := ca.List(ctx(t), "alpha", flyclient.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lb, err := cb.List(ctx(t), "beta", flyclient.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(la) != 5 || len(lb) != 9 || a.URL == b.URL {
		t.Fatalf("got %d and %d machines from %s and %s", len(la), len(lb), a.URL, b.URL)
	}
	if _, err := ca.List(ctx(t), "beta", flyclient.ListOptions{}); !errors.Is(err, flyclient.ErrNotFound) {
		t.Fatalf("alpha's simulator answered for beta: %v", err)
	}
}

func TestEnvironmentBaseURL(t *testing.T) {
	srv, _ := startSim(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 3, NoRateLimit: true})
	t.Setenv("FLY_FLAPS_BASE_URL", srv.URL)
	t.Setenv("FLY_API_BASE_URL", srv.URL)
	c, err := flyclient.New(context.Background(), flyclient.Config{Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if c.FlapsURL() != srv.URL || c.APIURL() != srv.URL {
		t.Fatalf("urls %s %s, want %s", c.FlapsURL(), c.APIURL(), srv.URL)
	}
	if ms, err := c.List(ctx(t), "shop", flyclient.ListOptions{}); err != nil || len(ms) != 3 {
		t.Fatalf("list via env: %d, %v", len(ms), err)
	}
	if _, err := c.Releases(ctx(t), "shop", 5); err != nil {
		t.Fatalf("releases via env: %v", err)
	}
}

func TestNewRejectsEmptyTokenAndBadURL(t *testing.T) {
	if _, err := flyclient.New(context.Background(), flyclient.Config{Token: " "}); err == nil {
		t.Fatal("empty token accepted")
	}
	if _, err := flyclient.New(context.Background(), flyclient.Config{Token: "t", FlapsBaseURL: "not a url"}); err == nil {
		t.Fatal("bad base URL accepted")
	}
}

// TestLeaseDescription: the lease's description (what the holder is doing)
// reaches the operator, though fly-go v0.9.3 drops it: FindLease and the
// error of a refused AcquireLease both carry it.
func TestLeaseDescription(t *testing.T) {
	srv, c := startSim(t, flysim.Options{Scenario: "minority", Machines: 20, NoRateLimit: true})
	ctx := context.Background()
	ids, err := srv.Sim.HoldLeases(flysim.HeldLease{Owner: "alice@example.com", Description: "alice: rolling web back by hand", TTL: time.Hour})
	if err != nil || len(ids) != 1 {
		t.Fatalf("hold: %v %v", ids, err)
	}
	l, err := c.FindLease(ctx, srv.Sim.App(), ids[0])
	if err != nil || l == nil || l.Owner != "alice@example.com" || l.Description != "alice: rolling web back by hand" {
		t.Fatalf("FindLease: %+v, %v", l, err)
	}
	_, err = c.AcquireLease(ctx, srv.Sim.App(), ids[0], 10*time.Second)
	if !errors.Is(err, flyclient.ErrLeaseHeld) || !strings.Contains(err.Error(), "alice: rolling web back by hand") {
		t.Fatalf("AcquireLease: %v", err)
	}
	// No lease: nil, not an error.
	var free string
	for _, m := range srv.Sim.Machines() {
		if m.LeaseOwner == "" {
			free = m.ID
			break
		}
	}
	if l, err := c.FindLease(ctx, srv.Sim.App(), free); err != nil || l != nil {
		t.Fatalf("FindLease on a free machine: %+v, %v", l, err)
	}
	if _, err := c.FindLease(ctx, srv.Sim.App(), "nosuchmachine00"); !errors.Is(err, flyclient.ErrNotFound) {
		t.Fatalf("FindLease on a missing machine: %v", err)
	}
}

// TestDescribedLeaseIsAdopted: flyrescue's leases say whose action holds
// them; a second acquire with the same description (a retry after a lost
// answer) adopts the lease instead of waiting out its TTL, and one with
// another description is refused, naming the holder's.
func TestDescribedLeaseIsAdopted(t *testing.T) {
	srv, c := startSim(t, flysim.Options{Scenario: "healthy", Machines: 3, NoRateLimit: true})
	ctx := context.Background()
	id := srv.Sim.Machines()[0].ID
	const ours = "flyrescue 20261129T190000-abcdef by alice"
	l, err := c.AcquireLeaseAs(ctx, srv.Sim.App(), id, 10*time.Second, ours)
	if err != nil || l.Nonce == "" || l.Description != ours {
		t.Fatalf("acquire: %+v, %v", l, err)
	}
	if v, _ := srv.Sim.Machine(id); v.LeaseDescription != ours {
		t.Fatalf("the sim holds description %q", v.LeaseDescription)
	}
	again, err := c.AcquireLeaseAs(ctx, srv.Sim.App(), id, 10*time.Second, ours)
	if err != nil || again.Nonce != l.Nonce {
		t.Fatalf("adopt: %+v, %v (want nonce %s)", again, err, l.Nonce)
	}
	_, err = c.AcquireLeaseAs(ctx, srv.Sim.App(), id, 10*time.Second, "flyrescue 20261129T190001-000000 by bob")
	if !errors.Is(err, flyclient.ErrLeaseHeld) || !strings.Contains(err.Error(), ours) {
		t.Fatalf("another action: %v", err)
	}
	if err := c.ReleaseLease(ctx, srv.Sim.App(), id, l.Nonce); err != nil {
		t.Fatal(err)
	}
}

// TestMutationsAreNotResentOn503: fly-go's transport retries a 503 for any
// method; a proxy may answer 503 after the change was made. flyclient lets
// a mutation go out once (the engine decides from a fresh read), while a
// read is still retried.
func TestMutationsAreNotResentOn503(t *testing.T) {
	var posts, gets atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			posts.Add(1)
		} else {
			gets.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error":"upstream unavailable"}`))
	}))
	defer srv.Close()
	c, err := flyclient.New(context.Background(), flyclient.Config{Token: "t0ken-for-test", FlapsBaseURL: srv.URL, APIBaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	bg := context.Background()
	for name, send := range map[string]func() error{
		"restart":  func() error { return c.Restart(bg, "shop", "m1", "", false) },
		"suspend":  func() error { return c.Suspend(bg, "shop", "m1", "") },
		"cordon":   func() error { return c.Cordon(bg, "shop", "m1", "") },
		"uncordon": func() error { return c.Uncordon(bg, "shop", "m1", "") },
	} {
		posts.Store(0)
		if err := send(); !flyclient.IsTransient(err) {
			t.Errorf("%s answered 503: %v, want a transient (may-have-happened) error", name, err)
		}
		if n := posts.Load(); n != 1 {
			t.Errorf("the %s was sent %d times, want once", name, n)
		}
	}
	_, _ = c.Get(context.Background(), "shop", "m1")
	if n := gets.Load(); n < 2 {
		t.Errorf("a read was sent %d times: reads may still be retried", n)
	}
}
