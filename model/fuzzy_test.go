package model

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sahilm/fuzzy"
)

// TestASCIIFuzzyMatchesSahilm checks that the allocation-free matcher gives
// sahilm/fuzzy's verdict and score, and that its verdict is exactly "the
// word's bytes appear in order" (which the keystroke cache relies on).
func TestASCIIFuzzyMatchesSahilm(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	alphabet := "abcdw-_ ./:0"
	word := func(n int) string {
		b := make([]byte, n)
		for k := range b {
			b[k] = alphabet[rng.Intn(len(alphabet))]
		}
		return string(b)
	}
	s, _ := SyntheticFleet(50, 3)
	var hays []string
	for _, m := range s {
		hays = append(hays, strings.ToLower(strings.Join([]string{m.ID, m.Name, m.Group, m.Region, m.ImageTag, m.State}, " ")))
	}
	for range 200 {
		hays = append(hays, word(1+rng.Intn(30)))
	}
	pats := []string{"iad", "wor", "web", "a", "aa", "ab", "abc", "w-", "v61", "fra", "stuck", "x y"}
	for range 300 {
		pats = append(pats, word(1+rng.Intn(5)))
	}
	for _, h := range hays {
		for _, p := range pats {
			got, ok := asciiFuzzyScore(p, h)
			m := fuzzy.Find(p, []string{h})
			if ok != (len(m) == 1) || (ok && got != m[0].Score) {
				t.Fatalf("asciiFuzzyScore(%q, %q) = %d, %v; fuzzy says %+v", p, h, got, ok, m)
			}
			if ok != isSubsequence(p, h) {
				t.Fatalf("asciiFuzzyScore(%q, %q) matched=%v but isSubsequence=%v", p, h, ok, !ok)
			}
		}
	}
}

func TestFilterExactAboveFuzzy(t *testing.T) {
	s := snap([]Machine{
		mach("m1", "xwxoxrx", imgV62), // "wor" scattered
		mach("m2", "networker", imgV62),
		mach("m3", "worker", imgV62),
		mach("m4", "worker", imgV62),
		mach("m5", "db", imgV62),
	}, nil)
	f, err := ParseFilter("wor")
	if err != nil {
		t.Fatal(err)
	}
	// Word starts first (ties in Machines order), then mid-word, then fuzzy.
	equalStrings(t, "ranked", ids(s, f.Apply(s)), []string{"m3", "m4", "m2", "m1"})
}

func TestSnapshotIndexDuplicates(t *testing.T) {
	s := snap([]Machine{mach("b", "web", imgV62), mach("a", "web", imgV62), mach("b", "worker", imgV62), mach("c", "web", imgV62)}, nil)
	if i, ok := s.Index("b"); !ok || i != 2 || s.Machines[i].Group != "worker" {
		t.Errorf("Index(b) = %d, %v; want the last b", i, ok)
	}
	for _, id := range []string{"", "0", "aa", "bb", "d"} {
		if _, ok := s.Index(id); ok {
			t.Errorf("Index(%q) found", id)
		}
	}
}

// TestFilterKeystrokeCache types queries character by character on one
// snapshot (so later keystrokes use cached word results) and checks every
// result against a fresh snapshot and against Match.
func TestFilterKeystrokeCache(t *testing.T) {
	machines, releases := SyntheticFleet(600, 7)
	build := func() *Snapshot {
		return NewSnapshot(SyntheticApp, machines, releases, ChooseTarget("", releases, machines), Options{Now: SyntheticNow})
	}
	typed := build()
	for _, q := range []string{"wor iad", "iad wor", "group:worker_autoscale state:failed", "stuck fra v6", "web -syd lake", "iad wo", "wo", "w", "wor iad"} {
		for n := 1; n <= len(q); n++ {
			f, err := ParseFilter(q[:n])
			if err != nil {
				continue
			}
			got := f.Apply(typed)
			want := f.Apply(build())
			if !slices.Equal(got, want) {
				t.Fatalf("%q: cached Apply differs from a fresh snapshot's", q[:n])
			}
			in := make([]bool, len(typed.Machines))
			for _, i := range got {
				in[i] = true
			}
			for i := range in {
				if f.Match(typed, i) != in[i] {
					t.Fatalf("%q: Match(%d) = %v, Apply disagrees", q[:n], i, !in[i])
				}
			}
		}
	}
}

func TestFilterConcurrentApply(t *testing.T) {
	machines, releases := SyntheticFleet(300, 2)
	s := NewSnapshot(SyntheticApp, machines, releases, ChooseTarget("", releases, machines), Options{Now: SyntheticNow})
	var wg sync.WaitGroup
	for _, q := range []string{"wor", "wor iad", "iad", "work", "fra"} {
		wg.Go(func() {
			f, _ := ParseFilter(q)
			for range 5 {
				f.Apply(s)
			}
		})
	}
	wg.Wait()
}

func TestSnapshotHaystacks(t *testing.T) {
	machines := []Machine{
		mach("m1", "Web", imgV62, func(m *Machine) { m.Name = "Bold-Sun-1" }),
		mach("m2", "wörker", imgV61, func(m *Machine) { m.Name = "ab\u212Acd"; m.Region = "IAD" }),
		mach("m3", "web", imgV62, func(m *Machine) { m.Name = "nul\x00x"; m.State = "Weird" }),
		mach("M4", "ÄÖ", imgV60, inState(StateReplacing, time.Hour), func(m *Machine) { m.ImageTag = "TAG-Ü" }),
	}
	s := snap(machines, testReleases)
	for i, m := range s.Machines {
		want := strings.ToLower(strings.Join([]string{m.ID, m.Name, m.Group, m.Region, m.ImageTag, s.EffectiveState(i)}, " "))
		if got := s.haystack(i); got != want {
			t.Errorf("haystack(%s) = %q, want %q", m.ID, got, want)
		}
		plain := isASCII(want) && !strings.Contains(want, "\x00")
		if s.rows[i].ascii != plain {
			t.Errorf("%s: ascii = %v, want %v", m.ID, s.rows[i].ascii, plain)
		}
	}
	// Non-ASCII rows still match through fuzzy's folding.
	f, _ := ParseFilter("abkcd")
	equalStrings(t, "kelvin", ids(s, f.Apply(s)), []string{"m2"})
	f, _ = ParseFilter("region:iad group:wörker")
	equalStrings(t, "lowercased qualifiers", ids(s, f.Apply(s)), []string{"m2"})
}

func TestSortedByID(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	var in []Machine
	for k := range 3000 {
		id := fmt.Sprintf("%x", rng.Intn(1<<uint(4+rng.Intn(40))))
		if k%7 == 0 {
			id = "abcdefgh" + id // shared eight-byte prefix
		}
		if k%11 == 0 && k > 0 {
			id = in[rng.Intn(len(in))].ID // duplicates keep input order
		}
		in = append(in, Machine{ID: id, ReleaseVersion: k})
	}
	got := sortedByID(in)
	want := slices.Clone(in)
	slices.SortStableFunc(want, func(a, b Machine) int { return strings.Compare(a.ID, b.ID) })
	for k := range want {
		if got[k].ID != want[k].ID || got[k].ReleaseVersion != want[k].ReleaseVersion {
			t.Fatalf("position %d: got %s/%d, want %s/%d", k, got[k].ID, got[k].ReleaseVersion, want[k].ID, want[k].ReleaseVersion)
		}
	}
	got[0].ID = "changed"
	if in[0].ID == "changed" {
		t.Fatal("sortedByID shares memory with its input")
	}
}
