package ui

import (
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

// journalPane is the journal: recent actions with outcome counts, the
// record to hand over when escalating.
type journalPane struct {
	paneBase
	host    host
	logs    []*recovery.ActionLog // oldest first, as History returns them
	path    string
	err     error
	cursor  int // index into logs counted from the newest
	loading bool
}

func newJournalPane(s *shared, h host) *journalPane {
	return &journalPane{paneBase: paneBase{s, "journal", true}, host: h}
}

// load reads the journal file in a Cmd.
func (j *journalPane) load() tea.Cmd {
	if j.opts.Engine == nil || j.opts.Engine.Journal() == nil {
		j.err = errors.New("no journal: the dashboard runs without a recovery engine")
		return nil
	}
	j.loading = true
	jr, base := j.opts.Engine.Journal(), j.baseCtx()
	return func() tea.Msg {
		if err := base.Err(); err != nil {
			return journalMsg{err: err, path: jr.Path()}
		}
		recs, _, err := jr.Records()
		if err != nil {
			return journalMsg{err: err, path: jr.Path()}
		}
		return journalMsg{logs: recovery.History(recs), path: jr.Path()}
	}
}

func (j *journalPane) receive(msg journalMsg) {
	j.loading = false
	j.err = msg.err
	j.path = msg.path
	if msg.err == nil {
		j.logs = msg.logs
	}
	j.cursor = max(0, min(j.cursor, len(j.logs)-1))
}

// selected is the action under the cursor.
func (j *journalPane) selected() *recovery.ActionLog {
	if len(j.logs) == 0 {
		return nil
	}
	return j.logs[len(j.logs)-1-j.cursor]
}

func (j *journalPane) update(msg tea.Msg, _, _ int) (tea.Cmd, bool) {
	press, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil, true
	}
	k := &j.keys.JournalPane
	if name, ok := j.keys.disabledAction(press, &k.Undo, &k.Resume); ok {
		j.host.setStatus(fmt.Sprintf("%s is disabled: flyrescue runs read-only (%s)", name, j.opts.ReadOnlyWhy))
		return nil, true
	}
	switch {
	case key.Matches(press, k.Close.Binding):
		return nil, false
	case key.Matches(press, k.Down.Binding):
		j.cursor = min(j.cursor+1, max(0, len(j.logs)-1))
	case key.Matches(press, k.Up.Binding):
		j.cursor = max(0, j.cursor-1)
	case key.Matches(press, k.Refresh.Binding):
		return j.load(), true
	case key.Matches(press, k.Undo.Binding, k.Resume.Binding):
		a := j.selected()
		if a == nil || j.host.running() {
			return nil, true
		}
		kind := recovery.KindUndo
		if key.Matches(press, k.Resume.Binding) {
			kind = recovery.KindResume
		}
		return j.host.requestPlan(planRequest{kind: kind, actionID: a.Action.ID}), false
	}
	return nil, true
}

// view lists actions newest first with their outcome counts.
func (j *journalPane) view(width, height int) string {
	t := j.theme
	title := t.Title.Render(" Journal") + t.Muted.Render("  "+j.path)
	if j.opts.JournalNote != "" {
		title += t.Muted.Render("  (" + j.opts.JournalNote + ")")
	}
	lines := []string{truncate(title, width)}
	run, running := j.host.runProgress()
	if running {
		lines = append(lines, j.runLine(run, width))
	}
	switch {
	case j.err != nil:
		lines = append(lines, t.Bad.Render(" "+j.err.Error()))
	case j.loading && len(j.logs) == 0:
		lines = append(lines, " loading…")
	case len(j.logs) == 0:
		lines = append(lines, t.Muted.Render(" no actions yet: every action you confirm is recorded here before it runs"))
	}
	lines = append(lines, truncate(t.ColumnHeader.Render(fmt.Sprintf("   %-19s %-13s %s %-6s %-30s %s", "WHEN", "ID", fit("KIND", kindWidth, false, false), "STEPS", "OUTCOMES", "SELECTION")), width))
	// The chosen action's detail takes the bottom of the pane: who, what,
	// and which machines failed and why (what an escalation needs first).
	detail := j.detail(width, max(0, height/2-1))
	listEnd := height - 1 - len(detail)
	// Scroll so the chosen action stays in view on a long journal.
	rows := max(1, listEnd-len(lines))
	first := max(0, j.cursor-rows+1)
	for i := len(j.logs) - 1 - first; i >= 0 && len(lines) < listEnd; i-- {
		a := j.logs[i]
		pos := len(j.logs) - 1 - i
		outcomes := outcomeText(a)
		if running && !run.done && a.Action.ID == run.actionID {
			// The file was read when the pane opened; the run has moved on.
			outcomes = fmt.Sprintf("running: %d/%d done", run.figures.Done, run.figures.Total)
		}
		line := fmt.Sprintf("%-19s %-13s %s %-6d %-30s %s", a.At.UTC().Format("2006-01-02 15:04:05"), recovery.DisplayID(a.Action.ID),
			fit(string(a.Action.Kind), kindWidth, false, false), len(a.Machines), outcomes, a.Action.Selection)
		line += links(a)
		if pos == j.cursor {
			lines = append(lines, t.Cursor.Render(fit(j.glyphs.cursor+"  "+line, width, false, false)))
		} else {
			lines = append(lines, truncate("   "+line, width))
		}
	}
	lines = append(lines[:min(len(lines), listEnd)], detail...)
	k := &j.keys.JournalPane
	lines = append(lines[:min(len(lines), height-1)], t.Muted.Render(fmt.Sprintf(" %s/%s choose · %s undo · %s resume · %s reload · %s back",
		k.Up.Help().Key, k.Down.Help().Key, k.Undo.Help().Key, k.Resume.Help().Key, k.Refresh.Help().Key, k.Close.Help().Key)))
	return strings.Join(lines, "\n")
}

