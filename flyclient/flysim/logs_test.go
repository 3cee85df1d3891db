package flysim

import (
	"fmt"
	"strings"
	"testing"

	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/tokens"
)

// logsClient is fly-go's client as flyctl uses it for `fly logs`: its
// GetAppLogs builds the URL from fly-go's package-level base URL, which
// the loopback transport re-aims at this sim.
func logsClient(e *env) *fly.Client {
	return fly.NewClientFromOptions(fly.ClientOptions{Tokens: tokens.Parse("t"), Name: "flyctl", Version: "test",
		Transport: &fly.Transport{UnderlyingTransport: loopback{host: e.srv.URL[len("http://"):]}}})
}

// The newest page first, then forward with next_token: every line once,
// in order, nothing more until something happens.
func TestLogsPaging(t *testing.T) {
	// healthy: nothing changes while the test pages.
	e := newEnv(t, Options{Scenario: "healthy", Machines: 60, NoRateLimit: true})
	c := logsClient(e)
	all := e.sim.Logs("")
	if len(all) < 3*logPage {
		t.Fatalf("only %d lines for 60 machines", len(all))
	}
	newest, token, err := c.GetAppLogs(ctx(t), e.app, "", "", "")
	if err != nil || len(newest) != logPage || token == "" {
		t.Fatalf("first page: %d lines, token %q, %v", len(newest), token, err)
	}
	for i, l := range newest {
		want := all[len(all)-logPage+i]
		if l.Message != want.Message || l.Instance != want.Instance || l.Meta.Event.Provider != want.Provider {
			t.Fatalf("newest page line %d: %+v, want %+v", i, l, want)
		}
	}
	if more, next, err := c.GetAppLogs(ctx(t), e.app, token, "", ""); err != nil || len(more) != 0 || next != token {
		t.Fatalf("after the newest page: %d lines, token %q, %v", len(more), next, err)
	}
	// From the start, page by page.
	var read []fly.LogEntry
	for tok := "0"; ; {
		page, next, err := c.GetAppLogs(ctx(t), e.app, tok, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		read, tok = append(read, page...), next
	}
	if len(read) != len(all) || read[0].Message != all[0].Message || read[len(read)-1].Timestamp != newest[len(newest)-1].Timestamp {
		t.Fatalf("paged through %d lines, the sim has %d", len(read), len(all))
	}
	if code, _ := raw(t, e, "GET", "/api/v1/apps/"+e.app+"/logs?next_token=soon", "t"); code != 400 {
		t.Fatalf("bad token: %d", code)
	}
	if _, _, err := c.GetAppLogs(ctx(t), "nope", "", "", ""); !fly.IsNotFoundError(err) {
		t.Fatalf("unknown app: %v", err)
	}
}

// Filters: instance (a machine ID, `fly logs -i`) and region (`-r`).
func TestLogsFilters(t *testing.T) {
	e := newEnv(t, Options{Scenario: "minority", Machines: 60, NoRateLimit: true})
	c := logsClient(e)
	m := firstWhere(t, e.sim, func(m MachineView) bool { return m.Image == e.sim.TargetImage() })
	lines, _, err := c.GetAppLogs(ctx(t), e.app, "", "", m.ID)
	if err != nil || len(lines) == 0 || len(lines) != len(e.sim.Logs(m.ID)) {
		t.Fatalf("instance %s: %d lines (sim %d), %v", m.ID, len(lines), len(e.sim.Logs(m.ID)), err)
	}
	for _, l := range lines {
		if l.Instance != m.ID || l.Region != m.Region || l.Meta.Instance != m.ID {
			t.Fatalf("instance filter let through %+v", l)
		}
	}
	lines, _, err = c.GetAppLogs(ctx(t), e.app, "", "lhr", "")
	if err != nil || len(lines) == 0 {
		t.Fatalf("region: %v", err)
	}
	for _, l := range lines {
		if l.Region != "lhr" {
			t.Fatalf("region filter let through %+v", l)
		}
	}
	if lines, _, err := c.GetAppLogs(ctx(t), e.app, "", "", "00000000000000"); err != nil || len(lines) != 0 {
		t.Fatalf("unknown machine: %d lines, %v", len(lines), err)
	}
}

// Each machine's lines tell its story: the scenario's failed machines
// crash-looped (the exit codes of their events), a bad release's health
// checks fail, quieted workers say so; an update that happens now is
// followed line by line after the token.
func TestLogsTellEachMachinesStory(t *testing.T) {
	e := newEnv(t, Options{Scenario: "majority", Machines: 100, NoRateLimit: true})
	c := logsClient(e)
	failed := firstWhere(t, e.sim, func(m MachineView) bool { return m.State == "failed" })
	fm, _ := e.flaps.Get(ctx(t), e.app, failed.ID)
	code := exitEvents(t, fm)[0].Request.ExitEvent.ExitCode
	story := e.sim.Logs(failed.ID)
	want := fmt.Sprintf("Main child exited normally with code: %d", code)
	if code == 137 {
		want = "Process appears to have been OOM killed!"
	}
	if !logged(story, want) || !logged(story, "machine has reached its max restart count of 10") || !logged(story, "restarting (restart 3 of 10)") {
		t.Fatalf("failed machine (exit %d): %+v", code, story)
	}
	quiet := firstWhere(t, e.sim, func(m MachineView) bool { return m.Group == "worker" && m.Image == e.sim.PreviousImage() })
	if !logged(e.sim.Logs(quiet.ID), "Received TSTP") {
		t.Fatalf("previous-release worker not quieted by the release command: %+v", e.sim.Logs(quiet.ID))
	}

	bad := newEnv(t, Options{Scenario: "bad-release", Machines: 30, NoRateLimit: true})
	onTarget := firstWhere(t, bad.sim, func(m MachineView) bool { return m.Image == bad.sim.TargetImage() })
	if l := bad.sim.Logs(onTarget.ID); !logged(l, "Health check on port 8080 has failed") || !logged(l, "Pulling container image "+bad.sim.TargetImage()) {
		t.Fatalf("bad release machine: %+v", l)
	}

	m := firstWhere(t, e.sim, func(m MachineView) bool {
		return m.State == "started" && m.LeaseOwner == "" && m.Image == e.sim.PreviousImage()
	})
	_, token, err := c.GetAppLogs(ctx(t), e.app, "", "", m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := updateTo(t, e, m.ID, e.sim.TargetImage(), ""); err != nil {
		t.Fatal(err)
	}
	var after []string
	waitFor(t, func() bool {
		lines, next, err := c.GetAppLogs(ctx(t), e.app, token, "", m.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			after = append(after, l.Message)
		}
		token = next
		return strings.Contains(strings.Join(after, "\n"), "Health check on port 8080 is now passing.")
	})
	got := strings.Join(after, "\n")
	for _, w := range []string{"Sending signal SIGINT", "Pulling container image " + e.sim.TargetImage(), "Starting init", "Preparing to run: `"} {
		if !strings.Contains(got, w) {
			t.Fatalf("update of %s: no %q in\n%s", m.ID, w, got)
		}
	}
}
