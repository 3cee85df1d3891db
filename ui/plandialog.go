package ui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

// planPane is the plan waiting for y. No is the default because at 3 a.m.
// a stray key must never destroy anything.
type planPane struct {
	paneBase
	host    host
	pending *pendingPlan
	// scroll is the first body line shown when the plan is taller than
	// the screen: the title and the confirm line always show.
	scroll int
}

func newPlanPane(s *shared, h host, pending *pendingPlan) *planPane {
	return &planPane{paneBase: paneBase{s, "plan", false}, host: h, pending: pending}
}

// dialogMaxWidth bounds the plan dialog on a wide terminal.
const dialogMaxWidth = 100

// rowLabel is the width of a row's label ("regions  ").
const rowLabel = 9

// update: y runs, f toggles force on a verb that has it (a destroy:
// replanning), o shows the plan's flyctl commands, ↓/↑ scroll a long plan,
// and any other key cancels.
func (d *planPane) update(msg tea.Msg, width, height int) (tea.Cmd, bool) {
	press, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil, true
	}
	p, k := d.pending, &d.keys.PlanPane
	switch {
	case key.Matches(press, k.Confirm.Binding):
		return d.host.runPlan(p.plan), false
	case key.Matches(press, k.Force.Binding) && verbOf(p.req.kind).Force != "":
		p.req.force = !p.req.force
		return d.host.requestPlan(p.req), false
	case key.Matches(press, k.Handoff.Binding):
		return d.host.openHandoff(d, p), true
	case key.Matches(press, k.Down.Binding), key.Matches(press, k.Up.Binding):
		step := 1
		if key.Matches(press, k.Up.Binding) {
			step = -1
		}
		d.scroll = max(0, min(d.scroll+step, d.layout(width, height).maxScroll))
		return nil, true
	}
	// Planning wrote nothing (not even a resume's steps found done), so
	// this is true of the journal as well as of the machines.
	d.host.setStatus("cancelled: nothing was changed")
	return nil, false
}

// planLayout is the dialog cut to a height: the title and the confirm line
// always, the body scrolled when it does not fit.
type planLayout struct {
	lines     []string
	maxScroll int
}

// layout fits the dialog's content into width x height: blank lines go
// first, then the body scrolls behind a line saying how much is out of
// sight.
func (d *planPane) layout(width, height int) planLayout {
	inner := d.innerWidth(width)
	head := wrapLines(d.theme.DialogTitle.Render(d.heading()), inner)
	body := d.body(inner)
	foot := []string{d.confirmLine(inner)}
	avail := height - 2 // the border
	if len(head)+len(body)+len(foot)+2 <= avail {
		return planLayout{lines: concat(head, []string{""}, body, []string{""}, foot)}
	}
	if len(head)+len(body)+len(foot) <= avail {
		return planLayout{lines: concat(head, body, foot)}
	}
	if len(head)+len(foot)+2 > avail {
		head = head[:1]
	}
	room := max(1, avail-len(head)-len(foot)-1)
	maxScroll := max(0, len(body)-room)
	scroll := min(d.scroll, maxScroll)
	shown := body[scroll:min(len(body), scroll+room)]
	return planLayout{lines: concat(head, shown, []string{d.moreLine(scroll, len(body)-scroll-len(shown), inner)}, foot), maxScroll: maxScroll}
}

// moreLine says how much of the body is out of sight and how to see it.
func (d *planPane) moreLine(above, below, inner int) string {
	k := &d.keys.PlanPane
	var s string
	switch {
	case below > 0 && above > 0:
		s = fmt.Sprintf("… %d more below, %d above (%s/%s scroll)", below, above, k.Down.Help().Key, k.Up.Help().Key)
	case below > 0:
		s = fmt.Sprintf("… %d more (%s scrolls)", below, k.Down.Help().Key)
	default:
		s = fmt.Sprintf("… %d above (%s scrolls back)", above, k.Up.Help().Key)
	}
	return truncate(d.theme.Muted.Render(s), inner)
}

func (d *planPane) innerWidth(width int) int { return min(width-2, dialogMaxWidth) - 4 }

// view renders the plan for confirmation, cut to the height it has.
func (d *planPane) view(width, height int) string {
	lines := d.layout(width, height).lines
	return d.theme.Dialog.Width(min(width-2, dialogMaxWidth)).Render(strings.Join(lines, "\n"))
}

func (d *planPane) heading() string {
	return planHeading(d.pending.plan, d.pending.req, d.opts.Now())
}

