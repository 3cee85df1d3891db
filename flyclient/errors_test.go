package flyclient_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

func TestUnauthorized(t *testing.T) {
	srv, err := flysim.Start(flysim.Options{App: "shop", Scenario: "healthy", Machines: 2, Token: "right", NoRateLimit: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := flyclient.New(context.Background(), flyclient.Config{Token: "wrong", FlapsBaseURL: srv.URL, APIBaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.List(ctx(t), "shop", flyclient.ListOptions{})
	if !errors.Is(err, flyclient.ErrUnauthorized) || !strings.Contains(err.Error(), "fly auth login") {
		t.Fatalf("machines API with a wrong token: %v", err)
	}
	if _, err := c.Releases(ctx(t), "shop", 5); !errors.Is(err, flyclient.ErrUnauthorized) {
		t.Fatalf("GraphQL with a wrong token: %v", err)
	}
	good, _ := flyclient.New(context.Background(), flyclient.Config{Token: "FlyV1 right", FlapsBaseURL: srv.URL, APIBaseURL: srv.URL})
	if _, err := good.List(ctx(t), "shop", flyclient.ListOptions{}); err != nil {
		t.Fatalf("right macaroon-style token refused: %v", err)
	}
}

func TestUnknownAppAndMachine(t *testing.T) {
	_, c := startSim(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 2, NoRateLimit: true})
	for name, call := range map[string]func() error{
		"list":     func() error { _, err := c.List(ctx(t), "nope", flyclient.ListOptions{}); return err },
		"releases": func() error { _, err := c.Releases(ctx(t), "nope", 5); return err },
		"app":      func() error { _, err := c.App(ctx(t), "nope"); return err },
		"machine":  func() error { _, err := c.Get(ctx(t), "shop", "0000000000dead"); return err },
	} {
		err := call()
		if !errors.Is(err, flyclient.ErrNotFound) {
			t.Errorf("%s: want not found, got %v", name, err)
		}
	}
	_, err := c.List(ctx(t), "nope", flyclient.ListOptions{})
	if !strings.Contains(err.Error(), "-a/--app") {
		t.Errorf("unknown app error does not say what to do: %v", err)
	}
}

func TestRateLimitedIsTyped(t *testing.T) {
	srv, c := startSim(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 2})
	id := srv.Sim.Machines()[0].ID
	var limited error
	for i := 0; i < 30 && limited == nil; i++ {
		if _, err := c.Get(ctx(t), "shop", id); errors.Is(err, flyclient.ErrRateLimited) {
			limited = err
		}
	}
	if limited == nil || !flyclient.IsTransient(limited) {
		t.Fatalf("30 quick gets were never rate limited (get allows 5/s, burst 10): %v", limited)
	}
	if srv.Sim.Stats().RateLimited == 0 {
		t.Fatal("simulator counted no 429")
	}
}

func TestServerFaultIsTransient(t *testing.T) {
	srv, c := startSim(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 2, NoRateLimit: true, FaultRate: 1})
	err := c.Restart(ctx(t), "shop", srv.Sim.Machines()[0].ID, "", false)
	if !errors.Is(err, flyclient.ErrServer) || !flyclient.IsTransient(err) {
		t.Fatalf("injected 500: %v", err)
	}
	// Reads are not faulted: the dashboard must keep seeing the fleet.
	if _, err := c.List(ctx(t), "shop", flyclient.ListOptions{}); err != nil {
		t.Fatalf("list under mutation faults: %v", err)
	}
}

func TestReleasesNewestFirst(t *testing.T) {
	srv, c := startSim(t, flysim.Options{App: "shop", Scenario: "total-failure", Machines: 20, NoRateLimit: true})
	rs, err := c.Releases(ctx(t), "shop", 25)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) < 2 || rs[0].Image != srv.Sim.TargetImage() || rs[1].Image != srv.Sim.PreviousImage() {
		t.Fatalf("releases %+v", rs)
	}
	for i := 1; i < len(rs); i++ {
		if rs[i].Version >= rs[i-1].Version || rs[i].CreatedAt.IsZero() {
			t.Fatalf("releases out of order or without dates: %+v", rs)
		}
	}
	cur, err := c.CurrentRelease(ctx(t), "shop")
	if err != nil || cur.Image == "" {
		t.Fatalf("current release %+v, %v", cur, err)
	}
}

func TestSurvey(t *testing.T) {
	srv, c := startSim(t, flysim.Options{App: "shop", Scenario: "majority", Machines: 50, NoRateLimit: true})
	s, err := c.Survey(ctx(t), "shop", "")
	if err != nil || s.ReleasesErr != nil {
		t.Fatalf("survey: %v / %v", err, s.ReleasesErr)
	}
	if len(s.Machines) == 0 || len(s.Releases) == 0 || s.Releases[0].Image != srv.Sim.TargetImage() {
		t.Fatalf("survey %d machines %d releases", len(s.Machines), len(s.Releases))
	}
}
