package ui

import (
	"fmt"
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/flyrescue/flyrescue/model"
)

// update takes the pane's reads and ticks, and its keys: while the search
// line is open every key edits it but enter (keep the search) and esc
// (drop it).
func (p *logsPane) update(msg tea.Msg, width, height int) (tea.Cmd, bool) {
	rows := logRows(height)
	switch msg := msg.(type) {
	case logsPageMsg:
		if msg.gen == p.gen {
			return p.receive(msg), true
		}
	case logsTickMsg:
		if msg.gen == p.gen {
			return p.read(), true
		}
	case tea.KeyPressMsg:
		if p.typing {
			p.typeSearch(msg)
			return nil, true
		}
		return nil, p.key(msg, rows)
	}
	return nil, true
}

func (p *logsPane) typeSearch(msg tea.KeyPressMsg) {
	switch msg.String() {
	case "esc":
		p.typing = false
		p.query.value = ""
	case "enter":
		p.typing = false
		return
	default:
		if !p.query.handle(msg) {
			return
		}
	}
	p.refilter()
}

// key handles a key of the pane and reports whether it stays open.
func (p *logsPane) key(msg tea.KeyPressMsg, rows int) bool {
	k := &p.keys.LogsPane
	switch {
	case key.Matches(msg, k.Close.Binding):
		if p.query.value != "" {
			p.query.value = ""
			p.refilter()
			return true
		}
		p.cancel()
		return false
	case key.Matches(msg, k.Up.Binding):
		p.scrollBy(-1, rows)
	case key.Matches(msg, k.Down.Binding):
		p.scrollBy(1, rows)
	case key.Matches(msg, k.PageUp.Binding):
		p.scrollBy(-max(1, rows-1), rows)
	case key.Matches(msg, k.PageDown.Binding):
		p.scrollBy(max(1, rows-1), rows)
	case key.Matches(msg, k.Top.Binding):
		p.pause(0)
	case key.Matches(msg, k.Bottom.Binding):
		p.follow, p.unseen = true, 0
	case key.Matches(msg, k.Search.Binding):
		p.typing = true
	case key.Matches(msg, k.Pause.Binding):
		if p.follow {
			top, _ := p.window(rows)
			p.pause(top)
		} else {
			p.follow, p.unseen = true, 0
		}
	}
	return true
}

// scrollBy moves the view; scrolling back from the newest lines pauses,
// as in less +F, so the lines read stay still.
func (p *logsPane) scrollBy(delta, rows int) {
	top, n := p.window(rows)
	next := max(0, min(top+delta, n-rows))
	if p.follow && next == top {
		return
	}
	p.pause(next)
}

// pause stops following with line top of the view at the top.
func (p *logsPane) pause(top int) {
	if p.follow {
		p.follow, p.unseen = false, 0
	}
	p.anchor = lineKey{}
	if top < p.shownLen() {
		p.anchor = p.at(top).key
	}
}

// logRows is the log lines a pane of height h shows: the title, the
// status line and the key line take the rest.
func logRows(h int) int { return max(1, h-3) }

// window is the first line shown and the number of lines scrolled
// through: the newest while following, else from the anchored line.
func (p *logsPane) window(rows int) (top, n int) {
	n = p.shownLen()
	last := max(0, n-rows)
	if p.follow {
		return last, n
	}
	top = sort.Search(n, func(i int) bool { return !p.at(i).key.less(p.anchor) })
	return min(top, last), n
}

// view draws the title, the lines of the window and the status and key
// lines at the bottom. It changes nothing.
func (p *logsPane) view(width, height int) string {
	rows := logRows(height)
	top, n := p.window(rows)
	var b strings.Builder
	b.WriteString(truncate(p.titleLine(), width))
	for i := range rows {
		b.WriteByte('\n')
		if top+i < n {
			b.WriteString(p.drawLine(p.at(top+i), width))
		}
	}
	b.WriteByte('\n')
	b.WriteString(truncate(p.statusLine(n), width))
	b.WriteByte('\n')
	b.WriteString(truncate(p.keyLine(), width))
	return b.String()
}

func (p *logsPane) drawLine(l *logLine, width int) string {
	s := ansi.Truncate(l.text, width, "…")
	t := p.theme
	switch l.level {
	case "error", "fatal", "critical":
		return t.Bad.Render(s)
	case "warn", "warning":
		return t.Warn.Render(s)
	}
	return s
}

// titleLine names what is followed and whether the view follows.
func (p *logsPane) titleLine() string {
	t := p.theme
	var who string
	if len(p.sources) == 1 {
		s := p.sources[0]
		who = s.id
		if s.name != "" {
			who += " " + s.name
		}
	} else {
		labels := make([]string, len(p.sources))
		for i, s := range p.sources {
			labels[i] = s.label
		}
		who = fmt.Sprintf("%s: %s", model.Counted(len(p.sources), "machine"), strings.Join(labels, ", "))
	}
	state := t.OK.Render("following")
	if !p.follow {
		state = t.Warn.Render("paused")
		if p.unseen > 0 {
			state += t.Warn.Render(" · " + model.Counted(p.unseen, "new line"))
		}
	}
	return t.Title.Render(" Logs") + " · " + state + " · " + who
}

// statusLine is the search, the last read's error and what the buffer
// holds.
func (p *logsPane) statusLine(n int) string {
	t := p.theme
	var parts []string
	if p.typing || p.query.value != "" {
		parts = append(parts, "/"+p.query.view(p.typing)+t.Muted.Render(fmt.Sprintf("  %d of %s match", n, model.Counted(len(p.lines), "line"))))
	}
	if p.err != nil {
		// The retry first: the error's own words may be cut at the edge.
		parts = append(parts, t.Bad.Render(fmt.Sprintf("✗ failed %s, retrying in %s: %s", model.Counted(p.fails, "time"), p.retryIn, p.err)))
	}
	if len(parts) > 0 {
		return " " + strings.Join(parts, "  ")
	}
	if p.notFollowed > 0 {
		parts = append(parts, t.Warn.Render(fmt.Sprintf("%d of %d marked followed, in turn", len(p.sources), len(p.sources)+p.notFollowed)))
	}
	switch {
	case len(p.lines) == 0 && !p.primed():
		parts = append(parts, p.spinnerGlyph()+" reading the logs…")
	case len(p.lines) == 0:
		parts = append(parts, "no log lines yet; new ones appear as they are written")
	default:
		parts = append(parts, model.Counted(len(p.lines), "line"))
	}
	if p.trimmed > 0 {
		parts[len(parts)-1] += fmt.Sprintf(", %d older dropped (max %d)", p.trimmed, maxLogLines)
	}
	return t.Muted.Render(" " + strings.Join(parts, " · "))
}

func (p *logsPane) primed() bool {
	for _, s := range p.sources {
		if !s.primed {
			return false
		}
	}
	return true
}

func (p *logsPane) keyLine() string {
	k := &p.keys.LogsPane
	pause := "pause"
	if !p.follow {
		pause = "follow"
	}
	return p.theme.Muted.Render(fmt.Sprintf(" %s back · %s search · %s %s · %s/%s/%s/%s scroll · %s/%s oldest/newest",
		k.Close.Help().Key, k.Search.Help().Key, k.Pause.Help().Key, pause, k.Up.Help().Key, k.Down.Help().Key,
		k.PageUp.Help().Key, k.PageDown.Help().Key, k.Top.Help().Key, k.Bottom.Help().Key))
}
