package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

// planPane is the plan waiting for y. No is the default because at 3 a.m.
// a stray key must never destroy anything.
type planPane struct {
	paneBase
	host    host
	pending *pendingPlan
}

func newPlanPane(s *shared, h host, pending *pendingPlan) *planPane {
	return &planPane{paneBase: paneBase{s, "plan", false}, host: h, pending: pending}
}

// update: y runs, f toggles force on a verb that has it (a destroy:
// replanning), and any other
// key cancels. Whatever the key, the dialog closes.
func (d *planPane) update(msg tea.Msg, _, _ int) (tea.Cmd, bool) {
	press, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil, true
	}
	p, k := d.pending, &d.keys.PlanPane
	switch {
	case key.Matches(press, k.Confirm.Binding):
		return d.host.runPlan(p.plan), false
	case key.Matches(press, k.Force.Binding) && verbOf(p.req.kind).Force != "":
		p.req.force = !p.req.force
		return d.host.requestPlan(p.req), false
	}
	// Planning wrote nothing (not even a resume's steps found done), so
	// this is true of the journal as well as of the machines.
	d.host.setStatus("cancelled: nothing was changed")
	return nil, false
}

// view renders the plan for confirmation.
func (d *planPane) view(width, _ int) string {
	t := d.theme
	p := d.pending.plan
	req := d.pending.req
	var b strings.Builder
	title := fmt.Sprintf("%s %d machine%s?", planTitle(p, req.force), len(p.Steps), plural(len(p.Steps)))
	if p.Kind == recovery.KindScale {
		title = fmt.Sprintf("Scale %s to %d (%d step%s)?", req.group, req.count, len(p.Steps), plural(len(p.Steps)))
	}
	if p.Resumes != "" && len(p.Steps) == 0 {
		title = fmt.Sprintf("Resume %s: nothing left to run; record what was found?", recovery.DisplayID(p.Resumes))
	}
	b.WriteString(t.DialogTitle.Render(title) + "\n\n")
	groups, regions := map[string]int{}, map[string]int{}
	from, to := map[string]int{}, map[string]int{}
	for _, s := range p.Steps {
		groups[s.Group]++
		regions[s.Region]++
		if s.FromImage != "" {
			from[model.ImageTag(s.FromImage)]++
		}
		if s.ToImage != "" {
			to[model.ImageTag(s.ToImage)]++
		}
	}
	inner := min(width-2, 100) - 4
	row := func(k, v string) {
		b.WriteString(truncate(t.Muted.Render(fmt.Sprintf("%-9s", k))+v, inner) + "\n")
	}
	sel := p.Selection
	if len(sel) > 40 && len(req.ids) > 0 {
		sel = fmt.Sprintf("%d machines by ID", len(req.ids))
	}
	row("app", p.App+"   selection: "+sel)
	row("groups", countList(groups))
	row("regions", countList(regions))
	if len(to) > 0 {
		row("from", countList(from))
		row("to", t.Bold.Render(countList(to)))
	}
	if done := foundDoneCount(p); done > 0 {
		row("done", fmt.Sprintf("%d interrupted steps of %s were found done; y records them in the journal", done, recovery.DisplayID(p.Resumes)))
	}
	if len(p.Skipped) > 0 {
		row("skipped", fmt.Sprintf("%d machines need nothing (%s)", len(p.Skipped), skipReasons(p.Skipped)))
	}
	row("budget", budgetText(p.Limits))
	force := verbOf(p.Kind).Force
	if force != "" {
		if req.force {
			row("force", t.Bad.Render("yes: "+lowerFirst(force)))
		} else {
			row("force", fmt.Sprintf("no (press %s to plan with --force: %s)", d.keys.PlanPane.Force.Help().Key, lowerFirst(force)))
		}
	}
	if req.hidden > 0 {
		b.WriteString(t.Warn.Render(fmt.Sprintf("⚠ %d of these marked machines are hidden by the filter", req.hidden)) + "\n")
	}
	if req.fromAdvice {
		b.WriteString(t.Info.Render("the runbook picked these machines (they are now marked)") + "\n")
	}
	for _, n := range p.Notes {
		b.WriteString(t.Warn.Render("• "+n) + "\n")
	}
	k := &d.keys.PlanPane
	b.WriteString("\n" + t.Key.Render(k.Confirm.Help().Key) + " run   ")
	if force != "" {
		b.WriteString(t.Key.Render(k.Force.Help().Key) + " toggle force   ")
	}
	b.WriteString("any other key cancels " + t.Bold.Render("[default: No]"))
	return t.Dialog.Width(min(width-2, 100)).Render(b.String())
}

// foundDoneCount is how many of a resume's reconciled steps were found done
// (the others are steps whose machine was gone before they began).
func foundDoneCount(p *recovery.Plan) int {
	n := 0
	for _, o := range p.Reconciled {
		if o.Outcome == recovery.OutcomeOK {
			n++
		}
	}
	return n
}

func budgetText(l recovery.Limits) string {
	s := fmt.Sprintf("≤%.0f%% unavailable per group", l.MaxUnavailable*100)
	if l.MaxUnavailable >= 1 {
		s = fmt.Sprintf("≤%.0f unavailable per group", l.MaxUnavailable)
	}
	if len(l.GroupBudget) > 0 {
		s += " (" + countList(l.GroupBudget) + ")"
	}
	return s + fmt.Sprintf(" · %d at once · %d retries · wait %s", l.Concurrency, l.Retries, l.WaitTimeout)
}

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
	return t.Dialog.Render(body)
}
