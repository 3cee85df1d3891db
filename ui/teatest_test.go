package ui

import (
	"bytes"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

// Smoke test of the whole program: start on flysim, see the fleet, filter,
// quit.
func TestProgramSmoke(t *testing.T) {
	srv, err := flysim.Start(flysim.Options{App: "demo-app", Scenario: "majority", Machines: 80, Seed: 3, Speed: 50, NoRateLimit: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	m := New(Options{App: "demo-app", API: newSimClient(t, srv), NoColor: true, ReadOnly: true})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 40))
	waitScreen(t, tm, "80 machines")
	tm.Type("/group:worker")
	waitScreen(t, tm, "of 80 match")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	final := tm.FinalModel(t).(*Model)
	if final.filterInput.value != "group:worker" {
		t.Errorf("filter = %q", final.filterInput.value)
	}
}

// Typing q inside the filter must not quit the program.
func TestProgramFilterQDoesNotQuit(t *testing.T) {
	m := fixedModel(t, 50, 100, 30)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(100, 30))
	tm.Type("/q")
	waitScreen(t, tm, "/q")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})
	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

func waitScreen(t *testing.T, tm *teatest.TestModel, want string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		return bytes.Contains([]byte(ansi.Strip(string(b))), []byte(want))
	}, teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
}
