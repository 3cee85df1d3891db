package ui

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

// planRequest is what the operator asked for, before the engine plans it.
type planRequest struct {
	kind     recovery.Kind
	ids      []string
	force    bool
	image    string
	group    string
	count    int
	region   string
	release  string
	actionID string // undo and resume: which journaled action
	// hidden is how many of ids the filter hides: the dialog must say so.
	hidden int
	// fromAdvice says the runbook picked the machines, not the operator.
	fromAdvice bool
}

// pendingPlan is a plan waiting for y.
type pendingPlan struct {
	req  planRequest
	plan *recovery.Plan
}

// requestPlan asks the engine for a plan in a Cmd (planning reads live
// state); the confirm dialog opens when it arrives.
func (m *Model) requestPlan(req planRequest) tea.Cmd {
	m.planSeq++
	seq := m.planSeq
	m.planning = true
	m.status = "planning " + string(req.kind) + "…"
	eng, api, app, base := m.opts.Engine, m.opts.API, m.opts.App, m.baseCtx()
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(base, planTimeout)
		defer cancel()
		p, err := planFor(ctx, eng, req)
		var gone []string
		if errors.Is(err, flyclient.ErrNotFound) && len(req.ids) > 0 && api != nil {
			// Marked machines destroyed since the last poll: plan without
			// them rather than fail on them.
			var live []string
			if live, gone = liveIDs(ctx, api, app, req.ids); len(gone) > 0 {
				req.ids = live
				if len(live) == 0 {
					return planMsg{seq: seq, req: req, gone: gone}
				}
				p, err = planFor(ctx, eng, req)
			}
		}
		if p != nil {
			// Machines being destroyed are gone to every plan but a
			// destroy: their marks go, like those of destroyed ones.
			for _, s := range p.Skipped {
				if s.Reason == recovery.ReasonBeingDestroyed {
					gone = append(gone, s.MachineID)
				}
			}
		}
		return planMsg{seq: seq, req: req, plan: p, err: err, gone: gone}
	}
}

// liveIDs splits ids into the machines the API still lists (and not as
// destroyed or destroying, which the engine does not plan on either) and
// those that are gone.
func liveIDs(ctx context.Context, api FleetAPI, app string, ids []string) (live, gone []string) {
	raw, err := api.List(ctx, app, flyclient.ListOptions{})
	if err != nil {
		return ids, nil
	}
	present := make(map[string]bool, len(raw))
	for _, mc := range raw {
		if mc != nil && mc.State != model.StateDestroyed && mc.State != model.StateDestroying {
			present[mc.ID] = true
		}
	}
	for _, id := range ids {
		if present[id] {
			live = append(live, id)
		} else {
			gone = append(gone, id)
		}
	}
	return live, gone
}

// pruneMarks drops marks on machines the snapshot no longer has (destroyed
// between polls) and says so in one line.
func (m *Model) pruneMarks() {
	if m.snap == nil || m.marks.Len() == 0 {
		return
	}
	if n := m.marks.Prune(m.snap); n > 0 {
		m.status = goneNote(n)
	}
}

// goneNote is the one line that says marks were dropped.
func goneNote(n int) string {
	if n == 1 {
		return "1 marked machine is gone (destroyed?) and was unmarked"
	}
	return fmt.Sprintf("%d marked machines are gone (destroyed?) and were unmarked", n)
}

func planFor(ctx context.Context, eng *recovery.Engine, req planRequest) (*recovery.Plan, error) {
	sel := recovery.Selector{MachineIDs: req.ids, Region: req.region}
	switch req.kind {
	case recovery.KindUpdate:
		return eng.PlanUpdate(ctx, recovery.UpdateRequest{Selector: sel, Image: req.image})
	case recovery.KindRestart:
		return eng.PlanRestart(ctx, sel)
	case recovery.KindDestroy:
		return eng.PlanDestroy(ctx, recovery.DestroyRequest{Selector: sel, Force: req.force})
	case recovery.KindScale:
		return eng.PlanScale(ctx, recovery.ScaleRequest{Group: req.group, Count: req.count, Region: req.region})
	case recovery.KindRollback:
		return eng.PlanRollback(ctx, recovery.RollbackRequest{Selector: sel, Release: req.release})
	case recovery.KindUndo:
		return eng.PlanUndo(ctx, req.actionID)
	case recovery.KindResume:
		return eng.PlanResume(ctx, req.actionID)
	}
	return nil, fmt.Errorf("unknown action %q", req.kind)
}