// runLine is the running action's figures, the footer's words: done,
// failed, in flight, waiting for budget, the rate and the ETA.
func (j *journalPane) runLine(run runSummary, width int) string {
	t := j.theme
	state := t.Info.Render("▶ running")
	if run.done {
		state = t.Bold.Render("■ finished")
	}
	head := fmt.Sprintf(" %s %s %s: ", state, run.kind, recovery.DisplayID(run.actionID))
	return truncate(head+figuresLine(t, run.figures, width-ansi.StringWidth(head)), width)
}

// detail describes the chosen action in at most maxLines lines.
func (j *journalPane) detail(width, maxLines int) []string {
	a := j.selected()
	if a == nil || maxLines < 3 {
		return nil
	}
	t := j.theme
	r := a.Action
	who := ""
	if r.Operator != "" {
		who = " by " + r.Operator
	}
	out := []string{
		truncate(t.Muted.Render(" ── ")+t.Bold.Render(recovery.DisplayID(r.ID)+" "+string(r.Kind))+t.Muted.Render(who+" at "+a.At.UTC().Format("15:04:05 UTC")), width),
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
	if u := a.UnfinishedText(); u != "" {
		out = append(out, truncate(t.Warn.Render("    "+u), width))
	}
	for i, ml := range failed {
		if len(out) == maxLines-1 && i < len(failed)-1 {
			out = append(out, t.Muted.Render(fmt.Sprintf("    … %d more (flyrescue log -a %s --action %s)", len(failed)-i, r.App, recovery.DisplayID(r.ID))))
			break
		}
		out = append(out, truncate(t.Bad.Render("    ✗ "+ml.MachineID)+"  "+a.StepWhy(ml, j.keys.JournalPane.Resume.Help().Key+" resumes it"), width))
	}
	return out[:min(len(out), maxLines)]
}

// outcomeText counts a logged action's steps by outcome, in the words of
// `flyrescue log`.
func outcomeText(a *recovery.ActionLog) string {
	return recovery.CountsText(a.Counts(), recovery.OutcomeOK)
}

// links names the actions a logged action is tied to: what undid or
// resumed it, what it undoes or resumes.
func links(a *recovery.ActionLog) string {
	var s string
	if a.UndoneBy != "" {
		s += " (undone by " + recovery.DisplayID(a.UndoneBy) + ")"
	}
	if a.Action.Undoes != "" {
		s += " (undoes " + recovery.DisplayID(a.Action.Undoes) + ")"
	}
	if n := len(a.ResumedBy); n > 0 {
		s += " (resumed by " + recovery.DisplayID(a.ResumedBy[n-1]) + ")"
	}
	if a.Action.Resumes != "" {
		s += " (resumes " + recovery.DisplayID(a.Action.Resumes) + ")"
	}
	return s
}

// kindWidth fits the KIND column to the longest kind the journal records
// ("clear-lease"), so no kind pushes its row out of line.
var kindWidth = func() int {
	w := len("KIND")
	for _, k := range recovery.JournaledKinds() {
		w = max(w, len(k))
	}
	return w
}()
