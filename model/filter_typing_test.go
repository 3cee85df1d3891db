package model

import (
	"strings"
	"testing"
)

// While a word is being typed, an error it could still grow out of is a
// hint and the words before it apply; an error no typing can fix, or any
// error once the word is finished (a space after it), makes the query
// invalid, with ParseFilter's message.
func TestParseFilterTyping(t *testing.T) {
	for _, tc := range []struct {
		query   string
		applied string // the filter in force ("" = everything); "-" = invalid
		typing  string // part of the hint, "" = none
		err     string // part of the error, "" = none
	}{
		{query: "grou", applied: "grou"},
		{query: "group:", applied: "", typing: "empty value in group:"},
		{query: "web group:", applied: "web", typing: "empty value in group:"},
		{query: "group:w", applied: "group:w"},
		{query: "state:fai", applied: "", typing: `unknown state "fai"`},
		{query: "STATE:FAI", applied: "", typing: `unknown state "fai"`},
		{query: "state:failed,", applied: "", typing: "empty value in state:"},
		{query: "checks:crit", applied: "", typing: "unknown check status"},
		{query: "-", applied: "", typing: `"-" on its own`},
		{query: `web "iad wo`, applied: "web", typing: "unclosed"},
		{query: "image:old -", applied: "image:old", typing: `"-" on its own`},
		// No continuation can fix these: invalid at once.
		{query: "grup:", applied: "-", err: `unknown qualifier "grup:"`},
		{query: "grup:worker_autoscale", applied: "-", err: `unknown qualifier "grup:"`},
		{query: "state:faix", applied: "-", err: `unknown state "faix"`},
		{query: "stuck:", applied: "-", err: "stuck takes no value"},
		{query: ":", applied: "-", err: `":" without a qualifier`},
		// A finished word, or a bad word before the last, is an error.
		{query: "group: ", applied: "-", err: "empty value in group:"},
		{query: "state:fai web", applied: "-", err: `unknown state "fai"`},
		{query: "grup:x state:fai", applied: "-", err: `unknown qualifier "grup:"`},
	} {
		f, typing, err := ParseFilterTyping(tc.query)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) || f != nil || typing != nil {
				t.Errorf("%q: filter %v, typing %v, err %v; want err %q", tc.query, f, typing, err, tc.err)
			}
			continue
		case err != nil:
			t.Errorf("%q: unexpected error %v", tc.query, err)
			continue
		}
		if got := f.String(); got != tc.applied {
			t.Errorf("%q: applies %q, want %q", tc.query, got, tc.applied)
		}
		if (typing == nil) != (tc.typing == "") || typing != nil && !strings.Contains(typing.Error(), tc.typing) {
			t.Errorf("%q: typing hint %v, want %q", tc.query, typing, tc.typing)
		}
	}
}
