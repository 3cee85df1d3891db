package ui

import (
	"testing"

	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

// go test ./ui -run '^$' -bench . -benchmem

// A full frame at 10,000 machines: only visible rows are rendered.
func BenchmarkView10k(b *testing.B) {
	m := fixedModel(b, 10000, 200, 60)
	m.opts.NoColor = false
	m.setTheme(true)
	m.Update(keyPress("a")) // marks on every row: the worst case for the marker lookups
	b.ResetTimer()
	for b.Loop() {
		_ = m.View()
	}
}

// One filter keystroke at 10,000 machines: parse, apply, regroup.
func BenchmarkFilterKeystroke10k(b *testing.B) {
	benchFilterKeystroke(b, fixedModel(b, 10000, 200, 60))
}

func benchFilterKeystroke(b *testing.B, m *Model) {
	m.Update(keyPress("/"))
	for _, r := range "group:worker_autoscale -state:started ir" {
		m.Update(keyPressRune(r))
	}
	// Alternate "...ir" and "...ira": both parse, both re-run the fuzzy
	// text match over every machine of the group and regroup.
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			m.Update(keyPressRune('a'))
		} else {
			m.Update(keyPress("backspace"))
		}
	}
	if m.filterErr != nil {
		b.Fatal(m.filterErr)
	}
}

// Applying a poll of 10,000 machines on the UI goroutine: diff, advice,
// regroup (the snapshot itself is built in the poll's Cmd; see
// BenchmarkPollSnapshot10k).
func BenchmarkApplyPoll10k(b *testing.B) {
	benchApplyPoll(b, fixedModel(b, 10000, 200, 60))
}

// benchApplyPoll applies two polls in turn; it returns the last applied.
func benchApplyPoll(b *testing.B, m *Model) *model.Snapshot {
	machines, releases := model.SyntheticFleet(10000, 1)
	machines2, _ := model.SyntheticFleet(10000, 2)
	snaps := []*model.Snapshot{buildSnapshot(m.opts, machines, releases), buildSnapshot(m.opts, machines2, releases)}
	b.ResetTimer()
	i := 0
	for ; b.Loop(); i++ {
		m.Update(pollResultMsg{gen: m.pollGen, snap: snaps[i%2]})
	}
	return snaps[(i-1)%2]
}

// Building the snapshot in the poll Cmd (off the UI goroutine).
func BenchmarkPollSnapshot10k(b *testing.B) {
	m := fixedModel(b, 10, 120, 40)
	machines, releases := model.SyntheticFleet(10000, 1)
	b.ResetTimer()
	for b.Loop() {
		_ = buildSnapshot(m.opts, machines, releases)
	}
}

// One keystroke at 10,000 machines while the last word does not parse yet
// ("state:fa", "state:fai"): the words before it apply, and the typing
// check tries the word's continuations.
func BenchmarkFilterKeystrokeTyping10k(b *testing.B) {
	m := fixedModel(b, 10000, 200, 60)
	m.Update(keyPress("/"))
	for _, r := range "group:worker_autoscale -state:started ir state:fa" {
		m.Update(keyPressRune(r))
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			m.Update(keyPressRune('i'))
		} else {
			m.Update(keyPress("backspace"))
		}
	}
	if m.filterTyping == nil || m.filterErr != nil {
		b.Fatalf("want a typing hint, got typing %v, err %v", m.filterTyping, m.filterErr)
	}
}

// One keystroke at 10,000 machines on an invalid query ("grup:x"): nothing
// matches, so nothing is scanned.
func BenchmarkFilterKeystrokeInvalid10k(b *testing.B) {
	m := fixedModel(b, 10000, 200, 60)
	m.Update(keyPress("/"))
	for _, r := range "grup:worker" {
		m.Update(keyPressRune(r))
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			m.Update(keyPressRune('a'))
		} else {
			m.Update(keyPress("backspace"))
		}
	}
	if m.filterErr == nil || len(m.visible) != 0 {
		b.Fatalf("want an invalid filter showing nothing, got err %v, %d shown", m.filterErr, len(m.visible))
	}
}

// Applying a poll of 10,000 machines with the table sorted by age: the new
// snapshot's groups are sorted once, here, and never again until the next
// poll or order.
func BenchmarkApplyPollSorted10k(b *testing.B) {
	m := fixedModel(b, 10000, 200, 60)
	for range 5 { // id -> name, group, region, state, age
		m.Update(keyPress(">"))
	}
	last := benchApplyPoll(b, m)
	if m.sort.by != model.SortByAge || m.sort.snap != last {
		b.Fatal("the poll was not sorted by age")
	}
}

// One filter keystroke at 10,000 machines with the table sorted: the
// sorted groups come from the cache.
func BenchmarkFilterKeystrokeSorted10k(b *testing.B) {
	m := fixedModel(b, 10000, 200, 60)
	m.Update(keyPress("<")) // last event
	benchFilterKeystroke(b, m)
}

// A frame at 10,000 machines while an action runs on all of them, sorted,
// with a filter that pins the machines in flight: the footer's figures,
// the pins and the step column on every frame.
func BenchmarkViewRunningSorted10k(b *testing.B) {
	m := fixedModel(b, 10000, 200, 60)
	m.opts.NoColor = false
	m.setTheme(true)
	m.Update(keyPress(">"))
	plan := &recovery.Plan{ID: "20261123T031500-abc123", Kind: recovery.KindUpdate}
	for i, mc := range m.snap.Machines {
		plan.Steps = append(plan.Steps, recovery.Step{Seq: i + 1, MachineID: mc.ID, Op: recovery.OpUpdate})
	}
	m.run = m.newRun(plan, func() {})
	var evs []recovery.Event
	for i, st := range plan.Steps {
		phase := recovery.PhaseDone
		switch {
		case i%10 == 0:
			phase = recovery.PhaseActing
		case i%10 == 1:
			phase = recovery.PhaseFailed
		case i%2 == 0:
			phase = recovery.PhaseQueued
		}
		evs = append(evs, recovery.Event{Seq: st.Seq, MachineID: st.MachineID, Phase: phase})
	}
	m.Update(runEventsMsg{runID: m.run.id, events: evs})
	m.Update(keyPress("/"))
	for _, r := range "group:web" {
		m.Update(keyPressRune(r))
	}
	m.Update(keyPress("enter"))
	if m.pinnedShown == 0 {
		b.Fatal("no machine pinned")
	}
	b.ResetTimer()
	for b.Loop() {
		_ = m.View()
	}
}