// receivePlan opens the confirm dialog, unless the operator moved on.
func (m *Model) receivePlan(msg planMsg) {
	if msg.seq != m.planSeq || !m.planning {
		return
	}
	m.planning = false
	note := ""
	if n := m.marks.Drop(msg.gone); n > 0 {
		note = goneNote(n)
	}
	defer func() {
		if note != "" {
			m.status = strings.TrimPrefix(m.status+"; "+note, "; ")
		}
	}()
	switch {
	case msg.plan == nil && msg.err == nil && len(msg.gone) > 0:
		m.status = fmt.Sprintf("could not plan %s: every machine it was for is gone", msg.req.kind)
	case msg.err != nil:
		m.status = fmt.Sprintf("could not plan %s: %v", msg.req.kind, msg.err)
	case msg.plan == nil:
		m.status = fmt.Sprintf("could not plan %s: the engine returned no plan", msg.req.kind)
	case len(msg.plan.Steps) == 0 && len(msg.plan.Reconciled) == 0 && !(msg.req.kind == recovery.KindDestroy && !msg.req.force && len(msg.plan.Skipped) > 0):
		// A destroy that skips everything for want of --force still
		// opens, so the dialog can say why and offer f; so does a resume
		// whose steps were all found done, whose run only records that.
		m.status = fmt.Sprintf("%s: nothing to do; skipped %d: %s", msg.req.kind, len(msg.plan.Skipped), skipReasons(msg.plan.Skipped))
	default:
		m.pending = &pendingPlan{req: msg.req, plan: msg.plan}
		m.mode = modeConfirm
		m.status = ""
	}
}

// targets are the machines an action applies to: the marks, else the cursor
// row (a header row stands for its group's visible machines).
func (m *Model) targets() (ids []string, hidden int) {
	if m.marks.Len() > 0 {
		return m.marks.IDs(), m.marks.Hidden(m.visible, m.snap)
	}
	if m.snap == nil || m.cursor >= len(m.rows) {
		return nil, 0
	}
	r := m.rows[m.cursor]
	if r.kind == rowMachine {
		return []string{m.snap.Machines[r.machine].ID}, 0
	}
	return m.groupMachines(r), 0
}

// handleConfirm: y runs, f toggles force on a destroy (replanning), and any
// other key cancels. No is the default because at 3 a.m. a stray key must
// never destroy anything.
func (m *Model) handleConfirm(msg tea.KeyPressMsg) tea.Cmd {
	p := m.pending
	m.pending = nil
	m.mode = modeNormal
	switch msg.String() {
	case confirmKey:
		if len(p.plan.Steps) == 0 && len(p.plan.Reconciled) == 0 {
			m.status = "nothing to run: every machine was skipped"
			return nil
		}
		if m.running() {
			m.status = "another action is still running; wait for it or cancel it first"
			return nil
		}
		return m.startRun(p.plan)
	case "f":
		if p.req.kind == recovery.KindDestroy {
			p.req.force = !p.req.force
			return m.requestPlan(p.req)
		}
	}
	// Planning wrote nothing (not even a resume's steps found done), so
	// this is true of the journal as well as of the machines.
	m.status = "cancelled: nothing was changed"
	return nil
}

// planDialog renders the plan for confirmation.
func (m *Model) planDialog(width int) string {
	t := m.theme
	p := m.pending.plan
	req := m.pending.req
	var b strings.Builder
	title := fmt.Sprintf("%s %d machine%s?", planVerb(p.Kind, req.force), len(p.Steps), plural(len(p.Steps)))
	if p.Kind == recovery.KindScale {
		title = fmt.Sprintf("Scale %s to %d (%d step%s)?", req.group, req.count, len(p.Steps), plural(len(p.Steps)))
	}
	if p.Resumes != "" && len(p.Steps) == 0 {
		title = fmt.Sprintf("Resume %s: nothing left to run; record what was found?", shortID(p.Resumes))
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
		row("done", fmt.Sprintf("%d interrupted steps of %s were found done; y records them in the journal", done, shortID(p.Resumes)))
	}
	if len(p.Skipped) > 0 {
		row("skipped", fmt.Sprintf("%d machines need nothing (%s)", len(p.Skipped), skipReasons(p.Skipped)))
	}
	row("budget", budgetText(p.Limits))
	if p.Kind == recovery.KindDestroy {
		if req.force {
			row("force", t.Bad.Render("yes: machines that will not stop are killed"))
		} else {
			row("force", "no (press f to plan with --force for machines that will not stop)")
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
	b.WriteString("\n" + t.Key.Render(confirmKey) + " run   ")
	if p.Kind == recovery.KindDestroy {
		b.WriteString(t.Key.Render("f") + " toggle force   ")
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

func planVerb(k recovery.Kind, force bool) string {
	switch k {
	case recovery.KindUpdate:
		return "Update to the target image:"
	case recovery.KindRestart:
		return "Restart"
	case recovery.KindDestroy:
		if force {
			return "FORCE-destroy"
		}
		return "Destroy"
	case recovery.KindRollback:
		return "Roll back"
	case recovery.KindUndo:
		return "Undo: act on"
	case recovery.KindResume:
		return "Resume: finish"
	}
	return string(k)
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

func skipReasons(steps []recovery.Step) string {
	reasons := map[string]int{}
	for _, s := range steps {
		reasons[s.Reason]++
	}
	return countList(reasons)
}

// countList prints "a 3 · b 2" biggest first, at most five entries.
func countList(counts map[string]int) string {
	keys := slices.Collect(maps.Keys(counts))
	slices.SortFunc(keys, func(a, b string) int {
		if counts[a] != counts[b] {
			return counts[b] - counts[a]
		}
		return strings.Compare(a, b)
	})
	var parts []string
	for i, k := range keys {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("+%d more", len(keys)-5))
			break
		}
		label := k
		if label == "" {
			label = "-"
		}
		parts = append(parts, fmt.Sprintf("%s %d", label, counts[k]))
	}
	return strings.Join(parts, " · ")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
