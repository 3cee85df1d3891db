package ui

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/flyclient/flysim"
	"github.com/flyrescue/flyrescue/model"
)

// openLogs presses l on the table and waits until every followed machine's
// first page was read.
func (h *harness) openLogs() *logsPane {
	h.t.Helper()
	h.press("l")
	p, ok := h.m.focus.(*logsPane)
	if !ok {
		h.t.Fatalf("l did not open the logs: %s", h.m.status)
	}
	h.waitFor("the first pages of logs", p.primed)
	return p
}

// served is what the simulator's logs API holds for machine id, as
// time+message: lines of other machines were written at other times.
func served(h *harness, id string) map[string]bool {
	out := map[string]bool{}
	for _, l := range h.srv.Sim.Logs(id) {
		out[l.Timestamp.UTC().Format("15:04:05")+" "+strings.Join(strings.Fields(l.Message), " ")] = true
	}
	return out
}

// timeAndMessage reads a drawn line back as time+message.
func timeAndMessage(p *logsPane, l *logLine) string {
	f := strings.Fields(l.text)
	skip := 3 // time, provider, level
	if p.labelW > 0 {
		skip++
	}
	return f[0] + " " + strings.Join(f[skip:], " ")
}

// logRegion is the log lines as the screen shows them, between the pane's
// title and its status line.
func (h *harness) logRegion() []string {
	_, height := h.m.bodySize()
	lines := strings.Split(h.screen(), "\n")
	return lines[2 : 2+logRows(height)]
}

func (h *harness) screenHas(s string) func() bool {
	return func() bool { return strings.Contains(h.screen(), s) }
}

// l on a machine shows the lines the logs API served for it, and none of
// another machine's; as the machine changes, its new lines appear.
func TestLogsPaneShowsTheMachinesLinesAndFollows(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "healthy", machines: 12})
	id := startedMachine(t, h)
	h.cursorTo(id)
	p := h.openLogs()
	own := served(h, id)
	if len(p.lines) == 0 || len(p.lines) != min(len(own), logsFullPage) {
		t.Fatalf("%d lines shown, the API holds %d for %s", len(p.lines), len(own), id)
	}
	for i := range p.lines {
		if l := timeAndMessage(p, &p.lines[i]); !own[l] {
			t.Fatalf("a line that is not %s's: %q", id, l)
		}
	}
	last := p.lines[len(p.lines)-1].text
	if s := h.screen(); !strings.Contains(s, last[:min(len(last), 60)]) || !strings.Contains(s, "following") || !strings.Contains(s, id) {
		t.Fatalf("the screen lacks the newest line %q or the state:\n%s", last, s)
	}
	h.stopOutside(id)
	h.waitFor("the stop's lines", h.screenHas("Main child exited normally with code: 0"))
	if s := h.screen(); !strings.Contains(s, "Sending signal SIGINT") {
		t.Fatalf("the stop's first line is missing:\n%s", s)
	}
	own = served(h, id)
	for i := range p.lines {
		if l := timeAndMessage(p, &p.lines[i]); !own[l] {
			t.Fatalf("after following, a line that is not %s's: %q", id, l)
		}
	}
	h.press("esc")
	if h.m.focus != nil || p.ctx.Err() == nil {
		t.Fatal("esc did not close the logs and end their reads")
	}
}

