package main

import (
	"encoding/json"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

func statusReportOf(t *testing.T, args ...string) statusReport {
	t.Helper()
	r := runCLI(t, append([]string{"status", "-a", "shop", "--json"}, args...)...)
	if r.err != nil {
		t.Fatalf("status: %v\n%s", r.err, r.stderr)
	}
	var rep statusReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	return rep
}

func mustCLI(t *testing.T, args ...string) {
	t.Helper()
	if r := runCLI(t, args...); r.err != nil {
		t.Fatalf("%v: %v\n%s\n%s", args, r.err, r.stdout, r.stderr)
	}
}

// After destroy --force of the stuck machines, the scale-back advice stays
// until each group is back at its count from before the incident; then,
// and only then, the deploy is complete.
func TestStatusScaleBackStaysUntilBaselineThenComplete(t *testing.T) {
	simEnv(t, flysim.Options{App: "shop", Scenario: "stuck", Machines: 100, NoRateLimit: true})
	before := statusReportOf(t)
	if before.Deploy == "complete" {
		t.Fatalf("complete with stuck machines: %s", before.Summary)
	}
	mustCLI(t, "destroy", "-a", "shop", "--select", "stuck", "--force", "--yes")
	after := statusReportOf(t)
	if after.Deploy == "complete" || after.Incident.Done || after.Incident.BaselineFrom != "journal" {
		t.Fatalf("after destroy: deploy %s done %v baseline from %s", after.Deploy, after.Incident.Done, after.Incident.BaselineFrom)
	}
	var groups []string
	for _, a := range after.Advice {
		if a.Action == "scale" {
			if a.Count != before.Incident.Baseline[a.Group] {
				t.Fatalf("scale %s to %d, baseline %d", a.Group, a.Count, before.Incident.Baseline[a.Group])
			}
			groups = append(groups, a.Group)
		}
	}
	if len(groups) == 0 || !strings.Contains(strings.Join(after.Incident.Left, "\n"), "scale back to") {
		t.Fatalf("no scale-back after destroying: advice %+v left %q", after.Advice, after.Incident.Left)
	}
	for _, g := range groups {
		mustCLI(t, "scale", "-a", "shop", g, "--back", "--yes")
	}
	var done statusReport
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if done = statusReportOf(t); done.Deploy == "complete" {
			break
		}
	}
	if done.Deploy != "complete" || !done.Incident.Done || len(done.Incident.Left) != 0 {
		t.Fatalf("back at baseline: deploy %s, left %q", done.Deploy, done.Incident.Left)
	}
}

// After a rollback (whole app, or one region), status proposes nothing on
// the newer image there, and names the rollback as the target's source; a
// second flyrescue with another journal sees it from the machine marks.
func TestStatusFollowsARollback(t *testing.T) {
	for _, tc := range []struct {
		name   string
		region string
	}{{"whole app", ""}, {"one region", "iad"}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := simEnv(t, flysim.Options{App: "shop", Scenario: "bad-release", Machines: 40, NoRateLimit: true})
			args := []string{"rollback", "-a", "shop", "--release", "v61", "--yes", "--skip-health-checks"}
			if tc.region != "" {
				args = append(args, "--region", tc.region)
			}
			mustCLI(t, args...)
			for _, journal := range []struct{ dir, source string }{{"", "rollback"}, {filepath.Join(t.TempDir(), "other"), "metadata"}} {
				var extra []string
				if journal.dir != "" {
					extra = []string{"--journal-dir", journal.dir}
				}
				rep := statusReportOf(t, extra...)
				tg := rep.Incident.Target
				if tc.region != "" {
					tg = rep.Incident.Target.Regions[tc.region]
				}
				if tg.Image != srv.Sim.PreviousImage() || tg.Source != journal.source || tg.Release != "v61" || tg.Since == nil {
					t.Fatalf("journal %q: target %+v", journal.dir, rep.Incident.Target)
				}
				for _, a := range rep.Advice {
					if a.Image != srv.Sim.TargetImage() {
						continue
					}
					for _, id := range a.Machines {
						if m, _ := srv.Sim.Machine(id); tc.region == "" || m.Region == tc.region {
							t.Fatalf("journal %q: advice %s puts %s (%s) back on the newer image: %s", journal.dir, a.Action, id, m.Region, a.Why)
						}
					}
				}
				if rep.Deploy == "complete" && len(rep.Incident.Left) > 0 {
					t.Fatalf("complete with %q left", rep.Incident.Left)
				}
			}
		})
	}
}

