package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/flyclient/flysim"
	"github.com/flyrescue/flyrescue/recovery"
)

// harness drives the dashboard the way Bubble Tea would, but from the test
// goroutine: keys go through Update, returned commands run in goroutines
// against a real flyclient talking to flysim over 127.0.0.1, and their
// messages come back through Update in arrival order.
type harness struct {
	t       *testing.T
	m       *Model
	srv     *flysim.Server
	client  *flyclient.Client
	journal *recovery.Journal
	msgs    chan tea.Msg
	quit    bool
}

type harnessOpts struct {
	scenario string
	machines int
	readOnly bool
	keys     map[string]string // rebinds, as the settings file gives them
	// autoscaler runs flysim's fly-autoscaler-like actor.
	autoscaler bool
	// ctx is the dashboard's base context (Options.Context).
	ctx context.Context
	// now is the dashboard's clock (Options.Now); nil: time.Now.
	now func() time.Time
	// reopen is a harness whose simulator and journal the new dashboard
	// takes over, as an operator restarting flyrescue would; nil: new ones.
	reopen *harness
}

func newHarness(t *testing.T, o harnessOpts) *harness {
	t.Helper()
	var h *harness
	if o.reopen != nil {
		h = &harness{t: t, srv: o.reopen.srv, client: o.reopen.client, journal: o.reopen.journal, msgs: make(chan tea.Msg, 4096)}
	} else {
		srv, err := flysim.Start(flysim.Options{App: "demo-app", Scenario: o.scenario, Machines: o.machines, Seed: 7, Speed: 200, NoRateLimit: true,
			Autoscaler: o.autoscaler, AutoscalerEvery: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Close)
		h = &harness{t: t, srv: srv, client: newSimClient(t, srv), msgs: make(chan tea.Msg, 4096)}
	}
	client := h.client
	opts := Options{App: "demo-app", API: client, NoColor: true, ReadOnly: o.readOnly, Context: o.ctx, Now: o.now}
	if o.keys != nil {
		km := DefaultKeyMap()
		if err := km.Rebind(o.keys); err != nil {
			t.Fatal(err)
		}
		opts.KeyMap = &km
	}
	if !o.readOnly {
		if h.journal == nil {
			j, err := recovery.OpenJournal(t.TempDir(), "demo-app")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = j.Close() })
			h.journal = j
		}
		opts.Engine = recovery.NewEngine(client, h.journal, recovery.Options{App: "demo-app", BackoffBase: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond, Retries: 2, WaitTimeout: 1500 * time.Millisecond})
	}
	h.m = New(opts)
	// Tests poll faster than the 1 s floor an operator gets.
	h.m.opts.Refresh = 50 * time.Millisecond
	h.dispatch(tea.WindowSizeMsg{Width: 120, Height: 40})
	h.run(h.m.Init())
	h.waitFor("first poll", func() bool { return h.m.snap != nil })
	t.Cleanup(func() { h.m.Shutdown(5 * time.Second) })
	return h
}

func newSimClient(t *testing.T, srv *flysim.Server) *flyclient.Client {
	t.Helper()
	c, err := flyclient.New(context.Background(), flyclient.Config{Token: "test-token", FlapsBaseURL: srv.URL, APIBaseURL: srv.URL, UserAgent: "flyrescue-test/1"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (h *harness) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() { h.msgs <- cmd() }()
}

func (h *harness) dispatch(msg tea.Msg) {
	switch msg := msg.(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			h.run(c)
		}
	case tea.QuitMsg:
		h.quit = true
	default:
		_, cmd := h.m.Update(msg)
		h.run(cmd)
	}
}

// press sends keys: names like "enter", "space", "ctrl+c", or text typed
// one rune at a time.
func (h *harness) press(keys ...string) {
	for _, k := range keys {
		h.dispatch(keyPress(k))
	}
}

func (h *harness) typeText(s string) {
	for _, r := range s {
		if r == ' ' {
			h.press("space")
			continue
		}
		h.dispatch(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func keyPress(k string) tea.KeyPressMsg {
	special := map[string]rune{
		"enter": tea.KeyEnter, "esc": tea.KeyEscape, "tab": tea.KeyTab, "space": tea.KeySpace,
		"up": tea.KeyUp, "down": tea.KeyDown, "backspace": tea.KeyBackspace, "end": tea.KeyEnd, "home": tea.KeyHome,
	}
	if c, ok := special[k]; ok {
		msg := tea.KeyPressMsg{Code: c}
		if k == "space" {
			msg.Text = " "
		}
		return msg
	}
	if rest, ok := strings.CutPrefix(k, "ctrl+"); ok {
		return tea.KeyPressMsg{Code: rune(rest[0]), Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

// waitFor processes messages until cond holds.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.After(30 * time.Second)
	for !cond() {
		select {
		case msg := <-h.msgs:
			h.dispatch(msg)
		case <-deadline:
			h.t.Fatalf("timed out waiting for %s; screen:\n%s", what, h.screen())
		}
	}
}

// settle processes messages for d.
func (h *harness) settle(d time.Duration) {
	end := time.After(d)
	for {
		select {
		case msg := <-h.msgs:
			h.dispatch(msg)
		case <-end:
			return
		}
	}
}

func (h *harness) screen() string { return ansi.Strip(h.m.View().Content) }
