package ui

import (
	"context"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

// pane is a part of the screen that takes the keys while it is open: the
// machine detail, the journal, the help, a form, a dialog. The dashboard
// sends the focused pane its keys and draws it at the size it has, as
// soft-serve's common.Component does: sizes passed down, one shared set of
// options, styles and keys.
type pane interface {
	// update takes a key, a resize, or a message meant for the pane.
	// width and height are the body it is drawn in now, so scrolling is
	// clamped here and never while drawing. It returns the command to run
	// and whether the pane stays open.
	update(msg tea.Msg, width, height int) (tea.Cmd, bool)
	// view draws the pane at that size and changes nothing.
	view(width, height int) string
	// keyHelp is the pane's keys, as the help screen lists them.
	keyHelp() []key.Binding
	// fullScreen panes take the body, leaving one header line of context
	// and no short help; the others are dialogs centred over it.
	fullScreen() bool
}

// shared is what the dashboard and every pane read: the options, the keys,
// the theme. One pointer, so a theme that changes reaches every pane.
type shared struct {
	opts   Options
	keys   KeyMap
	theme  Theme
	glyphs glyphs
	spin   int // the spinner's frame
}

// baseCtx is the context every command derives from (Options.Context).
func (s *shared) baseCtx() context.Context { return s.opts.Context }

var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func (s *shared) spinnerGlyph() string {
	if s.theme.NoColor {
		return string(`|/-\`[s.spin%4])
	}
	return spinnerFrames[s.spin%len(spinnerFrames)]
}

// paneBase is what every pane embeds: the shared options and keys, which
// of the KeyMap's pane groups holds its keys, and whether it takes the body.
type paneBase struct {
	*shared
	keysOf string // the settings prefix of its keys: "detail"
	full   bool
}

func (b paneBase) fullScreen() bool { return b.full }

func (b paneBase) keyHelp() []key.Binding { return b.keys.paneGroup(b.keysOf).bindings() }

// host is what a pane may ask of the dashboard: panes keep their own
// state; the fleet, the marks, plans and the running action stay with the
// dashboard (*Model).
type host interface {
	setStatus(string)
	// fleet is the last poll: nil before the first.
	fleet() (*model.Snapshot, *model.Incident)
	// marked is the marked machines and how many of them the filter hides.
	marked() (ids []string, hidden int)
	running() bool
	// runProgress is the running action's figures (or the last one's,
	// until dismissed), as the footer shows them.
	runProgress() (runSummary, bool)
	requestPlan(planRequest) tea.Cmd
	runPlan(*recovery.Plan) tea.Cmd
	cancelAndQuit() tea.Cmd
	// open gives a pane the keys (a pane returning to the one it was
	// opened from); openHandoff opens the hand-off pane over a plan.
	open(pane)
	openHandoff(back pane, p *pendingPlan) tea.Cmd
}

// open gives p the keys. Opening a pane ends typing in the filter, as the
// plan dialog always did when it opened over it.
func (m *Model) open(p pane) {
	m.focus = p
	m.typingFilter = false
}

// updatePane sends msg to the focused pane at its size, and drops the focus
// when the pane closes.
func (m *Model) updatePane(msg tea.Msg) tea.Cmd {
	p := m.focus
	w, h := m.bodySize()
	cmd, open := p.update(msg, w, h)
	if !open && m.focus == p {
		m.focus = nil
	}
	return cmd
}

// clampScroll keeps a scroll offset inside content of total lines shown in
// height lines, the last of which is the pane's own footer.
func clampScroll(scroll, total, height int) int {
	return max(0, min(scroll, total-height+1))
}

func (m *Model) setStatus(s string) { m.status = s }

func (m *Model) fleet() (*model.Snapshot, *model.Incident) {
	if m.snap == nil {
		return nil, nil
	}
	return m.snap, &m.incident
}

func (m *Model) marked() ([]string, int) {
	if m.marks.Len() == 0 {
		return nil, 0
	}
	return m.marks.IDs(), m.marks.Hidden(m.visible, m.snap)
}
