package recovery

import (
	"slices"
	"strings"
	"testing"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
)

// nonActionKeys are the dashboard's keys that are not verbs (ui/keys.go, ui/sortkeys.go
// DefaultKeyMap: moving, selecting, panes, copy and hand-off), and y, which confirms a plan. A
// verb's key must be none of them.
var nonActionKeys = []string{
	"up", "k", "down", "j", "pgup", "ctrl+b", "pgdown", "ctrl+f", "home", "end", "G", "tab", "enter",
	"/", "g", "esc", "space", "a", "A", "J", "?", "ctrl+r", "c", "q", "ctrl+c", "y", "l", "<", ">", "I", "i", "o",
}

// TestVerbRegistry walks the verbs: each has a key that clashes with no
// other, help, plan wording and a command (or says why not); the dangerous
// ones are mutating; read-only keeps exactly the rest; every advice verb
// maps to one of them.
func TestVerbRegistry(t *testing.T) {
	keys, bindings, commands := map[string]Kind{}, map[string]Kind{}, map[string]Kind{}
	for _, v := range Verbs() {
		name := string(v.Kind)
		if v.Key == "" || v.Help == "" || v.Title == "" || v.Progressive == "" || v.Binding == "" {
			t.Errorf("%s: key %q, help %q, title %q, progressive %q, binding %q: all are needed", name, v.Key, v.Help, v.Title, v.Progressive, v.Binding)
		}
		if other, dup := keys[v.Key]; dup {
			t.Errorf("%s: key %q is %s's already", name, v.Key, other)
		}
		keys[v.Key] = v.Kind
		if other, dup := bindings[v.Binding]; dup {
			t.Errorf("%s: binding name %q is %s's already", name, v.Binding, other)
		}
		bindings[v.Binding] = v.Kind
		if slices.Contains(nonActionKeys, v.Key) {
			t.Errorf("%s: key %q is a dashboard key already", name, v.Key)
		}
		if v.Mutating && strings.HasPrefix(v.Key, "ctrl+") {
			t.Errorf("%s: a verb that changes machines on %s is too easy to hit by accident", name, v.Key)
		}
		if v.Dangerous && !v.Mutating {
			t.Errorf("%s: dangerous but not mutating", name)
		}
		if got, want := ReadOnlyAllowed(v.Kind), !v.Dangerous && !v.Mutating; got != want {
			t.Errorf("%s: ReadOnlyAllowed = %v, want %v", name, got, want)
		}
		c := v.Command
		switch {
		case (c.Name == "") == (c.NoCommand == ""):
			t.Errorf("%s: needs a command or the reason it has none (name %q, none %q)", name, c.Name, c.NoCommand)
		case c.Name != "":
			if c.Short == "" || c.Example == "" || (c.Group != "act" && c.Group != "recover") {
				t.Errorf("%s: command %q needs a summary, an example and a help group (%q)", name, c.Name, c.Group)
			}
			if other, dup := commands[c.Name]; dup {
				t.Errorf("%s: command %q is %s's already", name, c.Name, other)
			}
			commands[c.Name] = v.Kind
		}
		if (v.Planner == PlansSelection) != (v.plan != nil) || (v.Planner == PlansSelection) != c.Selects {
			t.Errorf("%s: planner %s, plan func %v, command selects %v: a selection verb has both, no other", name, v.Planner, v.plan != nil, c.Selects)
		}
		if v.Planner == PlansSelection {
			if _, ok := OpOf(v.Op); !ok {
				t.Errorf("%s: op %q is not in the ops registry", name, v.Op)
			}
		}
		if (v.Force == "") != (v.ForceTitle == "") {
			t.Errorf("%s: force %q and its title %q go together", name, v.Force, v.ForceTitle)
		}
		if v.Journaled() != (v.Kind != KindApplyAdvice) || slices.Contains(JournaledKinds(), v.Kind) != v.Journaled() {
			t.Errorf("%s: journaled %v", name, v.Journaled())
		}
	}
	for _, a := range []model.Verb{model.ActionRestart, model.ActionUpdate, model.ActionDestroy, model.ActionScale, model.ActionRollback} {
		if k, ok := KindForAdvice(a); !ok || string(k) != string(a) {
			t.Errorf("advice %s maps to %q, %v", a, k, ok)
		}
	}
	if _, ok := KindForAdvice(""); ok {
		t.Error("an empty advice maps to a verb")
	}
	if ReadOnlyAllowed("no-such-kind") {
		t.Error("read-only allows a kind nobody knows")
	}
	if _, err := (&Engine{}).PlanVerb(t.Context(), KindScale, VerbRequest{}); err == nil {
		t.Error("PlanVerb planned scale, which a form plans")
	}
}

