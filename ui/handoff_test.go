package ui

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

// osc52 is the terminal's set-clipboard sequence as Bubble Tea writes it.
var osc52 = regexp.MustCompile("\x1b\\]52;c;([A-Za-z0-9+/=]*)(?:\x07|\x1b\\\\)")

// waitClipboard waits for the program to write an OSC 52 sequence and the
// screen to match status, and returns the text the sequence puts on the
// clipboard. (One wait: the output read is gone for the next. The renderer
// writes only the cells that change, so status can only match a status
// line written whole.)
func waitClipboard(t *testing.T, tm *teatest.TestModel, status *regexp.Regexp) string {
	t.Helper()
	var payload []byte
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		m := osc52.FindSubmatch(b)
		if m != nil {
			payload = m[1]
		}
		return m != nil && (status == nil || status.Match([]byte(ansi.Strip(string(b)))))
	}, teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
	text, err := base64.StdEncoding.DecodeString(string(payload))
	if err != nil {
		t.Fatalf("OSC 52 payload %q: %v", payload, err)
	}
	return string(text)
}

// The copy key writes OSC 52 with the marked machines' IDs, one a line,
// then with the cursor machine's alone; read-only keeps it.
func TestCopyKeyEmitsOSC52(t *testing.T) {
	srv, err := flysim.Start(flysim.Options{App: "demo-app", Scenario: "healthy", Machines: 20, Seed: 3, Speed: 50, NoRateLimit: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	m := New(Options{App: "demo-app", API: newSimClient(t, srv), NoColor: true, ReadOnly: true})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 40))
	waitScreen(t, tm, "20 machines")
	tm.Type("/state:started")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	tm.Type("a")
	tm.Type("i")
	marked := waitClipboard(t, tm, regexp.MustCompile(`copied \d+ machine IDs`))
	ids := strings.Split(marked, "\n")

	tm.Type("A")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnd})
	tm.Type("i")
	one := waitClipboard(t, tm, nil)
	tm.Type("q")
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Model)

	if len(ids) != 20 {
		t.Fatalf("a marked the 20 started machines, but the clipboard got %q", marked)
	}
	for _, id := range ids {
		if mv, ok := srv.Sim.Machine(id); !ok || mv.State != model.StateStarted {
			t.Errorf("copied %q: not a started machine of the sim (%+v)", id, mv)
		}
	}
	if final.status != "copied 1 machine ID" {
		t.Errorf("status %q", final.status)
	}
	if mc, ok := final.cursorMachine(); !ok || one != mc.ID {
		t.Errorf("the cursor is on %v, the clipboard got %q", mc, one)
	}
}

// clipboardOf runs a command and returns what it puts on the clipboard
// (Bubble Tea's message is a string type of its own; TestCopyKeyEmitsOSC52
// sees the bytes it becomes).
func clipboardOf(t *testing.T, cmd tea.Cmd) string {
	t.Helper()
	if cmd == nil {
		t.Fatal("no command: nothing was copied")
	}
	v := reflect.ValueOf(cmd())
	if v.Kind() != reflect.String || v.Type().Name() != "setClipboardMsg" {
		t.Fatalf("the command makes %v, not a clipboard message", v.Type())
	}
	return v.String()
}

// pressCmd sends a key through Update and returns its command unrun.
func (h *harness) pressCmd(k string) tea.Cmd {
	_, cmd := h.m.Update(keyPress(k))
	return cmd
}

// The copy key takes what the verbs act on: the cursor machine, or a group
// header's machines; hand-off from the table shows their dashboard URLs
// and copies them.
func TestCopyAndHandoffFromTable(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "healthy", machines: 12, readOnly: true})
	id := h.srv.Sim.Machines()[3].ID
	h.cursorTo(id)
	if got := clipboardOf(t, h.pressCmd("i")); got != id {
		t.Errorf("copied %q, want the cursor's %s", got, id)
	}
	if !strings.Contains(h.screen(), "copied 1 machine ID") {
		t.Errorf("status:\n%s", h.screen())
	}
	h.press("home")
	group, _ := h.m.targets()
	if got := clipboardOf(t, h.pressCmd("i")); got != strings.Join(group, "\n") || len(group) < 2 {
		t.Errorf("on a group header: copied %q, want its %d machines", got, len(group))
	}

	h.cursorTo(id)
	h.press("space")
	other := h.m.snap.Machines[h.m.rows[h.m.cursor].machine].ID
	h.press("space", "o")
	s := h.screen()
	for _, mid := range []string{id, other} {
		if url := "https://fly.io/apps/demo-app/machines/" + mid; !strings.Contains(s, url) {
			t.Errorf("the hand-off pane lacks %s:\n%s", url, s)
		}
	}
	want := recovery.DashboardURL("demo-app", h.m.marks.IDs()[0]) + "\n" + recovery.DashboardURL("demo-app", h.m.marks.IDs()[1])
	if got := clipboardOf(t, h.pressCmd("i")); got != want {
		t.Errorf("the pane copied %q, want the URLs %q", got, want)
	}
	h.press("esc")
	if h.m.focus != nil {
		t.Errorf("esc left %T open", h.m.focus)
	}
}

