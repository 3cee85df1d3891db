package ui

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

// handleNormalKey dispatches the table's keys through the KeyMap.
func (m *Model) handleNormalKey(msg tea.KeyPressMsg) tea.Cmd {
	k := &m.keys
	if name, ok := k.disabledAction(msg); ok {
		m.status = fmt.Sprintf("%s is disabled: flyrescue runs read-only (%s)", name, m.opts.ReadOnlyWhy)
		return nil
	}
	if m.filterBlocks(msg) {
		return nil
	}
	page := max(1, m.tableHeight()-1)
	switch {
	case key.Matches(msg, k.Quit):
		if m.running() {
			m.open(newQuitPane(m.shared, m, m.run))
			return nil
		}
		return tea.Quit
	case key.Matches(msg, k.Up):
		m.moveCursor(-1)
	case key.Matches(msg, k.Down):
		m.moveCursor(1)
	case key.Matches(msg, k.PageUp):
		m.moveCursor(-page)
	case key.Matches(msg, k.PageDown):
		m.moveCursor(page)
	case key.Matches(msg, k.Top):
		m.moveCursor(-len(m.rows))
	case key.Matches(msg, k.Bottom):
		m.moveCursor(len(m.rows))
	case key.Matches(msg, k.Collapse):
		if m.snap != nil {
			m.toggleCollapse()
		}
	case key.Matches(msg, k.Detail):
		return m.openDetailOrFold()
	case key.Matches(msg, k.Filter):
		m.typingFilter = true
	case key.Matches(msg, k.GroupCycle):
		m.cycleGroup()
	case key.Matches(msg, k.ClearFilter):
		if m.filterInput.value != "" {
			m.setQuery("")
			m.status = "filter cleared"
		}
	case key.Matches(msg, k.Mark):
		m.toggleMark()
	case key.Matches(msg, k.MarkAll):
		for _, i := range m.visible {
			m.marks.Add(m.snap.Machines[i].ID)
		}
		m.status = fmt.Sprintf("marked %s (%d marked in all)", model.Counted(len(m.visible), "visible machine"), m.marks.Len())
	case key.Matches(msg, k.ClearMarks):
		m.marks.Clear()
		m.status = "marks cleared"
	case key.Matches(msg, k.Help):
		m.open(newHelpPane(m.shared))
	case key.Matches(msg, k.Journal):
		m.open(m.journal)
		return m.journal.load()
	case key.Matches(msg, k.Refresh):
		return m.pollNow()
	case key.Matches(msg, k.Copy):
		return m.copyTargets()
	case key.Matches(msg, k.Handoff):
		return m.openHandoff(nil, nil)
	case key.Matches(msg, k.Dismiss):
		if a := m.shownUnfinished(); a != nil {
			m.notice.dismissed = a.Action.ID
		}
		m.failures = nil
		if m.run != nil && m.run.done {
			m.run = nil
		}
		m.status = ""
	default:
		for _, a := range k.actionKeys() {
			if key.Matches(msg, *a.Binding) {
				return m.act(a.Verb)
			}
		}
	}
	return nil
}

// toggleMark marks the cursor machine, or the whole group on a header row.
func (m *Model) toggleMark() {
	if m.snap == nil || m.cursor >= len(m.rows) {
		return
	}
	r := m.rows[m.cursor]
	if r.kind == rowMachine {
		m.marks.Toggle(m.snap.Machines[r.machine].ID)
		m.moveCursor(1)
		return
	}
	ids := m.groupMachines(r)
	all := true
	for _, id := range ids {
		all = all && m.marks.Has(id)
	}
	for _, id := range ids {
		if all {
			m.marks.Remove(id)
		} else {
			m.marks.Add(id)
		}
	}
}

// planOnTargets plans an action on the marks or the cursor row.
func (m *Model) planOnTargets(kind recovery.Kind) tea.Cmd {
	if m.running() {
		m.status = "an action is running; wait for it to finish (or quit to cancel it)"
		return nil
	}
	ids, hidden := m.targets()
	if len(ids) == 0 {
		m.status = "nothing selected: move to a machine or mark some with space"
		return nil
	}
	req := planRequest{kind: kind, ids: ids, hidden: hidden}
	if kind == recovery.KindUpdate && m.snap != nil {
		req.image = m.snap.Target.Image
		if req.image == "" {
			m.status = "no target image known: start with --image to say what to update to"
			return nil
		}
	}
	return m.requestPlan(req)
}

// applyAdvice pre-selects the runbook's machines and opens that plan.
func (m *Model) applyAdvice() tea.Cmd {
	if len(m.class.Advice) == 0 {
		m.status = "the runbook has no step to advise right now"
		return nil
	}
	if m.running() {
		m.status = "an action is running; wait for it to finish"
		return nil
	}
	a := m.class.Advice[0]
	m.marks.Clear()
	m.marks.Add(a.Machines...)
	req := planRequest{ids: a.Machines, hidden: m.marks.Hidden(m.visible, m.snap), fromAdvice: true,
		image: a.Image, group: a.Group, count: a.Count, force: a.Force}
	kind, ok := recovery.KindForAdvice(a.Action)
	if !ok {
		m.status = "unknown advice " + string(a.Action)
		return nil
	}
	req.kind = kind
	switch kind {
	case recovery.KindScale:
		req.ids = nil
	case recovery.KindRollback:
		if br := m.class.BadRelease; br != nil {
			req.release = fmt.Sprintf("v%d", br.Version)
		}
	}
	return m.requestPlan(req)
}
