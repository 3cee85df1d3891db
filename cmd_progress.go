package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"charm.land/bubbles/v2/progress"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/term"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

// progressStyle is how an action shows its run.
type progressStyle int

const (
	// progressPlain: a pipe or CI, read later or by a program that keeps
	// every line: a summary now and then, and the lines worth keeping.
	progressPlain progressStyle = iota
	// progressLive: a terminal: one line redrawn in place, under the lines
	// worth keeping.
	progressLive
	// progressJSON: --json, JSON Lines on stdout and nothing else there.
	progressJSON
)

// outputIsTerminal reports whether the live line can be redrawn on w (the
// command's stdout): tests replace it to see the terminal's output.
var outputIsTerminal = func(w io.Writer) bool {
	f, ok := rawWriter(w).(*os.File)
	return ok && isTerminal(f)
}

// rawWriter is the writer under printableWriter, which escapes every
// control sequence: the live line's carriage return and erase-line must
// reach the terminal as they are. Only text already made printable, and
// those sequences, are written there.
func rawWriter(w io.Writer) io.Writer {
	if p, ok := w.(*printableWriter); ok {
		return p.w
	}
	return w
}

// How often the output changes without being asked. A pipe gets a summary
// at each tenth of the run, and otherwise at most every plainEvery when the
// counts moved, or every plainHeartbeat when nothing did (so a CI log that
// went quiet still says the run is alive and why it is slow).
const (
	plainEvery     = 5 * time.Second
	plainHeartbeat = time.Minute
	liveEvery      = 100 * time.Millisecond // at most this often on events
	liveTick       = 500 * time.Millisecond // redrawn anyway, so rate and ETA move
)

// runReporter shows one run of a plan: it folds the engine's events into
// recovery.Progress, the figures the dashboard shows too, and prints them
// in the style the output calls for. Events arrive on one goroutine and a
// ticker redraws on another, hence the lock.
type runReporter struct {
	mu      sync.Mutex
	style   progressStyle
	out     io.Writer // lines, through printableWriter
	raw     io.Writer // the live line: see rawWriter
	verbose bool      // every step's outcome, as -v prints every step of the plan
	noColor bool
	width   int
	prog    *recovery.Progress
	now     func() time.Time
	bar     progress.Model

	lastSummary time.Time
	lastTenth   int
	lastCounts  [7]int
	drawn       bool // a live line is on screen
	lastDraw    time.Time

	json *jsonStream

	stop, stopped chan struct{}
}

func newRunReporter(out io.Writer, style progressStyle, plan *recovery.Plan, verbose bool) *runReporter {
	now := time.Now
	r := &runReporter{
		style: style, out: out, raw: rawWriter(out), verbose: verbose,
		noColor: os.Getenv("NO_COLOR") != "", width: outputWidth(out),
		prog: recovery.NewProgress(plan, now()), now: now,
		bar: progress.New(progress.WithFillCharacters('█', '░'), progress.WithColors(lipgloss.Color("#3fb950"))),
	}
	r.lastSummary = now()
	if style == progressJSON {
		r.json = newJSONStream(out)
		return r
	}
	r.stop, r.stopped = make(chan struct{}), make(chan struct{})
	go r.tick()
	return r
}

// outputWidth is the terminal's width, or a usual one when it cannot say.
func outputWidth(w io.Writer) int {
	if f, ok := rawWriter(w).(*os.File); ok {
		if width, _, err := term.GetSize(f.Fd()); err == nil && width > 0 {
			return width
		}
	}
	return 100
}

// tick redraws the live line, so its rate and ETA move between events, and
// lets a pipe's summary out when one is due and no event came to print it.
func (r *runReporter) tick() {
	defer close(r.stopped)
	every := plainEvery / 5
	if r.style == progressLive {
		every = liveTick
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			r.mu.Lock()
			r.refresh(true)
			r.mu.Unlock()
		}
	}
}

// Event is the engine's callback.
func (r *runReporter) Event(ev recovery.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if endOfRun(ev) {
		return // Finish says how it ended
	}
	r.prog.Observe(ev)
	if r.json != nil {
		r.json.event(ev, r.prog.Figures(ev.At))
		return
	}
	if line := outcomeLine(ev, r.verbose); line != "" {
		r.clearLive()
		fmt.Fprintln(r.out, line)
	}
	r.refresh(false)
}

// endOfRun: the run's last event, which carries its result or error.
func endOfRun(ev recovery.Event) bool {
	return ev.MachineID == "" && ev.Seq == 0 && ev.Group == "" && (ev.Phase == recovery.PhaseDone || ev.Phase == recovery.PhaseFailed)
}

