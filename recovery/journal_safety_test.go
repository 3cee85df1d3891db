package recovery

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flyrescue/flyrescue/flyclient"
)

// No secret reaches the journal, whether it has a token's shape or was
// registered, and whichever append wrote it.
func TestJournalRedactsSecrets(t *testing.T) {
	dir := t.TempDir()
	j, err := OpenJournal(dir, "app")
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	const registered = "s3cret<&>registered-value" // HTML-escapable characters on purpose
	flyclient.RegisterSecret(registered)
	macaroon := "FlyV1 fm2_lJPECAAAAAAAAMqzxBBexampleexample,fm2_lJPEOTHERPARTexample=="
	leak := "502 from gateway, it echoed Authorization: " + macaroon + " and " + registered
	if err := j.Append(Record{Type: RecordOutcome, Outcome: &OutcomeRecord{ActionID: "a", Seq: 1, Outcome: OutcomeFailed, Error: leak}}); err != nil {
		t.Fatal(err)
	}
	if err := j.AppendGuarded(Record{Type: RecordAction, Action: &ActionRecord{ID: "b", Kind: KindStop, Notes: []string{leak}}},
		func([]*ActionLog) error { return nil }); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(j.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"fm2_", "lJPE", "s3cret", "registered-value"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("journal holds %q:\n%s", secret, raw)
		}
	}
	recs, _, err := ReadJournal(j.Path())
	if err != nil || len(recs) != 2 {
		t.Fatalf("redacted journal reads back: %d records, %v", len(recs), err)
	}
	for _, text := range []string{recs[0].Outcome.Error, recs[1].Action.Notes[0]} {
		if strings.Contains(text, registered) || !strings.Contains(text, "[REDACTED]") || !strings.Contains(text, "502 from gateway") {
			t.Errorf("read back: %q", text)
		}
	}
}

// An app name is part of the journal's file name: anything but a Fly app
// name is refused before a path is made of it.
func TestJournalRefusesInvalidAppNames(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "state")
	for _, app := range []string{"", "../escape", "..", "a/b", "/etc/passwd", `a\b`, "My-App", "app.json", "-flag", "a b", "a\x00b",
		strings.Repeat("a", 64)} {
		if _, err := JournalPath(dir, app); !errors.Is(err, ErrJournal) {
			t.Errorf("JournalPath(%q): %v", app, err)
		}
		if j, err := OpenJournal(dir, app); !errors.Is(err, ErrJournal) {
			t.Errorf("OpenJournal(%q): %v", app, err)
			if j != nil {
				j.Close()
			}
		}
	}
	if entries, _ := os.ReadDir(base); len(entries) != 0 {
		t.Errorf("refused names left files behind: %v", entries)
	}
	for _, app := range []string{"demo-app", "app", "a1-b2", "9lives", strings.Repeat("a", 63)} {
		p, err := JournalPath(dir, app)
		if err != nil || p != filepath.Join(dir, app+".jsonl") {
			t.Errorf("JournalPath(%q) = %q, %v", app, p, err)
		}
	}
}

// A flock that fails is an error, not a write without the lock.
func TestJournalAppendReportsLockFailure(t *testing.T) {
	j, err := OpenJournal(t.TempDir(), "app")
	if err != nil {
		t.Fatal(err)
	}
	j.Close()
	err = j.Append(Record{Type: RecordAction, Action: &ActionRecord{ID: "a"}})
	if !errors.Is(err, ErrJournal) || !strings.Contains(err.Error(), "locking") {
		t.Errorf("append on a closed journal: %v", err)
	}
}

// AppendGuarded's guard sees what another handle (another process) wrote
// after this one was opened, and runs while the file's flock is held, so no
// one can write between the check and the append.
func TestAppendGuardedChecksUnderTheLock(t *testing.T) {
	dir := t.TempDir()
	mine, err := OpenJournal(dir, "app")
	if err != nil {
		t.Fatal(err)
	}
	defer mine.Close()
	theirs, err := OpenJournal(dir, "app")
	if err != nil {
		t.Fatal(err)
	}
	defer theirs.Close()
	if err := theirs.Append(Record{Type: RecordAction, Action: &ActionRecord{ID: "theirs", Kind: KindStop}}); err != nil {
		t.Fatal(err)
	}
	probe, err := os.Open(mine.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	var sawTheirs bool
	var free bool
	var lockErr error
	err = mine.AppendGuarded(Record{Type: RecordAction, Action: &ActionRecord{ID: "mine", Kind: KindStop}}, func(hist []*ActionLog) error {
		sawTheirs = len(hist) == 1 && hist[0].Action.ID == "theirs"
		free, lockErr = tryLockFile(probe)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !sawTheirs {
		t.Error("the guard did not see the other handle's record")
	}
	if free || lockErr != nil {
		t.Errorf("another open file could take the lock while the guard ran (free %v, %v)", free, lockErr)
	}
	// A refusing guard: its error comes back as it is, nothing is written.
	refused := errors.New("no")
	if err := mine.AppendGuarded(Record{Type: RecordAction, Action: &ActionRecord{ID: "refused"}}, func([]*ActionLog) error { return refused }); err != refused {
		t.Errorf("refusing guard: %v", err)
	}
	recs, _, err := ReadJournal(mine.Path())
	if err != nil || len(recs) != 2 || recs[1].Action.ID != "mine" {
		t.Errorf("journal after guarded appends: %d records, %v", len(recs), err)
	}
}

// Another process that died mid-line leaves a torn tail after we opened the
// file; our next record must not be glued to it into a corrupt line that
// would make the whole journal unreadable.
func TestAppendAfterAnotherProcessTornLine(t *testing.T) {
	dir := t.TempDir()
	j, err := OpenJournal(dir, "app")
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := j.Append(Record{Type: RecordAction, Action: &ActionRecord{ID: "a"}}); err != nil {
		t.Fatal(err)
	}
	other, _ := os.OpenFile(j.Path(), os.O_APPEND|os.O_WRONLY, 0)
	other.WriteString(`{"type":"intent","intent":{"action_id":"a","se`)
	other.Close()
	if err := j.Append(Record{Type: RecordOutcome, Outcome: &OutcomeRecord{ActionID: "a", Seq: 1, Outcome: OutcomeOK}}); err != nil {
		t.Fatal(err)
	}
	recs, warn, err := ReadJournal(j.Path())
	if err != nil || len(recs) != 2 || warn != "" || recs[1].Type != RecordOutcome {
		t.Fatalf("after a torn line from another process: %d records, %q, %v", len(recs), warn, err)
	}
}

// AppendGuarded reports a failed flock too: the guard must never run, nor
// the record be written, without the lock.
func TestJournalAppendGuardedReportsLockFailure(t *testing.T) {
	j, err := OpenJournal(t.TempDir(), "app")
	if err != nil {
		t.Fatal(err)
	}
	j.Close()
	guarded := false
	err = j.AppendGuarded(Record{Type: RecordAction, Action: &ActionRecord{ID: "a"}}, func([]*ActionLog) error {
		guarded = true
		return nil
	})
	if !errors.Is(err, ErrJournal) || !strings.Contains(err.Error(), "locking") || guarded {
		t.Errorf("guarded append on a closed journal: %v (guard ran: %v)", err, guarded)
	}
}
