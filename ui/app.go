// Package ui is flyrescue's full-screen dashboard: the fleet grouped by
// image and state, the runbook's verdict, and actions planned, confirmed and
// followed live. It only turns state into pictures and keys into messages:
// the network is behind FleetAPI and the recovery engine, always in Cmds.
package ui

import (
	"os"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/flyrescue/flyrescue/model"
)

// Model is the dashboard. Data (the snapshot), view (rows and visible as
// indices) and marks (IDs) are kept apart so each can change alone.
type Model struct {
	*shared // options, keys, theme: what the panes read too
	help    help.Model
	width   int
	height  int

	// focus is the open pane, which gets the keys; nil: the table has
	// them, or the filter line while typingFilter.
	focus        pane
	typingFilter bool

	// data
	snap     *model.Snapshot
	releases []model.Release
	leases   map[string]model.Lease // as last looked up (every leasesEvery polls)
	class    model.Classification
	// incident is the fleet judged against the baseline and the intent;
	// firstSeen are the first poll's counts, the baseline without a journal.
	incident        model.Incident
	firstSeen       map[string]int
	firstSeenRegion map[string]map[string]int
	pollGen         int
	pollCount       int
	polling         bool
	lastPoll        time.Time
	pollTook        time.Duration
	pollErr         error
	pollErrAt       time.Time
	changed         map[string]time.Time // machine ID -> highlight until

	// view
	filterInput lineInput
	filter      *model.Filter
	filterErr   error // the query is invalid: nothing matches, no action runs
	// filterTyping: the word being typed does not parse yet, but could;
	// the words before it apply (see handleFilterKey).
	filterTyping error
	match        []bool
	visible      []int
	rows         []tableRow
	rowsSnap     *model.Snapshot
	collapsed    map[string]bool
	cursor       int
	offset       int
	// sort orders the machines within each group; the sorted rows are
	// cached per poll and order.
	sort tableSort
	// pinMask marks the machines in flight the filter would hide (by
	// index, for rowsSnap); pinnedShown counts them.
	pinMask     []bool
	pinnedShown int

	// marks
	marks *model.Selection

	// actions
	planSeq  int
	planning bool
	runSeq   int
	run      *runState
	failures []failure
	quitting bool

	// journal is the journal pane, kept while closed: a finished action
	// reloads it, and it reopens where the operator left it.
	journal *journalPane
	// notice names the journal's interrupted action in the header.
	notice unfinishedNotice

	status    string
	pollFails int // polls failed in a row: the poll interval backs off

	// shortHelp is the footer's key line as last fitted.
	shortHelp shortHelpCache
}

// New builds the dashboard.
func New(opts Options) *Model {
	opts = opts.withDefaults()
	m := &Model{
		shared:    &shared{opts: opts, keys: opts.keyMap()},
		help:      help.New(),
		width:     80,
		height:    24,
		changed:   make(map[string]time.Time),
		collapsed: make(map[string]bool),
		marks:     model.NewSelection(),
	}
	m.journal = newJournalPane(m.shared, m)
	if opts.ReadOnly {
		m.keys.SetReadOnly("read-only")
	}
	m.setTheme(opts.Theme != "light")
	return m
}

// setTheme builds styles for the terminal background.
func (m *Model) setTheme(dark bool) {
	m.theme = NewTheme(dark, m.opts.NoColor)
	m.glyphs = newGlyphs(m.opts.NoColor)
	m.help.Styles = help.DefaultStyles(dark)
}

// NoColorFromEnv reports whether NO_COLOR asks for plain output.
func NoColorFromEnv() bool { return os.Getenv("NO_COLOR") != "" }

// Init polls at once, asks the terminal for its background and starts the
// clock. It cannot keep state (Bubble Tea v2), so the poll generation was
// set up in New.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{tea.RequestBackgroundColor, clockTick()}
	if !m.opts.NoPoll {
		cmds = append(cmds, m.pollCmd())
	}
	return tea.Batch(cmds...)
}

func clockTick() tea.Cmd {
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return clockMsg{} })
}

func (m *Model) now() time.Time { return m.opts.Now() }

