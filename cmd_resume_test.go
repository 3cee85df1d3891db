package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
	"github.com/flyrescue/flyrescue/recovery"
)

// interruptedStop stops two started machines of app through the command
// line, then rewrites the journal as a process killed mid-run would have
// left it: the first step has its intent but no outcome (the stop landed),
// the second has neither (never begun). It returns the journal's path.
func interruptedStop(t *testing.T, srv *flysim.Server, app string) string {
	t.Helper()
	return interruptedRun(t, srv, app, "stop")
}

// interruptedRun is interruptedStop for any verb command acting on started
// machines.
func interruptedRun(t *testing.T, srv *flysim.Server, app, verb string) string {
	t.Helper()
	var ids []string
	for _, m := range srv.Sim.Machines() {
		if m.State == "started" && len(ids) < 2 {
			ids = append(ids, m.ID)
		}
	}
	if len(ids) < 2 {
		t.Fatalf("want 2 started machines, have %v", ids)
	}
	if r := runCLI(t, append([]string{verb, "-a", app, "--yes"}, ids...)...); r.err != nil {
		t.Fatalf("%s: %v\n%s", verb, r.err, r.stdout)
	}
	path, err := recovery.JournalPath("", app)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.SplitAfter(string(b), "\n") {
		var rec recovery.Record
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		switch {
		case rec.Type == recovery.RecordOutcome:
			continue
		case rec.Type == recovery.RecordIntent && rec.Intent.Seq != 1:
			continue
		}
		kept = append(kept, line)
	}
	writeTestFile(t, path, strings.Join(kept, ""))
	return path
}

func readJournal(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A resume's plan is only a plan: --dry-run and --read-only print it (with
// the step found done) and leave the journal byte for byte as it was; the
// real run records the step found done right after its own action record,
// and the journal then explains every step of the interrupted action.
func TestResumeDryRunAndReadOnlyWriteNothing(t *testing.T) {
	srv := simEnv(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 6})
	path := interruptedStop(t, srv, "shop")
	before := readJournal(t, path)

	r := runCLI(t, "resume", "-a", "shop", "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "1 interrupted step found done") || !strings.Contains(r.stdout, "Dry run: nothing was changed") {
		t.Fatalf("--dry-run: code %d, %v\n%s", r.code, r.err, r.stdout)
	}
	if after := readJournal(t, path); after != before {
		t.Fatalf("resume --dry-run wrote to the journal:\n%s", strings.TrimPrefix(after, before))
	}
	r = runCLI(t, "resume", "-a", "shop", "--read-only")
	if r.code != exitRefused || !strings.Contains(r.stdout, "1 interrupted step found done") {
		t.Fatalf("--read-only: code %d, %v\n%s", r.code, r.err, r.stdout)
	}
	if after := readJournal(t, path); after != before {
		t.Fatalf("resume --read-only wrote to the journal:\n%s", strings.TrimPrefix(after, before))
	}

	r = runCLI(t, "resume", "-a", "shop", "--yes")
	if r.code != 0 || !strings.Contains(r.stdout, "1 interrupted step of ") || !strings.Contains(r.stdout, "was found done and is now journaled as done") {
		t.Fatalf("resume: code %d, %v\n%s", r.code, r.err, r.stdout)
	}
	recs, _, err := recovery.ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	hist := recovery.History(recs)
	if len(hist) != 2 || hist[1].Action.Resumes != hist[0].Action.ID {
		t.Fatalf("want the stop and its resume, got %d actions", len(hist))
	}
	// Step 2 never began: the resume ran it, under its own action.
	if len(hist[1].Machines) != 1 || hist[1].Machines[0].MachineID != hist[0].Machines[1].MachineID || hist[1].Machines[0].Outcome == nil {
		t.Errorf("the resume should have run step 2 of the stop: %+v", hist[1].Machines)
	}
	if o := hist[0].Machines[0].Outcome; o == nil || !o.Reconciled || o.Outcome != recovery.OutcomeOK {
		t.Errorf("step 1 of the stop: %+v, want ok, reconciled", o)
	}
	if r := runCLI(t, "resume", "-a", "shop", "--dry-run"); r.code != exitNothingToDo {
		t.Errorf("a second resume: code %d\n%s", r.code, r.stdout)
	}
}

// When every step turns out done, --dry-run and --read-only say so, exit 0
// and write nothing; a plain resume (no --yes needed: no machine changes)
// then records it, so the journal explains every step and nothing is left
// to resume.
func TestResumeEveryStepDoneRecordsOnlyWhenRun(t *testing.T) {
	srv := simEnv(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 6})
	path := interruptedStop(t, srv, "shop")
	// Give the never-begun step an intent too: the machine was stopped, so
	// both steps are found done.
	b := readJournal(t, path)
	var intent recovery.Record
	for _, line := range strings.Split(b, "\n") {
		if strings.Contains(line, `"type":"intent"`) {
			json.Unmarshal([]byte(line), &intent)
		}
	}
	var action recovery.Record
	json.Unmarshal([]byte(strings.SplitN(b, "\n", 2)[0]), &action)
	second := *intent.Intent
	second.Seq, second.MachineID = 2, action.Action.Steps[1].MachineID
	line, _ := json.Marshal(recovery.Record{Type: recovery.RecordIntent, At: intent.At, Intent: &second})
	writeTestFile(t, path, b+string(line)+"\n")
	before := readJournal(t, path)

	for _, flag := range []string{"--dry-run", "--read-only"} {
		r := runCLI(t, "resume", "-a", "shop", flag)
		if r.code != 0 || !strings.Contains(r.stdout, "Nothing left to resume: every step of action") ||
			!strings.Contains(r.stdout, "2 found done") || !strings.Contains(r.stdout, "nothing was changed") {
			t.Fatalf("%s: code %d, %v\n%s", flag, r.code, r.err, r.stdout)
		}
		if after := readJournal(t, path); after != before {
			t.Fatalf("resume %s wrote to the journal:\n%s", flag, strings.TrimPrefix(after, before))
		}
	}
	r := runCLI(t, "resume", "-a", "shop")
	if r.code != 0 || !strings.Contains(r.stdout, "and the journal now says so") {
		t.Fatalf("resume: code %d, %v\n%s", r.code, r.err, r.stdout)
	}
	recs, _, err := recovery.ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	hist := recovery.History(recs)
	if len(hist) != 2 || len(hist[1].Action.Steps) != 0 || hist[1].Action.Resumes != hist[0].Action.ID {
		t.Fatalf("want the stop and a resume with no steps, got %d actions", len(hist))
	}
	for _, ml := range hist[0].Machines {
		if ml.Outcome == nil || !ml.Outcome.Reconciled || ml.Outcome.Outcome != recovery.OutcomeOK {
			t.Errorf("step %d of the stop after the resume: %+v", ml.Seq, ml.Outcome)
		}
	}
	if r := runCLI(t, "resume", "-a", "shop"); r.code != exitNothingToDo {
		t.Errorf("a second resume: code %d\n%s", r.code, r.stdout)
	}
}
