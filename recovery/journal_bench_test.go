package recovery

import (
	"fmt"
	"testing"
	"time"
)

// benchJournal writes a journal of one 1000-machine update: the action,
// then per machine an intent with the machine's whole saved config and an
// outcome, as the fixture's update wrote them.
func benchJournal(b *testing.B) *Journal {
	b.Helper()
	recs, _, err := ReadJournal(v0Fixture)
	if err != nil {
		b.Fatal(err)
	}
	var saved *IntentRecord
	for _, r := range recs {
		if r.Intent != nil && r.Intent.ConfigBefore != nil {
			saved = r.Intent
			break
		}
	}
	j, err := OpenJournal(b.TempDir(), "app")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { j.Close() })
	const machines = 1000
	steps := make([]Step, machines)
	for i := range steps {
		steps[i] = Step{Seq: i + 1, MachineID: fmt.Sprintf("m%05d", i), Op: OpUpdate, FromImage: saved.ImageBefore, ToImage: saved.ToImage}
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := j.Append(Record{Type: RecordAction, At: at, Action: &ActionRecord{ID: "a", Kind: KindUpdate, App: "app", Steps: steps}}); err != nil {
		b.Fatal(err)
	}
	for _, s := range steps {
		in := *saved
		in.ActionID, in.Seq, in.MachineID = "a", s.Seq, s.MachineID
		if err := j.Append(Record{Type: RecordIntent, At: at, Intent: &in}); err != nil {
			b.Fatal(err)
		}
		out := &OutcomeRecord{ActionID: "a", Seq: s.Seq, MachineID: s.MachineID, Outcome: OutcomeOK, Attempts: 1, ImageAfter: s.ToImage}
		if err := j.Append(Record{Type: RecordOutcome, At: at, Outcome: out}); err != nil {
			b.Fatal(err)
		}
	}
	return j
}

// BenchmarkJournalRead1k reads a 1000-machine update's journal into its
// history, as the dashboard does when the file changed:
//
//	go test ./recovery -run XXX -bench BenchmarkJournal -benchmem
func BenchmarkJournalRead1k(b *testing.B) {
	j := benchJournal(b)
	b.ResetTimer()
	for b.Loop() {
		recs, _, err := ReadJournal(j.Path())
		if err != nil || len(History(recs)[0].Machines) != 1000 {
			b.Fatal(err)
		}
	}
}

// BenchmarkJournalEncodeIntent encodes one intent with a whole config,
// as every step does before its first mutating call.
func BenchmarkJournalEncodeIntent(b *testing.B) {
	recs, _, err := ReadJournal(v0Fixture)
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range recs {
		if r.Intent != nil && r.Intent.ConfigBefore != nil {
			for b.Loop() {
				if _, err := encodeRecord(r); err != nil {
					b.Fatal(err)
				}
			}
			return
		}
	}
	b.Fatal("no intent with a config in the fixture")
}
