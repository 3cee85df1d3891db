package recovery

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

func TestJournalTornTailAndCorruptLine(t *testing.T) {
	dir := t.TempDir()
	j, err := OpenJournal(dir, "app")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := j.Append(Record{Type: RecordAction, Action: &ActionRecord{ID: string(rune('a' + i)), Kind: KindStop}}); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	path, _ := JournalPath(dir, "app")
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("journal mode %v, want 0600", fi.Mode().Perm())
	}
	// A crash mid-write leaves a torn last line: tolerated and reported.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"type":"intent","intent":{"action_id":"c","se`)
	f.Close()
	recs, warn, err := ReadJournal(path)
	if err != nil || len(recs) != 3 || !strings.Contains(warn, "torn") {
		t.Fatalf("torn tail: %d records, warning %q, err %v", len(recs), warn, err)
	}
	// Opening for writing cuts it so the next record is whole.
	j, err = OpenJournal(dir, "app")
	if err != nil || j.TornTail == "" {
		t.Fatalf("reopen: %v, torn %q", err, j.TornTail)
	}
	j.Append(Record{Type: RecordAction, Action: &ActionRecord{ID: "d"}})
	j.Close()
	if recs, warn, err = ReadJournal(path); err != nil || len(recs) != 4 || warn != "" {
		t.Fatalf("after reopen: %d records, %q, %v", len(recs), warn, err)
	}
	// A corrupt line in the middle is an error naming file and line.
	data, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(data), "\n")
	lines[1] = "garbage\n"
	os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600)
	if _, _, err = ReadJournal(path); err == nil || !strings.Contains(err.Error(), path+":2") {
		t.Fatalf("corrupt middle line: %v", err)
	}
}

func TestJournalDirFromEnv(t *testing.T) {
	t.Setenv("FLYRESCUE_STATE_DIR", "/x/state")
	if d := DefaultJournalDir(); d != "/x/state" {
		t.Errorf("FLYRESCUE_STATE_DIR: %s", d)
	}
	t.Setenv("FLYRESCUE_STATE_DIR", "")
	t.Setenv("XDG_STATE_HOME", "/y")
	if d := DefaultJournalDir(); d != "/y/flyrescue" {
		t.Errorf("XDG_STATE_HOME: %s", d)
	}
}

// No mutation runs when the journal cannot be written.
func TestUnwritableJournalBlocksMutation(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "minority", Machines: 10, NoRateLimit: true})
	e := r.engine(Options{})
	p, err := e.PlanUpdate(context.Background(), UpdateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	e.journal.Close() // writes now fail
	r.sim.ResetStats()
	_, err = e.Execute(context.Background(), p, nil)
	if !errors.Is(err, ErrJournal) {
		t.Fatalf("want ErrJournal, got %v", err)
	}
	if n := len(r.sim.Stats().MutationsPerMachine); n != 0 {
		t.Fatalf("%d machines mutated without a journal", n)
	}
	if _, err := NewEngine(r.client, nil, Options{App: "x"}).Execute(context.Background(), p, nil); !errors.Is(err, ErrJournal) {
		t.Fatalf("nil journal: %v", err)
	}
}

// The journal holds full configs and intents, but never the API token.
func TestJournalRecordsIntentsNotToken(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "minority", Machines: 20, NoRateLimit: true})
	e := r.engine(Options{})
	ctx := context.Background()
	p, _ := e.PlanUpdate(ctx, UpdateRequest{})
	res := r.run(e, p)
	data, err := os.ReadFile(filepath.Join(r.dir, r.sim.App()+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), testToken) {
		t.Fatal("the API token was written to the journal")
	}
	recs, _, err := ReadJournal(e.journal.Path())
	if err != nil {
		t.Fatal(err)
	}
	hist := History(recs)
	if len(hist) != 1 || hist[0].Action.Operator != "tester" {
		t.Fatalf("history: %+v", hist)
	}
	for _, ml := range hist[0].Machines {
		if ml.Intent == nil || ml.Intent.ConfigBefore == nil || ml.Intent.InstanceBefore == "" || ml.Intent.StateBefore == "" {
			t.Errorf("step %d: intent incomplete: %+v", ml.Seq, ml.Intent)
		}
		if ml.Status() != OutcomeOK {
			t.Errorf("step %d: %s", ml.Seq, ml.Status())
		}
	}
	if res.OK != len(p.Steps) {
		t.Errorf("ok %d of %d", res.OK, len(p.Steps))
	}
}

// The dashboard shows action IDs without their date; that short form names
// the action when it is unique, and an ambiguous one lists the candidates.
func TestFindActionBySuffix(t *testing.T) {
	hist := []*ActionLog{
		{Action: ActionRecord{ID: "20261122T235900-a1b2c3"}},
		{Action: ActionRecord{ID: "20261123T052401-010446"}},
		{Action: ActionRecord{ID: "20261123T052402-110446"}},
	}
	for id, want := range map[string]string{
		"20261122T235900-a1b2c3": "20261122T235900-a1b2c3",
		"052401-010446":          "20261123T052401-010446",
		"a1b2c3":                 "20261122T235900-a1b2c3",
	} {
		a, err := FindAction(hist, id)
		if err != nil || a.Action.ID != want {
			t.Errorf("%s: %v, %v", id, a, err)
		}
	}
	if _, err := FindAction(hist, "0446"); err == nil || !strings.Contains(err.Error(), "ambiguous") || !strings.Contains(err.Error(), "052402-110446") || strings.Contains(err.Error(), "20261123T") {
		t.Errorf("ambiguous: %v", err)
	}
	if _, err := FindAction(hist, "zzz"); err == nil || !strings.Contains(err.Error(), "flyrescue log") {
		t.Errorf("missing: %v", err)
	}
}

// TestHistoryCachedSeesAppends: the cached history is the file's, re-read
// whenever a record was appended (by this handle or another process's).
func TestHistoryCachedSeesAppends(t *testing.T) {
	dir := t.TempDir()
	j, err := OpenJournal(dir, "shop")
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	other, err := OpenJournal(dir, "shop")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if h, err := j.HistoryCached(); err != nil || len(h) != 0 {
		t.Fatalf("empty journal: %v %v", h, err)
	}
	for i, w := range []*Journal{j, other} {
		if err := w.Append(Record{Type: RecordAction, At: time.Now(), Action: &ActionRecord{ID: fmt.Sprintf("a%d", i), Kind: KindUpdate, App: "shop"}}); err != nil {
			t.Fatal(err)
		}
		h, err := j.HistoryCached()
		if err != nil || len(h) != i+1 {
			t.Fatalf("after append %d: %d actions, %v", i+1, len(h), err)
		}
	}
	a, _ := j.HistoryCached()
	b, _ := j.HistoryCached()
	if &a[0] != &b[0] {
		t.Error("an unchanged journal was read again")
	}
}
