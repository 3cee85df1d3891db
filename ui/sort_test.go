package ui

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/flyrescue/flyrescue/model"
)

// Sorting by age with htop's keys, over flysim: > until age, then a poll
// that brings a changed machine; the order holds, the cursor stays on its
// machine, I reverses, and a filter keeps the order.
func TestSortByAgeHoldsAcrossPollAndFilter(t *testing.T) {
	h := newHarness(t, harnessOpts{scenario: "healthy", machines: 40})
	for range 5 { // id -> name, group, region, state, age
		h.press(">")
	}
	if h.m.sort.by != model.SortByAge || h.m.sort.desc {
		t.Fatalf("five > pressed: sorted by %s (desc %v), want age ascending", h.m.sort.by, h.m.sort.desc)
	}
	if s := h.screen(); !strings.Contains(s, "sorted by age ^ (ascending)") || !strings.Contains(s, " AGE^ ") {
		t.Fatalf("neither the status nor the header says the order:\n%s", s)
	}
	h.checkSorted(false)
	h.press("down", "down", "down")
	cursor, ok := h.m.cursorMachine()
	if !ok {
		t.Fatal("cursor not on a machine")
	}
	cursorID := cursor.ID

	// The oldest machine of the group is redeployed by someone else: the
	// next poll has it youngest, at the top of its group.
	rows := h.machineRows()
	oldest := rows[len(rows)-1]
	if oldest == cursorID {
		oldest = rows[len(rows)-2]
	}
	was, _ := h.m.snap.Machine(oldest)
	if err := h.srv.Sim.ChangeOutside(oldest, h.srv.Sim.TargetImage()); err != nil {
		t.Fatal(err)
	}
	h.waitFor("a poll with the redeployed machine started again", func() bool {
		mc, ok := h.m.snap.Machine(oldest)
		return ok && mc.State == "started" && mc.StateSince.After(was.StateSince)
	})
	h.checkSorted(false)
	if rows := h.machineRows(); rows[0] != oldest {
		t.Errorf("the redeployed machine %s is not first (youngest) after the poll: %v", oldest, rows[:3])
	}
	h.checkCursorOn(cursorID)

	h.press("I")
	if s := h.screen(); !strings.Contains(s, "sorted by age v (descending)") || !strings.Contains(s, " AGEv ") {
		t.Fatalf("I did not say the order inverted:\n%s", s)
	}
	h.checkSorted(true)
	if rows := h.machineRows(); rows[len(rows)-1] != oldest {
		t.Errorf("descending, the youngest machine %s is not last", oldest)
	}
	h.checkCursorOn(cursorID)

	h.press("/")
	h.typeText("region:iad")
	h.press("enter")
	if len(h.m.visible) == 0 || len(h.m.visible) == len(h.m.snap.Machines) {
		t.Fatalf("region:iad shows %d machines", len(h.m.visible))
	}
	h.checkSorted(true)
	h.press("ctrl+r")
	h.waitFor("a poll", func() bool { return !h.m.polling })
	h.checkSorted(true)
	if !strings.Contains(h.screen(), " AGEv ") {
		t.Errorf("the filter or the poll lost the order:\n%s", h.screen())
	}
}

// machineRows is the table's machine IDs in order.
func (h *harness) machineRows() []string {
	var ids []string
	for _, r := range h.m.rows {
		if r.kind == rowMachine {
			ids = append(ids, h.m.snap.Machines[r.machine].ID)
		}
	}
	return ids
}

var screenRowID = regexp.MustCompile(`^...([0-9a-f]{14}) `)

// checkSorted checks that every group's machines are in age order (ties
// by ID) and that the screen shows the rows in that order.
func (h *harness) checkSorted(desc bool) {
	h.t.Helper()
	ms := h.m.snap.Machines
	for i := 1; i < len(h.m.rows); i++ {
		a, b := h.m.rows[i-1], h.m.rows[i]
		if a.kind != rowMachine || b.kind != rowMachine {
			continue
		}
		ma, mb := &ms[a.machine], &ms[b.machine]
		c := mb.StateSince.Compare(ma.StateSince) // ascending: younger (later) first
		if desc {
			c = -c
		}
		if c > 0 || (c == 0 && ma.ID > mb.ID) {
			h.t.Fatalf("rows %d and %d out of order (desc %v): %s since %s, %s since %s", i-1, i, desc, ma.ID, ma.StateSince, mb.ID, mb.StateSince)
		}
	}
	var onScreen []string
	for _, l := range strings.Split(h.screen(), "\n") {
		if m := screenRowID.FindStringSubmatch(l); m != nil {
			onScreen = append(onScreen, m[1])
		}
	}
	var want []string
	for _, r := range h.m.rows[h.m.offset:] {
		if r.kind == rowMachine && len(want) < len(onScreen) {
			want = append(want, ms[r.machine].ID)
		}
	}
	if len(onScreen) == 0 || !slices.Equal(onScreen, want) {
		h.t.Fatalf("the screen shows %v, the order is %v", onScreen, want)
	}
}

