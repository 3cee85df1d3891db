package model

import (
	"math"
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
			if _, ok := s.wordScore(c.values[0], i); !ok {
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
// they are ranked by their summed scores, best first (ties keep Machines
// order); otherwise they are in Machines order. A word found as a substring
// scores above any scattered fuzzy match (see wordScore).
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
	tc := s.text
	if tc == nil {
		tc = &textCache{} // a Snapshot literal: no cache to share
	}
	tc.mu.Lock()
	defer tc.mu.Unlock()
	// Each word narrows the candidates before the next, so later words
	// scan fewer haystacks.
	scores := make([]int, len(out))
	for _, c := range f.clauses {
		if c.kind != clauseText || c.negate || len(out) == 0 {
			continue
		}
		res := tc.results(s, c.values[0])
		kept := 0
		for k, i := range out {
			sc := res.score(s, i)
			if sc == noMatch {
				continue
			}
			out[kept], scores[kept] = i, scores[k]+int(sc)
			kept++
		}
		out, scores = out[:kept], scores[:kept]
	}
	// Rank by score with a stable radix sort, so ties keep out's order,
	// which is Machines order; a comparison sort took half of a keystroke.
	keys := make([]keyed, len(out))
	for k, i := range out {
		sc := int64(max(min(scores[k], math.MaxInt32), math.MinInt32+1))
		keys[k] = keyed{prefix: uint64(math.MaxInt32 - sc), pos: i} // best first
	}
	for k, key := range radixSortByPrefix(keys, make([]keyed, len(keys))) {
		out[k] = key.pos
	}
	return out
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
		ok = strings.Contains(s.haystack(i), c.values[0])
	case clauseStuck:
		ok = r.stuck
	case clauseGroup:
		ok = slices.Contains(c.values, s.strs[r.group])
	case clauseRegion:
		ok = slices.Contains(c.values, s.strs[r.region])
	case clauseChecks:
		ok = slices.Contains(c.values, s.strs[r.checks])
	case clauseState:
		for _, v := range c.values {
			// state:stuck means stuck in any sense, failed included, and
			// state:failed still finds failed machines, so both the API
			// state and the effective state count.
			if v == s.strs[r.effState] || v == strings.ToLower(s.Machines[i].State) || (v == StateStuck && r.stuck) {
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
				ok = strings.Contains(s.strs[r.tag], v) || strings.Contains(s.strs[r.image], v)
			}
			if ok {
				break
			}
		}
	}
	return ok != c.negate
}

// Scores of a free-text word against one haystack. A word found as a
// substring scores exactBase plus bonuses for where it sits, so it ranks
// above every scattered fuzzy match; other rows get sahilm/fuzzy's score.
const (
	exactBase        = 1 << 20
	exactStartBonus  = 200 // starts a word ("wor" in "worker")
	exactEndBonus    = 100 // ends a word too (a whole word, "iad" in "iad")
	exactFieldFactor = 1   // minus per field before it: ID first, state last
)

// wordScore reports whether word (lowercase) matches row i's haystack and
// with what score. Match and Apply both use it, so they cannot disagree.
func (s *Snapshot) wordScore(word string, i int) (int, bool) {
	h := s.haystack(i)
	if sc, ok := exactScore(word, h); ok {
		return sc, true
	}
	if s.rows[i].ascii && isASCII(word) {
		if !isSubsequence(word, h) {
			return 0, false
		}
		return asciiFuzzyScore(word, h)
	}
	// Non-ASCII: fuzzy's Unicode case folding (the Kelvin sign matches k)
	// is beyond a byte scan.
	m := fuzzy.Find(word, []string{h})
	if len(m) != 1 {
		return 0, false
	}
	return m[0].Score, true
}

// exactScore scores word as a substring of h, taking its best occurrence.
func exactScore(word, h string) (int, bool) {
	pos := strings.Index(h, word)
	if pos < 0 {
		return 0, false
	}
	best := 0
	for from := 0; pos >= 0; {
		at := from + pos
		sc := exactBase - exactFieldFactor*strings.Count(h[:at], " ")
		if at == 0 || isWordSeparator(h[at-1]) {
			sc += exactStartBonus
		}
		if end := at + len(word); end == len(h) || isWordSeparator(h[end]) {
			sc += exactEndBonus
		}
		best = max(best, sc)
		from = at + 1
		pos = strings.Index(h[from:], word)
	}
	return best, true
}

func isWordSeparator(c byte) bool {
	switch c {
	case ' ', '-', '_', '.', '/', '\\', ':', ',', '@':
		return true
	}
	return false
}

