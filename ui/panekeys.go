package ui

import (
	"fmt"
	"slices"

	"charm.land/bubbles/v2/key"
)

// PaneKey is one key of a pane. Its settings name is pane.key
// ("detail.refresh"). A pane key that does what a table key does (the
// journal's undo, the detail's reload) follows it: it has that key's keys
// besides its own, so rebinding refresh reaches every reload, until the
// pane key is bound by its own name.
type PaneKey struct {
	key.Binding
	own     []string // its default keys of its own
	follows []string // settings names of the table bindings it follows
	help    string   // its help key while the keys it stands for are bound
	set     bool     // bound by its own name: it follows nothing any more
	fixed   bool     // cannot be rebound (y confirms everywhere)
	action  string   // it changes machines: read-only disables it under this name
}

// paneKey builds a pane key from its own keys.
func paneKey(help, desc string, own ...string) PaneKey {
	return PaneKey{Binding: key.NewBinding(key.WithKeys(own...), key.WithHelp(help, desc)), own: own, help: help}
}

// following makes the key follow table bindings (by settings name).
func (p PaneKey) following(names ...string) PaneKey {
	p.follows = names
	return p
}

// DetailKeys are the machine detail's keys.
type DetailKeys struct{ Close, Down, Up, Refresh PaneKey }

// JournalKeys are the journal pane's keys.
type JournalKeys struct{ Close, Down, Up, Refresh, Undo, Resume PaneKey }

// HelpKeys scroll the help screen; any other key closes it.
type HelpKeys struct{ Down, Up, PageDown, PageUp PaneKey }

// FormKeys are the scale and rollback forms' keys. Up and Down move in the
// release list and, with Left and Right, through a picker's choices.
type FormKeys struct{ Cancel, NextField, PrevField, Submit, Up, Down, Left, Right PaneKey }

// PlanKeys are the plan dialog's keys; any other key cancels. Handoff shows
// the plan's flyctl commands; Down and Up scroll a plan taller than the
// screen.
type PlanKeys struct{ Confirm, Force, Handoff, Down, Up PaneKey }

// The defaults keep what each pane did before it had keys of its own: the
// detail and the forms their fixed keys, the journal and the help the
// table's (which they follow); the detail's reload now follows refresh.
func defaultDetailKeys() DetailKeys {
	return DetailKeys{
		Close:   paneKey("esc", "back", "esc", "q", "enter", "left", "h"),
		Down:    paneKey("j", "scroll down", "down", "j"),
		Up:      paneKey("k", "scroll up", "up", "k"),
		Refresh: paneKey("ctrl+r", "reload").following("refresh"),
	}
}

func defaultJournalKeys() JournalKeys {
	k := JournalKeys{
		Close:   paneKey("esc", "back", "esc").following("quit", "journal"),
		Down:    paneKey("↓", "older action").following("down"),
		Up:      paneKey("↑", "newer action").following("up"),
		Refresh: paneKey("ctrl+r", "reload").following("refresh"),
		Undo:    paneKey("U", "undo the chosen action").following("undo"),
		Resume:  paneKey("R", "resume the chosen action").following("resume"),
	}
	k.Undo.action, k.Resume.action = "undo", "resume"
	return k
}

func defaultHelpKeys() HelpKeys {
	return HelpKeys{
		Down:     paneKey("j", "scroll down").following("down"),
		Up:       paneKey("k", "scroll up").following("up"),
		PageDown: paneKey("pgdn", "page down").following("page_down"),
		PageUp:   paneKey("pgup", "page up").following("page_up"),
	}
}

func defaultFormKeys() FormKeys {
	return FormKeys{
		Cancel:    paneKey("esc", "cancel", "esc"),
		NextField: paneKey("tab", "next field", "tab"),
		PrevField: paneKey("⇧tab", "previous field", "shift+tab"),
		Submit:    paneKey("enter", "plan", "enter"),
		Up:        paneKey("↑/k", "previous release or choice", "up", "k"),
		Down:      paneKey("↓/j", "next release or choice", "down", "j"),
		Left:      paneKey("←/h", "previous choice", "left", "h"),
		Right:     paneKey("→/l", "next choice", "right", "l", "space"),
	}
}

func defaultPlanKeys() PlanKeys {
	k := PlanKeys{
		Confirm: paneKey(confirmKey, "run the plan", confirmKey),
		Force:   paneKey("f", forceHelp(), "f"),
		Handoff: paneKey("o", "flyctl commands for this plan").following("handoff"),
		Down:    paneKey("↓", "scroll a long plan").following("down"),
		Up:      paneKey("↑", "scroll back").following("up"),
	}
	k.Confirm.fixed = true
	return k
}

// paneGroup is one pane's keys with their settings names, in help order.
type paneGroup struct {
	pane  string // the settings names' prefix
	title string // the help screen's column title
	keys  []namedPaneKey
}

// namedPaneKey is a pane key with its full settings name.
type namedPaneKey struct {
	name string
	key  *PaneKey
}

