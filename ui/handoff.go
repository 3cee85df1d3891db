package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

// The hand-off pane is for the moment an operator passes work on: to a
// colleague in the Fly dashboard, or to a script. From the table it lists
// the dashboard URLs of the machines the keys act on; from a plan dialog it
// lists the exact flyctl command of each step (recovery.FlyctlCommands),
// and closing it returns to the plan, which still waits for y.

// HandoffKeys are the hand-off pane's keys.
type HandoffKeys struct{ Close, Down, Up, Copy PaneKey }

func defaultHandoffKeys() HandoffKeys {
	return HandoffKeys{
		Close: paneKey("esc", "back", "esc").following("quit", "handoff"),
		Down:  paneKey("↓", "scroll down").following("down"),
		Up:    paneKey("↑", "scroll up").following("up"),
		Copy:  paneKey("i", "copy the commands (else the URLs)").following("copy"),
	}
}

// handoffWrapLines is how many screen lines one command may take; a longer
// one (a launch's whole config) is cut on screen and copied whole.
const handoffWrapLines = 4

// handoffPane shows what an operator can hand on. It changes nothing.
type handoffPane struct {
	paneBase
	host host
	// back is the plan dialog it was opened from: closing reopens it.
	back    pane
	heading string   // the plan's, "" from the table
	urls    []string // "ID  URL" lines
	ids     []string
	cmds    []string // one flyctl command per step of the plan
	scroll  int
}

// openHandoff opens the hand-off pane: over a plan (from its dialog, back),
// the cursor machine's URL and the plan's commands; else the URLs of the
// machines the keys act on.
func (m *Model) openHandoff(back pane, pending *pendingPlan) tea.Cmd {
	h := &handoffPane{paneBase: paneBase{m.shared, "handoff", true}, host: m, back: back}
	if pending != nil {
		h.heading = planHeading(pending.plan, pending.req, m.now())
		h.cmds = recovery.FlyctlCommands(pending.plan)
		if mc, ok := m.cursorMachine(); ok {
			h.ids = []string{mc.ID}
		}
	} else {
		h.ids, _ = m.targets()
		if len(h.ids) == 0 {
			m.status = "nothing to hand off: move to a machine or mark some with " + m.keys.Mark.Help().Key
			return nil
		}
	}
	for _, id := range h.ids {
		h.urls = append(h.urls, id+"  "+recovery.DashboardURL(m.opts.App, id))
	}
	m.open(h)
	return nil
}

// copyText is what the copy key puts on the clipboard and how the status
// line says it: the commands of a plan, else the URLs.
func (h *handoffPane) copyText() (text, what string) {
	if len(h.cmds) > 0 {
		return strings.Join(h.cmds, "\n"), model.Counted(len(h.cmds), "flyctl command")
	}
	urls := make([]string, len(h.ids))
	for i, id := range h.ids {
		urls[i] = recovery.DashboardURL(h.opts.App, id)
	}
	return strings.Join(urls, "\n"), model.Counted(len(urls), "dashboard URL")
}

func (h *handoffPane) update(msg tea.Msg, width, height int) (tea.Cmd, bool) {
	press, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil, true
	}
	k := &h.keys.HandoffPane
	switch {
	case key.Matches(press, k.Copy.Binding):
		text, what := h.copyText()
		h.host.setStatus("copied " + what)
		return copyToClipboard(text), true
	case key.Matches(press, k.Down.Binding):
		h.scroll = clampScroll(h.scroll+1, len(h.lines(width)), height)
	case key.Matches(press, k.Up.Binding):
		h.scroll = clampScroll(h.scroll-1, len(h.lines(width)), height)
	case key.Matches(press, k.Close.Binding):
		if h.back != nil {
			h.host.open(h.back)
		}
		return nil, false
	}
	return nil, true
}

// lines is the pane's content at a width, before scrolling.
func (h *handoffPane) lines(width int) []string {
	t := h.theme
	w := max(20, width-2)
	var out []string
	title := "Hand-off"
	if h.heading != "" {
		title += " · " + h.heading
	}
	out = append(out, truncate(" "+t.Title.Render(title), width), "")
	if len(h.urls) > 0 {
		label := "Fly dashboard"
		if len(h.cmds) > 0 {
			label += " (the machine under the cursor)"
		}
		out = append(out, " "+t.Bold.Render(label))
		for _, u := range h.urls {
			out = append(out, truncate("   "+u, width))
		}
		out = append(out, "")
	}
	if len(h.cmds) > 0 {
		out = append(out, " "+t.Bold.Render("flyctl, one command per step, in plan order"))
		note := "flyctl keeps no budget, canary, verification or journal: run them one at a time and watch each. " +
			"Long commands are cut here; " + h.keys.HandoffPane.Copy.Help().Key + " copies them whole."
		for _, l := range strings.Split(ansi.Wordwrap(note, w-1, " "), "\n") {
			out = append(out, " "+t.Muted.Render(l))
		}
		for _, c := range h.cmds {
			out = append(out, wrapCommand(c, width)...)
		}
	}
	return out
}

// wrapCommand shows a command as up to handoffWrapLines screen lines, the
// later ones indented, the last cut with … when it does not fit.
func wrapCommand(c string, width int) []string {
	first, rest := max(10, width-3), max(10, width-7)
	lines := strings.Split(ansi.Wrap(c, first, " "), "\n")
	if len(lines) == 1 {
		return []string{"   " + c}
	}
	out := []string{"   " + lines[0]}
	tail := strings.Split(ansi.Wrap(strings.Join(lines[1:], " "), rest, " "), "\n")
	for i, l := range tail {
		if i == handoffWrapLines-1 && len(tail) > handoffWrapLines {
			out = append(out, "       "+ansi.Truncate(l, rest-1, "")+"…")
			break
		}
		out = append(out, "       "+l)
	}
	return out
}

func (h *handoffPane) view(width, height int) string {
	t := h.theme
	all := h.lines(width)
	scroll := clampScroll(h.scroll, len(all), height)
	end := min(len(all), scroll+height-1)
	lines := append([]string(nil), all[scroll:end]...)
	k := &h.keys.HandoffPane
	what := "the URLs"
	if len(h.cmds) > 0 {
		what = "the commands"
	}
	back := "back"
	if h.back != nil {
		back = "back to the plan"
	}
	foot := fmt.Sprintf(" %s copy %s · %s/%s scroll · %s %s", k.Copy.Help().Key, what, k.Down.Help().Key, k.Up.Help().Key, k.Close.Help().Key, back)
	if below := len(all) - end; below > 0 {
		foot += fmt.Sprintf(" · %d more lines", below)
	}
	return strings.Join(append(lines, truncate(t.Muted.Render(foot), width)), "\n")
}
