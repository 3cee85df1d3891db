package model

import (
	"strconv"
	"strings"
)

// Counted says a count with its noun agreeing: "1 machine", "2 machines".
// Nouns here are regular; "process group" becomes "process groups".
func Counted(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + Plural(noun)
}

// Plural is noun's plural form for the words flyrescue counts.
func Plural(noun string) string {
	switch {
	case strings.HasSuffix(noun, "s"), strings.HasSuffix(noun, "x"), strings.HasSuffix(noun, "ch"):
		return noun + "es"
	case strings.HasSuffix(noun, "y") && len(noun) > 1 && !strings.ContainsRune("aeiou", rune(noun[len(noun)-2])):
		return noun[:len(noun)-1] + "ies"
	}
	return noun + "s"
}

// Nearest returns the candidate closest to word by edit distance, for a
// "did you mean …?" hint. It returns false when nothing is close enough to
// be a typo: at most a third of the word's letters (and at least one) may
// differ.
func Nearest(word string, candidates []string) (string, bool) {
	word = strings.ToLower(word)
	best, bestDist := "", -1
	for _, c := range candidates {
		d := editDistance(word, strings.ToLower(c))
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	limit := max(1, len([]rune(word))/3)
	if bestDist < 0 || bestDist > limit {
		return "", false
	}
	return best, true
}

// editDistance is the Levenshtein distance between a and b, counting a swap
// of two neighbours as one edit (the commonest typo).
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// Agree picks the singular or plural form for a count: Agree(n, "is", "are").
func Agree(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