// Update routes messages. Results of I/O arrive as typed messages; keys go
// to the active mode.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.SetWidth(msg.Width)
		m.ensureVisible()
		if m.focus != nil {
			return m, m.updatePane(msg)
		}
		return m, nil
	case tea.BackgroundColorMsg:
		if m.opts.Theme == "dark" || m.opts.Theme == "light" {
			return m, nil // the operator chose; the terminal's answer does not override it
		}
		m.setTheme(msg.IsDark())
		return m, nil
	case pollResultMsg:
		if msg.gen != m.pollGen {
			return m, nil // a newer poll superseded this one
		}
		m.applyPoll(msg)
		return m, m.nextPoll()
	case pollTickMsg:
		if msg.gen != m.pollGen {
			return m, nil
		}
		return m, m.pollNow()
	case clockMsg:
		now := m.now()
		for id, until := range m.changed {
			if !until.After(now) {
				delete(m.changed, id)
			}
		}
		return m, clockTick()
	case spinMsg:
		m.spin++
		if m.running() {
			return m, spinTick()
		}
		return m, nil
	case planMsg:
		m.receivePlan(msg)
		return m, nil
	case runEventsMsg:
		return m, m.applyEvents(msg)
	case runDoneMsg:
		return m, m.finishRun(msg)
	case quitDeadlineMsg:
		return m, tea.Quit
	case journalMsg:
		m.journal.receive(msg)
		return m, nil
	case tea.KeyPressMsg:
		return m, m.handleKey(msg)
	}
	if m.focus != nil {
		// A message of the pane's own (a machine's detail fetched).
		return m, m.updatePane(msg)
	}
	return m, nil
}

// handleKey sends the key to what has the focus: a pane, the filter line,
// else the table.
func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case m.tooSmall():
		return m.tooSmallKey(msg)
	case m.focus != nil:
		return m.updatePane(msg)
	case m.typingFilter:
		return m.handleFilterKey(msg)
	case key.Matches(msg, m.keys.Logs):
		return m.openLogs()
	case m.handleSortKey(msg):
		return nil
	}
	return m.handleNormalKey(msg)
}

// View draws the screen: header, then the table or the pane of the mode,
// then the footer. Only the visible table rows are rendered.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "flyrescue " + m.opts.App
	return v
}

func (m *Model) render() string {
	if m.tooSmall() {
		return m.tooSmallScreen()
	}
	w := m.width
	var b strings.Builder
	head := m.headerLines(w)
	if m.compactHeader() {
		// Panes take the screen; the first header line keeps the context
		// (app, data age) in view.
		head = head[:1]
	}
	foot := m.footerLines(w)
	for _, l := range head {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	body := m.height - len(head) - len(foot)
	switch {
	case m.focus == nil:
		m.renderTable(&b, w, body)
	case m.focus.fullScreen():
		b.WriteString(fill(m.focus.view(w, body), body))
	default:
		b.WriteString(place(w, body, m.fitDialog(m.focus.view(w, body), body)))
	}
	if len(foot) == 0 {
		return strings.TrimSuffix(b.String(), "\n")
	}
	b.WriteString(strings.Join(foot, "\n"))
	return b.String()
}

// paneFullScreen reports whether a full-screen pane is open.
func (m *Model) paneFullScreen() bool { return m.focus != nil && m.focus.fullScreen() }

// bodySize is the size render gives the focused pane.
func (m *Model) bodySize() (width, height int) {
	head := m.headerHeight()
	if m.compactHeader() {
		head = 1
	}
	return m.width, m.height - head - len(m.footerLines(m.width))
}

// tableHeight is the rows of machines the table can show.
func (m *Model) tableHeight() int {
	return m.height - m.headerHeight() - len(m.footerLines(m.width)) - 1
}

// footerLines: the filter, progress and failures, the status, and the
// short help.
func (m *Model) footerLines(width int) []string {
	var out []string
	if l := m.filterLine(width); l != "" {
		out = append(out, l)
		out = append(out, m.filterErrLines(width)...)
	}
	out = append(out, m.progressLines(width, 3)...)
	status := m.status
	if m.planning {
		status = m.spinnerGlyph() + " " + status
	}
	if status == "" && m.opts.JournalNote != "" {
		status = m.theme.Muted.Render(m.opts.JournalNote)
	}
	if status != "" {
		out = append(out, truncate(" "+status, width))
	}
	if !m.paneFullScreen() {
		out = append(out, m.shortHelpLine(width))
	}
	return out
}

// place centres a dialog in a body of height h.
func place(w, h int, dialog string) string {
	if h <= 0 {
		return ""
	}
	return lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, dialog) + "\n"
}

// fill pads or cuts a pane to exactly h lines.
func fill(s string, h int) string {
	if h <= 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n") + "\n"
}
