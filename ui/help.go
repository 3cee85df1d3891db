package ui

import (
	"fmt"
	"strings"
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
	out := []string{t.Title.Render(" Keys") + t.Muted.Render("  (any key closes)"), ""}
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
		out = append(out, truncate(" "+t.Muted.Render(n), width))
	}
	return strings.Join(out, "\n")
}
