package ui

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/flyrescue/flyrescue/flyclient"
)

// The logs pane follows machines' logs as `fly logs -i ID` does: the
// newest page first, then the lines after it by next_token, read one
// request at a time on a tick. The logs API filters by one instance only,
// so marked machines are read in turn (round-robin), at most
// maxLogSources of them, and the pane says when it follows fewer than
// were marked.
const (
	// maxLogLines bounds the buffer: the oldest lines go first, and the
	// pane says how many went.
	maxLogLines = 5000
	// maxLogSources bounds the machines followed at once: each is read
	// every maxLogSources ticks at worst, about 8 s at the default pace.
	maxLogSources = 8
	// logsFullPage is the most lines the logs API sends in one answer: a
	// full page means more are waiting, so the same machine is read again.
	logsFullPage = 100
	// logsMaxBackoff caps the wait between reads that fail.
	logsMaxBackoff = 30 * time.Second
	// logsRateLimitTicks: after a 429 the next read waits at least this
	// many ticks (10 s at the default pace), whatever the backoff says.
	logsRateLimitTicks = 10
	logsTimeout        = 10 * time.Second
	// maxLabel is the widest machine label, so messages keep the room.
	maxLabel = 14
)

// logsGens numbers logs panes: a result or tick of a closed pane reaching
// a newer one is dropped by its generation.
var logsGens atomic.Int64

// logSource is one followed machine.
type logSource struct {
	id, name, label string
	token           string // next_token of the last page read
	primed          bool   // its first (newest) page was read
}

// logLine is one buffered line. text is the line as drawn, without
// colour, built once when it arrives; lower is it in lower case, for
// search.
type logLine struct {
	key   lineKey
	level string
	text  string
	lower string
}

// lineKey orders lines by time, then by arrival: unique, so the line at the
// top of a paused view can be found again after lines arrive or go.
type lineKey struct {
	at  int64 // unix nanoseconds
	seq uint64
}

func (a lineKey) less(b lineKey) bool { return a.at < b.at || a.at == b.at && a.seq < b.seq }

// logsTickMsg asks pane gen for its next read.
type logsTickMsg struct{ gen int64 }

// logsPageMsg is one read of source src's logs.
type logsPageMsg struct {
	gen  int64
	src  int
	page *flyclient.LogPage
	err  error
}

type logsPane struct {
	paneBase
	// ctx ends when the pane closes, abandoning a read in flight.
	ctx    context.Context
	cancel context.CancelFunc
	gen    int64
	every  time.Duration // the pace of reads

	sources     []logSource
	notFollowed int // marked machines beyond maxLogSources
	next        int // the source read next
	labelW      int // width of the machine label; 0 with one machine

	lines   []logLine // oldest first, at most maxLogLines
	seq     uint64
	trimmed int // lines dropped from the front

	follow bool    // the view shows the newest lines
	anchor lineKey // paused: the line at the top of the view
	unseen int     // lines read while paused

	typing  bool // the search line has the keys
	query   lineInput
	applied string  // the query the shown lines match, lower case
	shown   []int32 // with a query: the lines that match it

	err     error // the last read's, until one succeeds
	fails   int   // reads failed in a row
	retryIn time.Duration
}

// openLogs opens the logs of the marked machines, else of the cursor's.
func (m *Model) openLogs() tea.Cmd {
	ids, _ := m.marked()
	if len(ids) == 0 {
		mc, ok := m.cursorMachine()
		if !ok {
			m.status = "logs: put the cursor on a machine, or mark machines (space)"
			return nil
		}
		ids = []string{mc.ID}
	}
	var sources []logSource
	for _, id := range ids {
		s := logSource{id: id}
		if mc, ok := m.snap.Machine(id); ok { // marks imply a snapshot
			s.name = mc.Name
		}
		sources = append(sources, s)
	}
	p := newLogsPane(m.shared, sources)
	m.open(p)
	return p.read()
}

func newLogsPane(s *shared, sources []logSource) *logsPane {
	ctx, cancel := context.WithCancel(s.baseCtx())
	p := &logsPane{paneBase: paneBase{s, "logs", true}, ctx: ctx, cancel: cancel, gen: logsGens.Add(1),
		follow: true, every: logsEvery(s.opts.Refresh)}
	if len(sources) > maxLogSources {
		p.notFollowed = len(sources) - maxLogSources
		sources = sources[:maxLogSources]
	}
	p.sources = sources
	if len(sources) > 1 {
		for i := range p.sources {
			s := &p.sources[i]
			s.label = s.name
			if s.label == "" {
				s.label = s.id
			}
			if ansi.StringWidth(s.label) > maxLabel {
				// The end tells names apart: cold-frost-6912, cold-frost-0318.
				s.label = "…" + ansi.TruncateLeft(s.label, ansi.StringWidth(s.label)-maxLabel+1, "")
			}
			p.labelW = max(p.labelW, ansi.StringWidth(s.label))
		}
	}
	return p
}

// logsEvery is the pace of log reads: twice the fleet poll's, one read a
// second at the default refresh, as `fly logs` polls about that often.
func logsEvery(refresh time.Duration) time.Duration { return refresh / 2 }

// read asks the logs API for the next page of the source whose turn it
// is, with the pane's context and a timeout.
func (p *logsPane) read() tea.Cmd {
	src := p.next
	s := p.sources[src]
	ctx, api, app, gen := p.ctx, p.opts.API, p.opts.App, p.gen
	opts := flyclient.LogsOptions{Instance: s.id, Token: s.token}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, logsTimeout)
		defer cancel()
		page, err := api.Logs(ctx, app, opts)
		return logsPageMsg{gen: gen, src: src, page: page, err: err}
	}
}

