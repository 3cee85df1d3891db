package ui

import (
	"charm.land/bubbles/v2/key"
)

// SortKeys order the table's rows within each image and state group, on
// htop's keys: > and < pick the column, I inverts the order. They are table
// keys (settings names sort_next, sort_prev, sort_invert), so Rebind checks
// them against every other table key.
type SortKeys struct{ Next, Prev, Invert key.Binding }

func defaultSortKeys() SortKeys {
	return SortKeys{
		Next:   key.NewBinding(key.WithKeys(">"), key.WithHelp(">", "sort by next column")),
		Prev:   key.NewBinding(key.WithKeys("<"), key.WithHelp("<", "sort by previous column")),
		Invert: key.NewBinding(key.WithKeys("I"), key.WithHelp("I", "invert sort order")),
	}
}

// sortNamed is the sort keys with their settings names: the help's Sort
// section (sections).
func (k *KeyMap) sortNamed() []namedBinding {
	s := &k.Sort
	return []namedBinding{{"sort_next", &s.Next}, {"sort_prev", &s.Prev}, {"sort_invert", &s.Invert}}
}
