package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

// Every journaled kind, clear-lease the longest, keeps the journal's
// columns in line, and the pane counts steps in `flyrescue log`'s words
// ("never started", not "pending").
func TestJournalColumnsHoldForEveryKind(t *testing.T) {
	m := fixedModel(t, 50, 120, 40)
	logs := fakeHistory()
	for i, k := range recovery.JournaledKinds() {
		logs = append(logs, &recovery.ActionLog{
			Action:   recovery.ActionRecord{ID: fmt.Sprintf("20261123T0400%02d-ccc333", i), Kind: k, Selection: "machines 5b6c7d8e9f0a1b"},
			At:       model.SyntheticNow.Add(-time.Minute),
			Machines: []recovery.MachineLog{{MachineID: "5b6c7d8e9f0a1b"}},
		})
	}
	m.open(m.journal)
	m.Update(journalMsg{path: "/tmp/flyrescue/app.jsonl", logs: logs})
	lines := strings.Split(ansi.Strip(m.View().Content), "\n")
	head := -1
	rows := 0
	for _, l := range lines {
		if i := strings.Index(l, "STEPS"); i >= 0 && strings.Contains(l, "KIND") {
			head = i
			continue
		}
		if head < 0 || len(l) < head+1 || !strings.Contains(l, "-ccc333 ") || strings.Contains(l, "── ") {
			continue
		}
		rows++
		if l[head-1] != ' ' || l[head] != '1' {
			t.Errorf("STEPS is not in line (column %d):\n%s", head, l)
		}
		if !strings.Contains(l, "0 ok, 1 "+recovery.NeverStarted) {
			t.Errorf("the row does not count its step in log's words:\n%s", l)
		}
	}
	if rows == 0 {
		t.Fatalf("no journaled kind on screen:\n%s", strings.Join(lines, "\n"))
	}
	screen := strings.Join(lines, "\n")
	for _, k := range recovery.JournaledKinds() {
		if !strings.Contains(screen, "-ccc333 "+string(k)+" ") {
			t.Errorf("kind %s is not shown whole", k)
		}
	}
}
