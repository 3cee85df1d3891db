package recovery

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

// Two flyrescue processes (two engines, two open files of one journal)
// undo the same action at once: exactly one undo is recorded and run; the
// other is refused before it touches a machine.
func TestConcurrentUndoOfOneActionRunsOnce(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "healthy", Machines: 10, NoRateLimit: true})
	first, second := r.engine(Options{}), r.engine(Options{})
	if first.journal == second.journal {
		t.Fatal("the two engines share a journal handle")
	}
	ctx := context.Background()
	stopped := ids(r, 4, func(m flysim.MachineView) bool { return m.State == "started" })
	a, err := first.PlanStop(ctx, Selector{MachineIDs: stopped})
	if err != nil || len(a.Steps) != 4 {
		t.Fatalf("plan stop: %v, %+v", err, a)
	}
	if res := r.run(first, a); res.OK != 4 {
		t.Fatalf("stop: %+v", failures(res))
	}
	// Both plan before either runs, as two operators would.
	plans := make([]*Plan, 2)
	for i, e := range []*Engine{first, second} {
		if plans[i], err = e.PlanUndo(ctx, a.ID); err != nil || len(plans[i].Steps) != 4 {
			t.Fatalf("plan undo %d: %v", i, err)
		}
	}
	r.sim.ResetStats()
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, e := range []*Engine{first, second} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
			defer cancel()
			_, errs[i] = e.Execute(ctx, plans[i], nil)
		}()
	}
	wg.Wait()
	winner, loser := 0, 1
	if errs[0] != nil {
		winner, loser = 1, 0
	}
	if errs[winner] != nil || errs[loser] == nil {
		t.Fatalf("want one undo to run and one to be refused: %v", errs)
	}
	for _, want := range []string{"already undone by " + DisplayID(plans[winner].ID), "another flyrescue", "nothing was changed"} {
		if !strings.Contains(errs[loser].Error(), want) {
			t.Errorf("refusal %q does not say %q", errs[loser], want)
		}
	}
	if !errors.Is(errs[loser], ErrNothingToDo) {
		t.Errorf("refusal is not ErrNothingToDo: %v", errs[loser])
	}
	recs, _, err := first.journal.Records()
	if err != nil {
		t.Fatal(err)
	}
	undos := 0
	for _, rec := range recs {
		switch {
		case rec.Type == RecordAction && rec.Action.Undoes == a.ID:
			undos++
		case rec.Type == RecordIntent && rec.Intent.ActionID == plans[loser].ID:
			t.Errorf("the refused undo journaled an intent for %s", rec.Intent.MachineID)
		}
	}
	if undos != 1 {
		t.Errorf("%d undo actions of %s in the journal, want 1", undos, a.ID)
	}
	mutated := r.sim.Stats().MutationsPerMachine
	for _, id := range stopped {
		if mutated[id] != 1 {
			t.Errorf("%s mutated %d times by the two undos", id, mutated[id])
		}
	}
	if len(mutated) != len(stopped) {
		t.Errorf("machines mutated: %v", mutated)
	}
}

// A resume is taken on once, and a plan runs once.
func TestGuardRefusesSecondResumeAndRerun(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "healthy", Machines: 6, NoRateLimit: true})
	e := r.engine(Options{})
	ctx := context.Background()
	p, err := e.PlanStop(ctx, Selector{MachineIDs: ids(r, 2, func(m flysim.MachineView) bool { return m.State == "started" })})
	if err != nil {
		t.Fatal(err)
	}
	r.run(e, p)
	r.sim.ResetStats()
	if _, err := e.Execute(ctx, p, nil); err == nil || !strings.Contains(err.Error(), "already started") {
		t.Errorf("running one plan twice: %v", err)
	}
	guard := e.actionGuard(&Plan{ID: "resume-2", Resumes: p.ID})
	if guard == nil {
		t.Fatal("a resume plan has no guard")
	}
	hist := []*ActionLog{{Action: ActionRecord{ID: p.ID}}, {Action: ActionRecord{ID: "resume-1", Resumes: p.ID}}}
	if err := guard(hist); !errors.Is(err, ErrNothingToDo) || !strings.Contains(err.Error(), "already resumed by resume-1") {
		t.Errorf("second resume: %v", err)
	}
	if err := guard(hist[:1]); err != nil {
		t.Errorf("first resume refused: %v", err)
	}
	if n := len(r.sim.Stats().MutationsPerMachine); n != 0 {
		t.Errorf("a refused run changed %d machines", n)
	}
}

// The same race through the command line: two `flyrescue undo --yes`
// processes on one journal; one undoes, the other says it was already
// undone, and each machine is started once.
func TestCLIConcurrentUndo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildCLI(t)
	srv, err := flysim.Start(flysim.Options{Scenario: "healthy", Machines: 8, Speed: 200, NoRateLimit: true, Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	sim := srv.Sim
	home := t.TempDir()
	env := append(os.Environ(), "HOME="+home, "FLY_API_TOKEN="+testToken, "FLY_ACCESS_TOKEN=",
		"FLY_FLAPS_BASE_URL="+srv.URL, "FLY_API_BASE_URL="+srv.URL, "FLY_APP="+sim.App(),
		"FLYRESCUE_STATE_DIR="+filepath.Join(home, "journal"))
	cli := func(args ...string) *exec.Cmd {
		c := exec.Command(bin, args...)
		c.Env = env
		return c
	}
	var stopped []string
	for _, m := range sim.Machines() {
		if len(stopped) < 3 && m.State == "started" {
			stopped = append(stopped, m.ID)
		}
	}
	if out, err := cli(append([]string{"stop", "--yes"}, stopped...)...).CombinedOutput(); err != nil {
		t.Fatalf("stop: %v\n%s", err, out)
	}
	type logged struct {
		ID     string
		Undoes *string
	}
	var actions []logged
	out, err := cli("log", "--json").Output()
	if err == nil {
		err = json.Unmarshal(out, &actions)
	}
	if err != nil || len(actions) != 1 {
		t.Fatalf("log: %v\n%s", err, out)
	}
	stopID := actions[0].ID

	sim.ResetStats()
	undos := []*exec.Cmd{cli("undo", "--yes", stopID), cli("undo", "--yes", stopID)}
	outs := make([][]byte, 2)
	var wg sync.WaitGroup
	for i, c := range undos {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], _ = c.CombinedOutput()
		}()
	}
	wg.Wait()
	ok, refused := 0, 0
	for i, c := range undos {
		switch code := c.ProcessState.ExitCode(); {
		case code == 0:
			ok++
		case strings.Contains(string(outs[i]), "already undone by"):
			refused++
		default:
			t.Errorf("undo %d: exit %d\n%s", i, code, tail(string(outs[i]), 10))
		}
	}
	if ok != 1 || refused != 1 {
		t.Errorf("want one undo done and one refused, got %d and %d", ok, refused)
	}
	out, _ = cli("log", "--json").Output()
	actions = nil
	if err := json.Unmarshal(out, &actions); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range actions {
		if a.Undoes != nil && *a.Undoes == stopID {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d undo actions of %s in the log, want 1", n, stopID)
	}
	mutated := sim.Stats().MutationsPerMachine
	for _, id := range stopped {
		if mutated[id] != 1 {
			t.Errorf("%s mutated %d times by the two undos", id, mutated[id])
		}
	}
	if len(mutated) != len(stopped) {
		t.Errorf("machines mutated: %v", mutated)
	}
}
