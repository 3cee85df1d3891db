package ui

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

// The dialog's question names what an undo undoes and when, and a resume
// as a resume; counted words agree with their numbers.
func TestPlanHeadings(t *testing.T) {
	now := time.Date(2026, 11, 23, 3, 19, 30, 0, time.UTC)
	steps := func(ops ...recovery.Op) []recovery.Step {
		var out []recovery.Step
		for _, op := range ops {
			out = append(out, recovery.Step{Op: op, MachineID: "m"})
		}
		return out
	}
	const id = "20261123T031500-a1b2c3"
	for _, c := range []struct {
		plan *recovery.Plan
		req  planRequest
		want string
	}{
		{&recovery.Plan{Kind: recovery.KindUndo, Undoes: id, Args: map[string]string{"undoes_kind": "stop"}, Steps: steps(recovery.OpStart, recovery.OpStart, recovery.OpStart)},
			planRequest{kind: recovery.KindUndo}, "Undo stop 031500-a1b2c3 (4m ago): start 3 machines?"},
		{&recovery.Plan{Kind: recovery.KindUndo, Undoes: id, Args: map[string]string{"undoes_kind": "scale"}, Steps: steps(recovery.OpLaunch, recovery.OpLaunch, recovery.OpDestroy)},
			planRequest{kind: recovery.KindUndo}, "Undo scale 031500-a1b2c3 (4m ago): launch 2 new machines and destroy 1 machine?"},
		{&recovery.Plan{Kind: recovery.KindStop, Resumes: id, Steps: steps(recovery.OpStop)},
			planRequest{kind: recovery.KindResume}, "Resume stop 031500-a1b2c3 (4m ago): finish it, stop 1 machine?"},
		{&recovery.Plan{Kind: recovery.KindScale, Resumes: id, Args: map[string]string{"group": "web", "count": "5"}, Steps: steps(recovery.OpLaunch)},
			planRequest{kind: recovery.KindResume}, "Resume scale 031500-a1b2c3 (4m ago): finish it, launch 1 new machine?"},
		{&recovery.Plan{Kind: recovery.KindStop, Resumes: id},
			planRequest{kind: recovery.KindResume}, "Resume stop 031500-a1b2c3 (4m ago): nothing left to run; record what was found?"},
		{&recovery.Plan{Kind: recovery.KindScale, Args: map[string]string{"group": "web", "count": "5"}, Steps: steps(recovery.OpLaunch)},
			planRequest{kind: recovery.KindScale}, "Scale web to 5 (1 step)?"},
		{&recovery.Plan{Kind: recovery.KindDestroy, Steps: steps(recovery.OpDestroy, recovery.OpDestroy)},
			planRequest{kind: recovery.KindDestroy, force: true}, "FORCE-destroy 2 machines?"},
		{&recovery.Plan{Kind: recovery.KindUndo, Undoes: "a1", Args: map[string]string{"undoes_kind": "cordon"}, Steps: steps(recovery.OpUncordon)},
			planRequest{kind: recovery.KindUndo}, "Undo cordon a1: uncordon 1 machine?"},
	} {
		if got := planHeading(c.plan, c.req, now); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
}

// Restart and destroy put no image on a machine: their dialogs have no
// from or to row, which would only repeat what the machines run.
func TestPlanDialogNoToRowForRestartOrDestroy(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "healthy", machines: 12})
	h.markStarted(2)
	fromTo := regexp.MustCompile(`│ (from|to) +\S`)
	s := h.openPlan("r", "Restart 2 machines?")
	if fromTo.MatchString(s) {
		t.Errorf("restart: the dialog has a from or to row:\n%s", s)
	}
	h.press("n")
	h.openPlan("D", "Destroy 0 machines?")
	s = h.openPlan("f", "FORCE-destroy 2 machines?")
	if fromTo.MatchString(s) {
		t.Errorf("destroy: the dialog has a from or to row:\n%s", s)
	}
	h.press("n")
}

