package ui

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

type formKind int

const (
	formScale formKind = iota
	formRollback
)

// form is the small dialog for actions that need arguments: scale (group,
// count, region) and rollback (release, region). Submitting opens the plan,
// which still needs y. It reads the fleet live from its host, so its counts
// follow the polls while it is open.
type form struct {
	paneBase
	host   host
	kind   formKind
	field  int
	groups []string
	group  int
	count  lineInput
	// regions to pick from, "" first (every region), with machine counts
	regions []regionChoice
	region  int
	// rollback
	releases []model.Release
	release  int
	err      string
}

// regionChoice is one entry of a form's region picker.
type regionChoice struct {
	name  string // "" = every region
	count int
}

// regionChoices lists the regions machines of group run in ("" = any
// group), most machines first, after the "every region" entry.
func regionChoices(snap *model.Snapshot, group string) []regionChoice {
	counts := map[string]int{}
	total := 0
	for _, mc := range snap.Machines {
		if group == "" || mc.Group == group {
			counts[mc.Region]++
			total++
		}
	}
	out := []regionChoice{{"", total}}
	for name, n := range counts {
		out = append(out, regionChoice{name, n})
	}
	sort.Slice(out[1:], func(i, j int) bool {
		a, b := out[1+i], out[1+j]
		return a.count > b.count || a.count == b.count && a.name < b.name
	})
	return out
}

func (f *form) regionName() string { return f.regions[f.region].name }

// cycleRegion moves the region picker by d, wrapping.
func (f *form) cycleRegion(d int) {
	n := len(f.regions)
	f.region = ((f.region+d)%n + n) % n
}

// openScaleForm starts on the cursor machine's group at its current count.
func (m *Model) openScaleForm() tea.Cmd {
	if m.snap == nil || len(m.snap.Groups) == 0 {
		m.status = "no process groups to scale yet"
		return nil
	}
	f := newForm(m.shared, m, formScale)
	cur := ""
	if mc, ok := m.cursorMachine(); ok {
		cur = mc.Group
	}
	for i, g := range m.snap.Groups {
		f.groups = append(f.groups, g.Name)
		if g.Name == cur {
			f.group = i
		}
	}
	f.regions = regionChoices(m.snap, f.groups[f.group])
	f.count.value = strconv.Itoa(scaleStart(&m.incident, f.groups[f.group], "", m.snap.Groups[f.group].Total))
	m.open(f)
	return nil
}

// scaleStart is the count the scale form offers: the count before the
// incident when the group (or region) is below it, the runbook's "scale
// back"; else what it has now.
func scaleStart(inc *model.Incident, group, region string, now int) int {
	if b, ok := baselineOf(inc, group, region); ok && b > now {
		return b
	}
	return now
}

// baselineOf is a group's (or one region's) count before the incident.
func baselineOf(inc *model.Incident, group, region string) (int, bool) {
	if region != "" {
		b, ok := inc.RegionBaseline[group][region]
		return b, ok
	}
	b, ok := inc.Baseline[group]
	return b, ok
}

// openRollbackForm lists the releases with their images, starting on the
// runbook's pick (the newest healthy older release) when there is one.
func (m *Model) openRollbackForm() tea.Cmd {
	if m.snap == nil || len(m.snap.Releases) == 0 {
		m.status = "no releases known: rollback needs the app's release history"
		return nil
	}
	f := newForm(m.shared, m, formRollback)
	f.releases, f.regions = m.snap.Releases, regionChoices(m.snap, "")
	want := 0
	if br := m.class.BadRelease; br != nil {
		want = br.Version
	}
	for i, r := range f.releases {
		if (want != 0 && r.Version == want) || (want == 0 && r.Image != m.snap.Target.Image && r.Status == "complete") {
			f.release = i
			break
		}
	}
	m.open(f)
	return nil
}

func newForm(s *shared, h host, kind formKind) *form {
	return &form{paneBase: paneBase{s, "form", false}, host: h, kind: kind}
}

// liveGroup is the chosen group as the last poll has it (zero once it is gone).
func (f *form) liveGroup(snap *model.Snapshot) model.GroupStats {
	name := f.groups[f.group]
	for _, g := range snap.Groups {
		if g.Name == name {
			return g
		}
	}
	return model.GroupStats{Name: name}
}

func (f *form) update(msg tea.Msg, _, _ int) (tea.Cmd, bool) {
	press, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil, true
	}
	k := &f.keys.FormPane
	fields := 3
	if f.kind == formRollback {
		fields = 2
	}
	switch {
	case key.Matches(press, k.Cancel.Binding):
		f.host.setStatus("cancelled: nothing was changed")
		return nil, false
	case key.Matches(press, k.NextField.Binding):
		f.field = (f.field + 1) % fields
		return nil, true
	case key.Matches(press, k.PrevField.Binding):
		f.field = (f.field + fields - 1) % fields
		return nil, true
	case key.Matches(press, k.Submit.Binding):
		return f.submit()
	}
	prev := key.Matches(press, k.Left.Binding, k.Up.Binding)
	next := key.Matches(press, k.Right.Binding, k.Down.Binding)
	snap, inc := f.host.fleet()
	switch {
	case f.kind == formScale && f.field == 0:
		switch {
		case prev:
			f.group = (f.group + len(f.groups) - 1) % len(f.groups)
		case next:
			f.group = (f.group + 1) % len(f.groups)
		}
		g := f.liveGroup(snap)
		f.count.value = strconv.Itoa(scaleStart(inc, g.Name, "", g.Total))
		f.regions, f.region = regionChoices(snap, g.Name), 0
	case f.kind == formScale && f.field == 1:
		if t := press.Text; t != "" && (t < "0" || t > "9") {
			f.err = "count is a number"
			return nil, true
		}
		f.err = ""
		f.count.handle(press)
	case f.kind == formRollback && f.field == 0:
		switch {
		case key.Matches(press, k.Up.Binding):
			f.release = max(0, f.release-1)
		case key.Matches(press, k.Down.Binding):
			f.release = min(len(f.releases)-1, f.release+1)
		}
	default: // the region picker
		switch {
		case prev:
			f.cycleRegion(-1)
		case next:
			f.cycleRegion(1)
		}
		if f.kind == formScale {
			// The count is per region once one is picked: start from what
			// it has, never from the group's total.
			f.count.value = strconv.Itoa(scaleStart(inc, f.groups[f.group], f.regionName(), f.regions[f.region].count))
		}
	}
	return nil, true
}