// Paused, new lines are counted and the view stays; following again shows
// them. Search narrows to matching lines; esc clears it, then closes.
func TestLogsPanePauseSearchScroll(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "healthy", machines: 12})
	id := startedMachine(t, h)
	h.cursorTo(id)
	p := h.openLogs()
	// A short screen, so that the lines read fill it and new ones would
	// have to scroll in.
	h.dispatch(tea.WindowSizeMsg{Width: 120, Height: 15})
	if _, height := h.m.bodySize(); len(p.lines) <= logRows(height) {
		t.Fatalf("%d lines fit in %d rows", len(p.lines), logRows(height))
	}
	h.press("p")
	before := h.logRegion()
	h.stopOutside(id)
	h.waitFor("new lines while paused", func() bool {
		return slices.ContainsFunc(p.lines, func(l logLine) bool { return strings.Contains(l.text, "exited normally") })
	})
	s := h.screen()
	if got := h.logRegion(); !slices.Equal(got, before) {
		t.Fatalf("the paused view moved:\n%s\nwas\n%s", s, strings.Join(before, "\n"))
	}
	if p.unseen == 0 || !strings.Contains(s, "paused · "+model.Counted(p.unseen, "new line")) {
		t.Fatalf("no count of new lines (%d unseen):\n%s", p.unseen, s)
	}
	h.press("p")
	if s := h.screen(); !strings.Contains(s, "Main child exited normally") || !strings.Contains(s, "following") {
		t.Fatalf("following again does not show the new lines:\n%s", s)
	}

	h.press("/")
	h.typeText("sigint")
	region := nonEmpty(h.logRegion())
	if len(region) == 0 || len(region) >= len(p.lines) {
		t.Fatalf("the search shows %d of %d lines", len(region), len(p.lines))
	}
	for _, l := range region {
		if !strings.Contains(strings.ToLower(l), "sigint") {
			t.Fatalf("a line without the search: %q", l)
		}
	}
	h.press("enter")
	if s := h.screen(); !strings.Contains(s, "/sigint ") || !strings.Contains(s, "match") {
		t.Fatalf("the status does not say the search:\n%s", s)
	}
	h.press("esc")
	if h.m.focus != p || len(nonEmpty(h.logRegion())) <= len(region) {
		t.Fatal("esc did not clear the search first")
	}

	h.press("home")
	if p.follow || h.logRegion()[0] != p.drawLine(&p.lines[0], h.m.width) {
		t.Fatalf("home does not show the oldest line, paused:\n%s", h.screen())
	}
	h.press("down")
	if h.logRegion()[0] != p.drawLine(&p.lines[1], h.m.width) {
		t.Fatalf("down does not scroll one line:\n%s", h.screen())
	}
	h.press("end")
	if !p.follow || !strings.Contains(h.screen(), "Main child exited normally") {
		t.Fatalf("end does not follow again:\n%s", h.screen())
	}
	h.press("k")
	if p.follow {
		t.Fatal("scrolling back does not pause")
	}
	h.press("esc")
	if h.m.focus != nil {
		t.Fatal("esc did not close the logs")
	}
}

func nonEmpty(lines []string) []string {
	return slices.DeleteFunc(slices.Clone(lines), func(l string) bool { return strings.TrimSpace(l) == "" })
}

// Marked machines' lines are interleaved by time and labelled, each with
// its own machine's lines.
func TestLogsPaneInterleavesMarkedMachines(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "healthy", machines: 12})
	var ids []string
	for _, mv := range h.srv.Sim.Machines() {
		if mv.State == "started" && len(ids) < 2 {
			ids = append(ids, mv.ID)
			h.cursorTo(mv.ID)
			h.press("space")
		}
	}
	p := h.openLogs()
	labels := map[string]string{}
	for _, s := range p.sources {
		labels[s.label] = s.id
	}
	if len(labels) != 2 {
		t.Fatalf("labels %v", labels)
	}
	seen := map[string]int{}
	own := map[string]map[string]bool{ids[0]: served(h, ids[0]), ids[1]: served(h, ids[1])}
	for i := range p.lines {
		l := &p.lines[i]
		if i > 0 && l.key.less(p.lines[i-1].key) {
			t.Fatalf("lines out of time order at %d", i)
		}
		label := strings.Fields(l.text)[1]
		id, ok := labels[label]
		if !ok || !own[id][timeAndMessage(p, l)] {
			t.Fatalf("line %q is labelled %q, not with the machine that wrote it", l.text, label)
		}
		seen[id]++
	}
	if len(seen) != 2 {
		t.Fatalf("lines of %v only", seen)
	}
	s := h.screen()
	for label := range labels {
		if !strings.Contains(s, label) {
			t.Errorf("the screen does not name %s:\n%s", label, s)
		}
	}
	if !strings.Contains(s, "2 machines") {
		t.Errorf("the title does not count the machines:\n%s", s)
	}
}

