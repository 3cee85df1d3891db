package ui

import (
	"strings"

	"github.com/flyrescue/flyrescue/recovery"
)

// glyphs are the markers that carry meaning without colour. Each has a
// shape of its own: a marked row and a row that just changed sit side by
// side in the gutter and must not both read as a dot.
type glyphs struct {
	cursor, mark, changed, open, closed string
	// sortAsc and sortDesc follow the sort column's title; pin marks a
	// machine in flight shown outside the filter.
	sortAsc, sortDesc, pin string
	// stuck follows the API state of a stuck machine ("replacing!");
	// cordoned follows the state of a machine Fly Proxy routes nothing to,
	// which otherwise looks like any started machine.
	stuck, cordoned string
}

// newGlyphs: NO_COLOR gets plain ASCII markers, which also survive
// terminals and pastes that mangle the rest.
func newGlyphs(plain bool) glyphs {
	if plain {
		return glyphs{cursor: ">", mark: "*", changed: "~", open: "-", closed: "+", sortAsc: "^", sortDesc: "v", pin: "@",
			stuck: "!", cordoned: "(c)"}
	}
	return glyphs{cursor: "▌", mark: "●", changed: "Δ", open: "▾", closed: "▸", sortAsc: "▲", sortDesc: "▼", pin: "◆",
		stuck: "!", cordoned: "⊘"}
}

// stepMark is how the STEP column shows a step that is not moving: a glyph,
// then a word, so it reads without colour; means is the help's gloss.
type stepMark struct{ glyph, word, means string }

// stepMarks are the STEP column's verdicts by phase, in the help's order; a
// done step says what was done instead of a word ("✓ updated").
var stepMarks = []struct {
	phase recovery.Phase
	stepMark
}{
	{recovery.PhaseDone, stepMark{"✓", "", "done"}},
	{recovery.PhaseFailed, stepMark{"✗", "failed", "failed"}},
	{recovery.PhaseInterrupted, stepMark{"!", "interrupted", "interrupted (resume it)"}},
	{recovery.PhaseHalted, stepMark{"■", "halted", "halted by a breaker"}},
	{recovery.PhaseQueued, stepMark{"·", "queued", "queued"}},
	{recovery.PhaseSkipped, stepMark{"-", "skipped", "skipped"}},
}

// stepMarkOf is phase's mark; false for the phases of a moving step.
func stepMarkOf(phase recovery.Phase) (stepMark, bool) {
	for _, sm := range stepMarks {
		if sm.phase == phase {
			return sm.stepMark, true
		}
	}
	return stepMark{}, false
}

// legend explains every marker the table and its header draw, in the
// glyphs of this theme, for the help screen: the rows' markers, then the
// STEP column's, wrapped between entries (never inside "--" or "-
// skipped"). Two spaces part the entries, since "·" is a glyph here.
func (s *shared) legend(width int) []string {
	g := s.glyphs
	rows := []string{
		g.cursor + " cursor",
		g.mark + " marked",
		g.changed + " changed at the last poll",
		g.pin + " in flight outside the filter",
		"replacing" + g.stuck + " stuck: in it over --stuck-after",
		"started" + g.cordoned + " cordoned: no traffic",
		g.open + "/" + g.closed + " group open/folded",
		g.sortAsc + "/" + g.sortDesc + " sort order (ties by ID)",
	}
	steps := []string{"step " + s.spinnerGlyph() + " under way"}
	for _, sm := range stepMarks {
		steps = append(steps, sm.glyph+" "+sm.means)
	}
	return wrapEntries("Glyphs:", append(rows, steps...), width)
}

// wrapEntries lays entries after a title, two spaces apart, in lines of at
// most width cells, breaking only between entries.
func wrapEntries(title string, entries []string, width int) []string {
	var out []string
	line := title
	indent := strings.Repeat(" ", textWidth(title))
	for i, e := range entries {
		switch {
		case i == 0:
			line += " " + e
		case textWidth(line)+2+textWidth(e) > width:
			out = append(out, line)
			line = indent + " " + e
		default:
			line += "  " + e
		}
	}
	return append(out, line)
}
