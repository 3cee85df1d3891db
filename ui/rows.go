package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

// colID names a table column.
type colID int

const (
	colID_ colID = iota
	colName
	colGroup
	colRegion
	colState
	colStep
	colAge
	colImage
	colRelease
	colChecks
	colEvent
	numCols
)

// column describes one table column. Lower priority numbers survive longer
// when the terminal is narrow.
type column struct {
	title     string
	min, max  int
	priority  int
	right     bool // right-aligned (numbers, ages)
	leftTrunc bool // keep the end when truncating (image tags end in the label)
	// keepAge keeps the cell's last word, an age, when truncating: "exit
	// 137 oom… 3m" still says when.
	keepAge bool
}

var columns = [numCols]column{
	colID_:     {title: "ID", min: 14, max: 14, priority: 1},
	colName:    {title: "NAME", min: 11, max: 24, priority: 8},
	colGroup:   {title: "GROUP", min: 10, max: 16, priority: 3},
	colRegion:  {title: "REGION", min: 6, max: 6, priority: 6},
	colState:   {title: "STATE", min: 11, max: 11, priority: 0},
	colStep:    {title: "STEP", min: 14, max: 22, priority: 2},
	colAge:     {title: "AGE", min: 5, max: 5, priority: 4, right: true},
	colImage:   {title: "IMAGE", min: 16, max: 22, priority: 5, leftTrunc: true},
	colRelease: {title: "REL", min: 4, max: 4, priority: 9},
	colChecks:  {title: "CHECKS", min: 8, max: 8, priority: 7},
	colEvent:   {title: "LAST EVENT", min: 17, max: 28, priority: 10, keepAge: true},
}

// gutterWidth is the cursor, mark and changed markers left of every row.
const gutterWidth = 3

// colLayout is the width of each column at a terminal width; 0 means the
// column is dropped.
type colLayout [numCols]int

// layoutColumns fits the columns into width: drop columns by priority until
// the minimum widths fit, then grow columns toward their max in priority
// order. The STEP column exists only while an action runs. The keep column
// (the one the table is sorted by) is never dropped: an order you cannot
// see is no help.
func layoutColumns(width int, withStep bool, keep colID) colLayout {
	var l colLayout
	avail := width - gutterWidth
	on := [numCols]bool{}
	need := 0
	for c := range numCols {
		if c == colStep && !withStep {
			continue
		}
		on[c] = true
		need += columns[c].min + 1
	}
	for need-1 > avail {
		worst := colID(-1)
		for c := range numCols {
			if on[c] && c != keep && (worst < 0 || columns[c].priority > columns[worst].priority) {
				worst = c
			}
		}
		if worst < 0 || columns[worst].priority == 0 {
			break
		}
		on[worst] = false
		need -= columns[worst].min + 1
	}
	spare := avail - (need - 1)
	for c := range numCols {
		if on[c] {
			l[c] = columns[c].min
		}
	}
	for p := 0; p <= 10 && spare > 0; p++ {
		for c := range numCols {
			if on[c] && columns[c].priority == p {
				grow := min(columns[c].max-l[c], spare)
				l[c] += grow
				spare -= grow
			}
		}
	}
	return l
}