// A failing logs API shows its error and is retried later and later;
// once it answers again, the pane follows on.
func TestLogsPaneShowsErrorsAndRetries(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "healthy", machines: 12})
	id := startedMachine(t, h)
	h.cursorTo(id)
	p := h.openLogs()
	h.srv.Sim.SetOutage(flysim.OutageReset, 0)
	h.waitFor("two failed reads", func() bool { return p.fails >= 2 })
	if p.retryIn != logsBackoff(p.every, p.fails, false) || p.retryIn <= p.every {
		t.Fatalf("retry in %s after %d failures at a pace of %s", p.retryIn, p.fails, p.every)
	}
	if s := h.screen(); !strings.Contains(s, "✗ failed") || !strings.Contains(s, "retrying in") {
		t.Fatalf("the error is not shown:\n%s", s)
	}
	h.srv.Sim.SetOutage(flysim.OutageNone, 0)
	h.stopOutside(id)
	h.waitFor("the logs after the outage", h.screenHas("Main child exited normally"))
	if p.err != nil || p.fails != 0 || strings.Contains(h.screen(), "✗") {
		t.Fatalf("the error stays after a read succeeded: %v", p.err)
	}
}

func TestLogsBackoff(t *testing.T) {
	every := time.Second
	var prev time.Duration
	for fails := 1; fails < 10; fails++ {
		d := logsBackoff(every, fails, false)
		if d < prev || d > logsMaxBackoff {
			t.Fatalf("fails %d: %s after %s", fails, d, prev)
		}
		prev = d
	}
	if prev != logsMaxBackoff || logsBackoff(every, 1, false) != 2*every {
		t.Fatalf("backoff ends at %s, starts at %s", prev, logsBackoff(every, 1, false))
	}
	if d := logsBackoff(every, 1, true); d != logsRateLimitTicks*every {
		t.Fatalf("a 429 waits %s", d)
	}
}

// The table's logs key and the pane's keys can be rebound, and the help
// lists them.
func TestLogsKeysRebound(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "healthy", machines: 12, keys: map[string]string{"logs": "V", "logs.pause": "s"}})
	h.cursorTo(startedMachine(t, h))
	h.press("l")
	if h.m.focus != nil {
		t.Fatal("l still opens the logs")
	}
	h.press("V")
	p, ok := h.m.focus.(*logsPane)
	if !ok {
		t.Fatalf("V did not open the logs: %s", h.m.status)
	}
	h.press("p")
	if !p.follow {
		t.Fatal("p still pauses")
	}
	h.press("s")
	if p.follow || !strings.Contains(h.screen(), "s follow") {
		t.Fatalf("s did not pause, or the pane does not name it:\n%s", h.screen())
	}
	h.press("V") // the pane's close follows the table's logs key
	if h.m.focus != nil {
		t.Fatal("V did not close the logs")
	}
	h.dispatch(tea.WindowSizeMsg{Width: 160, Height: 60}) // the panes' keys follow the notes
	h.press("?")
	s := h.screen()
	for _, want := range []string{"V       machine logs", "s pause / follow", "/ search the lines"} {
		if !strings.Contains(s, want) {
			t.Errorf("the help lacks %q:\n%s", want, s)
		}
	}
	names := " " + strings.Join(BindingNames(), " ") + " "
	for _, want := range []string{" logs ", " logs.pause ", " logs.search ", " logs.close "} {
		if !strings.Contains(names, want) {
			t.Errorf("BindingNames lacks%s", want)
		}
	}
}

// The buffer keeps the newest maxLogLines lines and says how many went;
// the cap on followed machines is said too. No network: pages are fed
// as the reads would deliver them.
func TestLogsPaneBoundedAndCapped(t *testing.T) {
	m := fixedModel(t, 50, 80, 24)
	for i := range 12 {
		m.marks.Add(m.snap.Machines[i].ID)
	}
	m.Update(keyPress("l"))
	p, ok := m.focus.(*logsPane)
	if !ok {
		t.Fatalf("l did not open the logs: %s", m.status)
	}
	if len(p.sources) != maxLogSources || p.notFollowed != 12-maxLogSources {
		t.Fatalf("%d followed, %d not", len(p.sources), p.notFollowed)
	}
	feedLines(m, p, maxLogLines+1234)
	if len(p.lines) != maxLogLines || p.trimmed != 1234 {
		t.Fatalf("%d lines kept, %d trimmed", len(p.lines), p.trimmed)
	}
	if s := m.render(); !strings.Contains(s, "1234 older dropped") || !strings.Contains(s, "8 of 12 marked followed") {
		t.Fatalf("the pane does not say what it dropped or skipped:\n%s", s)
	}
	checkScreenFits(t, m)
}

