package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

// maxGroupBars caps the per-group progress bars so the table keeps room.
const maxGroupBars = 4

// headerLines is the header: context, counts, per-group progress bars and
// the runbook banner. Its height depends only on the number of groups.
func (m *Model) headerLines(width int) []string {
	t := m.theme
	var out []string

	// Line 1: what we look at and how fresh it is (freshness first: it
	// must survive a narrow terminal).
	title := t.Title.Render("flyrescue") + " " + t.Bold.Render(m.opts.App) + t.Muted.Render(" · "+m.pollAge())
	if m.opts.ReadOnly {
		title += " " + t.Warn.Render("[READ-ONLY]")
	}
	if m.snap != nil {
		tg := m.snap.Target
		if tg.Image != "" {
			title += t.Muted.Render(" · target ") + t.Bold.Render(tg.Name()) + t.Muted.Render(" ("+targetSource(tg)+")")
		} else {
			title += t.Warn.Render(" · no target image (use --image)")
		}
	}
	out = append(out, truncate(title, width))
	// A failing poll gets its own line: the data above is getting old and
	// the reason must be readable, not cut off at the edge.
	if m.pollErr != nil {
		out = append(out, truncate(t.Bad.Render(fmt.Sprintf(" ✗ poll failed %s ago, next in %s (%s now): %v",
			humanAge(m.now().Sub(m.pollErrAt), false), m.pollInterval().Round(time.Second), m.keys.Refresh.Help().Key, m.pollErr)), width))
	}
	if l := m.unfinishedLine(width); l != "" {
		out = append(out, l)
	}
	if m.snap == nil {
		return append(out, t.Muted.Render("loading machines…"), "")
	}
	s := m.snap

	// Line 2: counts by state, most urgent first.
	var counts strings.Builder
	if n := m.marks.Len(); n > 0 {
		counts.WriteString(t.Marked.Render(fmt.Sprintf("%s %d marked", m.glyphs.mark, n)) + " · ")
	}
	if n := m.pinnedShown; n > 0 {
		counts.WriteString(t.Info.Render(fmt.Sprintf("%s %d in flight shown outside the filter", m.glyphs.pin, n)) + " · ")
	}
	fmt.Fprintf(&counts, "%s · %s on target", model.Counted(len(s.Machines), "machine"), t.Bold.Render(fmt.Sprint(s.OnTarget)))
	for _, st := range statesByUrgency(s.States) {
		counts.WriteString(" · ")
		counts.WriteString(t.State(st).Render(fmt.Sprintf("%s %d", st, s.States[st])))
	}
	// Others acting come first after the counts: they change what any
	// action will meet.
	for _, o := range m.incident.Others {
		// "lease: deploy-bot (3)"; with no holder to name, the kind alone
		// ("unexplained (500)", not "unexplained: unexplained").
		text := fmt.Sprintf("%s (%d)", o.Kind, len(o.Machines))
		if o.Holder != "" {
			text = fmt.Sprintf("%s: %s (%d)", o.Kind, o.Holder, len(o.Machines))
		}
		counts.WriteString(" · ")
		counts.WriteString(t.Warn.Render(text))
	}
	out = append(out, truncate(counts.String(), width))

	// Deploy progress per process group.
	nameW := 0
	for _, g := range s.Groups {
		nameW = max(nameW, len(g.Name))
	}
	nameW = min(nameW, 18)
	barW := max(10, min(40, width-nameW-52))
	for i, g := range s.Groups {
		if i == maxGroupBars {
			out = append(out, t.Muted.Render(moreText("  … ", len(s.Groups)-maxGroupBars, "group")+fmt.Sprintf(" (%s cycles the group filter)", m.keys.GroupCycle.Help().Key)))
			break
		}
		line := fmt.Sprintf(" %s %s %s", fit(g.Name, nameW, false, false), m.bar(g.OnTarget, g.Total, barW),
			fmt.Sprintf("%d/%d on target · %d ready", g.OnTarget, g.Total, g.Ready))
		if bad := g.States[model.StateFailed] + g.States[model.StateStuck]; bad > 0 {
			line += " · " + t.Bad.Render(fmt.Sprintf("%d failed/stuck", bad))
		}
		out = append(out, truncate(line, width))
	}
	out = append(out, truncate(m.banner(), width))
	return out
}

// headerHeight is len(headerLines) without rendering them.
func (m *Model) headerHeight() int {
	h := 3
	if m.snap != nil {
		h += min(len(m.snap.Groups), maxGroupBars+1)
	}
	if m.pollErr != nil {
		h++
	}
	if m.shownUnfinished() != nil {
		h++
	}
	return h
}

