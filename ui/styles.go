package ui

import (
	"image/color"
	"strings"
	"sync"

	"charm.land/lipgloss/v2"

	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

// Theme holds every style the dashboard uses, built once from semantic
// colours (ok, warn, bad, muted, accent) for a dark or light background.
// With NoColor every style is plain and meaning is carried by words and
// markers alone.
type Theme struct {
	NoColor bool
	Dark    bool

	Title, Muted, Accent, OK, Warn, Bad, Info, Bold lipgloss.Style

	ColumnHeader, ImageHeader, StateHeader lipgloss.Style
	Cursor, Changed, Marked                lipgloss.Style

	BarDone, BarTodo lipgloss.Style

	Dialog, DialogTitle, Key lipgloss.Style

	inks *inks
}

// NewTheme builds the styles for a background.
func NewTheme(dark, noColor bool) Theme {
	if noColor {
		plain := lipgloss.NewStyle()
		return Theme{
			NoColor: true, Dark: dark, inks: &inks{m: map[string]ink{}},
			Title: plain, Muted: plain, Accent: plain, OK: plain, Warn: plain, Bad: plain, Info: plain, Bold: plain,
			ColumnHeader: plain, ImageHeader: plain, StateHeader: plain,
			Cursor: plain, Changed: plain, Marked: plain,
			BarDone: plain, BarTodo: plain,
			Dialog:      lipgloss.NewStyle().Border(lipgloss.NormalBorder()).Padding(0, 1),
			DialogTitle: plain, Key: plain,
		}
	}
	ld := lipgloss.LightDark(dark)
	c := func(light, darkHex string) color.Color { return ld(lipgloss.Color(light), lipgloss.Color(darkHex)) }
	var (
		ok     = c("#1a7f37", "#3fb950")
		warn   = c("#9a6700", "#d29922")
		bad    = c("#cf222e", "#f85149")
		muted  = c("#6e7781", "#8b949e")
		accent = c("#6639ba", "#bc8cff")
		info   = c("#0969da", "#58a6ff")
		subtle = c("#eaeef2", "#21262d")
		cursor = c("#ddf4ff", "#1f3a5f")
		fg     = c("#1f2328", "#e6edf3")
	)
	s := lipgloss.NewStyle
	return Theme{
		Dark:         dark,
		inks:         &inks{m: map[string]ink{}},
		Title:        s().Bold(true).Foreground(accent),
		Muted:        s().Foreground(muted),
		Accent:       s().Foreground(accent),
		OK:           s().Foreground(ok),
		Warn:         s().Foreground(warn),
		Bad:          s().Foreground(bad).Bold(true),
		Info:         s().Foreground(info),
		Bold:         s().Bold(true),
		ColumnHeader: s().Bold(true).Foreground(muted),
		ImageHeader:  s().Bold(true).Foreground(fg).Background(subtle),
		StateHeader:  s().Bold(true),
		Cursor:       s().Background(cursor).Foreground(fg).Bold(true),
		Changed:      s().Foreground(info).Bold(true),
		Marked:       s().Foreground(accent).Bold(true),
		BarDone:      s().Foreground(ok),
		BarTodo:      s().Foreground(muted),
		Dialog:       s().Border(lipgloss.RoundedBorder()).BorderForeground(accent).Padding(0, 1),
		DialogTitle:  s().Bold(true).Foreground(accent),
		Key:          s().Bold(true).Foreground(info),
	}
}

// State colours a machine state by urgency.
func (t Theme) State(state string) lipgloss.Style {
	switch state {
	case model.StateFailed, model.StateStuck:
		return t.Bad
	case model.StateStarted:
		return t.OK
	case model.StateStopped, model.StateSuspended, model.StateDestroyed:
		return t.Muted
	case model.StateReplacing, model.StateUpdating, model.StateCreated, model.StateStarting,
		model.StateRestarting, model.StateStopping, model.StateDestroying, model.StateSuspending:
		return t.Warn
	}
	return t.Info
}

// Checks colours a check status.
func (t Theme) Checks(status string) lipgloss.Style {
	switch status {
	case model.ChecksCritical:
		return t.Bad
	case model.ChecksWarning:
		return t.Warn
	case model.ChecksPassing:
		return t.OK
	}
	return t.Muted
}

// Case colours the runbook banner by how bad the situation is.
func (t Theme) Case(c model.DeployCase) lipgloss.Style {
	switch c {
	case model.CaseComplete:
		return t.OK.Bold(true)
	case model.CaseTotalFailure:
		return t.Bad
	case model.CaseMinorityUpdated, model.CaseMajorityUpdated:
		return t.Warn.Bold(true)
	}
	return t.Muted
}

// Step colours a machine's progress in the running action.
func (t Theme) Step(p recovery.Phase) lipgloss.Style {
	switch p {
	case recovery.PhaseDone:
		return t.OK
	case recovery.PhaseFailed, recovery.PhaseInterrupted, recovery.PhaseHalted:
		return t.Bad
	case recovery.PhaseRetrying:
		return t.Warn
	case recovery.PhaseQueued, recovery.PhaseSkipped:
		return t.Muted
	}
	return t.Info
}

// ink is a style reduced to its escape codes. lipgloss's Render measures,
// wraps and pads on every call; table cells need none of that, and painting
// a cell with a cached prefix and suffix keeps a 10,000-machine frame
// within budget.
type ink struct{ pre, post string }

func newInk(s lipgloss.Style) ink {
	r := s.Render("X")
	i := strings.IndexByte(r, 'X')
	if i < 0 {
		return ink{}
	}
	return ink{pre: r[:i], post: r[i+1:]}
}

func (k ink) paint(s string) string {
	if k.pre == "" {
		return s
	}
	return k.pre + s + k.post
}

// inks caches the cell inks of a theme, keyed by the style's purpose.
type inks struct {
	mu sync.Mutex
	m  map[string]ink
}

// cellInk returns the cached ink for key, building it from style once.
func (t Theme) cellInk(key string, style func() lipgloss.Style) ink {
	t.inks.mu.Lock()
	defer t.inks.mu.Unlock()
	k, ok := t.inks.m[key]
	if !ok {
		k = newInk(style())
		t.inks.m[key] = k
	}
	return k
}
