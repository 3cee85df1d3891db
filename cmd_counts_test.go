package main

import (
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/flyclient/flysim"
	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
	"github.com/flyrescue/flyrescue/ui"
)

// dashboard drives the real dashboard from a test, as Bubble Tea would:
// keys go through Update, commands run in goroutines against the client,
// their messages come back through Update.
type dashboard struct {
	t    *testing.T
	m    *ui.Model
	msgs chan tea.Msg
}

func newDashboard(t *testing.T, opts ui.Options, width, height int) *dashboard {
	d := &dashboard{t: t, m: ui.New(opts), msgs: make(chan tea.Msg, 1024)}
	d.dispatch(tea.WindowSizeMsg{Width: width, Height: height})
	d.run(d.m.Init())
	t.Cleanup(func() { d.m.Shutdown(5 * time.Second) })
	return d
}

func (d *dashboard) run(cmd tea.Cmd) {
	if cmd != nil {
		go func() { d.msgs <- cmd() }()
	}
}

func (d *dashboard) dispatch(msg tea.Msg) {
	switch msg := msg.(type) {
	case nil, tea.QuitMsg:
	case tea.BatchMsg:
		for _, c := range msg {
			d.run(c)
		}
	default:
		_, cmd := d.m.Update(msg)
		d.run(cmd)
	}
}

func (d *dashboard) screen() string { return ansi.Strip(d.m.View().Content) }

// waitFor handles messages until the screen satisfies cond.
func (d *dashboard) waitFor(what string, cond func(string) bool) string {
	d.t.Helper()
	deadline := time.After(60 * time.Second)
	for s := d.screen(); !cond(s); s = d.screen() {
		select {
		case msg := <-d.msgs:
			d.dispatch(msg)
		case <-deadline:
			d.t.Fatalf("timed out waiting for %s; screen:\n%s", what, s)
		}
	}
	return d.screen()
}

// settledSim waits until no machine is on its way, as the API shows it
// (stuck ones excepted): the fleet then holds still for the comparison.
func settledSim(t *testing.T, client *flyclient.Client) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		survey, err := client.Survey(context.Background(), "shop", flyclient.DefaultLabelEnv)
		if err != nil {
			t.Fatal(err)
		}
		moving := 0
		for _, m := range survey.Machines {
			if model.IsTransitional(m.State) && !model.IsStuckAt(m, survey.At, model.DefaultStuckAfter) {
				moving++
			}
		}
		if moving == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d machines still moving", moving)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func atoiT(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// One fleet and one journal, read by the dashboard and by the command line:
