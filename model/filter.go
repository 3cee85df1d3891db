package model

import (
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/sahilm/fuzzy"
)

// Empty reports whether the filter matches everything.
func (f *Filter) Empty() bool { return f == nil || len(f.clauses) == 0 }

// HasText reports whether the query has free-text words, in which case Apply
// ranks by match quality instead of keeping the snapshot's order.
func (f *Filter) HasText() bool {
	if f == nil {
		return false
	}
	for _, c := range f.clauses {
		if c.kind == clauseText && !c.negate {
			return true
		}
	}
	return false
}

// Match reports whether machine i of s passes the filter.
func (f *Filter) Match(s *Snapshot, i int) bool {
	if f.Empty() {
		return true
	}
	if i < 0 || i >= len(s.rows) {
		return false
	}
	for _, c := range f.clauses {
		if c.kind == clauseText && !c.negate {
			if !fuzzyMatches(c.values[0], s.rows[i].haystack) {
				return false
			}
			continue
		}
		if !c.holds(s, i) {
			return false
		}
	}
	return true
}

// Apply returns the indices into s.Machines that match. With free-text words
// they are ranked by their summed fuzzy score, best first (ties keep Machines
// order); otherwise they are in Machines order.
func (f *Filter) Apply(s *Snapshot) []int {
	out := make([]int, 0, len(s.Machines))
	for i := range s.Machines {
		if f.Empty() || f.holdsExceptFuzzy(s, i) {
			out = append(out, i)
		}
	}
	if !f.HasText() {
		return out
	}
	// Each word narrows the candidates before the next, so later words
	// scan fewer haystacks.
	scores := make([]int, len(out))
	for _, c := range f.clauses {
		if c.kind != clauseText || c.negate || len(out) == 0 {
			continue
		}
		out, scores = fuzzyNarrow(c.values[0], s, out, scores)
	}
	order := make([]int, len(out))
	for k := range order {
		order[k] = k
	}
	slices.SortStableFunc(order, func(a, b int) int { return scores[b] - scores[a] })
	ranked := make([]int, len(out))
	for k, o := range order {
		ranked[k] = out[o]
	}
	return ranked
}

// holdsExceptFuzzy checks every clause but the positive words, which Apply
// matches in bulk afterwards.
func (f *Filter) holdsExceptFuzzy(s *Snapshot, i int) bool {
	for _, c := range f.clauses {
		if c.kind == clauseText && !c.negate {
			continue
		}
		if !c.holds(s, i) {
			return false
		}
	}
	return true
}

// holds evaluates a non-fuzzy clause, negation included.
func (c *clause) holds(s *Snapshot, i int) bool {
	r := &s.rows[i]
	var ok bool
	switch c.kind {
	case clauseText:
		// A negated word excludes by substring: a fuzzy "-syd" would also
		// hide every machine whose haystack merely contains s, y and d.
		ok = strings.Contains(r.haystack, c.values[0])
	case clauseStuck:
		ok = r.stuck
	case clauseGroup:
		ok = slices.Contains(c.values, r.group)
	case clauseRegion:
		ok = slices.Contains(c.values, r.region)
	case clauseChecks:
		ok = slices.Contains(c.values, r.checks)
	case clauseState:
		for _, v := range c.values {
			// state:stuck means stuck in any sense, failed included, and
			// state:failed still finds failed machines, so both the API
			// state and the effective state count.
			if v == r.effState || v == strings.ToLower(s.Machines[i].State) || (v == StateStuck && r.stuck) {
				ok = true
				break
			}
		}
	case clauseImage:
		for _, v := range c.values {
			switch v {
			case "new", "target":
				ok = r.onTarget
			case "old":
				ok = !r.onTarget
			default:
				ok = strings.Contains(r.tag, v) || strings.Contains(r.image, v)
			}
			if ok {
				break
			}
		}
	}
	return ok != c.negate
}

// haystacks exposes the precomputed haystacks of some rows to fuzzy.
type haystacks struct {
	s    *Snapshot
	rows []int
}

func (h haystacks) String(i int) string { return h.s.rows[h.rows[i]].haystack }
func (h haystacks) Len() int            { return len(h.rows) }

// fuzzyMatches reports whether pattern fuzzily matches text, using fuzzy
// itself so Match and Apply can never disagree about a row.
func fuzzyMatches(pattern, text string) bool {
	if pattern == "" {
		return true
	}
	return len(fuzzy.Find(pattern, []string{text})) == 1
}

// parallelFuzzyMin is the candidate count above which fuzzy matching is
// split across cores; below it the goroutines cost more than they save.
const parallelFuzzyMin = 2048

// fuzzyNarrow keeps the rows whose haystack fuzzily matches word, adding
// the match score to each kept row's score. Order is preserved, so ties in
// the final ranking keep Machines order.
//
// Two things keep a keystroke inside budget at 10k machines: a byte scan
// that rules out rows whose haystack does not even contain word's letters
// in order (fuzzy accepts only such rows, and it is several times cheaper
// than fuzzy's scoring), and splitting the scoring across cores.
func fuzzyNarrow(word string, s *Snapshot, rows, scores []int) ([]int, []int) {
	candidates, candScores := rows, scores
	if isASCII(word) {
		candidates = make([]int, 0, len(rows))
		candScores = make([]int, 0, len(rows))
		for k, i := range rows {
			// Non-ASCII haystacks go to fuzzy unscreened: its case folding
			// matches letters (like the Kelvin sign) a byte scan would miss.
			if !s.rows[i].ascii || isSubsequence(word, s.rows[i].haystack) {
				candidates = append(candidates, i)
				candScores = append(candScores, scores[k])
			}
		}
	}
	chunks := 1
	if len(candidates) >= parallelFuzzyMin {
		chunks = min(runtime.GOMAXPROCS(0), 8, len(candidates)/(parallelFuzzyMin/2))
	}
	type result struct {
		rows, scores []int
	}
	results := make([]result, chunks)
	size := (len(candidates) + chunks - 1) / max(chunks, 1)
	var wg sync.WaitGroup
	for c := range chunks {
		lo, hi := c*size, min((c+1)*size, len(candidates))
		if lo >= hi {
			continue
		}
		work := func() {
			matches := fuzzy.FindFromNoSort(word, haystacks{s: s, rows: candidates[lo:hi]})
			r := result{rows: make([]int, len(matches)), scores: make([]int, len(matches))}
			for k, m := range matches {
				r.rows[k] = candidates[lo+m.Index]
				r.scores[k] = candScores[lo+m.Index] + m.Score
			}
			results[c] = r
		}
		if chunks == 1 {
			work()
			continue
		}
		wg.Go(work)
	}
	wg.Wait()
	if chunks == 1 {
		return results[0].rows, results[0].scores
	}
	var kept, keptScores []int
	for _, r := range results {
		kept = append(kept, r.rows...)
		keptScores = append(keptScores, r.scores...)
	}
	return kept, keptScores
}

// isSubsequence reports whether the bytes of word appear in text in order.
func isSubsequence(word, text string) bool {
	for k := 0; k < len(word); k++ {
		at := strings.IndexByte(text, word[k])
		if at < 0 {
			return false
		}
		text = text[at+1:]
	}
	return true
}