// rowCells renders one machine as plain cell texts. It is pure: the same
// machine, clock, progress and glyphs give the same cells.
func rowCells(m *model.Machine, effState string, now time.Time, step *stepState, g *glyphs, spinner string) [numCols]string {
	var c [numCols]string
	c[colID_] = m.ID
	c[colName] = m.Name
	c[colGroup] = m.Group
	c[colRegion] = m.Region
	c[colState] = effState
	if effState == model.StateStuck && m.State != "" && m.State != effState {
		// Say what the API says; "!" marks it stuck (the group header and
		// colour say so too), so the row never hides the real state.
		c[colState] = m.State + g.stuck
	}
	if m.Cordoned {
		c[colState] += g.cordoned
	}
	c[colAge] = humanAge(now.Sub(m.StateSince), m.StateSince.IsZero())
	c[colImage] = model.LabelFromImage(m.Image) // the repo prefix repeats on every row
	if m.ReleaseVersion > 0 {
		c[colRelease] = fmt.Sprintf("v%d", m.ReleaseVersion)
	} else {
		c[colRelease] = "-"
	}
	c[colChecks] = checksText(m.Checks)
	if e := &m.LastEvent; !e.At.IsZero() {
		// How the process ended is what an operator scans for; an exit
		// event without it says its state like any other event.
		what := e.Type + " " + e.Status
		if e.Exit != nil {
			what = e.Exit.Summary()
		}
		c[colEvent] = what + " " + humanAge(now.Sub(e.At), false)
	}
	if step != nil {
		c[colStep] = stepText(step, spinner)
	}
	return c
}

// checksText says the check status in words, so it reads without colour.
func checksText(c model.Checks) string {
	switch c.Status() {
	case model.ChecksNone:
		return "-"
	case model.ChecksCritical:
		return fmt.Sprintf("%d/%d crit", c.Passing, c.Total)
	case model.ChecksWarning:
		return fmt.Sprintf("%d/%d warn", c.Passing, c.Total)
	}
	return fmt.Sprintf("%d/%d ok", c.Passing, c.Total)
}

// stepText shows where a machine's step is: a spinner while it moves, a
// verdict once it ends.
func stepText(s *stepState, spinner string) string {
	if sm, ok := stepMarkOf(s.phase); ok {
		if s.phase == recovery.PhaseDone {
			return sm.glyph + " " + opPast(s.op)
		}
		return sm.glyph + " " + sm.word
	}
	switch s.phase {
	case recovery.PhaseRetrying:
		return fmt.Sprintf("%s retry in %s", spinner, s.retryIn.Round(time.Second))
	case recovery.PhaseActing:
		return spinner + " " + opProgressive(s.op)
	}
	return spinner + " " + string(s.phase)
}

// humanAge prints a duration the way k9s does: one or two units, short.
func humanAge(d time.Duration, unknown bool) string {
	if unknown {
		return "?"
	}
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// fit pads or truncates s to exactly w cells.
func fit(s string, w int, right, leftTrunc bool) string {
	if w <= 0 {
		return ""
	}
	sw := textWidth(s)
	if sw > w {
		if leftTrunc {
			s = "…" + ansi.TruncateLeft(s, sw-w+1, "")
		} else {
			s = ansi.Truncate(s, w, "…")
		}
		sw = w
	}
	pad := strings.Repeat(" ", w-sw)
	if right {
		return pad + s
	}
	return s + pad
}

// fitAge fits a cell that ends in an age to w cells, cutting the words
// before the age rather than the age: whole words while two are left
// ("exit 137 oom… 3m"), else letters ("update repl… 3m").
func fitAge(s string, w int) string {
	if textWidth(s) <= w {
		return fit(s, w, false, false)
	}
	i := strings.LastIndexByte(s, ' ')
	if i <= 0 || w-(len(s)-i) < 2 {
		return fit(s, w, false, false)
	}
	age, head := s[i:], s[:i]
	room := w - len(age) - 1 // the ellipsis takes one
	for textWidth(head) > room {
		j := strings.LastIndexByte(head, ' ')
		if j < 0 || !strings.Contains(head[:j], " ") {
			head = strings.TrimRight(ansi.Truncate(head, room, ""), " ")
			break
		}
		head = head[:j]
	}
	return fit(head+"…"+age, w, false, false)
}

// textWidth is the display width, with an ASCII fast path: almost every
// cell is ASCII and this runs for every cell of every frame.
func textWidth(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 || s[i] < 0x20 {
			return ansi.StringWidth(s)
		}
	}
	return len(s)
}

// ansiTruncate cuts a styled string to w cells.
func ansiTruncate(s string, w int) string { return ansi.Truncate(s, w, "…") }
