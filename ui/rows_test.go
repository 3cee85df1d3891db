package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

func TestRowCells(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	base := model.Machine{ID: "3d8e1234567890", Name: "web-1", Group: "web", Region: "iad", State: "started",
		Image: "registry.fly.io/app:app.v62-3-ga38cb23a", ReleaseVersion: 62, StateSince: now.Add(-90 * time.Second),
		Checks: model.Checks{Total: 2, Passing: 2}, LastEvent: model.Event{Type: "start", Status: "started", At: now.Add(-90 * time.Second)}}
	tests := []struct {
		name string
		mod  func(m *model.Machine)
		eff  string
		step *stepState
		col  colID
		want string
	}{
		{"state", nil, "started", nil, colState, "started"},
		{"stuck shows the API state, marked", func(m *model.Machine) { m.State = "replacing" }, "stuck", nil, colState, "replacing!"},
		{"stuck without a state", func(m *model.Machine) { m.State = "" }, "stuck", nil, colState, "stuck"},
		{"age", nil, "started", nil, colAge, "1m"},
		{"image shows the label", nil, "started", nil, colImage, "v62-3-ga38cb23a"},
		{"release", nil, "started", nil, colRelease, "v62"},
		{"no release", func(m *model.Machine) { m.ReleaseVersion = 0 }, "started", nil, colRelease, "-"},
		{"checks ok", nil, "started", nil, colChecks, "2/2 ok"},
		{"checks critical", func(m *model.Machine) { m.Checks = model.Checks{Total: 2, Passing: 1, Critical: 1} }, "started", nil, colChecks, "1/2 crit"},
		{"no checks", func(m *model.Machine) { m.Checks = model.Checks{} }, "started", nil, colChecks, "-"},
		{"event", nil, "started", nil, colEvent, "start started 1m"},
		{"exit reason first", func(m *model.Machine) {
			m.LastEvent = model.Event{Type: "exit", Status: "failed", At: now.Add(-3 * time.Minute), Exit: &model.Exit{Code: 137, OOMKilled: true}}
		}, "failed", nil, colEvent, "exit 137 oom 3m"},
		{"exit with restarts", func(m *model.Machine) {
			m.LastEvent = model.Event{Type: "exit", Status: "stopped", At: now.Add(-time.Hour), Exit: &model.Exit{Code: 1, RestartCount: 3}}
		}, "stopped", nil, colEvent, "exit 1 ×3 restarts 1h"},
		{"exit without its request", func(m *model.Machine) {
			m.LastEvent = model.Event{Type: "exit", Status: "failed", At: now.Add(-3 * time.Minute)}
		}, "failed", nil, colEvent, "exit failed 3m"},
		{"cordoned", func(m *model.Machine) { m.Cordoned = true }, "started", nil, colState, "started⊘"},
		{"stuck and cordoned", func(m *model.Machine) { m.State, m.Cordoned = "replacing", true }, "stuck", nil, colState, "replacing!⊘"},
		{"step acting", nil, "started", &stepState{op: recovery.OpUpdate, phase: recovery.PhaseActing}, colStep, "* updating"},
		{"step leasing", nil, "started", &stepState{phase: recovery.PhaseLeasing}, colStep, "* leasing"},
		{"step retry", nil, "started", &stepState{phase: recovery.PhaseRetrying, retryIn: 3 * time.Second}, colStep, "* retry in 3s"},
		{"step failed", nil, "started", &stepState{phase: recovery.PhaseFailed}, colStep, "✗ failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := base
			if tt.mod != nil {
				tt.mod(&m)
			}
			g := newGlyphs(false)
			got := rowCells(&m, tt.eff, now, tt.step, &g, "*")[tt.col]
			if got != tt.want {
				t.Errorf("cell %d = %q, want %q", tt.col, got, tt.want)
			}
		})
	}
}

func TestLayoutColumnsFitsAndDropsByPriority(t *testing.T) {
	for _, w := range []int{60, 80, 100, 120, 200} {
		for _, step := range []bool{false, true} {
			l := layoutColumns(w, step, colID_)
			total := gutterWidth - 1
			for c := range numCols {
				if l[c] > 0 {
					total += l[c] + 1
				}
			}
			if total > w {
				t.Errorf("width %d step %v: layout needs %d", w, step, total)
			}
			if l[colState] == 0 || l[colID_] == 0 {
				t.Errorf("width %d: state or ID dropped", w)
			}
			if step && w >= 80 && l[colStep] == 0 {
				t.Errorf("width %d: step column dropped while acting", w)
			}
		}
	}
	if l := layoutColumns(80, false, colID_); l[colEvent] != 0 {
		t.Error("at 80 columns the lowest-priority column should go first")
	}
}

func TestFit(t *testing.T) {
	cases := []struct {
		s         string
		w         int
		right, lt bool
		want      string
	}{
		{"abc", 5, false, false, "abc  "},
		{"abc", 5, true, false, "  abc"},
		{"abcdef", 4, false, false, "abc…"},
		{"v62-3-ga38cb23a", 8, false, true, "…38cb23a"},
	}
	for _, c := range cases {
		got := fit(c.s, c.w, c.right, c.lt)
		if got != c.want && strings.TrimSpace(got) != strings.TrimSpace(c.want) {
			t.Errorf("fit(%q,%d) = %q, want %q", c.s, c.w, got, c.want)
		}
		if textWidth(got) != c.w {
			t.Errorf("fit(%q,%d) width %d", c.s, c.w, textWidth(got))
		}
	}
}

// A LAST EVENT cell too long for its column loses words before the age,
// never the age.
func TestFitAgeKeepsTheAge(t *testing.T) {
	for _, c := range []struct {
		s    string
		w    int
		want string
	}{
		{"exit 137 oom 3m", 17, "exit 137 oom 3m  "},
		{"exit 137 oom ×10 restarts 30m", 17, "exit 137 oom… 30m"},
		{"exit 137 oom ×10 restarts 2h", 17, "exit 137 oom… 2h"},
		{"update replacing 8m", 12, "update r… 8m"},
		{"exit 1 ×10 restarts 37m", 17, "exit 1 ×10… 37m"},
		{"x 1m", 3, "x …"},
	} {
		got := fitAge(c.s, c.w)
		if strings.TrimRight(got, " ") != strings.TrimRight(c.want, " ") || textWidth(got) != c.w {
			t.Errorf("fitAge(%q, %d) = %q, want %q", c.s, c.w, got, c.want)
		}
	}
}

func TestHumanAge(t *testing.T) {
	for d, want := range map[time.Duration]string{5 * time.Second: "5s", 3 * time.Minute: "3m", 5 * time.Hour: "5h", 72 * time.Hour: "3d", -time.Second: "0s"} {
		if got := humanAge(d, false); got != want {
			t.Errorf("humanAge(%s) = %q, want %q", d, got, want)
		}
	}
}
