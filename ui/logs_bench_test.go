package ui

import (
	"testing"
	"time"
)

// go test ./ui -run '^$' -bench Logs -benchmem

// logsModel is the dashboard at 10,000 machines with the logs of four
// marked machines open and a full buffer.
func logsModel(b *testing.B) (*Model, *logsPane) {
	m := fixedModel(b, 10000, 200, 60)
	m.opts.NoColor = false
	m.setTheme(true)
	for i := range 4 {
		m.marks.Add(m.snap.Machines[i].ID)
	}
	m.Update(keyPress("l"))
	p := m.focus.(*logsPane)
	feedLines(m, p, maxLogLines+500)
	return m, p
}

// A full frame at 10,000 machines with the logs pane open on 5000 lines.
func BenchmarkViewLogsPane10k(b *testing.B) {
	m, _ := logsModel(b)
	b.ResetTimer()
	for b.Loop() {
		_ = m.View()
	}
}

// The same, paused in the middle of the buffer with a search applied.
func BenchmarkViewLogsPaneSearch10k(b *testing.B) {
	m, p := logsModel(b)
	for _, k := range []string{"/", "e", "r", "r", "enter", "k", "k"} {
		m.Update(keyPress(k))
	}
	if p.follow || len(p.shown) == 0 {
		b.Fatalf("want a paused search, got follow %v, %d shown", p.follow, len(p.shown))
	}
	b.ResetTimer()
	for b.Loop() {
		_ = m.View()
	}
}

// One page of 100 lines arriving into a full buffer with a search: merge,
// trim, search again.
func BenchmarkLogsPageFullBuffer(b *testing.B) {
	m, p := logsModel(b)
	for _, k := range []string{"/", "e", "r", "r", "enter"} {
		m.Update(keyPress(k))
	}
	at := time.Date(2025, 6, 2, 15, 0, 0, 0, time.UTC)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		page := syntheticPage(p.sources[0].id, at.Add(time.Duration(i)*time.Second), logsFullPage)
		m.Update(logsPageMsg{gen: p.gen, src: 0, page: page})
	}
}
