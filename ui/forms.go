package ui

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

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
// which still needs y.
type form struct {
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
func (m *Model) regionChoices(group string) []regionChoice {
	counts := map[string]int{}
	total := 0
	for _, mc := range m.snap.Machines {
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
func (m *Model) openScaleForm() {
	if m.snap == nil || len(m.snap.Groups) == 0 {
		m.status = "no process groups to scale yet"
		return
	}
	f := &form{kind: formScale}
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
	f.regions = m.regionChoices(f.groups[f.group])
	f.count.value = strconv.Itoa(m.scaleStart(f.groups[f.group], "", m.snap.Groups[f.group].Total))
	m.form = f
	m.mode = modeForm
}

// scaleStart is the count the scale form offers: the count before the
// incident when the group (or region) is below it, the runbook's "scale
// back"; else what it has now.
func (m *Model) scaleStart(group, region string, now int) int {
	if b, ok := m.baselineOf(group, region); ok && b > now {
		return b
	}
	return now
}

// baselineOf is a group's (or one region's) count before the incident.
func (m *Model) baselineOf(group, region string) (int, bool) {
	if region != "" {
		b, ok := m.incident.RegionBaseline[group][region]
		return b, ok
	}
	b, ok := m.incident.Baseline[group]
	return b, ok
}

// openRollbackForm lists the releases with their images, starting on the
// runbook's pick (the newest healthy older release) when there is one.
func (m *Model) openRollbackForm() {
	if m.snap == nil || len(m.snap.Releases) == 0 {
		m.status = "no releases known: rollback needs the app's release history"
		return
	}
	f := &form{kind: formRollback, releases: m.snap.Releases, regions: m.regionChoices("")}
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
	m.form = f
	m.mode = modeForm
}

func (m *Model) handleFormKey(msg tea.KeyPressMsg) tea.Cmd {
	f := m.form
	fields := 3
	if f.kind == formRollback {
		fields = 2
	}
	switch msg.String() {
	case "esc":
		m.form = nil
		m.mode = modeNormal
		m.status = "cancelled: nothing was changed"
		return nil
	case "tab":
		f.field = (f.field + 1) % fields
		return nil
	case "shift+tab":
		f.field = (f.field + fields - 1) % fields
		return nil
	case "enter":
		return m.submitForm()
	}
	switch {
	case f.kind == formScale && f.field == 0:
		switch msg.String() {
		case "left", "h", "up", "k":
			f.group = (f.group + len(f.groups) - 1) % len(f.groups)
		case "right", "l", "down", "j", "space":
			f.group = (f.group + 1) % len(f.groups)
		}
		if g := m.snap.Groups; f.group < len(g) {
			f.count.value = strconv.Itoa(m.scaleStart(g[f.group].Name, "", g[f.group].Total))
			f.regions, f.region = m.regionChoices(g[f.group].Name), 0
		}
	case f.kind == formScale && f.field == 1:
		if t := msg.Text; t != "" && (t < "0" || t > "9") {
			f.err = "count is a number"
			return nil
		}
		f.err = ""
		f.count.handle(msg)
	case f.kind == formRollback && f.field == 0:
		switch msg.String() {
		case "up", "k":
			f.release = max(0, f.release-1)
		case "down", "j":
			f.release = min(len(f.releases)-1, f.release+1)
		}
	default: // the region picker
		switch msg.String() {
		case "left", "h", "up", "k":
			f.cycleRegion(-1)
		case "right", "l", "down", "j", "space":
			f.cycleRegion(1)
		}
		if f.kind == formScale {
			// The count is per region once one is picked: start from what
			// it has, never from the group's total.
			f.count.value = strconv.Itoa(m.scaleStart(f.groups[f.group], f.regionName(), f.regions[f.region].count))
		}
	}
	return nil
}

// submitForm validates and asks for the plan.
func (m *Model) submitForm() tea.Cmd {
	f := m.form
	region := f.regionName()
	switch f.kind {
	case formScale:
		n, err := strconv.Atoi(f.count.value)
		if err != nil || n < 0 {
			f.err = "count must be a whole number ≥ 0"
			return nil
		}
		m.form, m.mode = nil, modeNormal
		return m.requestPlan(planRequest{kind: recovery.KindScale, group: f.groups[f.group], count: n, region: region})
	default:
		r := f.releases[f.release]
		ids, hidden := []string(nil), 0
		if m.marks.Len() > 0 {
			ids, hidden = m.marks.IDs(), m.marks.Hidden(m.visible, m.snap)
		}
		m.form, m.mode = nil, modeNormal
		return m.requestPlan(planRequest{kind: recovery.KindRollback, release: fmt.Sprintf("v%d", r.Version), region: region, ids: ids, hidden: hidden})
	}
}

// regionView is the picker's value: the region and how many machines it
// holds, or every region.
func (m *Model) regionView(f *form, allNote string) string {
	r := f.regions[f.region]
	if r.name == "" {
		return fmt.Sprintf("‹ every region ›  (%d machines; %s)", r.count, allNote)
	}
	return fmt.Sprintf("‹ %s ›  (%d machines)", r.name, r.count)
}

// formView renders the dialog.
func (m *Model) formView(width int) string {
	t := m.theme
	f := m.form
	var b strings.Builder
	field := func(i int, label, value string) {
		marker := "  "
		if f.field == i {
			marker = m.glyphs.cursor + " "
			value = t.Bold.Render(value)
		}
		b.WriteString(marker + t.Muted.Render(fmt.Sprintf("%-8s", label)) + value + "\n")
	}
	if f.kind == formScale {
		b.WriteString(t.DialogTitle.Render("Scale a process group") + "\n\n")
		g := m.snap.Groups[f.group]
		field(0, "group", fmt.Sprintf("‹ %s ›  (now %d machines, %d on target)", g.Name, g.Total, g.OnTarget))
		field(1, "count", f.count.view(f.field == 1))
		now := g.Total
		if f.regionName() != "" {
			now = f.regions[f.region].count
		}
		if base, ok := m.baselineOf(g.Name, f.regionName()); ok && base != now && m.incident.BaselineFrom != "now" {
			from := map[string]string{"journal": "the journal's first record", "first poll": "when flyrescue first saw it"}[m.incident.BaselineFrom]
			b.WriteString(t.Muted.Render(fmt.Sprintf("  back to %d: the count before the incident (%s)", base, from)) + "\n")
		}
		field(2, "region", m.regionView(f, "the group's regions"))
		if f.regionName() != "" {
			b.WriteString(t.Muted.Render(fmt.Sprintf("  count is for %s only: the group's other regions keep theirs", f.regionName())) + "\n")
		}
	} else {
		b.WriteString(t.DialogTitle.Render("Roll back to a release") + "\n")
		b.WriteString(t.Muted.Render("redeploys that release's image; config, secrets and migrations are not undone") + "\n\n")
		for i, r := range f.releases {
			if i == 10 {
				break
			}
			cur := "  "
			if i == f.release {
				cur = m.glyphs.cursor + " "
			}
			line := fmt.Sprintf("v%-4d %-11s %s", r.Version, r.Status, model.ImageTag(r.Image))
			if r.Image == m.snap.Target.Image {
				line += "  (target)"
			}
			if i == f.release && f.field == 0 {
				line = t.Bold.Render(line)
			}
			b.WriteString(cur + line + "\n")
		}
		b.WriteString("\n")
		field(1, "region", m.regionView(f, "one region first is safer"))
		if n := m.marks.Len(); n > 0 {
			b.WriteString(t.Info.Render(fmt.Sprintf("applies to the %d marked machines", n)) + "\n")
		}
	}
	if f.err != "" {
		b.WriteString(t.Bad.Render(f.err) + "\n")
	}
	b.WriteString("\n" + t.Key.Render("tab") + " next field  " + t.Key.Render("enter") + " plan  " + t.Key.Render("esc") + " cancel")
	return t.Dialog.Width(min(width-2, 90)).Render(b.String())
}
