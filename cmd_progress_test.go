package main

import (
	"encoding/json"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
	"github.com/flyrescue/flyrescue/recovery"
)

// stickTwo makes two started machines never finish a change, so a restart
// fails them after its wait, and returns their IDs.
func stickTwo(t *testing.T, srv *flysim.Server) []string {
	t.Helper()
	ids := startedIDs(srv, 2)
	if len(ids) != 2 {
		t.Fatalf("only %d started machines", len(ids))
	}
	for _, id := range ids {
		srv.Sim.SetMachineFault(id, flysim.FaultStuck)
	}
	return ids
}

// restartAll restarts the whole 40-machine app; two machines stuck, a short
// wait, and a breaker that does not trip on two failures, so the run ends
// with 38 done and 2 failed.
func restartAll(t *testing.T, extra ...string) (cliResult, []string) {
	t.Helper()
	srv := simEnv(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 40, NoRateLimit: true})
	stuck := stickTwo(t, srv)
	r := runCLI(t, append([]string{"restart", "-a", "shop", "--all", "--yes", "--wait-timeout", "2s", "--halt-after", "5"}, extra...)...)
	if r.code != exitActionFailed {
		t.Fatalf("exit %d, want %d: %v\n%s", r.code, exitActionFailed, r.err, r.stdout)
	}
	return r, stuck
}

// forceTerminal makes the command line treat its output as a terminal.
func forceTerminal(t *testing.T) {
	prev := outputIsTerminal
	outputIsTerminal = func(io.Writer) bool { return true }
	t.Cleanup(func() { outputIsTerminal = prev })
}

var elapsedRE = regexp.MustCompile(` in ([0-9hms.]+)\. Journal`)

// mostSummaries is how many progress lines a run of tenths tenths may
// print in a pipe: one per tenth, and one per plainEvery of its elapsed
// time (read from its summary line).
func mostSummaries(t *testing.T, out string, tenths int) int {
	t.Helper()
	m := elapsedRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no elapsed time in the summary:\n%s", out)
	}
	elapsed, err := time.ParseDuration(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return tenths + int(elapsed/plainEvery) + 1
}

// Without a terminal, 40 machines do not make 40 lines: a summary at each
// tenth of the run (or every few seconds), every failure, and the end.
func TestRestartWithoutTerminalPrintsSummariesAndFailures(t *testing.T) {
	r, stuck := restartAll(t)
	if strings.ContainsAny(r.stdout, "\r\x1b") {
		t.Fatalf("control sequences in output that is not a terminal: %q", r.stdout)
	}
	_, run, ok := strings.Cut(r.stdout, "note: a restart cannot be undone\n")
	if !ok {
		t.Fatalf("no plan before the run:\n%s", r.stdout)
	}
	lines := strings.Split(strings.TrimSpace(run), "\n")
	var summaries, failures int
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "progress    ") && strings.Contains(l, "/40 done"):
			summaries++
		case strings.HasPrefix(l, "failed      "):
			failures++
		case strings.HasPrefix(l, "done"):
			t.Errorf("a line per machine done: %q", l)
		}
	}
	for _, id := range stuck {
		if !regexp.MustCompile(`(?m)^failed +` + id + ` +restart +machine is restarting`).MatchString(run) {
			t.Errorf("no failure line for %s:\n%s", id, run)
		}
	}
	if !strings.Contains(lines[len(lines)-1], "restart shop: 38 ok, 2 failed, 0 skipped, 0 interrupted") {
		t.Fatalf("no final summary:\n%s", run)
	}
	// The tenth of the end is the final summary's.
	most := mostSummaries(t, run, 9)
	if summaries == 0 || summaries > most || failures != 2 || len(lines) != summaries+failures+1 {
		t.Errorf("%d summaries (at most %d), %d failures, %d lines for 40 machines:\n%s", summaries, most, failures, len(lines), run)
	}
}

