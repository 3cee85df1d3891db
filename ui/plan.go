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

// planningPrefix begins the status line while a plan is being made.
const planningPrefix = "planning "

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
	m.status = planningPrefix + string(req.kind) + "…"
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
	if m.snap == nil || m.marks.Len() == 0 || m.running() {
		// While an action runs, its own destroys would drop marks and the
		// finish line would bury that note: the poll after it prunes.
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
	case len(msg.plan.Steps) == 0 && len(msg.plan.Reconciled) == 0 && !(verbOf(msg.req.kind).Force != "" && !msg.req.force && len(msg.plan.Skipped) > 0):
		// A plan that skips everything for want of --force (a destroy)
		// still opens, so the dialog can say why and offer f; so does a
		// resume whose steps were all found done, whose run only records
		// that.
		m.status = fmt.Sprintf("%s: nothing to do; skipped %d: %s", msg.req.kind, len(msg.plan.Skipped), skipReasons(msg.plan.Skipped))
	default:
		m.open(newPlanPane(m.shared, m, &pendingPlan{req: msg.req, plan: msg.plan}))
		if strings.HasPrefix(m.status, planningPrefix) {
			// Only our own line goes: a poll that arrived meanwhile may
			// have said it dropped marks on machines now gone.
			m.status = ""
		}
	}
}

// runPlan runs a confirmed plan, unless there is nothing to run or another
// action still runs.
func (m *Model) runPlan(p *recovery.Plan) tea.Cmd {
	if len(p.Steps) == 0 && len(p.Reconciled) == 0 {
		m.status = "nothing to run: every machine was skipped"
		return nil
	}
	if m.running() {
		m.status = "another action is still running; wait for it or cancel it first"
		return nil
	}
	return m.startRun(p)
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
