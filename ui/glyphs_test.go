package ui

import (
	"context"
	"reflect"
	"regexp"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// rowOf is the screen line of machine id.
func (h *harness) rowOf(id string) string {
	for _, l := range strings.Split(h.screen(), "\n") {
		if strings.Contains(l, id) {
			return l
		}
	}
	return ""
}

// polls waits for n more polls to be applied.
func (h *harness) polls(n int) {
	h.t.Helper()
	want := h.m.pollCount + n
	h.waitFor("more polls", func() bool { return h.m.pollCount >= want })
}

// endsInAge: the LAST EVENT cell keeps its age at the end, even cut.
var endsInAge = regexp.MustCompile(` \d+[smhd]$`)

// LAST EVENT says how a machine's process ended, as the API's newest exit
// event says, before the age: flysim's crash-looped web servers exit 1
// after their restarts, its workers are killed out of memory. A stop made
// with the dashboard's own keys shows up the same way at the next poll.
func TestLastEventSaysHowTheProcessEnded(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "majority", machines: 200})
	ctx := context.Background()
	seen := map[string]bool{}
	for _, mv := range h.srv.Sim.Machines() {
		if mv.State != "failed" || seen[mv.Group] {
			continue
		}
		seen[mv.Group] = true
		m, err := h.client.Get(ctx, "demo-app", mv.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, x := lastExit(m.Events)
		if x == nil || m.Events[0].Type != "exit" {
			t.Fatalf("%s: the sim's failed machine has no exit event on top", mv.ID)
		}
		want := "exit 1 ×"
		if x.OOMKilled {
			want = "exit 137 oom"
		}
		h.cursorTo(mv.ID)
		row := strings.TrimRight(h.rowOf(mv.ID), " ")
		if !strings.Contains(row, want) || !endsInAge.MatchString(row) || strings.Contains(row, "exit failed") {
			t.Errorf("%s (%s, %s): row does not say %q before the age:\n%s", mv.ID, mv.Group, x.Summary(), want, row)
		}
	}
	if !seen["web"] || !seen["worker"] {
		t.Fatalf("the scenario lacks a failed web and a failed worker machine: %v", seen)
	}

	id := startedMachine(t, h)
	h.cursorTo(id)
	h.openPlan("S", "Stop")
	h.confirmRun()
	h.press("c") // the finished run's STEP column gives its room back
	h.waitFor("the stop's exit event on screen", func() bool { return strings.Contains(h.rowOf(id), "exit 0 stop") })
}

// A cordoned machine says so in its state, with colour and without; the
// cordon and uncordon keys change it at the next poll, at 120 and at 80
// columns.
func TestCordonedRowSaysSo(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "healthy", machines: 12})
	id := startedMachine(t, h)
	h.cursorTo(id)
	h.openPlan("C", "Cordon")
	h.confirmRun()
	for _, size := range [][2]int{{120, 40}, {80, 24}} {
		h.dispatch(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		h.waitFor("the cordoned row", func() bool { return strings.Contains(h.rowOf(id), " started(c) ") })
	}
	g, mc := newGlyphs(false), h.m.snap.Machines[h.m.rows[h.m.cursor].machine]
	if row := rowCells(&mc, "started", h.m.now(), nil, &g, ""); row[colState] != "started⊘" {
		t.Errorf("in colour the state cell is %q, want started⊘", row[colState])
	}
	h.openPlan("O", "Uncordon")
	h.confirmRun()
	h.waitFor("the uncordoned row", func() bool {
		row := h.rowOf(id)
		return strings.Contains(row, " started ") && !strings.Contains(row, "(c)")
	})
}

// The help explains every glyph the table draws, in both glyph sets, and
// the markers that share the gutter never look alike.
func TestHelpExplainsEveryGlyph(t *testing.T) {
	for _, plain := range []bool{true, false} {
		m := New(Options{App: "app", NoColor: plain, NoPoll: true})
		for _, width := range []int{120, 80} {
			help := ansi.Strip(strings.Join(newHelpPane(m.shared).lines(width), "\n"))
			g := reflect.ValueOf(m.glyphs)
			for i := range g.NumField() {
				glyph := g.Field(i).String()
				if glyph == "" || !strings.Contains(help, glyph+" ") && !strings.Contains(help, glyph+"/") {
					t.Errorf("plain=%v width %d: glyph %s %q is not explained:\n%s", plain, width, g.Type().Field(i).Name, glyph, help)
				}
			}
			for _, sm := range stepMarks {
				if !strings.Contains(help, "  "+sm.glyph+" "+sm.means) {
					t.Errorf("plain=%v width %d: step glyph %q (%s) is not explained", plain, width, sm.glyph, sm.phase)
				}
			}
			if !strings.Contains(help, m.spinnerGlyph()+" under way") {
				t.Errorf("plain=%v: the spinner is not explained", plain)
			}
		}
		gutter := []string{m.glyphs.cursor, m.glyphs.mark, m.glyphs.changed, m.glyphs.pin}
		for i := range gutter {
			for j := range i {
				if gutter[i] == gutter[j] {
					t.Errorf("plain=%v: gutter glyphs %d and %d are both %q", plain, i, j, gutter[i])
				}
			}
		}
	}
	if g := newGlyphs(false); g.mark == "●" && strings.ContainsAny(g.changed, "•·●∙") {
		t.Errorf("the changed glyph %q is a dot like the mark %q", g.changed, g.mark)
	}
}
