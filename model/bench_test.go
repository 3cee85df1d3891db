package model

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cpuTimer reports process CPU time per op next to wall time: the benchmark
// machine is shared, and wall time there measures the neighbours too.
// It includes GC work on other threads, which is a real cost of the op.
type cpuTimer struct{ start time.Duration }

func startCPU(b *testing.B) *cpuTimer {
	b.Helper()
	return &cpuTimer{start: processCPU()}
}

func (c *cpuTimer) report(b *testing.B) {
	b.ReportMetric(float64(processCPU()-c.start)/float64(b.N), "cpu-ns/op")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Run: go test -run '^$' -bench . -benchmem ./model/
// Targets at 10,000 machines: NewSnapshot+Classify < 10 ms, ParseFilter+Apply < 5 ms.

var benchSizes = []int{1000, 10000}

func benchSnapshot(n int) *Snapshot {
	m, r := SyntheticFleet(n, 1)
	return NewSnapshot(SyntheticApp, m, r, ChooseTarget("", r, m), Options{Now: SyntheticNow})
}

func BenchmarkNewSnapshot(b *testing.B) {
	for _, n := range benchSizes {
		m, r := SyntheticFleet(n, 1)
		target := ChooseTarget("", r, m)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			cpu := startCPU(b)
			defer cpu.report(b)
			for b.Loop() {
				NewSnapshot(SyntheticApp, m, r, target, Options{Now: SyntheticNow})
			}
		})
		// The API and the simulator list machines sorted by ID already.
		sorted := slices.Clone(m)
		slices.SortStableFunc(sorted, func(a, b Machine) int { return strings.Compare(a.ID, b.ID) })
		b.Run(fmt.Sprintf("%d-sorted", n), func(b *testing.B) {
			b.ReportAllocs()
			cpu := startCPU(b)
			defer cpu.report(b)
			for b.Loop() {
				NewSnapshot(SyntheticApp, sorted, r, target, Options{Now: SyntheticNow})
			}
		})
	}
}

func BenchmarkClassify(b *testing.B) {
	for _, n := range benchSizes {
		s := benchSnapshot(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			cpu := startCPU(b)
			defer cpu.report(b)
			for b.Loop() {
				Classify(s)
			}
		})
	}
}

// BenchmarkPoll is the whole per-poll cost: target following intent,
// snapshot, incident (with the previous poll, so the unexplained-change
// scan runs), classification, diff.
func BenchmarkPoll(b *testing.B) {
	for _, n := range benchSizes {
		m, r := SyntheticFleet(n, 1)
		prev := benchSnapshot(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			cpu := startCPU(b)
			defer cpu.report(b)
			for b.Loop() {
				facts := IncidentFacts{Previous: prev}
				t := FollowIntent(ChooseTarget("", r, m), r, m, facts)
				s := NewSnapshot(SyntheticApp, m, r, t, Options{Now: SyntheticNow})
				inc := BuildIncident(s, facts, SyntheticNow)
				ClassifyIncident(s, &inc)
				Diff(prev, s)
			}
		})
	}
}

func BenchmarkDiff(b *testing.B) {
	for _, n := range benchSizes {
		old := benchSnapshot(n)
		m, r := SyntheticFleet(n, 1)
		// A poll later: a tenth of the fleet moved on.
		for i := 0; i < len(m); i += 10 {
			m[i].State, m[i].InstanceID = StateReplacing, "next"
		}
		next := NewSnapshot(SyntheticApp, m, r, old.Target, Options{Now: SyntheticNow.Add(time.Minute)})
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			cpu := startCPU(b)
			defer cpu.report(b)
			for b.Loop() {
				Diff(old, next)
			}
		})
	}
}

func BenchmarkFilter(b *testing.B) {
	queries := map[string]string{
		"qualifiers": "group:worker_autoscale,web state:started,replacing -region:syd image:old",
		"text":       "iad wor",
		"mixed":      "state:started fra v61",
	}
	for _, n := range benchSizes {
		s := benchSnapshot(n)
		for _, name := range []string{"qualifiers", "text", "mixed"} {
			b.Run(fmt.Sprintf("%s/%d", name, n), func(b *testing.B) {
				b.ReportAllocs()
				cpu := startCPU(b)
				defer cpu.report(b)
				for b.Loop() {
					s.text = &textCache{} // cold: no word of the query typed before
					f, err := ParseFilter(queries[name])
					if err != nil {
						b.Fatal(err)
					}
					f.Apply(s)
				}
			})
		}
	}
}

// BenchmarkFilterKeystrokes10k types queries into the dashboard's filter one
// character at a time at 10k machines: ParseFilter + Apply per prefix,
// skipping prefixes that do not parse (like "group:" or "state:f"). Each
// iteration starts with a cold free-text cache, as after a poll, and the
// figures are per keystroke.
func BenchmarkFilterKeystrokes10k(b *testing.B) {
	s := benchSnapshot(10000)
	for _, tc := range []struct{ name, query string }{
		{"qualifiers", "group:worker_autoscale state:failed"},
		{"text", "wor iad"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var prefixes []*Filter
			for n := 1; n <= len(tc.query); n++ {
				if f, err := ParseFilter(tc.query[:n]); err == nil {
					prefixes = append(prefixes, f)
				}
			}
			b.ReportAllocs()
			start := processCPU()
			keys := 0
			for b.Loop() {
				s.text = &textCache{}
				for n := 1; n <= len(tc.query); n++ {
					f, err := ParseFilter(tc.query[:n])
					if err != nil {
						continue
					}
					f.Apply(s)
					keys++
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(keys), "ns/key")
			b.ReportMetric(float64(processCPU()-start)/float64(keys), "cpu-ns/key")
			b.ReportMetric(float64(len(prefixes)), "keys/op")
		})
	}
}

// BenchmarkFilterTyping10k types the same queries as the dashboard now reads
// them (ParseFilterTyping): every keystroke applies, a word that does not
// parse yet ("group:", "state:f") applying the words before it.
func BenchmarkFilterTyping10k(b *testing.B) {
	s := benchSnapshot(10000)
	for _, tc := range []struct{ name, query string }{
		{"qualifiers", "group:worker_autoscale state:failed"},
		{"text", "wor iad"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			start := processCPU()
			keys := 0
			for b.Loop() {
				s.text = &textCache{}
				for n := 1; n <= len(tc.query); n++ {
					f, _, err := ParseFilterTyping(tc.query[:n])
					if err != nil {
						b.Fatalf("%q: %v", tc.query[:n], err)
					}
					f.Apply(s)
					keys++
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(keys), "ns/key")
			b.ReportMetric(float64(processCPU()-start)/float64(keys), "cpu-ns/key")
		})
	}
}