// A plan with more to say than the screen holds keeps its title and its y
// line at every size, says how much it left out, scrolls to the rest with
// the table's down key, and still cancels on any other key.
func TestPlanDialogFitsEverySize(t *testing.T) {
	for _, size := range [][2]int{{120, 40}, {80, 24}, {60, 15}} {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			m := fixedModel(t, 500, w, h)
			m.Update(keyPress("a"))
			m.receivePlanForTest(recovery.KindDestroy, func(p *recovery.Plan) {
				for i := range 12 {
					p.Notes = append(p.Notes, fmt.Sprintf("note %d of the plan, long enough that a narrow dialog has to wrap it onto a second line", i+1))
				}
			})
			for range 40 {
				s := ansi.Strip(m.View().Content)
				checkScreen(t, s, w, h)
				for _, want := range []string{"Destroy 500 machines?", "y run", "f ", "cancel", "No]"} {
					if !strings.Contains(s, want) {
						t.Fatalf("the dialog lacks %q:\n%s", want, s)
					}
				}
				if strings.Contains(s, "note 12 of the plan") {
					break
				}
				if !strings.Contains(s, "more") {
					t.Fatalf("the dialog hides notes without saying so:\n%s", s)
				}
				m.Update(keyPress("j"))
			}
			if s := ansi.Strip(m.View().Content); !strings.Contains(s, "note 12 of the plan") {
				t.Fatalf("scrolling never reached the last note:\n%s", s)
			}
			if m.mode() != modeConfirm {
				t.Fatal("scrolling closed the dialog")
			}
			if w == 120 {
				if s := ansi.Strip(m.View().Content); !regexp.MustCompile(`│ budget +[^…│]+│`).MatchString(s) {
					t.Errorf("the budget row is cut at 120 columns:\n%s", s)
				}
			}
			m.Update(keyPress("n"))
			if m.focus != nil || m.status != "cancelled: nothing was changed" {
				t.Errorf("n: focus %T, status %q", m.focus, m.status)
			}
		})
	}
}

// checkScreen: exactly h lines, none wider than w.
func checkScreen(t *testing.T, s string, w, h int) {
	t.Helper()
	lines := strings.Split(s, "\n")
	if len(lines) != h {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), h, s)
	}
	for i, l := range lines {
		if ansi.StringWidth(l) > w {
			t.Fatalf("line %d is %d wide (> %d): %q", i, ansi.StringWidth(l), w, l)
		}
	}
}

// Below 60x15 the screen says it is too small and why, keys that could
// act unseen do nothing (a plan on screen before stays unconfirmed), and
// the dialog comes back whole when the terminal grows.
func TestTooSmallTerminal(t *testing.T) {
	m := fixedModel(t, 500, 120, 40)
	m.Update(keyPress("a"))
	m.receivePlanForTest(recovery.KindUpdate)
	m.Update(teaSize(50, 12))
	s := ansi.Strip(m.View().Content)
	checkScreen(t, s, 50, 12)
	if !strings.Contains(strings.Join(strings.Fields(s), " "), "terminal 50x12 is too small: flyrescue needs at least 60x15") {
		t.Fatalf("too small:\n%s", s)
	}
	m.Update(keyPress("y"))
	if m.mode() != modeConfirm || m.run != nil {
		t.Fatalf("y on a screen too small to show the plan: mode %v, run %v", m.mode(), m.run)
	}
	m.Update(teaSize(60, 15))
	s = ansi.Strip(m.View().Content)
	checkScreen(t, s, 60, 15)
	if !strings.Contains(s, "Update to the target image: 500 machines?") || !strings.Contains(s, "y run") {
		t.Fatalf("at 60x15 the plan is back:\n%s", s)
	}
	// Quitting still works when the screen is too small (nothing runs).
	m.Update(keyPress("n"))
	m.Update(teaSize(40, 10))
	if _, cmd := m.Update(keyPress("q")); cmd == nil {
		t.Fatal("q does not quit on a screen too small")
	} else if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("q does not quit on a screen too small")
	}
	checkGolden(t, "toosmall_40x10", m)
}

// The quit dialog of a running action keeps "y cancel and quit" on a
// 60x15 terminal.
func TestQuitDialogOnSmallTerminal(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "healthy", machines: 12})
	h.markStarted(2)
	h.openPlan("r", "Restart 2 machines?")
	h.press("y")
	// The run's messages wait in the harness until it processes them: the
	// action is still running for the next keys.
	h.dispatch(teaSize(60, 15))
	h.press("q")
	if h.m.mode() != modeConfirmQuit {
		t.Fatalf("q while running: %v", h.m.mode())
	}
	s := h.screen()
	checkScreen(t, s, 60, 15)
	if !strings.Contains(s, "y cancel and quit") || !strings.Contains(s, "An action is running") {
		t.Fatalf("the quit dialog at 60x15:\n%s", s)
	}
	h.press("n")
	h.waitFor("the run to finish", func() bool { return h.m.run != nil && h.m.run.done })
	if h.quit {
		t.Fatal("n quit")
	}
	for _, mv := range h.srv.Sim.Machines() {
		if mv.State != model.StateStarted {
			t.Errorf("%s: %s", mv.ID, mv.State)
		}
	}
}