// screen is what a terminal shows after out: each carriage return and
// erase-line wipes the line it is on.
func screen(out string) []string {
	var shown []string
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if i := strings.LastIndex(l, "\r"+ansi.EraseLineRight); i >= 0 {
			l = l[i+len("\r"+ansi.EraseLineRight):]
		}
		if l != "" {
			shown = append(shown, l)
		}
	}
	return shown
}

// On a terminal the run is one line redrawn in place (a bar and the
// figures), the failures are printed above it and stay, and at the end the
// line gives way to the summary. NO_COLOR leaves the bar without colour.
func TestRestartOnTerminalRedrawsOneLine(t *testing.T) {
	for _, noColor := range []bool{false, true} {
		t.Run(map[bool]string{false: "colour", true: "NO_COLOR"}[noColor], func(t *testing.T) {
			forceTerminal(t)
			t.Setenv("NO_COLOR", map[bool]string{false: "", true: "1"}[noColor])
			r, stuck := restartAll(t)
			redraws := strings.Count(r.stdout, "\r"+ansi.EraseLineRight)
			if redraws < 2 || !strings.Contains(r.stdout, "/40 done · ") || !strings.Contains(r.stdout, "in flight") || !strings.ContainsRune(r.stdout, '█') {
				t.Fatalf("%d redraws, figures or bar missing: %q", redraws, r.stdout)
			}
			if sgr := strings.Contains(r.stdout, "\x1b[38;"); sgr == noColor {
				t.Errorf("NO_COLOR=%v, coloured bar %v: %q", noColor, sgr, r.stdout)
			}
			shown := strings.Join(screen(r.stdout), "\n")
			_, run, _ := strings.Cut(shown, "note: a restart cannot be undone\n")
			lines := strings.Split(run, "\n")
			if len(lines) != 3 || !strings.HasPrefix(lines[2], "restart shop: 38 ok, 2 failed") {
				t.Fatalf("the screen after the run:\n%s", run)
			}
			for i, id := range stuck {
				if !strings.Contains(run, id) || !strings.HasPrefix(lines[0], "failed ") || !strings.HasPrefix(lines[i], "failed ") {
					t.Errorf("failure of %s not kept on screen:\n%s", id, run)
				}
			}
		})
	}
}

// jsonLine is any object of the --json stream.
type jsonLine struct {
	Type      string         `json:"type"`
	Seq       int            `json:"seq"`
	MachineID string         `json:"machine_id"`
	Phase     recovery.Phase `json:"phase"`
	Reason    string         `json:"reason"`
	Figures   jsonFigures    `json:"figures"`
	// the result's
	OK, Failed, Skipped, Halted, Interrupted int
	DisplayID                                string `json:"display_id"`
	Machines                                 []logMachine
}

