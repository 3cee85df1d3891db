package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// helpView is generated from the KeyMap that dispatches keys, so it cannot
// drift from behaviour. Disabled actions stay listed with the reason.
func (m *Model) helpView(width, height int) string {
	t := m.theme
	groups := m.keys.FullHelp()
	var cols [][]string
	widths := make([]int, len(groups))
	for gi, g := range groups {
		col := []string{t.Bold.Render(FullHelpTitles[gi])}
		widths[gi] = textWidth(FullHelpTitles[gi])
		for _, kb := range g {
			h := kb.Help()
			desc := h.Desc
			if !kb.Enabled() {
				desc = t.Muted.Render(desc)
			}
			line := t.Key.Render(fit(h.Key, 7, false, false)) + " " + desc
			widths[gi] = max(widths[gi], textWidth(line))
			col = append(col, line)
		}
		cols = append(cols, col)
	}
	// Four columns side by side when they fit, else two by two.
	perRow, total := len(cols), 0
	for _, w := range widths {
		total += w + 3
	}
	if total > width-1 {
		perRow = 2
	}
	out := []string{"", ""} // title, set below once we know whether it scrolls
	for i := 0; i < len(cols); i += perRow {
		end := min(i+perRow, len(cols))
		maxLen := 0
		for _, c := range cols[i:end] {
			maxLen = max(maxLen, len(c))
		}
		for l := 0; l < maxLen; l++ {
			var line strings.Builder
			line.WriteString(" ")
			for ci := i; ci < end; ci++ {
				w := widths[ci] + 3
				if perRow == 2 {
					w = max(widths[ci-i], widths[ci-i+2]) + 3
				}
				cell := ""
				if l < len(cols[ci]) {
					cell = cols[ci][l]
				}
				line.WriteString(fit(cell, w, false, false))
			}
			out = append(out, strings.TrimRight(line.String(), " "))
		}
		out = append(out, "")
	}
	notes := []string{
		"A state ending in ! (replacing!) is stuck: in it longer than --stuck-after, or failed to settle.",
		"Actions apply to the marked machines, else to the row under the cursor (a group header = its group).",
		"Every action shows its plan first: y runs it, any other key cancels. Nothing mutates without y.",
		"Filter: state:failed group:worker_autoscale region:iad image:old checks:critical stuck, free text; -term negates.",
		fmt.Sprintf("Plan dialog: f toggles --force on a destroy. Journal (%s): %s undoes, %s resumes the chosen action.",
			m.keys.Journal.Help().Key, m.keys.Undo.Help().Key, m.keys.Resume.Help().Key),
	}
	if m.opts.ReadOnly {
		notes = append(notes, t.Warn.Render("Read-only ("+m.opts.ReadOnlyWhy+"): every mutating action is disabled."))
	}
	if m.opts.JournalNote != "" {
		notes = append(notes, m.opts.JournalNote)
	}
	for _, n := range notes {
		for _, l := range strings.Split(ansi.Wordwrap(n, max(20, width-2), " "), "\n") {
			out = append(out, " "+t.Muted.Render(l))
		}
	}
	// Scroll when it does not fit (80x24 cannot show it all).
	title := t.Title.Render(" Keys") + t.Muted.Render("  (any key closes)")
	if len(out) <= height {
		out[0] = title
		return strings.Join(out, "\n")
	}
	m.helpScroll = max(0, min(m.helpScroll, len(out)-height+1))
	lines := out[m.helpScroll : m.helpScroll+height-1]
	lines[0] = t.Title.Render(" Keys") + t.Muted.Render("  (j/k scroll, any other key closes)")
	if below := len(out) - (m.helpScroll + height - 1); below > 0 {
		lines = append(lines, t.Muted.Render(fmt.Sprintf(" ↓ %d more lines (j)", below)))
	} else {
		lines = append(lines, t.Muted.Render(" end of help"))
	}
	return strings.Join(lines, "\n")
}

// handleHelpKey scrolls the help with the movement keys; any other key
// closes it.
func (m *Model) handleHelpKey(msg tea.KeyPressMsg) {
	switch k := &m.keys; {
	case key.Matches(msg, k.Down):
		m.helpScroll++
	case key.Matches(msg, k.Up):
		m.helpScroll = max(0, m.helpScroll-1)
	case key.Matches(msg, k.PageDown):
		m.helpScroll += max(1, m.height/2)
	case key.Matches(msg, k.PageUp):
		m.helpScroll = max(0, m.helpScroll-max(1, m.height/2))
	default:
		m.mode = modeNormal
		m.helpScroll = 0
	}
}