// checkCursorOn checks the cursor row is id's, in the model and on screen.
func (h *harness) checkCursorOn(id string) {
	h.t.Helper()
	if mc, ok := h.m.cursorMachine(); !ok || mc.ID != id {
		h.t.Fatalf("the cursor left %s", id)
	}
	for _, l := range strings.Split(h.screen(), "\n") {
		if strings.HasPrefix(l, ">") && strings.Contains(l, id) {
			return
		}
	}
	h.t.Fatalf("the cursor line is not %s's:\n%s", id, h.screen())
}

// The sort keys are table keys: rebound by their settings names, refused
// on a key the table uses, listed by the help as bound.
func TestRebindSortKeys(t *testing.T) {
	for _, name := range []string{"sort_next", "sort_prev", "sort_invert"} {
		if !slices.Contains(BindingNames(), name) {
			t.Errorf("BindingNames lacks %s", name)
		}
	}
	k := DefaultKeyMap()
	err := k.Rebind(map[string]string{"sort_invert": "u"})
	if err == nil || !strings.Contains(err.Error(), "keys.sort_invert") || !strings.Contains(err.Error(), "update") {
		t.Errorf("binding sort_invert to update's key: %v", err)
	}
	m := fixedModel(t, 200, 120, 40)
	if err := m.keys.Rebind(map[string]string{"sort_next": "}", "sort_invert": "e"}); err != nil {
		t.Fatal(err)
	}
	m.Update(keyPress(">"))
	if m.sort.by != model.SortByID {
		t.Error("> still sorts after sort_next moved to }")
	}
	m.Update(keyPress("}"))
	m.Update(keyPress("e"))
	if m.sort.by != model.SortByName || !m.sort.desc {
		t.Errorf("} then e: sorted by %s desc %v, want name descending", m.sort.by, m.sort.desc)
	}
	if s := ansi.Strip(m.render()); !strings.Contains(s, "sorted by name v (descending) · }/< column, e inverts") {
		t.Errorf("the status does not name the rebound keys:\n%s", s)
	}
	m.Update(keyPress("?"))
	s := ansi.Strip(m.render())
	for _, want := range []string{"}       sort by next column", "<       sort by previous column", "e       invert sort order"} {
		if !strings.Contains(s, want) {
			t.Errorf("the help lacks %q:\n%s", want, s)
		}
	}
}

// The sort column stays on screen at 80 columns (a column the layout
// would drop makes room), its title carries the arrow in colour glyphs,
// and < from ID goes round to the last column.
func TestSortColumnShownWithArrow(t *testing.T) {
	m := fixedModel(t, 500, 80, 24)
	m.opts.NoColor = false
	m.setTheme(true)
	if s := ansi.Strip(m.render()); strings.Contains(s, "LAST EVENT") || !strings.Contains(s, "ID▲") {
		t.Fatalf("80 columns, sorted by ID: want ID▲ and no LAST EVENT column:\n%s", s)
	}
	m.Update(keyPress("<"))
	m.Update(keyPress("I"))
	s := ansi.Strip(m.render())
	if m.sort.by != model.SortByEvent || !strings.Contains(s, "LAST EVENT▼") || !strings.Contains(s, "sorted by last event ▼ (descending)") {
		t.Errorf("< then I at 80 columns: sorted by %s; want the LAST EVENT▼ column and the status:\n%s", m.sort.by, s)
	}
	for i, l := range strings.Split(s, "\n") {
		if w := ansi.StringWidth(l); w > 80 {
			t.Errorf("line %d is %d wide", i, w)
		}
	}
	// A narrow column keeps its arrow and cuts its title.
	for range 3 {
		m.Update(keyPress(">")) // last event -> id -> name -> group -> region
	}
	m.Update(keyPress(">"))
	if s := ansi.Strip(m.render()); !strings.Contains(s, "REGIO▲") {
		t.Errorf("sorted by region: want REGIO▲ in the header:\n%s", s)
	}
}
