package recovery

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

// v0Fixture is a journal written by flyrescue before the journal had a
// format of its own (see testdata/genjournal, which wrote it).
const v0Fixture = "testdata/journal-v0.jsonl"

// v0Fleet is the fleet genjournal wrote the fixture on: the same seed
// gives the same machine IDs, so planning from the fixture meets the
// machines it names.
func v0Fleet(t *testing.T) flysim.Options {
	t.Helper()
	var opts flysim.Options
	data, err := os.ReadFile(strings.TrimSuffix(v0Fixture, ".jsonl") + ".fleet.json")
	if err == nil {
		err = json.Unmarshal(data, &opts)
	}
	if err != nil {
		t.Fatal(err)
	}
	return opts
}

// rewriteInCurrentSchema appends recs to a new journal of app in dir, as
// this flyrescue writes them.
func rewriteInCurrentSchema(t *testing.T, dir, app string, recs []Record) string {
	t.Helper()
	j, err := OpenJournal(dir, app)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	for _, r := range recs {
		if err := j.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	return j.Path()
}

// The checked-in old journal reads into everything it recorded: the held
// machine, the saved configs, the undo of the destroy with the whole config
// in its step, the halted, interrupted and never-begun steps.
func TestJournalV0FixtureReads(t *testing.T) {
	raw, err := os.ReadFile(v0Fixture)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{testToken, "genjournal-token", "FlyV1", "fm2_", "Bearer"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the fixture holds %q", secret)
		}
	}
	if strings.Contains(string(raw), `"schema"`) || !strings.Contains(string(raw), `"MachineID"`) {
		t.Fatal("the fixture is not in schema 0 (Go field names, no schema)")
	}
	recs, warning, err := ReadJournal(v0Fixture)
	if err != nil || warning != "" {
		t.Fatalf("reading %s: %v %s", v0Fixture, err, warning)
	}
	hist := History(recs)
	var kinds []string
	for _, a := range hist {
		kinds = append(kinds, string(a.Action.Kind))
	}
	if got := strings.Join(kinds, " "); got != "update destroy undo scale scale clear-lease update restart stop" {
		t.Fatalf("actions: %s", got)
	}
	update, destroy, undo, halted, restart, stop := hist[0], hist[1], hist[2], hist[6], hist[7], hist[8]
	if len(update.Action.Held) != 1 || !strings.Contains(update.Action.Held[0].Reason, flysim.LeaseBot) || update.Action.Held[0].MachineID == "" {
		t.Errorf("the held machine: %+v", update.Action.Held)
	}
	for _, m := range update.Machines {
		if m.Status() != OutcomeOK || m.Intent.ConfigBefore == nil || m.Intent.ConfigBefore.Image != m.Intent.ImageBefore ||
			m.Intent.ConfigBefore.Init.Cmd == nil || update.Action.Steps[m.Seq-1].FromInstanceID == "" {
			t.Errorf("update step %d: %s, intent %+v", m.Seq, m.Status(), m.Intent)
		}
	}
	saved := destroy.Machines[0].Intent.ConfigBefore
	if destroy.UndoneBy != undo.Action.ID || undo.Action.Undoes != destroy.Action.ID {
		t.Errorf("the undo link: %s undone by %q; undo undoes %q", destroy.Action.ID, destroy.UndoneBy, undo.Action.Undoes)
	}
	if s := undo.Action.Steps[0]; s.Op != OpLaunch || !reflect.DeepEqual(s.Config, saved) || s.Config.Guest == nil {
		t.Errorf("the undo's launch step does not carry the destroyed machine's config: %+v", s)
	}
	if c := halted.Counts(); c[OutcomeHalted] != 4 || c[OutcomeFailed] != 2 {
		t.Errorf("the halted update: %v", c)
	}
	if c := restart.Counts(); c[OutcomeInterrupted] != 1 || c[""] != 2 {
		t.Errorf("the cancelled restart: %v", c)
	}
	if c := stop.Counts(); c[OutcomeInterrupted] != 2 || c[OutcomeOK] != 1 {
		t.Errorf("the stop a crash cut short: %v", c)
	}
}

// The same journal written in the current schema reads into the same
// records, and only its format differs.
func TestJournalV0AndCurrentReadAlike(t *testing.T) {
	old, _, err := ReadJournal(v0Fixture)
	if err != nil {
		t.Fatal(err)
	}
	path := rewriteInCurrentSchema(t, t.TempDir(), old[0].Action.App, old)
	now, _, err := ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(now, old) {
		t.Fatal("the journal rewritten in the current schema reads differently")
	}
	if !reflect.DeepEqual(History(now), History(old)) {
		t.Fatal("the history of the rewritten journal differs")
	}
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != len(old) {
		t.Fatalf("%d lines for %d records", len(lines), len(old))
	}
	for i, l := range lines {
		if old[i].Type == RecordAction && !strings.Contains(l, `"action":{"schema":1,`) {
			t.Errorf("line %d: an action without its schema: %.80s", i+1, l)
		}
		for _, goName := range []string{`"MachineID"`, `"Config"`, `"FromInstanceID"`} {
			if strings.Contains(l, goName) {
				t.Errorf("line %d still has %s", i+1, goName)
			}
		}
	}
}