// From an update's plan dialog, o shows one `fly machine update` per step
// with the target image and label, i copies exactly those commands, esc
// returns to the plan, and y still runs it.
func TestHandoffUpdatePlan(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "minority", machines: 30})
	h.dispatch(teaSize(250, 60))
	target := h.m.snap.Target.Image
	var ids []string
	for _, mv := range h.srv.Sim.Machines() {
		if len(ids) < 3 && mv.Image != target && mv.LeaseOwner == "" && mv.State == model.StateStarted {
			h.cursorTo(mv.ID)
			h.press("space")
			ids = append(ids, mv.ID)
		}
	}
	if len(ids) < 3 {
		t.Fatalf("only %d old started machines", len(ids))
	}
	s := h.openPlan("u", "3 machines?")
	if !regexp.MustCompile(`│ to +\S`).MatchString(s) {
		t.Errorf("an update's dialog has no to row:\n%s", s)
	}
	plan := h.m.focus.(*planPane).pending.plan
	cursor, _ := h.m.cursorMachine()
	h.press("o")
	s = h.screen()
	label := model.LabelFromImage(target)
	for _, id := range ids {
		want := fmt.Sprintf("fly machine update %s --image %s --env RELEASE_LABEL=%s", id, target, label)
		if !strings.Contains(s, want) {
			t.Errorf("the hand-off pane lacks %q:\n%s", want, s)
		}
	}
	if !strings.Contains(s, recovery.DashboardURL("demo-app", cursor.ID)) {
		t.Errorf("the hand-off pane lacks the cursor machine's URL:\n%s", s)
	}
	got := clipboardOf(t, h.pressCmd("i"))
	if want := strings.Join(recovery.FlyctlCommands(plan), "\n"); got != want || strings.Count(got, "fly machine update ") != 3 {
		t.Errorf("copied:\n%s\nwant the plan's commands:\n%s", got, want)
	}
	if !strings.Contains(h.screen(), "copied 3 flyctl commands") {
		t.Errorf("status:\n%s", h.screen())
	}
	h.press("esc")
	if h.m.mode() != modeConfirm {
		t.Fatalf("esc did not return to the plan: %T", h.m.focus)
	}
	if r := h.confirmRun(); r.OK != 3 {
		t.Fatalf("the plan after a hand-off: %+v", r)
	}
	for _, id := range ids {
		if mv, _ := h.srv.Sim.Machine(id); mv.Image != target || mv.Env["RELEASE_LABEL"] != label {
			t.Errorf("%s: image %s label %s", id, mv.Image, mv.Env["RELEASE_LABEL"])
		}
	}
}

// Neither key clashes with another binding of the table or of the panes
// they work in, and neither is y or a ctrl+ key.
func TestCopyAndHandoffKeys(t *testing.T) {
	k := DefaultKeyMap()
	for _, b := range []struct {
		name string
		keys []string
	}{{"copy", k.Copy.Keys()}, {"handoff", k.Handoff.Keys()}, {"plan.handoff", k.PlanPane.Handoff.Keys()}} {
		for _, kk := range b.keys {
			if kk == confirmKey || strings.HasPrefix(kk, "ctrl+") {
				t.Errorf("%s is on %q", b.name, kk)
			}
		}
	}
	if !slices.Contains(BindingNames(), "copy") || !slices.Contains(BindingNames(), "handoff") {
		t.Errorf("settings names: %v", BindingNames())
	}
	if err := k.Rebind(map[string]string{"copy": "Y"}); err != nil {
		t.Fatalf("rebinding copy: %v", err)
	}
	if !slices.Contains(k.HandoffPane.Copy.Keys(), "Y") {
		t.Errorf("the hand-off pane's copy does not follow copy: %v", k.HandoffPane.Copy.Keys())
	}
	if err := k.Rebind(map[string]string{"copy": "u"}); err == nil || !strings.Contains(err.Error(), `"u" would trigger both`) {
		t.Errorf("copy on update's key: %v", err)
	}
	// Read-only leaves both bound.
	k = DefaultKeyMap()
	k.SetReadOnly("read-only")
	if !k.Copy.Enabled() || !k.Handoff.Enabled() || !k.PlanPane.Handoff.Enabled() {
		t.Error("read-only disabled copy or hand-off, which change nothing")
	}
	if strings.Contains(ansi.Strip(k.Copy.Help().Desc), "read-only") {
		t.Error("copy's help says it is disabled")
	}
}
