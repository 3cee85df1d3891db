package recovery

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Progress folds a run's events into the figures an operator plans around:
// how many machines are done, failed, in flight or waiting for budget, how
// fast machines finish, and when the run should end. The dashboard's footer
// and journal pane and the command line's progress line all read it, so
// they cannot disagree. It is not safe for concurrent use.
type Progress struct {
	total   int
	started time.Time
	steps   map[int]*stepProgress
	// finishes are when steps reached a final phase, oldest first.
	finishes []time.Time
}

type stepProgress struct {
	machineID string
	phase     Phase
	reason    string
}

// rateWindow is how far back the rate looks: long enough to smooth a
// canary's pause, short enough to notice that the run slowed down.
const rateWindow = 2 * time.Minute

// NewProgress starts tracking a plan's steps, at started.
func NewProgress(plan *Plan, started time.Time) *Progress {
	p := &Progress{total: len(plan.Steps), started: started, steps: make(map[int]*stepProgress, len(plan.Steps))}
	for _, st := range plan.Steps {
		p.steps[st.Seq] = &stepProgress{machineID: st.MachineID, phase: PhaseQueued}
	}
	return p
}

// Observe folds one event in. Action-level events (no machine, no step) are
// ignored: the result says how the run ended.
func (p *Progress) Observe(ev Event) {
	if ev.MachineID == "" && ev.Seq == 0 {
		return
	}
	st := p.steps[ev.Seq]
	if st == nil {
		st = &stepProgress{}
		p.steps[ev.Seq] = st
		p.total = max(p.total, len(p.steps))
	}
	if ev.MachineID != "" {
		st.machineID = ev.MachineID
	}
	if ev.NewMachineID != "" && st.machineID == "" {
		st.machineID = ev.NewMachineID
	}
	wasFinal := st.phase.Final()
	st.phase, st.reason = ev.Phase, ev.Reason
	if ev.Phase.Final() && !wasFinal && ev.Phase != PhaseHalted && ev.Phase != PhaseSkipped {
		// Only steps that ran count toward the rate: a halted group's
		// steps all end at once and say nothing about speed.
		p.finishes = append(p.finishes, ev.At)
	}
}

// InFlight lists the machines whose steps are under way (leasing, acting,
// waiting, verifying, retrying): the table keeps them visible whatever the
// filter says.
func (p *Progress) InFlight() []string {
	var ids []string
	for _, st := range p.steps {
		if st.machineID != "" && st.phase != PhaseQueued && !st.phase.Final() {
			ids = append(ids, st.machineID)
		}
	}
	return ids
}

// ProgressFigures are a run's counts at one moment, with its rate and ETA.
type ProgressFigures struct {
	Total, Done, Failed, Skipped, Halted int
	InFlight                             int // leasing, acting, waiting, verifying or retrying
	Waiting                              int // queued and told why: no room in the group's budget
	Queued                               int // queued, not yet told to wait
	// PerMinute is how many steps finished per minute over the last
	// rateWindow; zero until one has.
	PerMinute float64
	// ETA is the time left at that rate; ETAKnown is false until a step
	// has finished (a rate from nothing would be a guess).
	ETA      time.Duration
	ETAKnown bool
	// Stalled: steps finished earlier but none within the rate window.
	Stalled bool
}

// Figures counts the steps and computes the rate and ETA at now.
func (p *Progress) Figures(now time.Time) ProgressFigures {
	f := ProgressFigures{Total: p.total}
	for _, st := range p.steps {
		switch st.phase {
		case PhaseDone:
			f.Done++
		case PhaseFailed, PhaseInterrupted:
			f.Failed++
		case PhaseSkipped:
			f.Skipped++
		case PhaseHalted:
			f.Halted++
		case PhaseQueued:
			if st.reason != "" {
				f.Waiting++
			} else {
				f.Queued++
			}
		default:
			f.InFlight++
		}
	}
	from := p.started
	if w := now.Add(-rateWindow); w.After(from) {
		from = w
	}
	n := 0
	for i := len(p.finishes) - 1; i >= 0 && !p.finishes[i].Before(from); i-- {
		n++
	}
	span := now.Sub(from)
	if n == 0 || span <= 0 {
		f.Stalled = len(p.finishes) > 0 && f.Done+f.Failed+f.Skipped+f.Halted < f.Total
		return f
	}
	f.PerMinute = float64(n) / span.Minutes()
	left := f.Total - f.Done - f.Failed - f.Skipped - f.Halted
	f.ETA = time.Duration(math.Ceil(float64(left)/f.PerMinute*60)) * time.Second
	f.ETAKnown = true
	return f
}

// String is the one-line summary: "12/125 done · 1 failed · 4 in flight ·
// 3 waiting for budget · 6.2/min · ETA 18m".
func (f ProgressFigures) String() string {
	parts := []string{fmt.Sprintf("%d/%d done", f.Done, f.Total)}
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(f.Failed, "failed")
	add(f.InFlight, "in flight")
	add(f.Waiting, "waiting for budget")
	add(f.Halted, "halted")
	add(f.Skipped, "skipped")
	if f.ETAKnown {
		parts = append(parts, fmt.Sprintf("%.1f/min", f.PerMinute), "ETA "+ShortDuration(f.ETA))
	} else if f.Stalled {
		parts = append(parts, "nothing finished in "+ShortDuration(rateWindow))
	} else if f.Done+f.Failed < f.Total {
		parts = append(parts, "ETA after the first machine")
	}
	return strings.Join(parts, " · ")
}

// ShortDuration says a duration the way an operator reads it at a glance:
// "45s", "18m", "1h05m".
func ShortDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Round(time.Second).Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Round(time.Minute).Minutes()))
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}
