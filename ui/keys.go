package ui

import (
	"slices"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// KeyMap is the single source of truth for keys: Update dispatches on these
// bindings and the help screen is generated from them, so `?` cannot drift
// from behaviour.
type KeyMap struct {
	// navigation
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Collapse                                key.Binding
	Detail                                  key.Binding

	// selection
	Filter, GroupCycle, ClearFilter key.Binding
	Mark, MarkAll, ClearMarks       key.Binding

	// actions (mutating; listed in actionKeys)
	Update, Restart, Destroy, Scale, Rollback, Undo, Resume, Advice key.Binding

	// panes and the rest
	Journal, Help, Refresh, Dismiss, Quit key.Binding
}

// actionKey describes a mutating key: read-only mode disables it and says why.
type actionKey struct {
	Binding   *key.Binding
	Name      string
	Dangerous bool // destroys or replaces running machines
}

// DefaultKeyMap returns the bindings. No destructive action sits on a
// ctrl+letter: those are too easy to hit by accident (ctrl+d, ctrl+u scroll
// in other tools).
func DefaultKeyMap() KeyMap {
	b := func(keys []string, help, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return KeyMap{
		Up:       b([]string{"up", "k"}, "↑/k", "up"),
		Down:     b([]string{"down", "j"}, "↓/j", "down"),
		PageUp:   b([]string{"pgup", "ctrl+b"}, "pgup", "page up"),
		PageDown: b([]string{"pgdown", "ctrl+f"}, "pgdn", "page down"),
		Top:      b([]string{"home"}, "home", "top"),
		Bottom:   b([]string{"end", "G"}, "end/G", "bottom"),
		Collapse: b([]string{"tab"}, "tab", "collapse/expand group"),
		Detail:   b([]string{"enter"}, "enter", "machine detail"),

		Filter:      b([]string{"/"}, "/", "filter"),
		GroupCycle:  b([]string{"g"}, "g", "cycle process group"),
		ClearFilter: b([]string{"esc"}, "esc", "clear filter"),
		Mark:        b([]string{"space"}, "space", "mark"),
		MarkAll:     b([]string{"a"}, "a", "mark all visible"),
		ClearMarks:  b([]string{"A"}, "A", "clear marks"),

		Update:   b([]string{"u"}, "u", "update to target"),
		Restart:  b([]string{"r"}, "r", "restart"),
		Destroy:  b([]string{"D"}, "D", "destroy"),
		Scale:    b([]string{"s"}, "s", "scale group"),
		Rollback: b([]string{"b"}, "b", "roll back"),
		Undo:     b([]string{"U"}, "U", "undo last action"),
		Resume:   b([]string{"R"}, "R", "resume interrupted"),
		Advice:   b([]string{"f"}, "f", "apply advised step"),

		Journal: b([]string{"J"}, "J", "journal"),
		Help:    b([]string{"?"}, "?", "help"),
		Refresh: b([]string{"ctrl+r"}, "ctrl+r", "poll now"),
		Dismiss: b([]string{"c"}, "c", "clear finished/failures"),
		Quit:    b([]string{"q", "ctrl+c"}, "q", "quit"),
	}
}

// actionKeys lists the mutating bindings.
func (k *KeyMap) actionKeys() []actionKey {
	return []actionKey{
		{&k.Update, "update", true},
		{&k.Restart, "restart", true},
		{&k.Destroy, "destroy", true},
		{&k.Scale, "scale", true},
		{&k.Rollback, "rollback", true},
		{&k.Undo, "undo", true},
		{&k.Resume, "resume", true},
		{&k.Advice, "apply advice", true},
	}
}

// SetReadOnly disables every mutating binding. Disabled bindings no longer
// match in Update; disabledAction still recognises the key to explain why.
func (k *KeyMap) SetReadOnly(why string) {
	for _, a := range k.actionKeys() {
		a.Binding.SetEnabled(false)
		h := a.Binding.Help()
		a.Binding.SetHelp(h.Key, h.Desc+" ("+why+")")
	}
}

// disabledAction returns the name of the disabled action msg would trigger.
func (k *KeyMap) disabledAction(msg tea.KeyPressMsg) (string, bool) {
	s := msg.String()
	for _, a := range k.actionKeys() {
		if !a.Binding.Enabled() && slices.Contains(a.Binding.Keys(), s) {
			return a.Name, true
		}
	}
	return "", false
}

// all returns every binding of the normal mode, for the duplicate check.
func (k *KeyMap) all() []*key.Binding {
	return []*key.Binding{
		&k.Up, &k.Down, &k.PageUp, &k.PageDown, &k.Top, &k.Bottom, &k.Collapse, &k.Detail,
		&k.Filter, &k.GroupCycle, &k.ClearFilter, &k.Mark, &k.MarkAll, &k.ClearMarks,
		&k.Update, &k.Restart, &k.Destroy, &k.Scale, &k.Rollback, &k.Undo, &k.Resume, &k.Advice,
		&k.Journal, &k.Help, &k.Refresh, &k.Dismiss, &k.Quit,
	}
}

// ShortHelp is the footer line (help.KeyMap).
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Filter, k.GroupCycle, k.Mark, k.Update, k.Destroy, k.Advice, k.Detail, k.Help, k.Quit}
}

// FullHelp is the help screen (help.KeyMap), one column per concern.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.Collapse, k.Detail},
		{k.Filter, k.GroupCycle, k.ClearFilter, k.Mark, k.MarkAll, k.ClearMarks},
		{k.Update, k.Restart, k.Destroy, k.Scale, k.Rollback, k.Undo, k.Resume, k.Advice},
		{k.Journal, k.Dismiss, k.Refresh, k.Help, k.Quit},
	}
}

// FullHelpTitles names the columns of FullHelp.
var FullHelpTitles = []string{"Move", "Select", "Act (plan, then y to run)", "Panes"}