// Undo and resume planned from the old journal are the plans from the same
// journal in the current schema, for every action, against the fleet the
// journal was written on.
func TestJournalV0PlansLikeCurrent(t *testing.T) {
	r := newRig(t, v0Fleet(t))
	old, _, err := ReadJournal(v0Fixture)
	if err != nil {
		t.Fatal(err)
	}
	if old[0].Action.App != r.sim.App() {
		t.Fatalf("the fixture is of app %s, the sim %s", old[0].Action.App, r.sim.App())
	}
	data, _ := os.ReadFile(v0Fixture)
	if err := os.WriteFile(filepath.Join(r.dir, r.sim.App()+".jsonl"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	fromV0 := r.engine(Options{})
	r.dir = t.TempDir()
	rewriteInCurrentSchema(t, r.dir, r.sim.App(), old)
	fromNow := r.engine(Options{})
	if _, ok := r.sim.Machine(old[0].Action.Steps[0].MachineID); !ok {
		t.Fatal("the sim's fleet is not the one the fixture was written on (see genjournal's GenOptions)")
	}
	ctx := context.Background()
	plans := map[string]*Plan{}
	same := func(what, id string, plan func(e *Engine) (*Plan, error)) {
		a, aerr := plan(fromV0)
		b, berr := plan(fromNow)
		if (aerr == nil) != (berr == nil) || aerr != nil && aerr.Error() != berr.Error() {
			t.Errorf("%s %s: from v0 %v, from current %v", what, id, aerr, berr)
			return
		}
		if aerr != nil {
			t.Logf("%s %s: %v", what, id, aerr)
			return
		}
		for _, p := range []*Plan{a, b} {
			p.ID, p.CreatedAt, p.seen = "", p.CreatedAt.UTC().Truncate(0), nil
		}
		a.CreatedAt = b.CreatedAt
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s %s: the plans differ:\nv0      %+v\ncurrent %+v", what, id, a, b)
		}
		plans[what+" "+id] = a
		t.Logf("%s %s: %d steps, %d skipped, %d reconciled", what, id, len(a.Steps), len(a.Skipped), len(a.Reconciled))
	}
	ids := []string{""}
	for _, rec := range old {
		if rec.Action != nil {
			ids = append(ids, rec.Action.ID)
		}
	}
	for _, id := range ids {
		same("undo", id, func(e *Engine) (*Plan, error) { return e.PlanUndo(ctx, id) })
		same("resume", id, func(e *Engine) (*Plan, error) { return e.PlanResume(ctx, id) })
	}
	// Not only alike but real: the undo of the scale down relaunches the
	// machine from its saved config, the halted update and the cut-short
	// stop resume.
	scaleDown, halted, stop := old[0], old[0], old[0]
	for _, rec := range old {
		switch {
		case rec.Action == nil:
		case rec.Action.Kind == KindScale && rec.Action.Steps[0].Op == OpDestroy:
			scaleDown = rec
		case rec.Action.Kind == KindUpdate && len(rec.Action.Steps) == 6:
			halted = rec
		case rec.Action.Kind == KindStop:
			stop = rec
		}
	}
	if p := plans["undo "+scaleDown.Action.ID]; p == nil || len(p.Steps) != 1 || p.Steps[0].Op != OpLaunch || p.Steps[0].Config == nil {
		t.Errorf("undo of the scale down: %+v", p)
	}
	if p := plans["resume "+halted.Action.ID]; p == nil || len(p.Steps) < 4 {
		t.Errorf("resume of the halted update: %+v", p)
	}
	if p := plans["resume "+stop.Action.ID]; p == nil || len(p.Steps)+len(p.Reconciled) < 2 {
		t.Errorf("resume of the stop: %+v", p)
	}
}

// A journal holding an action of a newer schema is refused, with what to
// do, by every reader: not read with its steps half understood.
func TestJournalRefusesNewerSchema(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "healthy", Machines: 4, NoRateLimit: true})
	e := r.engine(Options{})
	j := e.Journal()
	if err := j.Append(Record{Type: RecordAction, Action: &ActionRecord{ID: "a", Kind: KindStop, Steps: []Step{{Seq: 1, MachineID: "m1", Op: OpStop}}}}); err != nil {
		t.Fatal(err)
	}
	newer := `{"type":"action","at":"2027-01-02T15:04:05Z","action":{"schema":2,"id":"b","kind":"stop","steps":[{"seq":1,"target":{"machine":"m1"}}]}}`
	f, err := os.OpenFile(j.Path(), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(newer + "\n")
	f.Close()
	check := func(who string, err error) {
		t.Helper()
		if !errors.Is(err, ErrJournalTooNew) || !strings.Contains(err.Error(), "upgrade flyrescue") ||
			!strings.Contains(err.Error(), "schema 2") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v", who, err)
		}
	}
	_, _, err = ReadJournal(j.Path())
	check("ReadJournal", err)
	if !strings.HasPrefix(err.Error(), j.Path()+":2: ") {
		t.Errorf("the error does not name the file and line: %v", err)
	}
	_, err = j.HistoryCached()
	check("HistoryCached", err)
	err = j.AppendGuarded(Record{Type: RecordAction, Action: &ActionRecord{ID: "c"}}, func([]*ActionLog) error { return nil })
	check("AppendGuarded", err)
	_, err = e.PlanUndo(context.Background(), "a")
	check("PlanUndo", err)
	// Without its newline too: a newer record that is whole is refused,
	// not taken for a torn last line and skipped.
	data, _ := os.ReadFile(j.Path())
	cut := filepath.Join(t.TempDir(), "cut.jsonl")
	os.WriteFile(cut, []byte(strings.TrimSuffix(string(data), "\n")), 0o600)
	_, _, err = ReadJournal(cut)
	check("ReadJournal of a last line without newline", err)
}
