package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"

	"github.com/flyrescue/flyrescue/recovery"
)

// ActionKey is one verb's key. The KeyMap holds one per verb of
// recovery.Verbs, generated from it: its key, help and settings name
// (VerbSpec.Key, Help, Binding) are the registry's, so a new verb is a key
// of the dashboard without an edit here.
type ActionKey struct {
	Kind recovery.Kind
	key.Binding
}

// Action is the binding of a verb; a zero binding for a kind the registry
// does not know.
func (k *KeyMap) Action(kind recovery.Kind) key.Binding {
	if a := k.action(kind); a != nil {
		return a.Binding
	}
	return key.Binding{}
}

func (k *KeyMap) action(kind recovery.Kind) *ActionKey {
	for i := range k.Actions {
		if k.Actions[i].Kind == kind {
			return &k.Actions[i]
		}
	}
	return nil
}

// actionKey is a verb's binding with the registry's entry for it.
type actionKey struct {
	Binding *key.Binding
	Verb    recovery.VerbSpec
	Name    string // what a refusal calls it ("apply advice is disabled")
}

// actionKeys lists the verbs' bindings, in help order.
func (k *KeyMap) actionKeys() []actionKey {
	out := make([]actionKey, 0, len(k.Actions))
	for i := range k.Actions {
		a := &k.Actions[i]
		v, _ := recovery.VerbOf(a.Kind)
		out = append(out, actionKey{&a.Binding, v, strings.ReplaceAll(string(a.Kind), "-", " ")})
	}
	return out
}

// onTargets says the verb acts on the marks or the cursor row, which an
// invalid filter leaves unknown (filterBlocks).
func (a actionKey) onTargets() bool { return a.Verb.Planner == recovery.PlansSelection }

// defaultActionKeys is one binding per verb of the registry.
func defaultActionKeys() []ActionKey {
	verbs := recovery.Verbs()
	out := make([]ActionKey, 0, len(verbs))
	for _, v := range verbs {
		out = append(out, ActionKey{v.Kind, key.NewBinding(key.WithKeys(v.Key), key.WithHelp(v.Key, v.Help))})
	}
	return out
}

// namedBinding is a binding with the name the settings file uses for it.
type namedBinding struct {
	Name    string
	Binding *key.Binding
}

// keySection is one column of the help's table keys.
type keySection struct {
	title string
	keys  []namedBinding
}

// sections are the table's bindings with their settings names, one
// section per concern, in help order: the help screen, the settings names,
// Rebind and the README's keys table all read this one list. The verbs are
// split by what they act on: the marks or the cursor row, or what a form,
// the journal or the runbook names.
func (k *KeyMap) sections() []keySection {
	var onSelection, others []namedBinding
	for _, a := range k.actionKeys() {
		nb := namedBinding{a.Verb.Binding, a.Binding}
		if a.onTargets() {
			onSelection = append(onSelection, nb)
		} else {
			others = append(others, nb)
		}
	}
	return []keySection{
		{"Move", []namedBinding{{"up", &k.Up}, {"down", &k.Down}, {"page_up", &k.PageUp}, {"page_down", &k.PageDown},
			{"top", &k.Top}, {"bottom", &k.Bottom}, {"collapse", &k.Collapse}, {"detail", &k.Detail}}},
		{"Select", []namedBinding{{"filter", &k.Filter}, {"group_cycle", &k.GroupCycle}, {"clear_filter", &k.ClearFilter},
			{"mark", &k.Mark}, {"mark_all", &k.MarkAll}, {"clear_marks", &k.ClearMarks}}},
		{"Act on the selection", onSelection},
		{"Recover", others},
		{"Panes", []namedBinding{{"journal", &k.Journal}, {"logs", &k.Logs}, {"handoff", &k.Handoff}, {"copy", &k.Copy}, {"dismiss", &k.Dismiss}, {"refresh", &k.Refresh},
			{"help", &k.Help}, {"quit", &k.Quit}}},
		{"Sort (within each group)", k.sortNamed()},
	}
}

// named lists every binding of the table with its settings name, in help
// order.
func (k *KeyMap) named() []namedBinding {
	var out []namedBinding
	for _, s := range k.sections() {
		out = append(out, s.keys...)
	}
	return out
}

// footerVerbs are the verbs the footer names, for want of room for all:
// the two steps the runbook advises most (update the failed machines to the
// target, destroy the stuck ones) and the key that applies its advice.
// Their keys and words are the bindings'; the help lists every verb.
var footerVerbs = []recovery.Kind{recovery.KindUpdate, recovery.KindDestroy, recovery.KindApplyAdvice}

// ShortHelp is the footer line (help.KeyMap). The KeyMap is large (every
// pane's keys): a pointer receiver keeps each frame from copying it.
func (k *KeyMap) ShortHelp() []key.Binding {
	out := make([]key.Binding, 0, 12)
	out = append(out, k.Filter, k.GroupCycle, k.Mark)
	for _, kind := range footerVerbs {
		if a := k.action(kind); a != nil {
			out = append(out, a.Binding)
		}
	}
	return append(out, k.Detail, k.Help, k.Quit)
}

// FullHelp is the help screen's table keys (help.KeyMap), one column per
// section; the panes' keys follow them (paneHelp).
func (k *KeyMap) FullHelp() [][]key.Binding {
	_, groups := k.fullHelp()
	return groups
}

// fullHelp is FullHelp with the columns' titles.
func (k *KeyMap) fullHelp() (titles []string, groups [][]key.Binding) {
	for _, s := range k.sections() {
		g := make([]key.Binding, 0, len(s.keys))
		for _, nb := range s.keys {
			g = append(g, *nb.Binding)
		}
		titles, groups = append(titles, s.title), append(groups, g)
	}
	return titles, groups
}