// targetSource says where the target comes from; a region's own target (a
// one-region rollback) comes first, so 120 columns keep it.
func targetSource(t model.Target) string {
	if len(t.ByRegion) == 0 {
		return t.Describe()
	}
	base := t
	base.ByRegion = nil
	var parts []string
	for region, rt := range t.ByRegion {
		parts = append(parts, region+": "+rt.Describe())
	}
	sortStates(parts)
	return strings.Join(parts, "; ") + "; elsewhere " + base.Describe()
}

// pollAge says how old the data on screen is; the truth about state
// includes how stale it might be.
func (m *Model) pollAge() string {
	every := fmt.Sprintf("every %s", m.opts.Refresh)
	if m.lastPoll.IsZero() {
		return "polling… " + every
	}
	age := humanAge(m.now().Sub(m.lastPoll), false)
	if m.polling {
		return fmt.Sprintf("polled %s ago (%s, polling)", age, every)
	}
	return fmt.Sprintf("polled %s ago (%s)", age, every)
}

// bar draws done/total as a fixed-width bar that also reads without colour.
func (m *Model) bar(done, total, width int) string {
	filled := 0
	if total > 0 {
		filled = done * width / total
	}
	full, empty := "█", "░"
	if m.theme.NoColor {
		full, empty = "#", "."
	}
	return "[" + m.theme.BarDone.Render(strings.Repeat(full, filled)) + m.theme.BarTodo.Render(strings.Repeat(empty, width-filled)) + "]"
}

// banner reads the fleet like the runbook and names the key that applies
// the advised step.
func (m *Model) banner() string {
	t := m.theme
	c := m.class
	label := strings.ToUpper(strings.ReplaceAll(string(c.Case), "_", " "))
	if c.BadRelease != nil {
		// A bad release leads, and its reason must survive 120 columns:
		// it goes before the key, which is the same every time.
		line := t.Case(c.Case).Render("▶ "+strings.SplitN(c.Summary, ";", 2)[0]) + t.Muted.Render(" · press ") +
			t.Key.Render(m.keys.Action(recovery.KindApplyAdvice).Help().Key)
		if m.opts.ReadOnly {
			line = t.Case(c.Case).Render("▶ " + strings.SplitN(c.Summary, ";", 2)[0])
		}
		return line
	}
	line := t.Case(c.Case).Render("▶ " + label)
	// The advised step and its key come first so they survive 80 columns.
	if len(c.Advice) > 0 {
		a := c.Advice[0]
		if m.opts.ReadOnly {
			line += t.Muted.Render(" · advice: ")
		} else {
			line += t.Muted.Render(" · press ") + t.Key.Render(m.keys.Action(recovery.KindApplyAdvice).Help().Key) + t.Muted.Render(" to ")
		}
		line += t.Bold.Render(a.Title()) + t.Muted.Render(adviceRest(c.Advice, &m.incident))
	}
	summary := c.Summary
	// The summary often opens with the case's own words; say them once.
	if rest, ok := cutPrefixFold(summary, strings.ReplaceAll(string(c.Case), "_", " ")); ok {
		summary = strings.TrimLeft(rest, " :")
	}
	if summary != "" {
		line += t.Muted.Render(" · ") + summary
	}
	if c.Case != model.CaseInProgress && len(m.incident.Left) > 0 && c.Case != model.CaseComplete {
		line += t.Muted.Render(" · left: " + strings.Join(m.incident.Left, "; "))
	}
	return line
}

// adviceRest says what the banner's step leaves for later, so its count
// agrees with the header's: the machines it leaves out for someone else's
// lease, and the steps of the same kind that follow (the runbook destroys
// failed/stuck machines one group at a time): " (1 more is leased by
// deploy-bot; then 11 more in worker, worker_autoscale)".
func adviceRest(advice []model.Advice, inc *model.Incident) string {
	first := advice[0]
	var parts []string
	if h := first.HeldText(inc); h != "" {
		parts = append(parts, h)
	}
	more := 0
	var groups []string
	for _, a := range advice[1:] {
		if a.Action == first.Action && len(a.Machines) > 0 {
			more += len(a.Machines)
			if a.Group != "" {
				groups = append(groups, a.Group)
			}
		}
	}
	if more > 0 {
		then := fmt.Sprintf("then %d more", more)
		if len(groups) > 0 {
			then += " in " + strings.Join(groups, ", ")
		}
		parts = append(parts, then)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

// statesByUrgency lists the states present, most urgent first.
func statesByUrgency(states map[string]int) []string {
	out := make([]string, 0, len(states))
	for st, n := range states {
		if n > 0 {
			out = append(out, st)
		}
	}
	sortStates(out)
	return out
}

func sortStates(states []string) {
	for i := 1; i < len(states); i++ {
		for j := i; j > 0 && stateLess(states[j], states[j-1]); j-- {
			states[j], states[j-1] = states[j-1], states[j]
		}
	}
}

func stateLess(a, b string) bool {
	if oa, ob := model.StateOrder(a), model.StateOrder(b); oa != ob {
		return oa < ob
	}
	return a < b
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

var _ = time.Second
