package recovery

import (
	"fmt"
	"math"
	"sort"
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
	// count is the steps in each bucket, kept as events arrive: a screen
	// asks for the figures several times a frame, at 10,000 steps.
	count [numBuckets]int
	// finishes are when steps reached a final phase, oldest first.
	finishes []time.Time
}

type stepProgress struct {
	machineID string
	phase     Phase
	reason    string
}

// bucket is what a step counts as in the figures.
type bucket uint8

const (
	bucketQueued bucket = iota
	bucketWaiting
	bucketInFlight
	bucketRetrying // in flight too
	bucketDone
	bucketFailed
	bucketSkipped
	bucketHalted
	numBuckets
)

func (st *stepProgress) bucket() bucket {
	switch st.phase {
	case PhaseDone:
		return bucketDone
	case PhaseFailed, PhaseInterrupted:
		return bucketFailed
	case PhaseSkipped:
		return bucketSkipped
	case PhaseHalted:
		return bucketHalted
	case PhaseRetrying:
		return bucketRetrying
	case PhaseQueued:
		if st.reason != "" {
			return bucketWaiting
		}
		return bucketQueued
	}
	return bucketInFlight
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
	p.count[bucketQueued] = len(p.steps)
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
		st = &stepProgress{phase: PhaseQueued}
		p.steps[ev.Seq] = st
		p.count[bucketQueued]++
		p.total = max(p.total, len(p.steps))
	}
	if ev.MachineID != "" {
		st.machineID = ev.MachineID
	}
	if ev.NewMachineID != "" && st.machineID == "" {
		st.machineID = ev.NewMachineID
	}
	wasFinal := st.phase.Final()
	p.count[st.bucket()]--
	st.phase, st.reason = ev.Phase, ev.Reason
	p.count[st.bucket()]++
	if ev.Phase.Final() && !wasFinal && ev.Phase != PhaseHalted && ev.Phase != PhaseSkipped {
		// Only steps that ran count toward the rate: a halted group's
		// steps all end at once and say nothing about speed.
		p.finishes = append(p.finishes, ev.At)
	}
}

// InFlight lists the machines whose steps are under way (leasing, acting,
// waiting, verifying, retrying), sorted: the table keeps them visible
// whatever the filter says.
func (p *Progress) InFlight() []string {
	var ids []string
	for _, st := range p.steps {
		if st.machineID != "" && st.phase != PhaseQueued && !st.phase.Final() {
			ids = append(ids, st.machineID)
		}
	}
	sort.Strings(ids)
	return ids
}

// WaitingReason is why the first step waiting for budget waits ("" when
// none does): one example, the same one every time it is asked.
func (p *Progress) WaitingReason() string {
	first, why := 0, ""
	for seq, st := range p.steps {
		if st.phase == PhaseQueued && st.reason != "" && (why == "" || seq < first) {
			first, why = seq, st.reason
		}
	}
	return why
}

// ProgressFigures are a run's counts at one moment, with its rate and ETA.
type ProgressFigures struct {
	Total, Done, Failed, Skipped, Halted int
	InFlight                             int // leasing, acting, waiting, verifying or retrying
	Retrying                             int // of InFlight, waiting to try again after an error
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

// Left is the steps not yet ended.
func (f ProgressFigures) Left() int { return f.Total - f.Done - f.Failed - f.Skipped - f.Halted }

// Figures counts the steps and computes the rate and ETA at now.
func (p *Progress) Figures(now time.Time) ProgressFigures {
	c := &p.count
	f := ProgressFigures{
		Total: p.total, Done: c[bucketDone], Failed: c[bucketFailed], Skipped: c[bucketSkipped], Halted: c[bucketHalted],
		InFlight: c[bucketInFlight] + c[bucketRetrying], Retrying: c[bucketRetrying], Waiting: c[bucketWaiting], Queued: c[bucketQueued],
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
		f.Stalled = len(p.finishes) > 0 && f.Left() > 0
		return f
	}
	f.PerMinute = float64(n) / span.Minutes()
	f.ETA = time.Duration(math.Ceil(float64(f.Left())/f.PerMinute*60)) * time.Second
	f.ETAKnown = true
	return f
}

// PartKind says what one figure of the summary is, so a screen can colour
// it, or drop it when the line is too narrow, without rewording it.
type PartKind string

// The parts of the summary, in the order String gives them.
const (
	PartDone     PartKind = "done"
	PartFailed   PartKind = "failed"
	PartInFlight PartKind = "in flight"
	PartWaiting  PartKind = "waiting"
	PartHalted   PartKind = "halted"
	PartSkipped  PartKind = "skipped"
	PartRate     PartKind = "rate"
	// PartETA is the ETA, or why there is none yet.
	PartETA PartKind = "eta"
)

// ProgressPart is one figure of the summary, in String's words.
type ProgressPart struct {
	Kind PartKind
	Text string
}

// Parts are the summary's figures: the done count always, the others when
// they are not zero, then the rate and the ETA while steps are left.
func (f ProgressFigures) Parts() []ProgressPart {
	parts := []ProgressPart{{PartDone, fmt.Sprintf("%d/%d done", f.Done, f.Total)}}
	add := func(kind PartKind, n int, what string) {
		if n > 0 {
			parts = append(parts, ProgressPart{kind, fmt.Sprintf("%d %s", n, what)})
		}
	}
	add(PartFailed, f.Failed, "failed")
	if f.Retrying > 0 {
		add(PartInFlight, f.InFlight, fmt.Sprintf("in flight (%d retrying)", f.Retrying))
	} else {
		add(PartInFlight, f.InFlight, "in flight")
	}
	add(PartWaiting, f.Waiting, "waiting for budget")
	add(PartHalted, f.Halted, "halted")
	add(PartSkipped, f.Skipped, "skipped")
	switch {
	case f.Left() <= 0:
	case f.ETAKnown:
		parts = append(parts, ProgressPart{PartRate, fmt.Sprintf("%.1f/min", f.PerMinute)}, ProgressPart{PartETA, "ETA " + ShortDuration(f.ETA)})
	case f.Stalled:
		parts = append(parts, ProgressPart{PartETA, "nothing finished in " + ShortDuration(rateWindow)})
	default:
		parts = append(parts, ProgressPart{PartETA, "ETA after the first machine"})
	}
	return parts
}

// String is the one-line summary: "12/125 done · 1 failed · 4 in flight ·
// 3 waiting for budget · 6.2/min · ETA 18m".
func (f ProgressFigures) String() string {
	parts := f.Parts()
	texts := make([]string, len(parts))
	for i, p := range parts {
		texts[i] = p.Text
	}
	return strings.Join(texts, " · ")
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
