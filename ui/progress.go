package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

// stepState is where one machine's step of the running action is.
type stepState struct {
	op      recovery.Op
	phase   recovery.Phase
	attempt int
	retryIn time.Duration
	reason  string
}

// failure is a failed step kept on screen until dismissed: a failure that
// scrolls away at 3 a.m. is a failure nobody reads.
type failure struct {
	actionID, machineID, reason string
	op                          recovery.Op
}

// runState is the action in flight (or the last one, until dismissed).
type runState struct {
	id        int // local generation: events of an older run are ignored
	actionID  string
	kind      recovery.Kind
	steps     map[int]*stepState // by plan step Seq: what the STEP column shows
	byMachine map[string]int     // machine ID -> Seq
	// progress counts the steps for the footer, the journal pane and the
	// quit dialog, with the rate and ETA: one source, so they agree.
	progress *recovery.Progress
	// inFlight is progress.InFlight() after the last batch of events: the
	// machines the table pins whatever the filter.
	inFlight []string
	run      *recovery.Run
	cancel   context.CancelFunc
	done     bool
	result   *recovery.Result
	err      error
	started  time.Time
	// halts are the groups the run stopped touching (their breaker
	// tripped), one line each: said once, kept on screen.
	halts []string
}

func (r *runState) stepFor(id string) *stepState {
	if seq, ok := r.byMachine[id]; ok {
		return r.steps[seq]
	}
	return nil
}

// figures are the run's counts, rate and ETA at the dashboard's clock.
func (m *Model) figures() recovery.ProgressFigures { return m.run.progress.Figures(m.now()) }

// runSummary is what a pane shows of the running action.
type runSummary struct {
	actionID string
	kind     recovery.Kind
	done     bool
	figures  recovery.ProgressFigures
}

func (m *Model) runProgress() (runSummary, bool) {
	rs := m.run
	if rs == nil {
		return runSummary{}, false
	}
	return runSummary{actionID: rs.actionID, kind: rs.kind, done: rs.done, figures: m.figures()}, true
}

// startRun executes a confirmed plan. The engine runs in its own goroutines;
// the dashboard follows it through waitEvents, so the table stays live.
func (m *Model) startRun(plan *recovery.Plan) tea.Cmd {
	ctx, cancel := context.WithCancel(m.baseCtx())
	rs := m.newRun(plan, cancel)
	rs.run = m.opts.Engine.Start(ctx, plan)
	m.run = rs
	// This action is now the journal's newest: whatever the header said
	// was interrupted is resumed or left behind, and the first poll after
	// the run reads the journal again.
	m.notice.action = nil
	m.status = fmt.Sprintf("%s %s started on %s", plan.Kind, recovery.DisplayID(plan.ID), model.Counted(len(plan.Steps), "machine"))
	return tea.Batch(waitEvents(rs.run, rs.id), spinTick())
}

// newRun is the state of a run of plan starting now, every step queued.
func (m *Model) newRun(plan *recovery.Plan, cancel context.CancelFunc) *runState {
	m.runSeq++
	rs := &runState{
		id: m.runSeq, actionID: plan.ID, kind: plan.Kind,
		steps: make(map[int]*stepState, len(plan.Steps)), byMachine: make(map[string]int, len(plan.Steps)),
		progress: recovery.NewProgress(plan, m.now()), cancel: cancel, started: m.now(),
	}
	for _, st := range plan.Steps {
		rs.steps[st.Seq] = &stepState{op: st.Op, phase: recovery.PhaseQueued}
		if st.MachineID != "" {
			rs.byMachine[st.MachineID] = st.Seq
		}
	}
	return rs
}

// waitEvents blocks for the next event, then drains what else is queued so
// a 500-machine run costs a handful of Updates, not thousands.
func waitEvents(run *recovery.Run, id int) tea.Cmd {
	return func() tea.Msg {
		ev, ok := <-run.Events()
		if !ok {
			res, err := run.Wait()
			return runDoneMsg{runID: id, result: res, err: err}
		}
		batch := []recovery.Event{ev}
		for len(batch) < 512 {
			select {
			case ev, ok := <-run.Events():
				if !ok {
					return runEventsMsg{runID: id, events: batch}
				}
				batch = append(batch, ev)
			default:
				return runEventsMsg{runID: id, events: batch}
			}
		}
		return runEventsMsg{runID: id, events: batch}
	}
}

