package flyclient_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

// fly-go's GetAppLogs builds its URL from a package-level base URL; two
// clients in one process still read each from its own simulator.
func TestLogsTwoSimsEachClientReadsItsOwn(t *testing.T) {
	srvA, a := startSim(t, flysim.Options{Scenario: "majority", Machines: 30, Seed: 1, NoRateLimit: true})
	srvB, b := startSim(t, flysim.Options{Scenario: "majority", Machines: 30, Seed: 2, NoRateLimit: true})
	for _, c := range []struct {
		name   string
		client *flyclient.Client
		own    *flysim.Sim
	}{{"A", a, srvA.Sim}, {"B", b, srvB.Sim}} {
		ids := map[string]bool{}
		for _, m := range c.own.Machines() {
			ids[m.ID] = true
		}
		page, err := c.client.Logs(ctx(t), c.own.App(), flyclient.LogsOptions{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(page.Entries) == 0 || page.NextToken == "" {
			t.Fatalf("%s: %d entries, token %q", c.name, len(page.Entries), page.NextToken)
		}
		for _, e := range page.Entries {
			if !ids[e.Instance] {
				t.Fatalf("%s read a line of machine %s, not one of its sim's: %+v", c.name, e.Instance, e)
			}
		}
	}
}

// Following one machine: its story so far, then only what came after, as
// it changes; nothing (and the same token) when nothing happened.
func TestLogsFollowOneMachine(t *testing.T) {
	srv, c := startSim(t, flysim.Options{Scenario: "healthy", Machines: 12, NoRateLimit: true})
	app := srv.Sim.App()
	m := firstInState(t, srv.Sim, "started")
	page, err := c.Logs(ctx(t), app, flyclient.LogsOptions{Instance: m.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) == 0 {
		t.Fatal("a started machine has no log lines")
	}
	for _, e := range page.Entries {
		if e.Instance != m.ID || e.Region != m.Region || e.Time.IsZero() || e.Level == "" || e.Provider == "" {
			t.Fatalf("entry %+v (want machine %s in %s)", e, m.ID, m.Region)
		}
	}
	if err := c.Stop(ctx(t), app, m.ID, "", 0); err != nil {
		t.Fatal(err)
	}
	var after []flyclient.LogEntry
	token := page.NextToken
	deadline := time.Now().Add(10 * time.Second)
	for !hasMessage(after, "Main child exited normally with code: 0") {
		if time.Now().After(deadline) {
			t.Fatalf("the stop never reached the logs; read %+v", after)
		}
		next, err := c.Logs(ctx(t), app, flyclient.LogsOptions{Instance: m.ID, Token: token})
		if err != nil {
			t.Fatal(err)
		}
		after, token = append(after, next.Entries...), next.NextToken
		time.Sleep(10 * time.Millisecond)
	}
	if !hasMessage(after, "Sending signal SIGINT") || hasMessage(after, "Starting init") {
		t.Fatalf("after the token: %+v", after)
	}
	quiet, err := c.Logs(ctx(t), app, flyclient.LogsOptions{Instance: m.ID, Token: token})
	if err != nil || len(quiet.Entries) != 0 || quiet.NextToken != token {
		t.Fatalf("nothing happened: %+v %v (token %q)", quiet, err, token)
	}
}

func TestLogsRegionFilterAndErrors(t *testing.T) {
	srv, c := startSim(t, flysim.Options{Scenario: "minority", Machines: 40, Token: "test-token", NoRateLimit: true})
	page, err := c.Logs(ctx(t), srv.Sim.App(), flyclient.LogsOptions{Region: "syd"})
	if err != nil || len(page.Entries) == 0 {
		t.Fatalf("syd: %v %v", page, err)
	}
	for _, e := range page.Entries {
		if e.Region != "syd" {
			t.Fatalf("region filter let through %+v", e)
		}
	}
	if _, err := c.Logs(ctx(t), "nope", flyclient.LogsOptions{}); !errors.Is(err, flyclient.ErrNotFound) ||
		!strings.Contains(err.Error(), "check -a/--app") {
		t.Fatalf("unknown app: %v", err)
	}
	wrong, err := flyclient.New(context.Background(), flyclient.Config{Token: "wrong", FlapsBaseURL: srv.URL, APIBaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.Logs(ctx(t), srv.Sim.App(), flyclient.LogsOptions{}); !errors.Is(err, flyclient.ErrUnauthorized) {
		t.Fatalf("wrong token: %v", err)
	}
}

func hasMessage(es []flyclient.LogEntry, part string) bool {
	for _, e := range es {
		if strings.Contains(e.Message, part) {
			return true
		}
	}
	return false
}