// asciiFuzzyScore is sahilm/fuzzy's matcher and scoring for an ASCII
// pattern against one ASCII haystack (no NUL), without its allocations and
// interface calls: the same algorithm step for step, so it gives the same
// scores (fuzzy_test.go checks that). Both strings are lowercase, so
// fuzzy's camel-case bonus never applies.
func asciiFuzzyScore(p, h string) (int, bool) {
	if len(p) == 0 {
		return 0, false
	}
	// Nothing happens before the first occurrence of the pattern's first
	// byte, so start there.
	start := strings.IndexByte(h, p[0])
	if start < 0 {
		return 0, false
	}
	var last byte // the byte before j
	if start > 0 {
		last = h[start-1]
	}
	total, matched, lastMatch := 0, 0, -1
	pi, cur, next := 0, p[0], byte(0) // pattern position, its byte, the one after
	if len(p) > 1 {
		next = p[1]
	}
	bestScore, matchedIndex := -1, -1
	adjacent := 0
	for j := start; j < len(h); j++ {
		c := h[j]
		if c == cur {
			score := 0
			if j == 0 {
				score += fuzzyFirstCharBonus
			} else if isFuzzySeparator(last) {
				score += fuzzySeparatorBonus
			}
			if matched > 0 && lastMatch == j-1 {
				bonus := adjacent*2 + fuzzyAdjacentBonus
				score += bonus
				adjacent += bonus
			}
			if score > bestScore {
				bestScore, matchedIndex = score, j
			}
		}
		// fuzzy moves to the next pattern byte when the next haystack
		// byte is that pattern byte, or at the end of the haystack.
		var nextc byte
		if j+1 < len(h) {
			nextc = h[j+1]
		}
		if (nextc == next || nextc == 0) && matchedIndex > -1 {
			if matched == 0 {
				bestScore += max(matchedIndex*fuzzyLeadingPenalty, fuzzyMaxLeadingPenalty)
			}
			total += bestScore
			lastMatch = matchedIndex
			matched++
			bestScore = -1
			if pi++; pi == len(p) {
				break // only at the end: next is 0 for the last byte
			}
			cur, next = p[pi], 0
			if pi+1 < len(p) {
				next = p[pi+1]
			}
		}
		last = c
	}
	total += matched - len(h)
	return total, matched == len(p)
}

// sahilm/fuzzy's scoring constants.
const (
	fuzzyFirstCharBonus    = 10
	fuzzySeparatorBonus    = 20
	fuzzyAdjacentBonus     = 5
	fuzzyLeadingPenalty    = -5
	fuzzyMaxLeadingPenalty = -15
)

func isFuzzySeparator(c byte) bool {
	switch c {
	case '/', '-', '_', ' ', '.', '\\':
		return true
	}
	return false
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

// textCache remembers per-row results of the last few free-text words on a
// snapshot. Typing re-applies the filter on every keystroke: the words not
// being typed are answered from the cache, and the word being typed extends
// one that is cached, so only rows that matched the shorter word (the only
// ones that can match the longer) are scanned again.
type textCache struct {
	mu      sync.Mutex
	entries []*wordResults // most recently used last
}

const textCacheSize = 8

// wordResults are one word's scores per row, filled in as rows are asked for.
type wordResults struct {
	word   string
	scores []int32 // per row: unknown, noMatch or the score
	prefix *wordResults
}

const (
	unknown = math.MinInt32
	noMatch = math.MinInt32 + 1
)

// results returns the cache entry for word, creating it if need be.
// The caller holds c.mu.
func (c *textCache) results(s *Snapshot, word string) *wordResults {
	var prefix *wordResults
	for k, e := range c.entries {
		if e.word == word {
			c.entries = append(append(c.entries[:k:k], c.entries[k+1:]...), e)
			return e
		}
		// Monotone only where matching is a byte subsequence test.
		if isASCII(word) && strings.HasPrefix(word, e.word) && (prefix == nil || len(e.word) > len(prefix.word)) {
			prefix = e
		}
	}
	e := &wordResults{word: word, scores: make([]int32, len(s.rows)), prefix: prefix}
	for k := range e.scores {
		e.scores[k] = unknown
	}
	if len(c.entries) == textCacheSize {
		c.entries = slices.Delete(c.entries, 0, 1)
	}
	c.entries = append(c.entries, e)
	for _, old := range c.entries {
		if old.prefix != nil && !slices.Contains(c.entries, old.prefix) {
			old.prefix = nil // evicted: let it be collected
		}
	}
	return e
}

// score returns row i's score, or noMatch.
func (e *wordResults) score(s *Snapshot, i int) int32 {
	if sc := e.scores[i]; sc != unknown {
		return sc
	}
	sc := int32(noMatch)
	if !(e.prefix != nil && s.rows[i].ascii && e.prefix.scores[i] == noMatch) {
		if v, ok := s.wordScore(e.word, i); ok {
			sc = int32(max(min(v, math.MaxInt32), noMatch+1))
		}
	}
	e.scores[i] = sc
	return sc
}