// --json streams the run: every stdout line is one JSON object, one event
// per change of a step's phase with the figures, then the result, whose
// counts are what the simulator shows.
func TestRestartJSONStreamsEvents(t *testing.T) {
	srv := simEnv(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 40, NoRateLimit: true})
	stuck := stickTwo(t, srv)
	forceTerminal(t) // --json wins over a terminal
	r := runCLI(t, "restart", "-a", "shop", "--all", "--yes", "--wait-timeout", "2s", "--halt-after", "5", "--json")
	if r.code != exitActionFailed || !strings.Contains(r.stderr, "Plan ") || !strings.Contains(r.stderr, "Error: 2 of 40 machines failed") {
		t.Fatalf("exit %d: %v\nstderr:\n%s", r.code, r.err, r.stderr)
	}
	var objs []jsonLine
	for i, l := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		var o jsonLine
		if err := json.Unmarshal([]byte(l), &o); err != nil {
			t.Fatalf("line %d is not JSON: %v: %q", i+1, err, l)
		}
		objs = append(objs, o)
	}
	res := objs[len(objs)-1]
	if res.Type != "result" || res.OK != 38 || res.Failed != 2 || res.Figures.Done != 38 || res.Figures.Failed != 2 || len(res.Machines) != 40 {
		t.Fatalf("last object: %+v", res)
	}
	phases := map[int][]jsonLine{}
	for _, o := range objs[:len(objs)-1] {
		if o.Type != "event" || o.Figures.Total != 40 || o.Figures.Text == "" {
			t.Fatalf("not an event with figures: %+v", o)
		}
		if o.Seq == 0 {
			continue
		}
		seen := phases[o.Seq]
		if n := len(seen); n > 0 && seen[n-1].Phase == o.Phase && seen[n-1].Reason == o.Reason {
			t.Errorf("step %d: %s twice in a row", o.Seq, o.Phase)
		}
		phases[o.Seq] = append(seen, o)
	}
	if len(phases) != 40 {
		t.Fatalf("events for %d steps, want 40", len(phases))
	}
	outcome := map[recovery.Phase]recovery.Outcome{recovery.PhaseDone: recovery.OutcomeOK, recovery.PhaseFailed: recovery.OutcomeFailed}
	live := map[string]flysim.MachineView{}
	for _, m := range srv.Sim.Machines() {
		live[m.ID] = m
	}
	restarted := srv.Sim.Stats().MutationsPerMachine
	for _, m := range res.Machines {
		evs := phases[m.Seq]
		first, last := evs[0], evs[len(evs)-1]
		if first.Phase != recovery.PhaseQueued || outcome[last.Phase] != m.Outcome || len(evs) < 4 {
			t.Errorf("step %d (%s): phases %v, outcome %s", m.Seq, m.ID, evs, m.Outcome)
		}
		sim := live[m.ID]
		wantOK := sim.Fault != flysim.FaultStuck && sim.State == "started" && restarted[m.ID] == 1
		if (m.Outcome == recovery.OutcomeOK) != wantOK {
			t.Errorf("%s: outcome %s, but the simulator shows it %s after %d restarts", m.ID, m.Outcome, sim.State, restarted[m.ID])
		}
	}
	for _, id := range stuck {
		if live[id].State == "started" {
			t.Errorf("stuck %s started", id)
		}
	}
}

// A run that halts says so once per group, keeps every failure, and does
// not list (or count tenths by) the steps the halt left untouched.
func TestHaltWithoutTerminalSaysItOnce(t *testing.T) {
	srv := simEnv(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 40, NoRateLimit: true})
	const image = "registry.fly.io/shop:v63"
	srv.Sim.SetImageBehavior(image, flysim.ImageFailsChecks)
	r := runCLI(t, "update", "-a", "shop", "--yes", "--wait-timeout", "2s", "--image", image)
	if r.code != exitActionFailed || !strings.Contains(r.err.Error(), "halted ") {
		t.Fatalf("exit %d: %v\n%s", r.code, r.err, r.stdout)
	}
	m := regexp.MustCompile(`update shop: 0 ok, (\d+) failed, 0 skipped, 0 interrupted, (\d+) halted`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no summary:\n%s", r.stdout)
	}
	failed := regexp.MustCompile(`(?m)^failed +\S+ +update +health checks not passing`).FindAllString(r.stdout, -1)
	halts := regexp.MustCompile(`(?m)^HALTED +halted (web|worker|worker_autoscale): `).FindAllString(r.stdout, -1)
	if strconv.Itoa(len(failed)) != m[1] || len(halts) != 3 {
		t.Errorf("%d failure lines for %s failed, %d HALTED lines for 3 groups:\n%s", len(failed), m[1], len(halts), r.stdout)
	}
	if regexp.MustCompile(`(?m)^halted `).MatchString(r.stdout) || strings.Count(r.stdout, "\nprogress ") > mostSummaries(t, r.stdout, 1) {
		t.Errorf("halted steps listed or summed up one by one:\n%s", r.stdout)
	}
}