// refresh redraws the live line, or prints a summary line when one is due;
// ticked says the clock asked, not an event.
func (r *runReporter) refresh(ticked bool) {
	now := r.now()
	fig := r.prog.Figures(now)
	if r.style == progressLive {
		if ticked || now.Sub(r.lastDraw) >= liveEvery {
			r.draw(fig)
			r.lastDraw = now
		}
		return
	}
	if finished(fig) == fig.Total {
		return // the summary Finish prints says it all
	}
	counts := [7]int{fig.Done, fig.Failed, fig.Skipped, fig.Halted, fig.InFlight, fig.Waiting, fig.Queued}
	// Tenths count the steps that ran: a halted group's steps end all at
	// once, and ten lines about that would say nothing the HALTED line did
	// not.
	tenth := (fig.Done + fig.Failed + fig.Skipped) * 10 / max(fig.Total, 1)
	since := now.Sub(r.lastSummary)
	if tenth > r.lastTenth || counts != r.lastCounts && since >= plainEvery || since >= plainHeartbeat {
		fmt.Fprintf(r.out, "progress    %s\n", fig)
		r.lastSummary, r.lastTenth, r.lastCounts = now, tenth, counts
	}
}

func finished(f recovery.ProgressFigures) int { return f.Done + f.Failed + f.Skipped + f.Halted }

// draw puts the live line on the terminal: a bar, then the figures. The
// line never wraps (a wrapped line cannot be redrawn with a carriage
// return): the bar shrinks first, then the figures are cut.
func (r *runReporter) draw(fig recovery.ProgressFigures) {
	text := flyclient.PrintableLine(fig.String())
	room := r.width - 1
	line := text
	if barWidth := min(30, room-ansi.StringWidth(text)-2); barWidth >= 10 {
		r.bar.SetWidth(barWidth)
		bar := r.bar.ViewAs(float64(finished(fig)) / float64(max(fig.Total, 1)))
		if r.noColor {
			bar = ansi.Strip(bar)
		}
		line = bar + "  " + text
	}
	fmt.Fprint(r.raw, "\r"+ansi.EraseLineRight+ansi.Truncate(line, room, "…"))
	r.drawn = true
}

// clearLive takes the live line off the screen so a line can be printed
// in its place; the next refresh draws it again below.
func (r *runReporter) clearLive() {
	if r.drawn {
		fmt.Fprint(r.raw, "\r"+ansi.EraseLineRight)
		r.drawn = false
	}
}

// Finish stops the redraws and says how the run ended: the summary line,
// or the JSON result object.
func (r *runReporter) Finish(p *recovery.Plan, journal string, res *recovery.Result, runErr error) {
	if r.stop != nil {
		close(r.stop)
		<-r.stopped
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.json != nil {
		r.json.result(p, journal, res, runErr, r.prog.Figures(r.now()))
		return
	}
	r.clearLive()
	if res == nil {
		return
	}
	halted := ""
	if res.Halted > 0 {
		halted = fmt.Sprintf(", %d halted", res.Halted)
	}
	fmt.Fprintf(r.out, "%s %s: %d ok, %d failed, %d skipped, %d interrupted%s in %s. Journal: %s (action %s)\n",
		p.Kind, p.App, res.OK, res.Failed, res.Skipped, res.Interrupted, halted, res.Elapsed.Round(time.Millisecond), journal, recovery.DisplayID(p.ID))
	if res.Reconciled > 0 {
		fmt.Fprintf(r.out, "%s of %s %s found done and %s now journaled as done.\n",
			model.Counted(res.Reconciled, "interrupted step"), recovery.DisplayID(p.Resumes), wasWere(res.Reconciled), isAre(res.Reconciled))
	}
}

// outcomeLine is the line a step's event is worth keeping as, or "": a
// failure, an interruption, a skip decided while running (the plan did not
// foresee it), a group halting, a machine retried more than once. A step
// done is in the figures, one line each only with -v.
func outcomeLine(ev recovery.Event, verbose bool) string {
	switch {
	case ev.MachineID == "" && ev.NewMachineID == "" && ev.Seq == 0:
		// The canary notices at the start repeat the plan's notes.
		if ev.Reason != "" && (ev.Phase == recovery.PhaseHalted && ev.Group != "" || ev.Phase == recovery.PhaseQueued && verbose) {
			what := "note"
			if ev.Phase == recovery.PhaseHalted {
				what = "HALTED"
			}
			return fmt.Sprintf("%-11s %s", what, flyclient.PrintableLine(ev.Reason))
		}
		return ""
	case ev.Phase == recovery.PhaseRetrying:
		if ev.Attempt < 2 && !verbose {
			return "" // one transient failure is what retries are for
		}
		return stepLine(ev, fmt.Sprintf(" attempt %d failed, again in %s", ev.Attempt, ev.RetryIn.Round(time.Millisecond)))
	case ev.Phase == recovery.PhaseDone && !verbose, !ev.Phase.Final(), ev.Phase == recovery.PhaseHalted:
		return "" // a halted group's steps are said once, by its HALTED line
	}
	more := ""
	if ev.Attempt > 1 {
		more = fmt.Sprintf(" after %d attempts", ev.Attempt)
	}
	return stepLine(ev, more)
}

// stepLine: "failed      3d8d9e1f2b7689   restart  after 3 attempts  reason".
func stepLine(ev recovery.Event, more string) string {
	id := ev.MachineID
	if ev.NewMachineID != "" && ev.NewMachineID != id {
		id = ev.NewMachineID + " (new)"
	}
	line := fmt.Sprintf("%-11s %-16s %-8s", ev.Phase, id, ev.Op) + more
	if ev.Reason != "" {
		line += "  " + flyclient.PrintableLine(ev.Reason)
	}
	return line
}
