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

	"github.com/flyrescue/flyrescue/recovery"
)

// KeyMap is the single source of truth for keys: Update dispatches on these
// bindings and the help screen is generated from them, so `?` cannot drift
// from behaviour. The panes' own keys are here too (panekeys.go), so the
// settings file and Rebind reach them.
type KeyMap struct {
	// navigation
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Collapse                                key.Binding
	Detail                                  key.Binding

	// selection
	Filter, GroupCycle, ClearFilter key.Binding
	Mark, MarkAll, ClearMarks       key.Binding

	// Actions change machines, each through a plan: one per verb of the
	// recovery registry, in its order (see Action). Copies of a KeyMap
	// share this slice, so SetReadOnly and Rebind change a copy of it.
	Actions []ActionKey

	// panes and the rest
	Journal, Help, Refresh, Dismiss, Quit key.Binding
	Logs                                  key.Binding

	// Sort orders the rows within each group (sortkeys.go).
	Sort SortKeys
	// Copy puts machine IDs on the clipboard; Handoff shows dashboard URLs
	// and a plan's flyctl commands (handoff.go). Neither changes anything,
	// so read-only keeps them.
	Copy, Handoff key.Binding

	// Each pane's own keys.
	DetailPane  DetailKeys
	JournalPane JournalKeys
	HelpPane    HelpKeys
	FormPane    FormKeys
	PlanPane    PlanKeys
	LogsPane    LogsKeys
	HandoffPane HandoffKeys
}

// DefaultKeyMap returns the bindings. No destructive action sits on a
// ctrl+letter: those are too easy to hit by accident (ctrl+d, ctrl+u scroll
// in other tools).
func DefaultKeyMap() KeyMap {
	b := func(keys []string, help, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	k := KeyMap{
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

		Actions: defaultActionKeys(),

		Journal: b([]string{"J"}, "J", "journal"),
		Help:    b([]string{"?"}, "?", "help"),
		Refresh: b([]string{"ctrl+r"}, "ctrl+r", "poll now"),
		Dismiss: b([]string{"c"}, "c", "clear finished/failures/notice"),
		Quit:    b([]string{"q", "ctrl+c"}, "q", "quit"),
		Logs:    b([]string{"l"}, "l", "machine logs"),
		Sort:    defaultSortKeys(),
		Copy:    b([]string{"i"}, "i", "copy machine IDs (OSC 52)"),
		Handoff: b([]string{"o"}, "o", "dashboard URLs, flyctl commands"),

		DetailPane:  defaultDetailKeys(),
		JournalPane: defaultJournalKeys(),
		HelpPane:    defaultHelpKeys(),
		FormPane:    defaultFormKeys(),
		PlanPane:    defaultPlanKeys(),
		LogsPane:    defaultLogsKeys(),
		HandoffPane: defaultHandoffKeys(),
	}
	k.follow()
	return k
}

// SetReadOnly disables the bindings of every verb read-only strips
// (recovery.ReadOnlyAllowed: the dangerous and mutating ones), the panes'
// included. Disabled bindings no longer match in Update; disabledAction
// still recognises the key to explain why.
func (k *KeyMap) SetReadOnly(why string) {
	// A copy of a KeyMap shares its Actions: disable in a slice of our own.
	k.Actions = slices.Clone(k.Actions)
	disable := func(b *key.Binding) {
		b.SetEnabled(false)
		h := b.Help()
		b.SetHelp(h.Key, h.Desc+" ("+why+")")
	}
	for _, a := range k.actionKeys() {
		if !recovery.ReadOnlyAllowed(a.Verb.Kind) {
			disable(a.Binding)
		}
	}
	for _, pk := range k.paneKeys() {
		if pk.key.action != "" && !recovery.ReadOnlyAllowed(recovery.Kind(pk.key.action)) {
			disable(&pk.key.Binding)
		}
	}
}

// disabledAction returns the name of the disabled action msg would trigger:
// one of the pane's keys given, else one of the table's.
func (k *KeyMap) disabledAction(msg tea.KeyPressMsg, pane ...*PaneKey) (string, bool) {
	s := msg.String()
	for _, pk := range pane {
		if pk.action != "" && !pk.Enabled() && slices.Contains(pk.Keys(), s) {
			return pk.action, true
		}
	}
	for _, a := range k.actionKeys() {
		if !a.Binding.Enabled() && slices.Contains(a.Binding.Keys(), s) {
			return a.Name, true
		}
	}
	return "", false
}

// all returns every binding of the table, for the duplicate check.
func (k *KeyMap) all() []*key.Binding {
	var out []*key.Binding
	for _, n := range k.named() {
		out = append(out, n.Binding)
	}
	return out
}

// BindingNames are the names the settings file's keys section accepts: the
// table's (update, refresh) and the panes' (detail.refresh, journal.undo).
func BindingNames() []string {
	k := DefaultKeyMap()
	var out []string
	for _, n := range k.named() {
		out = append(out, n.Name)
	}
	for _, pk := range k.paneKeys() {
		if !pk.key.fixed {
			out = append(out, pk.name)
		}
	}
	return out
}

// Rebind replaces the keys of the named bindings (settings name -> one key,
// as Bubble Tea spells it: "u", "D", "ctrl+r", "f5"). A pane's key is named
// pane.key ("detail.refresh"); one that follows a table binding (the
// journal's undo follows undo) changes with it unless bound by its own
// name. It refuses unknown names, keys it does not recognise, a mutating
// action on a ctrl+ key, and a key that would then trigger two bindings of
// the table, or two of one pane; every error names the binding. On error
// the KeyMap is unchanged.
func (k *KeyMap) Rebind(keys map[string]string) error {
	next := *k
	next.Actions = slices.Clone(k.Actions) // on error k stays as it was
	byName := map[string]*key.Binding{}
	for _, n := range next.named() {
		byName[n.Name] = n.Binding
	}
	panes := map[string]*PaneKey{}
	for _, pk := range next.paneKeys() {
		panes[pk.name] = pk.key
	}
	mutating := map[*key.Binding]bool{}
	for _, a := range next.actionKeys() {
		mutating[a.Binding] = a.Verb.Mutating || a.Verb.Dangerous
	}
	names := make([]string, 0, len(keys))
	for name := range keys {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		b, pk := byName[name], panes[name]
		switch {
		case pk != nil && pk.fixed:
			return &BindingError{name, pk.Keys()[0] + " confirms everywhere and cannot be rebound"}
		case pk != nil:
			b = &pk.Binding
			mutating[b] = pk.action != ""
		case b == nil:
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
		if pk != nil {
			pk.set = true
		}
	}
	next.follow()
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
	if err := next.paneClash(keys); err != nil {
		return err
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