// submit validates and asks for the plan.
func (f *form) submit() (tea.Cmd, bool) {
	region := f.regionName()
	switch f.kind {
	case formScale:
		n, err := strconv.Atoi(f.count.value)
		if err != nil || n < 0 {
			f.err = "count must be a whole number ≥ 0"
			return nil, true
		}
		return f.host.requestPlan(planRequest{kind: recovery.KindScale, group: f.groups[f.group], count: n, region: region}), false
	default:
		r := f.releases[f.release]
		ids, hidden := f.host.marked()
		return f.host.requestPlan(planRequest{kind: recovery.KindRollback, release: fmt.Sprintf("v%d", r.Version), region: region, ids: ids, hidden: hidden}), false
	}
}

// regionView is the picker's value: the region and how many machines it
// holds, or every region.
func (f *form) regionView(allNote string) string {
	r := f.regions[f.region]
	if r.name == "" {
		return fmt.Sprintf("‹ every region ›  (%s; %s)", model.Counted(r.count, "machine"), allNote)
	}
	return fmt.Sprintf("‹ %s ›  (%s)", r.name, model.Counted(r.count, "machine"))
}

// view renders the dialog.
func (f *form) view(width, height int) string {
	t := f.theme
	snap, inc := f.host.fleet()
	var b strings.Builder
	field := func(i int, label, value string) {
		marker := "  "
		if f.field == i {
			marker = f.glyphs.cursor + " "
			value = t.Bold.Render(value)
		}
		b.WriteString(marker + t.Muted.Render(fmt.Sprintf("%-8s", label)) + value + "\n")
	}
	if f.kind == formScale {
		b.WriteString(t.DialogTitle.Render("Scale a process group") + "\n\n")
		g := f.liveGroup(snap)
		field(0, "group", fmt.Sprintf("‹ %s ›  (now %s, %d on target)", g.Name, model.Counted(g.Total, "machine"), g.OnTarget))
		field(1, "count", f.count.view(f.field == 1))
		now := g.Total
		if f.regionName() != "" {
			now = f.regions[f.region].count
		}
		if base, ok := baselineOf(inc, g.Name, f.regionName()); ok && base != now && inc.BaselineFrom != "now" {
			from := map[string]string{"journal": "the journal's first record", "first poll": "when flyrescue first saw it"}[inc.BaselineFrom]
			b.WriteString(t.Muted.Render(fmt.Sprintf("  back to %d: the count before the incident (%s)", base, from)) + "\n")
		}
		field(2, "region", f.regionView("the group's regions"))
		if f.regionName() != "" {
			b.WriteString(t.Muted.Render(fmt.Sprintf("  count is for %s only: the group's other regions keep theirs", f.regionName())) + "\n")
		}
	} else {
		b.WriteString(t.DialogTitle.Render("Roll back to a release") + "\n")
		b.WriteString(t.Muted.Render("redeploys that release's image; config, secrets and migrations are not undone") + "\n\n")
		// A window of releases around the chosen one, as many as the
		// height leaves room for (the rest of the form takes 12 lines).
		n := max(3, min(10, height-12))
		first := max(0, min(f.release-n+1, len(f.releases)-n))
		for i, r := range f.releases {
			if i < first || i >= first+n {
				continue
			}
			cur := "  "
			if i == f.release {
				cur = f.glyphs.cursor + " "
			}
			line := fmt.Sprintf("v%-4d %-11s %s", r.Version, r.Status, model.ImageTag(r.Image))
			if r.Image == snap.Target.Image {
				line += "  (target)"
			}
			if i == f.release && f.field == 0 {
				line = t.Bold.Render(line)
			}
			b.WriteString(cur + line + "\n")
		}
		b.WriteString("\n")
		field(1, "region", f.regionView("one region first is safer"))
		if ids, _ := f.host.marked(); len(ids) > 0 {
			n := len(ids)
			b.WriteString(t.Info.Render("applies to the "+model.Counted(n, "marked machine")) + "\n")
		}
	}
	if f.err != "" {
		b.WriteString(t.Bad.Render(f.err) + "\n")
	}
	k := &f.keys.FormPane
	b.WriteString("\n" + t.Key.Render(k.NextField.Help().Key) + " next field  " + t.Key.Render(k.Submit.Help().Key) + " plan  " + t.Key.Render(k.Cancel.Help().Key) + " cancel")
	return t.Dialog.Width(min(width-2, 90)).Render(b.String())
}
