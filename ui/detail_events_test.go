package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	fly "github.com/superfly/fly-go"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
)

// A failed machine's detail says how its process last ended (a worker is
// killed for memory, a web server exits 1) and lists every event the API
// returned.
func TestDetailShowsLastExitAndEveryEvent(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "majority", machines: 100})
	var id, group string
	for _, mv := range h.srv.Sim.Machines() {
		if mv.State == "failed" && mv.LeaseOwner == "" {
			id, group = mv.ID, mv.Group
			break
		}
	}
	if id == "" {
		t.Fatal("no failed machine")
	}
	d := h.openDetail(id)
	want := "exit 1 ×"
	if group != "web" {
		want = "exit 137 oom ×"
	}
	s := h.screen()
	row := lineWith(s, "last exit")
	if !strings.Contains(row, want) || !strings.Contains(row, "restarts") {
		t.Fatalf("%s machine: the last exit row %q lacks %q:\n%s", group, row, want, s)
	}
	events := d.machine.Events
	if !strings.Contains(s, fmt.Sprintf("all %d the API returned", len(events))) {
		t.Fatalf("the detail does not count the %d events:\n%s", len(events), s)
	}
	for range len(d.lines(h.m.width)) {
		h.press("j")
	}
	s = h.screen()
	oldest := events[len(events)-1]
	if !strings.Contains(s, oldest.Time().UTC().Format(time.DateTime)+"  "+oldest.Type) {
		t.Fatalf("scrolled to the end, the oldest event (%s %s) is not shown:\n%s", oldest.Type, oldest.Time(), s)
	}
}

// Every event is listed, however many: the detail used to stop at 20.
func TestDetailListsTheWholeHistory(t *testing.T) {
	m := fixedModel(t, 50, 80, 24)
	mc, ok := m.cursorMachine()
	for ; !ok; mc, ok = m.cursorMachine() {
		m.Update(keyPress("down"))
	}
	fm := fakeFlyMachine(*mc)
	start := model.SyntheticNow.Add(-2 * time.Hour)
	fm.Events = nil
	for i := range 45 { // newest first
		at := start.Add(time.Duration(45-i) * time.Minute)
		e := &fly.MachineEvent{Type: "start", Status: "started", Source: "flyd", Timestamp: at.UnixMilli()}
		if i%2 == 0 {
			e = &fly.MachineEvent{Type: "exit", Status: "stopped", Source: "flyd", Timestamp: at.UnixMilli(),
				Request: &fly.MachineRequest{ExitEvent: &fly.MachineExitEvent{ExitCode: 1, Restarting: true}, RestartCount: 22 - i/2}}
		}
		fm.Events = append(fm.Events, e)
	}
	d := newDetailPane(m.shared, mc.ID)
	m.open(d)
	m.Update(detailMsg{id: mc.ID, machine: fm, lease: &flyclient.Lease{}})
	if row := lineWith(m.render(), "last exit"); !strings.Contains(row, "exit 1 ×22 restarts") {
		t.Fatalf("last exit row %q", row)
	}
	for range 200 {
		m.Update(keyPress("j"))
	}
	s := m.render()
	if !strings.Contains(s, start.Add(time.Minute).UTC().Format(time.DateTime)+"  exit") {
		t.Fatalf("the oldest of 45 events is not reachable:\n%s", s)
	}
	lines := d.lines(m.width)
	if n := len(lines) - 1 - slicesIndex(lines, "Events (newest first, all 45"); n != 45 {
		t.Fatalf("%d event lines, want 45", n)
	}
	checkScreenFits(t, m)
}

func lineWith(screen, part string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, part) {
			return l
		}
	}
	return ""
}

// slicesIndex is the index of the first line containing part.
func slicesIndex(lines []string, part string) int {
	for i, l := range lines {
		if strings.Contains(l, part) {
			return i
		}
	}
	return len(lines)
}