// body is the plan's rows, warnings and notes, each wrapped to inner.
func (d *planPane) body(inner int) []string {
	t := d.theme
	p, req := d.pending.plan, d.pending.req
	var out []string
	row := func(k string, parts ...string) {
		out = append(out, labelled(t.Muted.Render(fmt.Sprintf("%-*s", rowLabel, k)), parts, inner)...)
	}
	// say adds a line of prose, its continuation lines under its text
	// (after a bullet's "• ").
	say := func(style func(...string) string, s string) {
		hang := 0
		if strings.HasPrefix(s, "• ") {
			hang = 2
		}
		for i, l := range wrapLines(s, inner-hang) {
			if i > 0 {
				l = strings.Repeat(" ", hang) + l
			}
			out = append(out, style(l))
		}
	}
	groups, regions := map[string]int{}, map[string]int{}
	from, to := map[string]int{}, map[string]int{}
	for _, s := range p.Steps {
		groups[s.Group]++
		regions[s.Region]++
		if s.FromImage != "" {
			from[model.ImageTag(s.FromImage)]++
		}
		if s.ToImage != "" {
			to[model.ImageTag(s.ToImage)]++
		}
	}
	sel := p.Selection
	if len(sel) > 40 && len(req.ids) > 0 {
		sel = fmt.Sprintf("%d machines by ID", len(req.ids))
	}
	row("app", p.App+"   selection: "+sel)
	if len(p.Steps) > 0 {
		row("groups", countParts(groups)...)
		row("regions", countParts(regions)...)
	}
	if changesImages(p.Steps) {
		if len(from) > 0 {
			row("from", countParts(from)...)
		}
		row("to", t.Bold.Render(countList(to)))
	}
	if done := foundDoneCount(p); done > 0 {
		them := map[bool]string{true: "it", false: "them"}[done == 1]
		row("done", fmt.Sprintf("%s of %s found done; %s records %s in the journal", model.Counted(done, "interrupted step"), recovery.DisplayID(p.Resumes), d.keys.PlanPane.Confirm.Help().Key, them))
	}
	if len(p.Skipped) > 0 {
		row("skipped", fmt.Sprintf("%s %s nothing (%s)", model.Counted(len(p.Skipped), "machine"), model.Agree(len(p.Skipped), "needs", "need"), skipReasons(p.Skipped)))
	}
	limits, perGroup := budgetParts(p.Limits)
	row("budget", limits...)
	if len(perGroup) > 0 {
		row("", perGroup...)
	}
	force := verbOf(p.Kind).Force
	if force != "" {
		if req.force {
			row("force", t.Bad.Render("yes: "+lowerFirst(force)))
		} else {
			row("force", fmt.Sprintf("no (press %s to plan with --force: %s)", d.keys.PlanPane.Force.Help().Key, lowerFirst(force)))
		}
	}
	if req.hidden > 0 {
		say(t.Warn.Render, fmt.Sprintf("⚠ %d of these marked machines are hidden by the filter", req.hidden))
	}
	if req.fromAdvice {
		say(t.Info.Render, "the runbook picked these machines (they are now marked)")
	}
	for _, n := range p.Notes {
		say(t.Warn.Render, "• "+n)
	}
	return out
}

// confirmLine names the dialog's keys in the words that fit: y and "any
// other key cancels" always, the optional keys and long words as room
// allows.
func (d *planPane) confirmLine(inner int) string {
	t, k := d.theme, &d.keys.PlanPane
	force := verbOf(d.pending.plan.Kind).Force != ""
	type part struct{ key, long, short string }
	parts := []part{{k.Confirm.Help().Key, "run", "run"}}
	if force {
		parts = append(parts, part{k.Force.Help().Key, "toggle force", "force"})
	}
	parts = append(parts, part{k.Handoff.Help().Key, "flyctl commands", "flyctl"})
	build := func(ps []part, short bool) string {
		var b strings.Builder
		sep, cancel := "   ", "any other key cancels "+t.Bold.Render("[default: No]")
		if short {
			sep, cancel = " · ", "other keys cancel "+t.Bold.Render("[No]")
		}
		for _, p := range ps {
			word := p.long
			if short {
				word = p.short
			}
			b.WriteString(t.Key.Render(p.key) + " " + word + sep)
		}
		return b.String() + cancel
	}
	for _, short := range []bool{false, true} {
		if s := build(parts, short); ansi.StringWidth(s) <= inner {
			return s
		}
	}
	// The hand-off key goes before y or the cancel words do.
	return truncate(build(parts[:len(parts)-1], true), inner)
}

// foundDoneCount is how many of a resume's reconciled steps were found done
// (the others are steps whose machine was gone before they began).
func foundDoneCount(p *recovery.Plan) int {
	n := 0
	for _, o := range p.Reconciled {
		if o.Outcome == recovery.OutcomeOK {
			n++
		}
	}
	return n
}

// budgetParts are the plan's limits, in the pieces the budget row wraps
// between, and the machines each group may have down at once (none when
// the plan resolved no group's).
func budgetParts(l recovery.Limits) (limits, groups []string) {
	s := fmt.Sprintf("≤%.0f%% unavailable per group", l.MaxUnavailable*100)
	if l.MaxUnavailable >= 1 {
		s = fmt.Sprintf("≤%.0f unavailable per group", l.MaxUnavailable)
	}
	limits = []string{s, fmt.Sprintf("%d at once", l.Concurrency), model.Counted(l.Retries, "retry"), "wait " + shortDuration(l.WaitTimeout)}
	if len(l.GroupBudget) > 0 {
		groups = countParts(l.GroupBudget)
		groups[0] = "down at most: " + groups[0]
	}
	return limits, groups
}

// shortDuration drops a duration's zero tail: 5m, 1h30m, 90s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