func (p *logsPane) tick(d time.Duration) tea.Cmd {
	gen := p.gen
	return tea.Tick(d, func(time.Time) tea.Msg { return logsTickMsg{gen: gen} })
}

// receive takes one read and says when to read next: at the pace, again
// at once for a machine with more lines waiting, later and later while
// reads fail.
func (p *logsPane) receive(msg logsPageMsg) tea.Cmd {
	if msg.err != nil {
		p.fails++
		p.err = msg.err
		p.retryIn = logsBackoff(p.every, p.fails, errors.Is(msg.err, flyclient.ErrRateLimited))
		return p.tick(p.retryIn) // the same machine again
	}
	p.fails, p.err, p.retryIn = 0, nil, 0
	s := &p.sources[msg.src]
	s.token, s.primed = msg.page.NextToken, true
	p.add(msg.src, msg.page.Entries)
	if len(msg.page.Entries) < logsFullPage {
		p.next = (msg.src + 1) % len(p.sources)
	}
	return p.tick(p.every)
}

// logsBackoff is the wait before retrying after fails reads failed in a
// row: doubling from the pace up to logsMaxBackoff, and after a 429 at
// least logsRateLimitTicks ticks.
func logsBackoff(every time.Duration, fails int, rateLimited bool) time.Duration {
	d := every
	for i := 0; i < fails && d < logsMaxBackoff; i++ {
		d *= 2
	}
	d = min(d, logsMaxBackoff)
	if rateLimited {
		d = max(d, logsRateLimitTicks*every)
	}
	return d
}

// add merges a page of source src's lines into the buffer by time, and
// drops the oldest lines past maxLogLines.
func (p *logsPane) add(src int, entries []flyclient.LogEntry) {
	if len(entries) == 0 {
		return
	}
	last := int64(0)
	if n := len(p.lines); n > 0 {
		last = p.lines[n-1].key.at
	}
	batch := make([]logLine, 0, len(entries))
	id := p.sources[src].id
	for _, e := range entries {
		if e.Instance != "" && e.Instance != id {
			continue // asked for id's lines only: another's would be mislabelled
		}
		at := e.Time.UnixNano()
		if e.Time.IsZero() {
			at = last // no time: it arrived now, after what is shown
		}
		p.seq++
		batch = append(batch, p.line(src, e, lineKey{at, p.seq}))
	}
	if len(batch) == 0 {
		return
	}
	slices.SortStableFunc(batch, func(a, b logLine) int { return compareKeys(a.key, b.key) })
	if n := len(p.lines); n == 0 || !batch[0].key.less(p.lines[n-1].key) {
		p.lines = append(p.lines, batch...)
	} else {
		p.lines = mergeLines(p.lines, batch)
	}
	if !p.follow {
		p.unseen += len(batch)
	}
	if over := len(p.lines) - maxLogLines; over > 0 {
		// The dropped lines' array is let go when append next grows it:
		// the buffer holds at most twice maxLogLines.
		p.lines = p.lines[over:]
		p.trimmed += over
	}
	p.refilter()
}

func compareKeys(a, b lineKey) int {
	switch {
	case a.less(b):
		return -1
	case b.less(a):
		return 1
	}
	return 0
}

// mergeLines merges two runs sorted by key: a machine read late in its
// turn brings lines older than another's already shown.
func mergeLines(a, b []logLine) []logLine {
	out := make([]logLine, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if b[j].key.less(a[i].key) {
			out = append(out, b[j])
			j++
		} else {
			out = append(out, a[i])
			i++
		}
	}
	return append(append(out, a[i:]...), b[j:]...)
}

// line formats an entry as drawn: time (UTC), the machine when several are
// followed, who wrote it, the level, the message. A message is the
// machine's own output: escape sequences and control characters are
// dropped so it cannot repaint the screen.
func (p *logsPane) line(src int, e flyclient.LogEntry, k lineKey) logLine {
	var b strings.Builder
	b.WriteString(" ")
	b.WriteString(time.Unix(0, k.at).UTC().Format("15:04:05"))
	if p.labelW > 0 {
		b.WriteString(" ")
		b.WriteString(padRight(p.sources[src].label, p.labelW))
	}
	b.WriteString(" ")
	b.WriteString(padRight(ansi.Truncate(e.Provider, 6, ""), 6))
	b.WriteString(" ")
	b.WriteString(padRight(ansi.Truncate(e.Level, 5, ""), 5))
	b.WriteString(" ")
	b.WriteString(cleanMessage(e.Message))
	text := b.String()
	return logLine{key: k, level: e.Level, text: text, lower: strings.ToLower(text)}
}

func padRight(s string, w int) string {
	if n := ansi.StringWidth(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}

// cleanMessage strips escape sequences, turns tabs into spaces and drops
// the other control characters.
func cleanMessage(s string) string {
	s = ansi.Strip(s)
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		switch {
		case r == '\t':
			return ' '
		case r < 0x20 || r == 0x7f:
			return -1
		}
		return r
	}, s))
}

// refilter applies the search to the buffer: the lines that contain the
// query, ignoring case.
func (p *logsPane) refilter() {
	p.applied = strings.ToLower(strings.TrimSpace(p.query.value))
	p.shown = p.shown[:0]
	if p.applied == "" {
		return
	}
	for i := range p.lines {
		if strings.Contains(p.lines[i].lower, p.applied) {
			p.shown = append(p.shown, int32(i))
		}
	}
}

// shownLen is the number of lines the view scrolls through.
func (p *logsPane) shownLen() int {
	if p.applied != "" {
		return len(p.shown)
	}
	return len(p.lines)
}

// at is the i-th line the view scrolls through.
func (p *logsPane) at(i int) *logLine {
	if p.applied != "" {
		return &p.lines[p.shown[i]]
	}
	return &p.lines[i]
}