// TestOpRegistry walks the per-machine ops: each waits for its own states
// (or says why it waits for none, so nothing silently waits for started),
// is verified, and has an inverse or the reason there is none.
func TestOpRegistry(t *testing.T) {
	for _, o := range Ops() {
		name := string(o.Op)
		spec := opOf(o.Op)
		if o.Progressive == "" || o.Past == "" || o.Verifies == "" {
			t.Errorf("%s: progressive %q, past %q, verifies %q", name, o.Progressive, o.Past, o.Verifies)
		}
		if (len(o.WaitStates) == 0) == (o.NoWait == "") {
			t.Errorf("%s: wait states %v or a reason to wait for none (%q), not both", name, o.WaitStates, o.NoWait)
		}
		if o.ToState != "" && !slices.Contains(waitStates(Step{Op: o.Op, ToState: o.ToState}), o.ToState) {
			t.Errorf("%s: leaves machines %s but waits for %v", name, o.ToState, waitStates(Step{Op: o.Op, ToState: o.ToState}))
		}
		if o.ToState != "" && o.ToState != model.StateStarted && slices.Contains(o.WaitStates, model.StateStarted) {
			t.Errorf("%s: waits for started but leaves machines %q", name, o.ToState)
		}
		if o.ToState == "" && o.NoWait == "" && spec.waitFor == nil {
			t.Errorf("%s: decides its state per step but has no per-step wait", name)
		}
		if spec.attempt == nil && (spec.act == nil || spec.verify == nil || spec.landed == nil) {
			t.Errorf("%s: a leased attempt needs a call, a verification and a landed test", name)
		}
		switch {
		case (o.Inverse == "") == (o.NoInverse == ""):
			t.Errorf("%s: inverse %q or the reason there is none (%q), not both", name, o.Inverse, o.NoInverse)
		case o.Inverse != "":
			if _, ok := OpOf(o.Inverse); !ok || spec.undo == nil {
				t.Errorf("%s: inverse %s unknown or not planned (undo func %v)", name, o.Inverse, spec.undo != nil)
			}
		case spec.undo != nil:
			t.Errorf("%s: has no inverse but plans one", name)
		}
		if o.LeavesDown && !o.TakesDown {
			t.Errorf("%s: leaves machines down without taking a budget slot to do it", name)
		}
		// Every op can be handed on as a flyctl command (flyctl_test.go
		// checks each command's flags against flyctl's).
		if o.Flyctl == nil {
			t.Errorf("%s: has no flyctl form", name)
			continue
		}
		s := Step{MachineID: "3d8d9e1f2b7689", Op: o.Op, Region: "iad", ToImage: "registry.fly.io/app:v2", Config: &flyclient.MachineConfig{Image: "registry.fly.io/app:v2"}}
		if o.Op != OpLaunch && o.Op != OpUpdate {
			s.Config = nil
		}
		cmd := o.Flyctl("my-app", s, map[string]string{})
		if !strings.HasPrefix(cmd, "fly machine ") || !strings.HasSuffix(cmd, " -a my-app") {
			t.Errorf("%s: flyctl form %q is not a fly machine command for the app", name, cmd)
		}
		if o.Op != OpLaunch && !strings.Contains(cmd, " "+s.MachineID) {
			t.Errorf("%s: flyctl form %q does not name the machine", name, cmd)
		}
	}
	// An update keeps a stopped machine stopped, and waits for that.
	if w := waitStates(Step{Op: OpUpdate, ToState: model.StateStopped}); slices.Contains(w, model.StateStarted) {
		t.Errorf("an update of a stopped machine waits for %v", w)
	}
	// An op from a newer journal is refused, not guessed at.
	if _, ok := OpOf("teleport"); ok {
		t.Fatal("an unknown op is known")
	}
	if _, err := opOf("teleport").act(nil, t.Context(), Step{}, nil, ""); err == nil || retryable(err) {
		t.Errorf("unknown op acts: %v", err)
	}
}

// TestOpSkips: which machines each op planned machine by machine acts on,
// and which it leaves out.
func TestOpSkips(t *testing.T) {
	started := machineView{state: model.StateStarted}
	stopped := machineView{state: model.StateStopped}
	suspended := machineView{state: model.StateSuspended}
	failed := machineView{state: model.StateFailed}
	cordoned := machineView{state: model.StateStarted, cordoned: true}
	stuck := machineView{state: model.StateReplacing, stuck: true}
	forced := machineView{state: model.StateStarted, force: true}
	for _, c := range []struct {
		op   Op
		v    machineView
		skip string // "" acts; else a word of the reason
	}{
		{OpRestart, stopped, ""}, {OpRestart, failed, ""},
		{OpStart, started, "already started"}, {OpStart, stopped, ""}, {OpStart, suspended, ""},
		{OpStop, started, ""}, {OpStop, stopped, "already stopped"}, {OpStop, suspended, "already suspended"},
		{OpSuspend, started, ""}, {OpSuspend, suspended, "already suspended"}, {OpSuspend, stopped, "cannot be suspended"},
		{OpSuspend, failed, "only a started machine"},
		{OpCordon, started, ""}, {OpCordon, stopped, ""}, {OpCordon, cordoned, "already cordoned"},
		{OpUncordon, cordoned, ""}, {OpUncordon, started, "not cordoned"},
		{OpDestroy, stopped, ""}, {OpDestroy, started, "force"}, {OpDestroy, stuck, "force"}, {OpDestroy, forced, ""},
	} {
		got := opOf(c.op).skip(c.v)
		if (c.skip == "") != (got == "") || !strings.Contains(got, c.skip) {
			t.Errorf("%s on %+v: skip %q, want %q", c.op, c.v, got, c.skip)
		}
	}
}