// A deploy still running is never complete, whatever the machines show;
// once the simulator's deploy has finished and every machine has settled on
// the target, the verdict reaches complete.
func TestStatusDeployingFleetIsNeverCompleteBeforeSettled(t *testing.T) {
	srv := simEnv(t, flysim.Options{App: "shop", Scenario: "minority", Machines: 20, Deploying: true, NoRateLimit: true, Speed: 20})
	saw := map[string]bool{}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(150 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never complete; verdicts seen: %v; release %s", saw, srv.Sim.Releases()[0].Status)
		}
		// The deploy may end while the report is made: it counts as running
		// for the report only if it ran before and still runs after.
		runningBefore := srv.Sim.Releases()[0].Status == flysim.ReleaseRunning
		rep := statusReportOf(t)
		runningAfter := srv.Sim.Releases()[0].Status == flysim.ReleaseRunning
		running := runningBefore && runningAfter
		settled := true
		for _, m := range srv.Sim.Machines() {
			settled = settled && m.State == "started" && m.ChecksPassing && m.Image == srv.Sim.TargetImage()
		}
		saw[rep.Deploy] = true
		if rep.Deploy == "complete" {
			if runningAfter || !settled {
				t.Fatalf("complete while the deploy runs (%v) or machines have not settled (%v): %s", running, settled, rep.Summary)
			}
			if len(rep.Incident.Left) != 0 {
				t.Fatalf("complete with %q left", rep.Incident.Left)
			}
			break
		}
		if !running {
			continue
		}
		if rep.BadRelease == nil && rep.Deploy != "in_progress" {
			t.Fatalf("a running deploy judged %s: %s", rep.Deploy, rep.Summary)
		}
		var deploy bool
		for _, o := range rep.Incident.Others {
			deploy = deploy || o.Kind == "deploy"
		}
		if !deploy || len(rep.Incident.Left) == 0 {
			t.Fatalf("others %+v left %q", rep.Incident.Others, rep.Incident.Left)
		}
	}
	if !saw["in_progress"] {
		t.Fatalf("verdicts seen: %v", saw)
	}
}

// A healthy fleet with one machine being replaced (by anyone) is not
// complete: the machine is in flight until it has started and passes its
// checks. This is the "demo --machines 20 says COMPLETE with 5 machines
// replacing" report, over the simulator.
func TestStatusNotCompleteWhileMachinesReplacing(t *testing.T) {
	srv := simEnv(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 20, NoRateLimit: true, Speed: 1})
	if rep := statusReportOf(t); rep.Deploy != "complete" {
		t.Fatalf("a healthy fleet is %s: %s", rep.Deploy, rep.Summary)
	}
	var ids []string
	for _, m := range srv.Sim.Machines() {
		if len(ids) < 5 {
			if err := srv.Sim.ChangeOutside(m.ID, srv.Sim.TargetImage()); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, m.ID)
		}
	}
	rep := statusReportOf(t)
	if rep.Deploy == "complete" || rep.Incident.Done {
		t.Fatalf("complete with %v replacing: %s", ids, rep.Summary)
	}
	if rep.Incident.InFlight < 5 || len(rep.Incident.Left) == 0 {
		t.Errorf("in flight %d, left %q: the replacing machines are not counted", rep.Incident.InFlight, rep.Incident.Left)
	}
}

// One reading of the fleet: with the same --stuck-after, `status` and the
// engine's `destroy --select stuck` pick exactly the same machines (before,
// the engine always used 5m whatever the flag or the settings said).
func TestStatusAndEngineAgreeOnStuck(t *testing.T) {
	simEnv(t, flysim.Options{App: "shop", Scenario: "majority", Machines: 100, NoRateLimit: true})
	for _, after := range []string{"5m", "30m", "24h"} {
		rep := statusReportOf(t, "--stuck-after", after)
		r := runCLI(t, "destroy", "-a", "shop", "--select", "stuck", "--force", "--dry-run", "--stuck-after", after)
		var planned []string
		for _, line := range strings.Split(r.stdout, "\n") {
			if f := strings.Fields(line); len(f) > 2 && f[1] == "destroy" && len(f[2]) == 14 {
				planned = append(planned, f[2])
			}
		}
		stuck := append([]string(nil), rep.Stuck...)
		sort.Strings(stuck)
		sort.Strings(planned)
		if strings.Join(stuck, ",") != strings.Join(planned, ",") {
			t.Errorf("--stuck-after %s: status says stuck %v, destroy --select stuck plans %v\n%s", after, stuck, planned, r.stdout)
		}
		t.Logf("--stuck-after %s: %d stuck, %d planned", after, len(stuck), len(planned))
		if after == "5m" && len(stuck) == 0 {
			t.Errorf("the majority scenario has stuck machines at 5m")
		}
	}
}
