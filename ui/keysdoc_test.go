package ui

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/flyrescue/flyrescue/recovery"
)

const (
	keysBegin = "<!-- keys:begin: generated from the dashboard's KeyMap and recovery's verb registry; to change it, change those and run go test ./ui -run TestREADMEKeys -update -->"
	keysEnd   = "<!-- keys:end -->"
)

// The README's keys table is the KeyMap's: a key added, rebound by default
// or reworded (a verb in recovery/verbs_table.go) fails here until the
// README says so too.
func TestREADMEKeys(t *testing.T) {
	const path = "../README.md"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	begin, end := strings.Index(readme, keysBegin), strings.Index(readme, keysEnd)
	if begin < 0 || end < begin {
		t.Fatalf("README.md has no keys table between %q and %q lines", keysBegin, keysEnd)
	}
	k := DefaultKeyMap()
	want := keysBegin + "\n" + k.keysMarkdown() + keysEnd
	if got := readme[begin : end+len(keysEnd)]; got == want {
		return
	}
	if updateGoldens() {
		if err := os.WriteFile(path, []byte(readme[:begin]+want+readme[end+len(keysEnd):]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's keys table is not the KeyMap's: run go test ./ui -run TestREADMEKeys -update to rewrite it. It should read:\n%s", want)
}

// Every verb of the registry is a key of the dashboard: bound to its
// default key under its settings name, in the help screen, planned by
// something the dashboard has, and disabled in read-only unless it changes
// nothing, with the key still saying why.
func TestEveryVerbIsBound(t *testing.T) {
	m := fixedModel(t, 50, 200, 80)
	m.Update(keyPress("?"))
	helpScreen := ansi.Strip(m.render())
	readOnly := DefaultKeyMap()
	readOnly.SetReadOnly("read-only")
	names := " " + strings.Join(BindingNames(), " ") + " "
	k := DefaultKeyMap()
	for _, v := range recovery.Verbs() {
		b := k.Action(v.Kind)
		if len(b.Keys()) != 1 || b.Keys()[0] != v.Key || b.Help().Desc != v.Help || !b.Enabled() {
			t.Errorf("%s: bound to %v (%q, enabled %v), want %q (%q)", v.Kind, b.Keys(), b.Help().Desc, b.Enabled(), v.Key, v.Help)
		}
		if !strings.Contains(names, " "+v.Binding+" ") {
			t.Errorf("%s: settings name %q is not a binding name", v.Kind, v.Binding)
		}
		rebound := DefaultKeyMap()
		if err := rebound.Rebind(map[string]string{v.Binding: "ctrl+x"}); v.Mutating && err == nil {
			t.Errorf("%s: ctrl+x for %s, which changes machines, was accepted", v.Kind, v.Binding)
		}
		if err := rebound.Rebind(map[string]string{v.Binding: "f12"}); err != nil || rebound.Action(v.Kind).Keys()[0] != "f12" {
			t.Errorf("%s: rebinding %s to f12: %v", v.Kind, v.Binding, err)
		}
		if !regexp.MustCompile(`(^|\s)` + regexp.QuoteMeta(v.Key) + ` +` + regexp.QuoteMeta(v.Help)).MatchString(helpScreen) {
			t.Errorf("%s: the help screen does not list %q %q", v.Kind, v.Key, v.Help)
		}
		switch v.Planner {
		case recovery.PlansForm:
			if formVerbs[v.Kind].open == nil || formVerbs[v.Kind].plan == nil {
				t.Errorf("%s: planned by a form the dashboard does not have", v.Kind)
			}
		case recovery.PlansJournal:
			if journalVerbs[v.Kind] == nil {
				t.Errorf("%s: planned on a journaled action the dashboard cannot plan", v.Kind)
			}
		}
		rb := readOnly.Action(v.Kind)
		if rb.Enabled() == !recovery.ReadOnlyAllowed(v.Kind) {
			t.Errorf("%s: enabled %v in read-only, mutating %v dangerous %v", v.Kind, rb.Enabled(), v.Mutating, v.Dangerous)
		}
		if v.Mutating {
			if name, ok := readOnly.disabledAction(keyPress(v.Key)); !ok || name != strings.ReplaceAll(string(v.Kind), "-", " ") {
				t.Errorf("%s: its disabled key says %q, %v", v.Kind, name, ok)
			}
			if !strings.Contains(rb.Help().Desc, "(read-only)") {
				t.Errorf("%s: its help does not say it is disabled: %q", v.Kind, rb.Help().Desc)
			}
		}
	}
	if !k.Action(recovery.KindDestroy).Enabled() || len(k.Action("teleport").Keys()) != 0 {
		t.Error("Action: a known verb unbound, or an unknown one bound")
	}
	for _, kind := range footerVerbs {
		if _, ok := recovery.VerbOf(kind); !ok {
			t.Errorf("the footer names %s, which is no verb", kind)
		}
	}
	// A copy of a KeyMap keeps its keys: read-only or a rebind of the
	// copy leaves the original (the settings' KeyMap) as it was.
	orig := DefaultKeyMap()
	cp := orig
	cp.SetReadOnly("read-only")
	if err := cp.Rebind(map[string]string{"update": "x"}); err != nil {
		t.Fatal(err)
	}
	if b := orig.Action(recovery.KindUpdate); !b.Enabled() || b.Keys()[0] != "u" {
		t.Errorf("changing a copy changed the original: enabled %v, keys %v", b.Enabled(), b.Keys())
	}
}