// applyEvents folds progress into the run state.
func (m *Model) applyEvents(msg runEventsMsg) tea.Cmd {
	rs := m.run
	if rs == nil || rs.id != msg.runID {
		return nil
	}
	now := m.now()
	for _, ev := range msg.events {
		// The rate is the dashboard's: finishes are timed by its clock
		// when they arrive (a batch waits milliseconds at most), so the
		// ETA and the clock it is read against agree.
		ev.At = now
		rs.progress.Observe(ev)
		if ev.MachineID == "" && ev.Seq == 0 {
			// Action-level events; the result arrives with runDoneMsg.
			if ev.Phase == recovery.PhaseHalted && ev.Group != "" {
				rs.halts = append(rs.halts, ev.Reason)
				m.status = ev.Reason
			}
			continue
		}
		st := rs.steps[ev.Seq]
		if st == nil {
			st = &stepState{op: ev.Op}
			rs.steps[ev.Seq] = st
		}
		if ev.MachineID != "" {
			rs.byMachine[ev.MachineID] = ev.Seq
		}
		if ev.NewMachineID != "" {
			rs.byMachine[ev.NewMachineID] = ev.Seq
		}
		st.phase, st.attempt, st.retryIn, st.reason = ev.Phase, ev.Attempt, ev.RetryIn, ev.Reason
		if ev.Op != "" {
			st.op = ev.Op
		}
		if ev.Phase == recovery.PhaseFailed || ev.Phase == recovery.PhaseInterrupted {
			id := ev.MachineID
			if id == "" {
				id = ev.NewMachineID
			}
			m.failures = append(m.failures, failure{actionID: rs.actionID, machineID: id, reason: ev.Reason, op: st.op})
		}
	}
	m.followInFlight()
	return waitEvents(rs.run, rs.id)
}

// finishRun records the end of the run and refreshes what it changed.
func (m *Model) finishRun(msg runDoneMsg) tea.Cmd {
	rs := m.run
	if rs == nil || rs.id != msg.runID {
		return nil
	}
	rs.done, rs.result, rs.err = true, msg.result, msg.err
	rs.cancel()
	m.followInFlight()
	switch {
	case msg.err != nil:
		m.status = fmt.Sprintf("%s %s ended with an error: %v", rs.kind, recovery.DisplayID(rs.actionID), msg.err)
	case msg.result != nil:
		r := msg.result
		m.status = fmt.Sprintf("%s %s finished: %d ok, %d failed, %d skipped, %d interrupted in %s",
			rs.kind, recovery.DisplayID(rs.actionID), r.OK, r.Failed, r.Skipped, r.Interrupted, r.Elapsed.Round(time.Second))
		if r.Reconciled > 0 {
			m.status += fmt.Sprintf(" · %d found done, now journaled", r.Reconciled)
		}
		if r.Halted > 0 {
			m.status = fmt.Sprintf("%s %s HALTED %s (%s untouched): %d ok, %d failed in %s; %s resumes it when you decide to",
				rs.kind, recovery.DisplayID(rs.actionID), model.Counted(len(r.Halts), "group"), model.Counted(r.Halted, "machine"),
				r.OK, r.Failed, r.Elapsed.Round(time.Second), m.keys.Action(recovery.KindResume).Help().Key)
		}
	}
	if m.quitting {
		return tea.Quit
	}
	// Confirm from live state, never from the engine's word alone.
	return tea.Batch(m.pollNow(), m.journal.load())
}

// running reports whether an action is in flight.
func (m *Model) running() bool { return m.run != nil && !m.run.done }

// cancelAndQuit cancels the running action and quits once it has wound
// down (leases released, outcomes journaled), or after a deadline.
func (m *Model) cancelAndQuit() tea.Cmd {
	m.quitting = true
	m.status = "cancelling the running action, then quitting…"
	m.run.cancel()
	return tea.Tick(15*time.Second, func(time.Time) tea.Msg { return quitDeadlineMsg{} })
}

func spinTick() tea.Cmd {
	return tea.Tick(120*time.Millisecond, func(time.Time) tea.Msg { return spinMsg{} })
}

