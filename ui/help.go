package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// helpPane is generated from the KeyMap that dispatches keys, the panes'
// keys included, so it cannot drift from behaviour. Disabled actions stay
// listed with the reason.
type helpPane struct {
	paneBase
	scroll int
}

func newHelpPane(s *shared) *helpPane { return &helpPane{paneBase: paneBase{s, "help", true}} }

// update scrolls with the movement keys, clamped to the content at this
// size; any other key closes the help.
func (h *helpPane) update(msg tea.Msg, width, height int) (tea.Cmd, bool) {
	k := &h.keys.HelpPane
	page := max(1, height/2)
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, k.Down.Binding):
			h.scroll++
		case key.Matches(msg, k.Up.Binding):
			h.scroll--
		case key.Matches(msg, k.PageDown.Binding):
			h.scroll += page
		case key.Matches(msg, k.PageUp.Binding):
			h.scroll -= page
		default:
			return nil, false
		}
	case tea.WindowSizeMsg:
	default:
		return nil, true
	}
	h.scroll = clampScroll(h.scroll, len(h.lines(width)), height)
	return nil, true
}

// view shows the lines from the scroll offset; the title says how to
// scroll when they do not fit (80x24 cannot show them all).
func (h *helpPane) view(width, height int) string {
	t := h.theme
	out := h.lines(width)
	if len(out) <= height {
		out[0] = t.Title.Render(" Keys") + t.Muted.Render("  (any key closes)")
		return strings.Join(out, "\n")
	}
	k := &h.keys.HelpPane
	scroll := clampScroll(h.scroll, len(out), height)
	lines := out[scroll : scroll+height-1]
	lines[0] = t.Title.Render(" Keys") + t.Muted.Render(fmt.Sprintf("  (%s/%s scroll, any other key closes)", k.Down.Help().Key, k.Up.Help().Key))
	if below := len(out) - (scroll + height - 1); below > 0 {
		lines = append(lines, t.Muted.Render(moreText(" ↓ ", below, "line")+fmt.Sprintf(" (%s)", k.Down.Help().Key)))
	} else {
		lines = append(lines, t.Muted.Render(" end of help"))
	}
	return strings.Join(lines, "\n")
}

// lines is the whole help at a width, freshly built: line 0 is left blank
// for the title. The table's keys come first, then the notes (what every
// action has in common), then each pane's keys, one wrapped line per pane:
// the panes say their own keys at the bottom of the screen, so they are
// what may scroll below the fold.
func (h *helpPane) lines(width int) []string {
	t := h.theme
	out := []string{"", ""}
	titles, groups := h.keys.fullHelp()
	out = append(out, h.grid(titles, groups, width)...)
	for _, l := range h.legend(max(20, width-2)) {
		out = append(out, " "+t.Muted.Render(l))
	}
	k := &h.keys
	notes := []string{
		"Actions apply to the marked machines, else to the row under the cursor (a group header = its group).",
		fmt.Sprintf("Every action shows its plan first: only %s runs it (%s: its flyctl commands); other keys cancel. Nothing mutates without %s.",
			k.PlanPane.Confirm.Help().Key, k.PlanPane.Handoff.Help().Key, k.PlanPane.Confirm.Help().Key),
		"Filter: state:failed group:worker_autoscale region:iad image:old checks:critical stuck, free text; -term negates.",
		fmt.Sprintf("Plan dialog: %s toggles --force on %s. Journal (%s): %s undoes, %s resumes the chosen action.",
			k.PlanPane.Force.Help().Key, forceTargets(), k.Journal.Help().Key, k.JournalPane.Undo.Help().Key, k.JournalPane.Resume.Help().Key),
	}
	if h.opts.ReadOnly {
		notes = append(notes, t.Warn.Render("Read-only ("+h.opts.ReadOnlyWhy+"): every mutating action is disabled."))
	}
	if h.opts.JournalNote != "" {
		notes = append(notes, h.opts.JournalNote)
	}
	for _, n := range notes {
		for _, l := range strings.Split(ansi.Wordwrap(n, max(20, width-2), " "), "\n") {
			out = append(out, " "+t.Muted.Render(l))
		}
	}
	return append(append(out, ""), h.paneLines(width)...)
}

// grid lays key groups out as titled columns: all side by side when they
// fit, else in rows of half as many, each column as wide as its widest
// group; a blank line after each row.
func (h *helpPane) grid(titles []string, groups [][]key.Binding, width int) []string {
	t := h.theme
	cols := make([][]string, len(groups))
	widths := make([]int, len(groups))
	for gi, g := range groups {
		cols[gi] = []string{t.Bold.Render(titles[gi])}
		widths[gi] = textWidth(titles[gi])
		for _, kb := range g {
			hk := kb.Help()
			desc := hk.Desc
			if !kb.Enabled() {
				desc = t.Muted.Render(desc)
			}
			line := t.Key.Render(fit(hk.Key, 7, false, false)) + " " + desc
			widths[gi] = max(widths[gi], textWidth(line))
			cols[gi] = append(cols[gi], line)
		}
	}
	perRow := len(cols)
	colWidths := func(n int) []int {
		w := make([]int, n)
		for gi := range cols {
			w[gi%n] = max(w[gi%n], widths[gi]+3)
		}
		return w
	}
	for perRow > 1 {
		total := 0
		for _, w := range colWidths(perRow) {
			total += w
		}
		if total <= width-1 {
			break
		}
		perRow = (perRow + 1) / 2
	}
	cw := colWidths(perRow)
	var out []string
	for i := 0; i < len(cols); i += perRow {
		end := min(i+perRow, len(cols))
		rows := 0
		for _, c := range cols[i:end] {
			rows = max(rows, len(c))
		}
		for l := range rows {
			var line strings.Builder
			line.WriteString(" ")
			for ci := i; ci < end; ci++ {
				cell := ""
				if l < len(cols[ci]) {
					cell = cols[ci][l]
				}
				line.WriteString(fit(cell, cw[ci-i], false, false))
			}
			out = append(out, strings.TrimRight(line.String(), " "))
		}
		out = append(out, "")
	}
	return out
}

// paneLines lists each pane's keys after its title, wrapped between keys.
func (h *helpPane) paneLines(width int) []string {
	t := h.theme
	titles, groups := h.keys.paneHelp()
	titleW := 0
	for _, title := range titles {
		titleW = max(titleW, textWidth(title)+2)
	}
	var out []string
	for gi, g := range groups {
		line := " " + t.Bold.Render(fit(titles[gi], titleW, false, false))
		used := 1 + titleW
		for i, kb := range g {
			hk := kb.Help()
			desc := hk.Desc
			if !kb.Enabled() {
				desc = t.Muted.Render(desc)
			}
			seg, segW := t.Key.Render(hk.Key)+" "+desc, textWidth(hk.Key)+1+textWidth(desc)
			if i > 0 {
				if used+3+segW > width-1 {
					out = append(out, line)
					line, used = " "+strings.Repeat(" ", titleW), 1+titleW
				} else {
					line, used = line+t.Muted.Render(" · "), used+3
				}
			}
			line, used = line+seg, used+segW
		}
		out = append(out, line)
	}
	return append(out, "")
}

// forceTargets names the verbs whose plan can be forced: "a destroy".
func forceTargets() string {
	var names []string
	for _, v := range forceVerbs() {
		names = append(names, "a "+string(v.Kind))
	}
	return strings.Join(names, " or ")
}
