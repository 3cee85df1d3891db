package model

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// ParseFilterTyping parses a query that is still being typed at its end, as
// in the dashboard's "/". The language is ParseFilter's, with one
// allowance for the word under the cursor:
//
//   - a query that parses is returned as it is;
//   - when only its last word is wrong and typing on could still make it
//     right (`group:` with no value yet, `state:fai`, an open quote, a lone
//     `-`), the filter of the words before it is returned, with that word's
//     error as typing: the table follows the keystrokes and the error is a
//     hint, not an alarm;
//   - any other error is returned as err, as ParseFilter gives it: an
//     unknown qualifier (`grup:` — no letter typed after the colon can fix
//     the name), a value no state starts with, a bad word before the last,
//     or anything once the query ends in a space.
func ParseFilterTyping(query string) (f *Filter, typing error, err error) {
	f, err = ParseFilter(query)
	if err == nil {
		return f, nil, nil
	}
	start, open := lastWord(query)
	if !open {
		return nil, nil, err
	}
	head, herr := ParseFilter(query[:start])
	if herr != nil {
		return nil, nil, herr
	}
	if !completable(query[start:]) {
		return nil, nil, err
	}
	return head, err, nil
}

// lastWord finds where the query's last word begins, by the rules
// splitTokens splits on, and whether the query ends inside it (no space
// after it, or inside an open quote).
func lastWord(query string) (start int, open bool) {
	var quote rune
	for i := 0; i < len(query); {
		r, size := utf8.DecodeRuneInString(query[i:])
		switch {
		case quote != 0:
			if r == '\\' && i+size < len(query) {
				_, next := utf8.DecodeRuneInString(query[i+size:])
				size += next
			} else if r == quote {
				quote = 0
			}
		case unicode.IsSpace(r):
			open = false
		default:
			if !open {
				start, open = i, true
			}
			if r == '"' || r == '\'' {
				quote = r
			}
		}
		i += size
	}
	return start, open
}

// completable reports whether some continuation of word parses: any text
// (and a closing quote), or the rest of a state: or checks: value.
func completable(word string) bool {
	ends := []string{""}
	if strings.ContainsAny(word, `"'`) {
		ends = append(ends, `"`, `'`)
	}
	for _, end := range ends {
		if _, err := ParseFilter(word + "x" + end); err == nil {
			return true
		}
	}
	for _, values := range [][]string{filterStates, filterChecks} {
		for _, v := range values {
			for i := range len(v) {
				for _, end := range ends {
					if _, err := ParseFilter(word + v[i:] + end); err == nil {
						return true
					}
				}
			}
		}
	}
	return false
}
