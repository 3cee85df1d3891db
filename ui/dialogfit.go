package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Small terminals. Below minWidth x minHeight the layout cannot hold a plan
// with its confirm line, so the screen says so instead of drawing a broken
// one, and keys that could act unseen are held back. Above it, a dialog on
// a short terminal takes the header's room (the first line stays), and one
// still too tall keeps its title and its last line, the keys that answer it,
// and says how many lines it left out.
const (
	minWidth, minHeight = 60, 15
	// roomyHeight: from this height on, dialogs leave the header whole.
	roomyHeight = 24
)

// tooSmall reports whether the terminal is below the minimum.
func (m *Model) tooSmall() bool { return m.width < minWidth || m.height < minHeight }

// tooSmallScreen is what a terminal below the minimum shows: exactly its
// size, the reason in the middle.
func (m *Model) tooSmallScreen() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	msg := fmt.Sprintf("terminal %dx%d is too small: flyrescue needs at least %dx%d", m.width, m.height, minWidth, minHeight)
	if m.running() {
		msg += "; an action is running: enlarge the terminal to follow it or to quit"
	} else {
		msg += "; " + m.keys.Quit.Help().Key + " quits"
	}
	lines := strings.Split(ansi.Wrap(msg, m.width, " "), "\n")
	if len(lines) > m.height {
		lines = lines[:m.height]
	}
	return lipgloss.Place(m.width, m.height, lipgloss.Center, lipgloss.Center, strings.Join(lines, "\n"))
}

// tooSmallKey takes a key while the terminal is too small: only quit, and
// only when no action runs, since nothing on screen shows what a key would
// confirm.
func (m *Model) tooSmallKey(msg tea.KeyPressMsg) tea.Cmd {
	if key.Matches(msg, m.keys.Quit) && !m.running() {
		return tea.Quit
	}
	return nil
}

// compactHeader: a full-screen pane, or a dialog on a short terminal, keeps
// only the header's first line (app, data age).
func (m *Model) compactHeader() bool {
	return m.focus != nil && (m.focus.fullScreen() || m.height < roomyHeight)
}

// fitDialog keeps a rendered dialog within h lines: its top border and
// first lines, a line saying how many are left out, then its last block
// (the lines after its last blank one: the keys that answer it) and its
// bottom border. Every dialog ends with that block.
func (m *Model) fitDialog(dialog string, h int) string {
	lines := strings.Split(dialog, "\n")
	if len(lines) <= h || h < 5 {
		return dialog
	}
	last := len(lines) - 2 // the last content line
	tail := lines[last : last+1]
	for i := last - 1; i > 0; i-- {
		if strings.Trim(ansi.Strip(lines[i]), "│┃║ ") == "" {
			if last+1-(i+1) <= h-4 {
				tail = lines[i+1 : last+1]
			}
			break
		}
	}
	keep := h - 3 - len(tail) // top border, the more line, bottom border
	left := len(lines) - 2 - keep - len(tail)
	w := lipgloss.Width(lines[0])
	more := m.theme.Dialog.Width(w).BorderTop(false).BorderBottom(false).BorderLeft(true).BorderRight(true).
		Render(m.theme.Muted.Render(fmt.Sprintf("… %d more lines", left)))
	out := concat(lines[:1+keep], []string{more}, tail, lines[len(lines)-1:])
	return strings.Join(out, "\n")
}

// dialogBox renders body in style, as wide as its widest line unless that
// is wider than the terminal: then it wraps to fit.
func dialogBox(style lipgloss.Style, body string, width int) string {
	out := style.Render(body)
	if lipgloss.Width(out) > width-2 && width > 6 {
		out = style.Width(width - 2).Render(body)
	}
	return out
}

// wrapLines wraps s to width and returns its lines.
func wrapLines(s string, width int) []string {
	return strings.Split(ansi.Wrap(s, max(1, width), " "), "\n")
}

// labelled lays a dialog row out: the label, then parts joined with " · ",
// wrapped between parts (a part too long alone wraps by words), the
// continuation lines under the first part.
func labelled(label string, parts []string, inner int) []string {
	room := max(10, inner-rowLabel)
	indent := strings.Repeat(" ", rowLabel)
	var lines []string
	cur := ""
	for _, p := range parts {
		switch {
		case cur == "":
			cur = p
		case ansi.StringWidth(cur+" · "+p) <= room:
			cur += " · " + p
		default:
			lines = append(lines, cur)
			cur = p
		}
	}
	lines = append(lines, cur)
	var out []string
	for _, l := range lines {
		out = append(out, wrapLines(l, room)...)
	}
	for i := range out {
		if i == 0 {
			out[i] = label + out[i]
		} else {
			out[i] = indent + out[i]
		}
	}
	return out
}

// countParts is countList's entries, for a row that wraps between them.
func countParts(counts map[string]int) []string { return strings.Split(countList(counts), " · ") }

func concat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
