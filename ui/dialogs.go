package ui

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/flyrescue/flyrescue/recovery"
)

// quitPane asks before quitting while an action runs: quitting cancels it.
type quitPane struct {
	paneBase
	host host
	run  *runState
}

func newQuitPane(s *shared, h host, run *runState) *quitPane {
	return &quitPane{paneBase: paneBase{s, "plan", false}, host: h, run: run}
}

// keyHelp is the plan dialog's y alone: any other key keeps the action.
func (q *quitPane) keyHelp() []key.Binding { return []key.Binding{q.keys.PlanPane.Confirm.Binding} }

func (q *quitPane) update(msg tea.Msg, _, _ int) (tea.Cmd, bool) {
	press, ok := msg.(tea.KeyPressMsg)
	switch {
	case !ok:
		return nil, true
	case key.Matches(press, q.keys.PlanPane.Confirm.Binding):
		return q.host.cancelAndQuit(), false
	}
	q.host.setStatus("not quitting; the action keeps running")
	return nil, false
}

func (q *quitPane) view(width, _ int) string {
	t := q.theme
	f := q.run.progress.Figures(q.opts.Now())
	body := t.DialogTitle.Render("An action is running") + "\n\n" +
		fmt.Sprintf("%s %s:", q.run.kind, recovery.DisplayID(q.run.actionID)) + "\n" + figuresLine(t, f, max(20, width-6)) +
		"\nQuitting cancels it: in-flight steps finish or are marked interrupted,\nleases are released and the journal records where it stopped (R resumes).\n\n" +
		t.Key.Render(q.keys.PlanPane.Confirm.Help().Key) + " cancel and quit   any other key keeps it running " + t.Bold.Render("[default: No]")
	return dialogBox(t.Dialog, body, width)
}
