package ui

import (
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

// journalState is the journal pane: recent actions with outcome counts, the
// record to hand over when escalating.
type journalState struct {
	logs    []*recovery.ActionLog // oldest first, as History returns them
	path    string
	err     error
	cursor  int // index into logs counted from the newest
	loading bool
}

// loadJournal reads the journal file in a Cmd.
func (m *Model) loadJournal() tea.Cmd {
	if m.opts.Engine == nil || m.opts.Engine.Journal() == nil {
		m.journal.err = errors.New("no journal: the dashboard runs without a recovery engine")
		return nil
	}
	m.journal.loading = true
	j := m.opts.Engine.Journal()
	return func() tea.Msg {
		recs, _, err := j.Records()
		if err != nil {
			return journalMsg{err: err, path: j.Path()}
		}
		return journalMsg{logs: recovery.History(recs), path: j.Path()}
	}
}

func (m *Model) receiveJournal(msg journalMsg) {
	m.journal.loading = false
	m.journal.err = msg.err
	m.journal.path = msg.path
	if msg.err == nil {
		m.journal.logs = msg.logs
	}
	m.journal.cursor = max(0, min(m.journal.cursor, len(m.journal.logs)-1))
}

// selectedLog is the action under the journal cursor.
func (m *Model) selectedLog() *recovery.ActionLog {
	j := m.journal
	if len(j.logs) == 0 {
		return nil
	}
	return j.logs[len(j.logs)-1-j.cursor]
}

func (m *Model) handleJournalKey(msg tea.KeyPressMsg) tea.Cmd {
	j := m.journal
	k := &m.keys
	if name, ok := k.disabledAction(msg); ok {
		m.status = fmt.Sprintf("%s is disabled: flyrescue runs read-only (%s)", name, m.opts.ReadOnlyWhy)
		return nil
	}
	switch {
	case msg.String() == "esc" || key.Matches(msg, k.Quit, k.Journal):
		m.mode = modeNormal
	case key.Matches(msg, k.Down):
		j.cursor = min(j.cursor+1, max(0, len(j.logs)-1))
	case key.Matches(msg, k.Up):
		j.cursor = max(0, j.cursor-1)
	case key.Matches(msg, k.Refresh):
		return m.loadJournal()
	case key.Matches(msg, k.Undo, k.Resume):
		a := m.selectedLog()
		if a == nil || m.running() {
			return nil
		}
		m.mode = modeNormal
		kind := recovery.KindUndo
		if key.Matches(msg, k.Resume) {
			kind = recovery.KindResume
		}
		return m.requestPlan(planRequest{kind: kind, actionID: a.Action.ID})
	}
	return nil
}

// journalView lists actions newest first with their outcome counts.
func (m *Model) journalView(width, height int) string {
	t := m.theme
	j := m.journal
	title := t.Title.Render(" Journal") + t.Muted.Render("  "+j.path)
	if m.opts.JournalNote != "" {
		title += t.Muted.Render("  (" + m.opts.JournalNote + ")")
	}
	lines := []string{truncate(title, width)}
	switch {
	case j.err != nil:
		lines = append(lines, t.Bad.Render(" "+j.err.Error()))
	case j.loading && len(j.logs) == 0:
		lines = append(lines, " loading…")
	case len(j.logs) == 0:
		lines = append(lines, t.Muted.Render(" no actions yet: every action you confirm is recorded here before it runs"))
	}
	lines = append(lines, truncate(t.ColumnHeader.Render(fmt.Sprintf("   %-19s %-13s %-9s %-6s %-30s %s", "WHEN", "ID", "KIND", "STEPS", "OUTCOMES", "SELECTION")), width))
	// The chosen action's detail takes the bottom of the pane: who, what,
	// and which machines failed and why (what an escalation needs first).
	detail := m.journalDetail(width, max(0, height/2-1))
	listEnd := height - 1 - len(detail)
	// Scroll so the chosen action stays in view on a long journal.
	rows := max(1, listEnd-len(lines))
	first := max(0, j.cursor-rows+1)
	for i := len(j.logs) - 1 - first; i >= 0 && len(lines) < listEnd; i-- {
		a := j.logs[i]
		pos := len(j.logs) - 1 - i
		line := fmt.Sprintf("%-19s %-13s %-9s %-6d %-30s %s", a.At.UTC().Format("2006-01-02 15:04:05"), shortID(a.Action.ID),
			a.Action.Kind, len(a.Machines), outcomeText(a), a.Action.Selection)
		if a.UndoneBy != "" {
			line += " (undone by " + shortID(a.UndoneBy) + ")"
		}
		if a.Action.Undoes != "" {
			line += " (undoes " + shortID(a.Action.Undoes) + ")"
		}
		if pos == j.cursor {
			lines = append(lines, t.Cursor.Render(fit(m.glyphs.cursor+"  "+line, width, false, false)))
		} else {
			lines = append(lines, truncate("   "+line, width))
		}
	}
	lines = append(lines[:min(len(lines), listEnd)], detail...)
	k := m.keys
	lines = append(lines[:min(len(lines), height-1)], t.Muted.Render(fmt.Sprintf(" ↑/↓ choose · %s undo · %s resume · %s reload · esc back",
		k.Undo.Help().Key, k.Resume.Help().Key, k.Refresh.Help().Key)))
	return strings.Join(lines, "\n")
}

// journalDetail describes the chosen action in at most max lines.
func (m *Model) journalDetail(width, maxLines int) []string {
	a := m.selectedLog()
	if a == nil || maxLines < 3 {
		return nil
	}
	t := m.theme
	r := a.Action
	who := ""
	if r.Operator != "" {
		who = " by " + r.Operator
	}
	out := []string{
		truncate(t.Muted.Render(" ── ")+t.Bold.Render(shortID(r.ID)+" "+string(r.Kind))+t.Muted.Render(who+" at "+a.At.UTC().Format("15:04:05 UTC")), width),
		truncate(t.Muted.Render("    selection: ")+r.Selection, width),
	}
	if img := r.Args["image"]; img != "" {
		out = append(out, truncate(t.Muted.Render("    image: ")+model.ImageTag(img), width))
	}
	var failed []recovery.MachineLog
	for _, ml := range a.Machines {
		if st := ml.Status(); st == recovery.OutcomeFailed || st == recovery.OutcomeInterrupted {
			failed = append(failed, ml)
		}
	}
	for i, ml := range failed {
		if len(out) == maxLines-1 && i < len(failed)-1 {
			out = append(out, t.Muted.Render(fmt.Sprintf("    … %d more (flyrescue log -a %s --action %s)", len(failed)-i, r.App, shortID(r.ID))))
			break
		}
		why := "interrupted: resume picks it up"
		if ml.Outcome != nil {
			why = ml.Outcome.Error
		}
		out = append(out, truncate(t.Bad.Render("    ✗ "+ml.MachineID)+"  "+why, width))
	}
	return out[:min(len(out), maxLines)]
}

// outcomeText counts a logged action's steps by outcome.
func outcomeText(a *recovery.ActionLog) string {
	c := a.Counts()
	parts := []string{fmt.Sprintf("%d ok", c[recovery.OutcomeOK])}
	if n := c[recovery.OutcomeFailed]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", n))
	}
	if n := c[recovery.OutcomeSkipped]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d skipped", n))
	}
	if n := c[recovery.OutcomeInterrupted]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d interrupted", n))
	}
	if n := c[recovery.OutcomeHalted]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d halted", n))
	}
	if n := c[""]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d pending", n))
	}
	return strings.Join(parts, ", ")
}