// the header's failed and stuck counts are `status`'s, the group bars add up
// to its failed/stuck total, the banner's step is its first with what that
// step leaves out (a leased machine) and leaves for later (the other
// groups), and the header's interrupted action, the journal pane and `log`
// count its steps in the same words.
func TestCountsAgreeAcrossScreens(t *testing.T) {
	srv := simEnv(t, flysim.Options{App: "shop", Scenario: "majority", Machines: 200, Seed: 5, NoRateLimit: true})
	sim := srv.Sim
	ctx := context.Background()
	client, err := flyclient.New(ctx, flyclient.Config{Token: "sim-token", FlapsBaseURL: srv.URL, APIBaseURL: srv.URL, UserAgent: "flyrescue-test/1"})
	if err != nil {
		t.Fatal(err)
	}
	settledSim(t, client)
	// The stragglers updated, the runbook's first step is a destroy.
	runCLI(t, "update", "-a", "shop", "--yes", "--select", "image:old")
	settledSim(t, client)
	var held string
	for _, mv := range sim.Machines() {
		if mv.Group == "web" && mv.State == "failed" && held == "" {
			held = mv.ID
		}
	}
	if held == "" {
		t.Fatal("the scenario has no failed web machine")
	}
	if err := sim.HoldLease(held, "alice", time.Hour); err != nil {
		t.Fatal(err)
	}

	// An action of the journal interrupted: a cordon cancelled at its
	// first event.
	journal, err := recovery.OpenJournal(os.Getenv("FLYRESCUE_STATE_DIR"), "shop")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = journal.Close() })
	engine := recovery.NewEngine(client, journal, recovery.Options{App: "shop", Concurrency: 1})
	var ids []string
	for _, mv := range sim.Machines() {
		if mv.State == "started" && mv.LeaseOwner == "" && len(ids) < 6 {
			ids = append(ids, mv.ID)
		}
	}
	plan, err := engine.PlanVerb(ctx, recovery.KindCordon, recovery.VerbRequest{Selector: recovery.Selector{MachineIDs: ids}})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	if _, err := engine.Execute(runCtx, plan, func(recovery.Event) { cancel() }); err != nil && runCtx.Err() == nil {
		t.Fatal(err)
	}
	cancel()
	settledSim(t, client)
	recs, _, err := journal.Records()
	if err != nil {
		t.Fatal(err)
	}
	hist := recovery.History(recs)
	cordon := hist[len(hist)-1]
	unfinished := cordon.UnfinishedText()
	if cordon.Action.Kind != recovery.KindCordon || unfinished == "" {
		t.Fatalf("the cordon was not left unfinished: %+v", cordon.Counts())
	}

	status := runCLI(t, "status", "-a", "shop")
	log := runCLI(t, "log", "-a", "shop")
	if status.code != 0 || log.code != 0 {
		t.Fatalf("status exit %d, log exit %d:\n%s%s", status.code, log.code, status.stderr, log.stderr)
	}
	stuckHead := regexp.MustCompile(`Failed/stuck \((\d+): (\d+) failed, (\d+) stuck\):`).FindStringSubmatch(status.stdout)
	first := regexp.MustCompile(`\n  1\. (destroy (\d+) failed/stuck web machines with --force)\n\s+(.*)\n`).FindStringSubmatch(status.stdout)
	if stuckHead == nil || first == nil {
		t.Fatalf("status lacks the failed/stuck count or a first destroy step:\n%s", status.stdout)
	}
	total, failed, stuck := atoiT(t, stuckHead[1]), atoiT(t, stuckHead[2]), atoiT(t, stuckHead[3])
	if failed+stuck != total || !strings.Contains(status.stdout, "States failed "+stuckHead[2]+", stuck "+stuckHead[3]) {
		t.Fatalf("status: %d failed + %d stuck != %d, or its States line says otherwise:\n%s", failed, stuck, total, status.stdout)
	}
	if !strings.Contains(first[3], "left out: 1 leased by alice") {
		t.Errorf("status's destroy does not say it leaves the leased machine out: %q", first[3])
	}

	d := newDashboard(t, ui.Options{App: "shop", API: client, Engine: recovery.NewEngine(client, journal, recovery.Options{App: "shop"}),
		NoColor: true, Refresh: time.Second}, 200, 40)
	// Leases are looked up every few polls; the banner names alice then.
	s := d.waitFor("the banner to name the lease", func(s string) bool { return strings.Contains(s, "leased by alice") })
	lines := strings.Split(s, "\n")
	if !strings.Contains(s, " · failed "+stuckHead[2]+" · stuck "+stuckHead[3]+" · ") {
		t.Errorf("header counts differ from status's failed %s, stuck %s:\n%s", stuckHead[2], stuckHead[3], s)
	}
	bars := 0
	for _, l := range lines {
		if m := regexp.MustCompile(` on target · \d+ ready · (\d+) failed/stuck`).FindStringSubmatch(l); m != nil {
			bars += atoiT(t, m[1])
		}
	}
	banner := regexp.MustCompile(`press f to ` + regexp.QuoteMeta(first[1]) + ` \(1 more is leased by alice; then (\d+) more in [a-z_, ]+\)`).FindStringSubmatch(s)
	if bars != total || banner == nil || atoiT(t, first[2])+1+atoiT(t, banner[1]) != total {
		t.Errorf("status counts %d failed/stuck; the group bars add up to %d; the banner (%v) must say %q and account for all:\n%s",
			total, bars, banner, first[1], s)
	}
	notice := "! action " + recovery.DisplayID(cordon.Action.ID) + " (cordon) was interrupted: " + unfinished + " · R resumes, c dismisses"
	if !strings.Contains(s, notice) || !strings.Contains(log.stdout, "\n    "+unfinished+"\n") {
		t.Errorf("the header and log must both say %q:\n%s\n%s", unfinished, s, log.stdout)
	}

	d.dispatch(tea.KeyPressMsg{Code: 'J', Text: "J"})
	s = d.waitFor("the journal pane", func(s string) bool { return strings.Contains(s, recovery.DisplayID(cordon.Action.ID)+" cordon") })
	counts := recovery.CountsText(cordon.Counts(), recovery.OutcomeOK)
	if !strings.Contains(s, counts) || !strings.Contains(s, unfinished) {
		t.Errorf("the journal pane does not say %q and %q:\n%s", counts, unfinished, s)
	}
	for _, part := range strings.Split(counts, ", ") {
		if !strings.Contains(log.stdout, part) {
			t.Errorf("log does not say %q as the journal pane does:\n%s", part, log.stdout)
		}
	}
}
