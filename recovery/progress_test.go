package recovery

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestProgressRateAndETAFromObservedFinishes(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	plan := &Plan{}
	for i := 1; i <= 10; i++ {
		plan.Steps = append(plan.Steps, Step{Seq: i, MachineID: "m" + string(rune('0'+i%10)), Op: OpUpdate})
	}
	p := NewProgress(plan, t0)
	f := p.Figures(t0.Add(10 * time.Second))
	if f.ETAKnown || f.Queued != 10 || f.Total != 10 {
		t.Fatalf("before any finish: %+v", f)
	}
	// Two steps finish in the first minute, one fails; one is in flight,
	// two wait for budget.
	p.Observe(Event{Seq: 1, MachineID: "m1", Phase: PhaseActing, At: t0.Add(5 * time.Second)})
	p.Observe(Event{Seq: 1, MachineID: "m1", Phase: PhaseDone, At: t0.Add(20 * time.Second)})
	p.Observe(Event{Seq: 2, MachineID: "m2", Phase: PhaseDone, At: t0.Add(40 * time.Second)})
	p.Observe(Event{Seq: 3, MachineID: "m3", Phase: PhaseFailed, At: t0.Add(50 * time.Second)})
	p.Observe(Event{Seq: 4, MachineID: "m4", Phase: PhaseVerifying, At: t0.Add(55 * time.Second)})
	p.Observe(Event{Seq: 5, MachineID: "m5", Phase: PhaseQueued, Reason: "waiting for room in web", At: t0.Add(55 * time.Second)})
	p.Observe(Event{Seq: 6, MachineID: "m6", Phase: PhaseQueued, Reason: "waiting for room in web", At: t0.Add(55 * time.Second)})
	// A repeated final event (a late duplicate) counts once.
	p.Observe(Event{Seq: 2, MachineID: "m2", Phase: PhaseDone, At: t0.Add(41 * time.Second)})
	p.Observe(Event{ActionID: "a", Phase: PhaseDone, At: t0.Add(59 * time.Second)}) // action-level: ignored

	f = p.Figures(t0.Add(time.Minute))
	want := ProgressFigures{Total: 10, Done: 2, Failed: 1, InFlight: 1, Waiting: 2, Queued: 4, PerMinute: 3, ETA: 140 * time.Second, ETAKnown: true}
	if f != want {
		t.Fatalf("figures = %+v\nwant      %+v", f, want)
	}
	if got := f.String(); got != "2/10 done · 1 failed · 1 in flight · 2 waiting for budget · 3.0/min · ETA 2m" {
		t.Errorf("line = %q", got)
	}
	if got := p.InFlight(); !slices.Equal(got, []string{"m4"}) {
		t.Errorf("in flight = %v", got)
	}
	// Ten minutes later with nothing new: the window holds no finish, so
	// the rate is unknown rather than a stale promise.
	if f := p.Figures(t0.Add(10 * time.Minute)); f.ETAKnown || f.PerMinute != 0 || !f.Stalled {
		t.Errorf("stalled run still promises an ETA: %+v", f)
	} else if !strings.Contains(f.String(), "nothing finished in 2m") {
		t.Errorf("stalled line = %q", f.String())
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		45 * time.Second: "45s", 18*time.Minute + 20*time.Second: "18m", 65 * time.Minute: "1h05m",
	} {
		if got := ShortDuration(d); got != want {
			t.Errorf("ShortDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// The counts are kept as events arrive; they must stay what a recount of
// the steps gives, through retries, a step the plan did not list (a
// launch's new machine), a late duplicate and a halt.
func TestProgressCountsFollowEveryPhase(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	plan := &Plan{Steps: []Step{{Seq: 1, MachineID: "a"}, {Seq: 2, MachineID: "b"}, {Seq: 3, MachineID: "c"}, {Seq: 4, MachineID: "d"}}}
	p := NewProgress(plan, t0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	for _, ev := range []Event{
		{Seq: 1, MachineID: "a", Phase: PhaseLeasing, At: at(1)},
		{Seq: 1, MachineID: "a", Phase: PhaseRetrying, Reason: "503", At: at(2)},
		{Seq: 2, MachineID: "b", Phase: PhaseQueued, Reason: "waiting for room in web", At: at(2)},
		{Seq: 2, MachineID: "b", Phase: PhaseQueued, Reason: "waiting for room in web", At: at(3)},
		{Seq: 5, NewMachineID: "e", Phase: PhaseActing, At: at(3)},
		{Seq: 3, MachineID: "c", Phase: PhaseHalted, At: at(4)},
	} {
		p.Observe(ev)
	}
	f := p.Figures(at(5))
	want := ProgressFigures{Total: 5, InFlight: 2, Retrying: 1, Waiting: 1, Queued: 1, Halted: 1}
	if f != want {
		t.Fatalf("figures = %+v\nwant      %+v", f, want)
	}
	if got := f.String(); got != "0/5 done · 2 in flight (1 retrying) · 1 waiting for budget · 1 halted · ETA after the first machine" {
		t.Errorf("line = %q", got)
	}
	if got := p.InFlight(); !slices.Equal(got, []string{"a", "e"}) {
		t.Errorf("in flight = %v, want [a e]", got)
	}
	if got := p.WaitingReason(); got != "waiting for room in web" {
		t.Errorf("waiting reason = %q", got)
	}
	for _, ev := range []Event{
		{Seq: 1, MachineID: "a", Phase: PhaseDone, At: at(30)},
		{Seq: 2, MachineID: "b", Phase: PhaseSkipped, Reason: "gone", At: at(31)},
		{Seq: 4, MachineID: "d", Phase: PhaseFailed, At: at(40)},
		{Seq: 5, NewMachineID: "e", Phase: PhaseDone, At: at(60)},
		{Seq: 5, NewMachineID: "e", Phase: PhaseDone, At: at(61)},
	} {
		p.Observe(ev)
	}
	f = p.Figures(at(60))
	if f.Done != 2 || f.Failed != 1 || f.Skipped != 1 || f.Halted != 1 || f.InFlight != 0 || f.Queued != 0 || f.Waiting != 0 || f.Left() != 0 {
		t.Fatalf("after the end: %+v", f)
	}
	// Three steps ran to an end in the minute: the rate says so, and with
	// nothing left there is no ETA to give.
	if f.PerMinute != 3 {
		t.Errorf("rate = %v, want 3/min", f.PerMinute)
	}
	if got := f.String(); got != "2/5 done · 1 failed · 1 halted · 1 skipped" {
		t.Errorf("finished line = %q", got)
	}
}