// progressLines is the footer while (or after) an action runs, plus the
// failures that have not been dismissed.
func (m *Model) progressLines(width, maxFailures int) []string {
	t := m.theme
	var out []string
	if rs := m.run; rs != nil {
		f := m.figures()
		var state string
		if rs.done {
			state = t.Bold.Render("finished")
		} else if m.quitting {
			state = t.Warn.Render(m.spinnerGlyph() + " cancelling")
		} else {
			state = t.Info.Render(m.spinnerGlyph() + " running")
		}
		head := fmt.Sprintf(" %s %s %s: ", rs.kind, recovery.DisplayID(rs.actionID), state)
		tail := ""
		if rs.done {
			tail = t.Muted.Render("  " + m.keys.Dismiss.Help().Key + " clears")
		}
		out = append(out, truncate(head+figuresLine(t, f, width-lipgloss.Width(head)-lipgloss.Width(tail))+tail, width))
		for _, h := range rs.halts {
			out = append(out, truncate(t.Bad.Render(" ■ ")+h, width))
		}
		if f.Waiting > 0 && !rs.done {
			out = append(out, truncate(t.Warn.Render(" ⏸ ")+fmt.Sprintf("%d waiting: %s", f.Waiting, rs.progress.WaitingReason()), width))
		}
	}
	shown := m.failures
	if len(shown) > maxFailures {
		shown = shown[len(shown)-maxFailures:]
	}
	for _, f := range shown {
		out = append(out, truncate(t.Bad.Render(" ✗ ")+fmt.Sprintf("%s %s: %s", f.op, f.machineID, f.reason), width))
	}
	if n := len(m.failures) - len(shown); n > 0 {
		out = append(out, t.Muted.Render(moreText("   … ", n, "failure")+fmt.Sprintf(" (%s for the journal, %s clears)", m.keys.Journal.Help().Key, m.keys.Dismiss.Help().Key)))
	}
	return out
}

// partKeep is how long a figure stays when the line is narrow: the done
// count and the failures go last, the ETA next; skipped and halted go
// first (the halt has its own line).
var partKeep = map[recovery.PartKind]int{
	recovery.PartDone: 7, recovery.PartFailed: 6, recovery.PartETA: 5, recovery.PartInFlight: 4,
	recovery.PartWaiting: 3, recovery.PartRate: 2, recovery.PartHalted: 1, recovery.PartSkipped: 0,
}

// figuresLine is the run's figures in Progress's words, coloured by kind,
// dropping the least useful until they fit in width.
func figuresLine(t Theme, f recovery.ProgressFigures, width int) string {
	parts := f.Parts()
	sep := t.Muted.Render(" · ")
	render := func() string {
		var b strings.Builder
		for i, p := range parts {
			if i > 0 {
				b.WriteString(sep)
			}
			b.WriteString(partStyle(t, p.Kind, f).Render(p.Text))
		}
		return b.String()
	}
	line := render()
	for len(parts) > 1 && lipgloss.Width(line) > width {
		drop := 0
		for i, p := range parts {
			if partKeep[p.Kind] < partKeep[parts[drop].Kind] {
				drop = i
			}
		}
		parts = append(parts[:drop:drop], parts[drop+1:]...)
		line = render()
	}
	return line
}

// partStyle colours a figure: done green, failures red, waiting amber.
func partStyle(t Theme, kind recovery.PartKind, f recovery.ProgressFigures) lipgloss.Style {
	switch kind {
	case recovery.PartDone:
		return t.OK
	case recovery.PartFailed, recovery.PartHalted:
		return t.Bad
	case recovery.PartWaiting:
		return t.Warn
	case recovery.PartInFlight:
		return styleIf(f.Retrying > 0, t.Warn, lipgloss.NewStyle())
	case recovery.PartETA:
		return styleIf(f.Stalled, t.Warn, t.Bold)
	}
	return t.Muted
}

func styleIf(cond bool, yes, no lipgloss.Style) lipgloss.Style {
	if cond {
		return yes
	}
	return no
}

// truncate cuts a styled line to width.
func truncate(s string, width int) string {
	if lipgloss.Width(s) <= width {
		return s
	}
	return strings.TrimRight(ansiTruncate(s, width), " ")
}