// bindings are the group's keys as the help screen lists them.
func (g paneGroup) bindings() []key.Binding {
	out := make([]key.Binding, 0, len(g.keys))
	for _, nk := range g.keys {
		out = append(out, nk.key.Binding)
	}
	return out
}

// paneGroups lists every pane's keys: Rebind, the duplicate check, the
// settings names and the help screen all read this one list.
func (k *KeyMap) paneGroups() []paneGroup {
	d, j, h, f, p, o := &k.DetailPane, &k.JournalPane, &k.HelpPane, &k.FormPane, &k.PlanPane, &k.HandoffPane
	group := func(pane, title string, keys ...any) paneGroup {
		g := paneGroup{pane: pane, title: title}
		for i := 0; i < len(keys); i += 2 {
			g.keys = append(g.keys, namedPaneKey{pane + "." + keys[i].(string), keys[i+1].(*PaneKey)})
		}
		return g
	}
	return []paneGroup{
		group("detail", "Machine detail", "close", &d.Close, "down", &d.Down, "up", &d.Up, "refresh", &d.Refresh),
		group("journal", "Journal", "close", &j.Close, "down", &j.Down, "up", &j.Up, "refresh", &j.Refresh,
			"undo", &j.Undo, "resume", &j.Resume),
		group("help", "Help", "down", &h.Down, "up", &h.Up, "page_down", &h.PageDown, "page_up", &h.PageUp),
		group("form", "Scale, rollback", "cancel", &f.Cancel, "next_field", &f.NextField, "prev_field", &f.PrevField,
			"submit", &f.Submit, "up", &f.Up, "down", &f.Down, "left", &f.Left, "right", &f.Right),
		group("plan", "Plan dialog", "confirm", &p.Confirm, "force", &p.Force, "handoff", &p.Handoff, "down", &p.Down, "up", &p.Up),
		k.logsGroup(group),
		group("handoff", "Hand-off", "close", &o.Close, "down", &o.Down, "up", &o.Up, "copy", &o.Copy),
	}
}

// paneGroup returns the named pane's keys.
func (k *KeyMap) paneGroup(pane string) paneGroup {
	for _, g := range k.paneGroups() {
		if g.pane == pane {
			return g
		}
	}
	return paneGroup{pane: pane}
}

// paneKeys lists every pane key, all panes together.
func (k *KeyMap) paneKeys() []namedPaneKey {
	var out []namedPaneKey
	for _, g := range k.paneGroups() {
		out = append(out, g.keys...)
	}
	return out
}

// follow gives every pane key that follows table bindings, and was not
// bound by its own name, its own keys plus theirs. Its help key stays
// while the key it stands for is still bound; else it shows the table
// binding's.
func (k *KeyMap) follow() {
	table := map[string]*key.Binding{}
	for _, n := range k.named() {
		table[n.Name] = n.Binding
	}
	for _, nk := range k.paneKeys() {
		pk := nk.key
		if pk.set || len(pk.follows) == 0 {
			continue
		}
		keys := slices.Clone(pk.own)
		for _, name := range pk.follows {
			for _, kk := range table[name].Keys() {
				if !slices.Contains(keys, kk) {
					keys = append(keys, kk)
				}
			}
		}
		help := pk.help
		if len(pk.own) == 0 && !slices.Contains(keys, keyOfHelp(pk.help)) {
			help = table[pk.follows[0]].Help().Key
		}
		pk.Binding = key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, pk.Help().Desc))
	}
}

// keyOfHelp is the key a help label stands for: arrows are drawn, not
// spelt.
func keyOfHelp(h string) string {
	switch h {
	case "↑":
		return "up"
	case "↓":
		return "down"
	}
	return h
}

// paneClash refuses a key that would trigger two keys of one pane. The
// binding blamed is one the caller rebound: the pane key itself, or the
// table binding it follows.
func (k *KeyMap) paneClash(rebound map[string]string) error {
	for _, g := range k.paneGroups() {
		seen := map[string]namedPaneKey{}
		for _, nk := range g.keys {
			for _, kk := range nk.key.Keys() {
				other, dup := seen[kk]
				if !dup {
					seen[kk] = nk
					continue
				}
				msg := fmt.Sprintf("%q would trigger both %s and %s", kk, other.name, nk.name)
				culprit := ""
				for _, c := range []namedPaneKey{nk, other} {
					if _, ok := rebound[c.name]; ok && culprit == "" {
						culprit = c.name
					}
				}
				for _, c := range []namedPaneKey{nk, other} {
					for _, f := range c.key.follows {
						if _, ok := rebound[f]; ok && culprit == "" && !c.key.set {
							culprit, msg = f, msg+fmt.Sprintf(" (%s follows %s)", c.name, f)
						}
					}
				}
				if culprit == "" {
					culprit = nk.name
				}
				return &BindingError{culprit, msg + "; bind one of them to another key"}
			}
		}
	}
	return nil
}

// paneHelp is the help screen's pane columns: each pane's keys under its
// title.
func (k *KeyMap) paneHelp() (titles []string, groups [][]key.Binding) {
	for _, g := range k.paneGroups() {
		titles = append(titles, g.title)
		groups = append(groups, g.bindings())
	}
	return titles, groups
}
