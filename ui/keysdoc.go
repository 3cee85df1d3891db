package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"

	"github.com/flyrescue/flyrescue/recovery"
)

// The README's keys table is drawn from the same KeyMap as the help screen,
// so the documentation cannot drift from the keys either: a test compares
// it with README.md (TestREADMEKeys) and rewrites it on -update.

// keysMarkdown is the README's keys table: every binding of the table, each
// verb's and each pane's, with its settings name.
func (k *KeyMap) keysMarkdown() string {
	var b strings.Builder
	b.WriteString("| where | keys | setting | what | read-only |\n|---|---|---|---|---|\n")
	row := func(where string, kb key.Binding, setting, what string, stripped bool) {
		keys := make([]string, 0, len(kb.Keys()))
		for _, kk := range kb.Keys() {
			keys = append(keys, "`"+strings.ReplaceAll(kk, "|", `\|`)+"`")
		}
		ro := ""
		if stripped {
			ro = "disabled"
		}
		b.WriteString("| " + where + " | " + strings.Join(keys, " ") + " | " + setting + " | " + what + " | " + ro + " |\n")
	}
	for _, s := range k.sections() {
		for _, nb := range s.keys {
			what := nb.Binding.Help().Desc
			stripped := false
			if a := k.actionNamed(nb.Name); a != nil {
				v := a.Verb
				stripped = !recovery.ReadOnlyAllowed(v.Kind)
				if v.Command.Name != "" {
					what += " · `flyrescue " + v.Command.Name + "`"
				}
			}
			row(s.title, *nb.Binding, "`"+nb.Name+"`", what, stripped)
		}
	}
	for _, g := range k.paneGroups() {
		for _, nk := range g.keys {
			setting := "`" + nk.name + "`"
			if nk.key.fixed {
				setting = "(fixed)"
			}
			stripped := nk.key.action != "" && !recovery.ReadOnlyAllowed(recovery.Kind(nk.key.action))
			row(g.title, nk.key.Binding, setting, nk.key.Help().Desc, stripped)
		}
	}
	return b.String()
}

// actionNamed is the verb bound under a settings name, if it is one.
func (k *KeyMap) actionNamed(setting string) *actionKey {
	for _, a := range k.actionKeys() {
		if a.Verb.Binding == setting {
			return &a
		}
	}
	return nil
}
