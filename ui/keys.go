package ui

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

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

// namedBinding is a binding with the name the settings file uses for it.
type namedBinding struct {
	Name    string
	Binding *key.Binding
}

// named lists every binding of the normal mode with its settings name, in
// help order.
func (k *KeyMap) named() []namedBinding {
	return []namedBinding{
		{"up", &k.Up}, {"down", &k.Down}, {"page_up", &k.PageUp}, {"page_down", &k.PageDown},
		{"top", &k.Top}, {"bottom", &k.Bottom}, {"collapse", &k.Collapse}, {"detail", &k.Detail},
		{"filter", &k.Filter}, {"group_cycle", &k.GroupCycle}, {"clear_filter", &k.ClearFilter},
		{"mark", &k.Mark}, {"mark_all", &k.MarkAll}, {"clear_marks", &k.ClearMarks},
		{"update", &k.Update}, {"restart", &k.Restart}, {"destroy", &k.Destroy}, {"scale", &k.Scale},
		{"rollback", &k.Rollback}, {"undo", &k.Undo}, {"resume", &k.Resume}, {"advice", &k.Advice},
		{"journal", &k.Journal}, {"help", &k.Help}, {"refresh", &k.Refresh}, {"dismiss", &k.Dismiss},
		{"quit", &k.Quit},
	}
}

// all returns every binding of the normal mode, for the duplicate check.
func (k *KeyMap) all() []*key.Binding {
	var out []*key.Binding
	for _, n := range k.named() {
		out = append(out, n.Binding)
	}
	return out
}

// BindingNames are the names the settings file's keys section accepts.
func BindingNames() []string {
	k := DefaultKeyMap()
	var out []string
	for _, n := range k.named() {
		out = append(out, n.Name)
	}
	return out
}

// Rebind replaces the keys of the named bindings (settings name -> one key,
// as Bubble Tea spells it: "u", "D", "ctrl+r", "f5"). It refuses unknown
// names, keys it does not recognise, a mutating action on a ctrl+ key, and a
// key that would then trigger two bindings; every error names the binding.
// On error the KeyMap is unchanged.
func (k *KeyMap) Rebind(keys map[string]string) error {
	next := *k
	byName := map[string]*key.Binding{}
	for _, n := range next.named() {
		byName[n.Name] = n.Binding
	}
	mutating := map[*key.Binding]bool{}
	for _, a := range next.actionKeys() {
		mutating[a.Binding] = true
	}
	names := make([]string, 0, len(keys))
	for name := range keys {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		b, ok := byName[name]
		if !ok {
			return &BindingError{name, fmt.Sprintf("no such binding (known: %s)", strings.Join(BindingNames(), ", "))}
		}
		kk := strings.TrimSpace(keys[name])
		if !validKeyName(kk) {
			return &BindingError{name, fmt.Sprintf("%q is not a key: use one character (u, D, ?) or a name such as enter, tab, space, f5, ctrl+r", keys[name])}
		}
		if mutating[b] && strings.HasPrefix(kk, "ctrl+") {
			return &BindingError{name, kk + " is too easy to hit by accident for an action that changes machines; use a plain key"}
		}
		if mutating[b] && kk == confirmKey {
			return &BindingError{name, confirmKey + " confirms a plan, so a double press would run this action unseen; use another key"}
		}
		h := b.Help()
		*b = key.NewBinding(key.WithKeys(kk), key.WithHelp(kk, h.Desc))
	}
	seen := map[string]string{}
	for _, n := range next.named() {
		for _, kk := range n.Binding.Keys() {
			if other, dup := seen[kk]; dup {
				culprit, msg := n.Name, fmt.Sprintf("%q would trigger both %s and %s; bind one of them to another key", kk, other, n.Name)
				if _, rebound := keys[other]; rebound {
					culprit = other
				}
				return &BindingError{culprit, msg}
			}
			seen[kk] = n.Name
		}
	}
	*k = next
	return nil
}

// confirmKey runs a plan (and confirms quitting mid-run); it is fixed so a muscle
// memory of "y = yes" holds everywhere.
const confirmKey = "y"

// BindingError is a refused rebind; Binding is the settings name at fault.
type BindingError struct {
	Binding string
	Msg     string
}

func (e *BindingError) Error() string { return "keys." + e.Binding + ": " + e.Msg }

// validKeyName accepts the key strings Bubble Tea v2 produces for a press.
func validKeyName(s string) bool {
	if utf8.RuneCountInString(s) == 1 {
		r, _ := utf8.DecodeRuneInString(s)
		return unicode.IsPrint(r) && !unicode.IsSpace(r)
	}
	for _, mod := range []string{"ctrl+", "alt+", "shift+"} {
		if rest, ok := strings.CutPrefix(s, mod); ok {
			return validKeyName(rest)
		}
	}
	switch s {
	case "enter", "tab", "esc", "space", "backspace", "delete", "insert", "home", "end",
		"pgup", "pgdown", "up", "down", "left", "right":
		return true
	}
	if n, ok := strings.CutPrefix(s, "f"); ok {
		i, err := strconv.Atoi(n)
		return err == nil && i >= 1 && i <= 20
	}
	return false
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
