package config

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"unicode"
)

// CheckMaxUnavailable refuses a budget that is not a positive, finite
// number: NaN compares false with everything, so it would let every
// machine of a group go down at once. The file and --max-unavailable share
// it; the message names neither, the caller does.
func CheckMaxUnavailable(v float64) error {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return fmt.Errorf("%v is not a number of machines: write a fraction like 0.33 or a count like 5", v)
	case v <= 0:
		return fmt.Errorf("%v is not above 0: write a fraction like 0.33 or a count like 5", v)
	}
	return nil
}

// MaxAppNameLength is the longest app name Fly accepts (a DNS label:
// APP.fly.dev).
const MaxAppNameLength = 63

var appNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// CheckAppName refuses what cannot be a Fly app name: Fly allows lowercase
// letters, digits and dashes, not starting with a dash. The name becomes a
// file name (the journal) and a URL path, so nothing else gets through.
// source says where the name came from (-a/--app, FLY_APP, a fly.toml).
func CheckAppName(name, source string) error {
	if len(name) <= MaxAppNameLength && appNameRE.MatchString(name) {
		return nil
	}
	why := "use lowercase letters, digits and dashes, starting with a letter or digit"
	switch {
	case len(name) > MaxAppNameLength:
		why = fmt.Sprintf("it is %d characters long; Fly allows at most %d", len(name), MaxAppNameLength)
	case strings.ToLower(name) != name && appNameRE.MatchString(strings.ToLower(name)):
		why = fmt.Sprintf("Fly app names are lowercase: %q", strings.ToLower(name))
	}
	return fmt.Errorf("app name %q from %s is not a Fly app name: %s (check %s)", name, source, why, source)
}

// checkToken refuses a token with a control character in it: it cannot be
// sent in a header, and it usually means a file or variable was pasted
// with a line break. The token itself is never shown.
func checkToken(token string, source TokenSource) error {
	for _, r := range token {
		if !unicode.IsControl(r) {
			continue
		}
		what := fmt.Sprintf("a control character (%U)", r)
		switch r {
		case '\n', '\r':
			what = "a newline"
		case '\t':
			what = "a tab"
		}
		return fmt.Errorf("the token has %s in it: check %s (a token is one line, as `fly tokens create deploy` prints it)", what, source)
	}
	return nil
}
