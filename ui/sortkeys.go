package ui

import (
	"fmt"

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

// sortNote is the help's line on the sort and pin glyphs.
func (h *helpPane) sortNote() string {
	g, k := h.glyphs, &h.keys.Sort
	return fmt.Sprintf("%s/%s after a column title: the order within each group (%s/%s column, %s inverts); ties keep ID order. "+
		"%s marks a machine in flight that the filter would hide: it stays shown until its step ends.",
		g.sortAsc, g.sortDesc, k.Next.Help().Key, k.Prev.Help().Key, k.Invert.Help().Key, g.pin)
}
