package ui

import (
	"slices"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
)

// shortHelpCache is the footer's key line for one width and one set of
// keys: the line is asked for several times a frame and rarely changes.
type shortHelpCache struct {
	fingerprint string
	line        string
}

// shortHelpLine is the footer's keys fitted to width. When they do not all
// fit, the keys before help and quit go from the right, so `? help` and
// `q quit` stay at any width: the way to every other key, and the way out.
func (m *Model) shortHelpLine(width int) string {
	keys := m.keys.ShortHelp()
	var fp strings.Builder
	fp.WriteString(strconv.Itoa(width))
	fp.WriteString(strconv.FormatBool(m.theme.Dark))
	for _, b := range keys {
		h := b.Help()
		fp.WriteString("\x00" + h.Key + "\x01" + h.Desc + strconv.FormatBool(b.Enabled()))
	}
	if c := &m.shortHelp; c.fingerprint == fp.String() {
		return c.line
	}
	essential := func(b key.Binding) bool {
		return slices.Equal(b.Keys(), m.keys.Help.Keys()) || slices.Equal(b.Keys(), m.keys.Quit.Keys())
	}
	view := m.help
	view.SetWidth(0) // fitted here, not cut at the edge
	line := view.ShortHelpView(keys)
	for lipgloss.Width(line) > width {
		drop := -1
		for i, b := range keys {
			if !essential(b) && b.Enabled() {
				drop = i
			}
		}
		if drop < 0 {
			line = truncate(line, width)
			break
		}
		keys = slices.Delete(keys, drop, drop+1)
		line = view.ShortHelpView(keys)
	}
	m.shortHelp = shortHelpCache{fp.String(), line}
	return line
}