// feedLines delivers n lines, a page at a time, round the followed
// machines, as the reads would.
func feedLines(m *Model, p *logsPane, n int) {
	at := time.Date(2025, 6, 2, 14, 0, 0, 0, time.UTC)
	for sent := 0; sent < n; {
		src := p.next
		page := syntheticPage(p.sources[src].id, at, min(logsFullPage, n-sent))
		sent += len(page.Entries)
		at = at.Add(time.Duration(len(page.Entries)) * time.Millisecond)
		m.Update(logsPageMsg{gen: p.gen, src: src, page: page})
	}
}

func checkScreenFits(t *testing.T, m *Model) {
	t.Helper()
	lines := strings.Split(m.render(), "\n")
	if len(lines) != m.height {
		t.Errorf("%d lines, want %d", len(lines), m.height)
	}
	for i, l := range lines {
		if w := textWidth(l); w > m.width {
			t.Errorf("line %d is %d wide: %q", i, w, l)
		}
	}
}

// The pane's view changes nothing, however it was scrolled.
func TestLogsViewChangesNothing(t *testing.T) {
	m := fixedModel(t, 50, 80, 24)
	m.Update(keyPress("down"))
	m.Update(keyPress("down"))
	m.Update(keyPress("l"))
	p := m.focus.(*logsPane)
	feedLines(m, p, 300)
	for _, k := range []string{"k", "k", "/", "e", "enter"} {
		m.Update(keyPress(k))
	}
	m.Update(tea.WindowSizeMsg{Width: 60, Height: 15})
	m.height = 40 // grown without telling the pane
	before := *p
	first, second := m.View().Content, m.View().Content
	after := *p
	before.cancel, after.cancel = nil, nil
	if first != second || !reflect.DeepEqual(before, after) {
		t.Fatal("View changed the logs pane")
	}
}

// syntheticPage is n lines of machine id from at on, a millisecond apart,
// every third an error.
func syntheticPage(id string, at time.Time, n int) *flyclient.LogPage {
	page := &flyclient.LogPage{NextToken: fmt.Sprint(at.UnixNano())}
	for i := range n {
		lvl := "info"
		if i%3 == 0 {
			lvl = "error"
		}
		page.Entries = append(page.Entries, flyclient.LogEntry{Time: at.Add(time.Duration(i) * time.Millisecond), Instance: id,
			Region: "iad", Level: lvl, Provider: "app", Message: fmt.Sprintf("job %d of %s finished in 0.41 sec", i, id)})
	}
	return page
}

// A machine's output cannot repaint the screen, and a line the API sent
// for another machine than asked is not shown as this one's.
func TestLogsPaneCleansAndChecksLines(t *testing.T) {
	m := fixedModel(t, 50, 80, 24)
	for _, ok := m.cursorMachine(); !ok; _, ok = m.cursorMachine() {
		m.Update(keyPress("down"))
	}
	m.Update(keyPress("l"))
	p := m.focus.(*logsPane)
	page := syntheticPage(p.sources[0].id, model.SyntheticNow, 3)
	page.Entries[0].Message = "\x1b[31mred\x1b[0m\tthen\r\x07 done"
	page.Entries[1].Instance = "another0000000"
	m.Update(logsPageMsg{gen: p.gen, src: 0, page: page})
	if len(p.lines) != 2 || !strings.HasSuffix(p.lines[0].text, " red then done") {
		t.Fatalf("lines %q", []string{p.lines[0].text, p.lines[len(p.lines)-1].text})
	}
	stale := syntheticPage(p.sources[0].id, model.SyntheticNow, 5)
	m.Update(logsPageMsg{gen: p.gen - 1, src: 0, page: stale})
	if len(p.lines) != 2 {
		t.Fatal("a page of an older logs pane was taken")
	}
}
