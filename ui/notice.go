package ui

import (
	"fmt"

	"github.com/flyrescue/flyrescue/recovery"
)

// unfinishedNotice is the header's word on an action the journal says was
// interrupted: an operator who restarts the dashboard after a crash, a
// cancelled run or a lost terminal must see at once that work is half done,
// and which key finishes it.
type unfinishedNotice struct {
	// action is the app's newest journaled action when it has steps a
	// resume picks up and no resume has taken them on; nil otherwise.
	action *recovery.ActionLog
	// dismissed is the ID of the action whose notice the operator cleared.
	dismissed string
}

// unfinishedOf is the app's newest action in hist if it is unfinished: an
// older unfinished action behind a newer one is the journal pane's to show,
// not the header's.
func unfinishedOf(hist []*recovery.ActionLog, app string) *recovery.ActionLog {
	for i := len(hist) - 1; i >= 0; i-- {
		a := hist[i]
		if a.Action.App != "" && a.Action.App != app {
			continue
		}
		if in, never := a.Unfinished(); in+never > 0 && len(a.ResumedBy) == 0 {
			return a
		}
		return nil
	}
	return nil
}

// shownUnfinished is the action the header names, nil when there is none,
// the operator dismissed it, or an action runs (a resume of it among them).
func (m *Model) shownUnfinished() *recovery.ActionLog {
	a := m.notice.action
	if a == nil || a.Action.ID == m.notice.dismissed || m.running() {
		return nil
	}
	return a
}

// unfinishedLine is the header's notice: what was interrupted, how much is
// left (in the journal pane's and `flyrescue log`'s words), and the keys,
// as bound, that resume it or dismiss the notice.
func (m *Model) unfinishedLine(width int) string {
	a := m.shownUnfinished()
	if a == nil {
		return ""
	}
	t := m.theme
	head := fmt.Sprintf(" ! action %s (%s) was interrupted", recovery.DisplayID(a.Action.ID), a.Action.Kind)
	keys := fmt.Sprintf(" · %s resumes, %s dismisses", m.keys.Action(recovery.KindResume).Help().Key, m.keys.Dismiss.Help().Key)
	if m.opts.ReadOnly {
		keys = " · read-only here: `flyrescue resume` finishes it"
	}
	// The most that fits: the keys must survive 80 columns, the count of
	// what is left 120.
	for _, left := range []string{": " + a.UnfinishedText(), ": " + a.UnfinishedSteps(), ""} {
		if textWidth(head+left+keys) <= width {
			return t.Warn.Render(head+left) + t.Muted.Render(keys)
		}
	}
	return truncate(t.Warn.Render(head)+t.Muted.Render(keys), width)
}

// resumeTarget is the action the resume key plans: the one the header
// names, else the engine's choice (the newest resumable).
func (m *Model) resumeTarget() string {
	if a := m.shownUnfinished(); a != nil {
		return a.Action.ID
	}
	return ""
}
