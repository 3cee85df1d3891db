package model

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Filter is a parsed filter query: every clause must hold. A nil or empty
// Filter matches everything. The dashboard's "/" and the command line's
// --filter share it, so a query means the same thing in both.
type Filter struct {
	clauses []clause
}

type clauseKind int

const (
	clauseText clauseKind = iota // one free-text word, matched fuzzily
	clauseGroup
	clauseState
	clauseRegion
	clauseImage
	clauseChecks
	clauseStuck // bare "stuck"
)

var qualifierNames = map[string]clauseKind{
	"group":  clauseGroup,
	"state":  clauseState,
	"region": clauseRegion,
	"image":  clauseImage,
	"checks": clauseChecks,
}

func (k clauseKind) name() string {
	for n, q := range qualifierNames {
		if q == k {
			return n
		}
	}
	return ""
}

// clause is one condition; values are lowercase and any one of them matches.
type clause struct {
	kind   clauseKind
	negate bool
	values []string
}

const qualifierHelp = "use group:, state:, region:, image:, checks:, stuck"

// filterStates are the state: values we accept: the API's documented states
// plus our own "stuck". Rejecting others catches typos like state:faild.
var filterStates = []string{
	StateFailed, StateStuck, StateReplacing, StateUpdating, StateCreated, "creating",
	StateStarting, StateStarted, StateStopping, StateStopped, StateRestarting,
	StateSuspending, StateSuspended, StateDestroying, StateDestroyed,
	"launch_failed", "replaced", "migrated",
}

var filterChecks = []string{ChecksPassing, ChecksWarning, ChecksCritical, ChecksNone}

// ParseFilter parses a query such as
//
//	group:worker_autoscale state:failed,replacing -region:syd web
//
// Words are free text matched fuzzily; qualifier values separated by commas
// mean any of them; a leading "-" negates a word or qualifier; double or
// single quotes protect spaces, commas and colons. Matching is
// case-insensitive. It never panics; errors are one line saying what to do.
func ParseFilter(query string) (*Filter, error) {
	tokens, err := splitTokens(query)
	if err != nil {
		return nil, err
	}
	f := &Filter{}
	for _, tok := range tokens {
		c, err := parseToken(tok)
		if err != nil {
			return nil, err
		}
		f.clauses = append(f.clauses, c)
	}
	return f, nil
}

// piece is a run of token text, quoted or not: quoting decides whether a
// colon or comma inside it is syntax or literal.
type piece struct {
	text   string
	quoted bool
}

// splitTokens splits on unquoted whitespace, shell-style: quotes may appear
// anywhere in a token, and a backslash inside quotes escapes the next rune.
func splitTokens(query string) ([][]piece, error) {
	var tokens [][]piece
	var cur []piece
	var plain strings.Builder
	inToken := false
	flush := func() {
		if plain.Len() > 0 {
			cur = append(cur, piece{text: plain.String()})
			plain.Reset()
		}
	}
	for i := 0; i < len(query); {
		r, size := utf8.DecodeRuneInString(query[i:])
		switch {
		case unicode.IsSpace(r):
			if inToken {
				flush()
				tokens = append(tokens, cur)
				cur, inToken = nil, false
			}
			i += size
		case r == '"' || r == '\'':
			inToken = true
			flush()
			var quoted strings.Builder
			j := i + size
			closed := false
			for j < len(query) {
				q, qs := utf8.DecodeRuneInString(query[j:])
				if q == '\\' && j+qs < len(query) {
					e, es := utf8.DecodeRuneInString(query[j+qs:])
					quoted.WriteRune(e)
					j += qs + es
					continue
				}
				j += qs
				if q == r {
					closed = true
					break
				}
				quoted.WriteRune(q)
			}
			if !closed {
				return nil, fmt.Errorf("unclosed %c quote at column %d (add a closing %c)", r, utf8.RuneCountInString(query[:i])+1, r)
			}
			cur = append(cur, piece{text: quoted.String(), quoted: true})
			i = j
		default:
			inToken = true
			plain.WriteRune(r)
			i += size
		}
	}
	if inToken {
		flush()
		tokens = append(tokens, cur)
	}
	return tokens, nil
}

// parseToken turns one token into a clause.
func parseToken(tok []piece) (clause, error) {
	var c clause
	if len(tok) > 0 && !tok[0].quoted && strings.HasPrefix(tok[0].text, "-") {
		c.negate = true
		tok = slices.Clone(tok)
		tok[0].text = tok[0].text[1:]
		if tok[0].text == "" {
			tok = tok[1:]
		}
		if len(tok) == 0 {
			return c, fmt.Errorf(`"-" on its own negates nothing (write -word or -qualifier:value, e.g. -region:syd)`)
		}
	}
	// A qualifier is unquoted text before the first unquoted colon.
	if !tok[0].quoted {
		if colon := strings.IndexByte(tok[0].text, ':'); colon >= 0 {
			name := strings.ToLower(tok[0].text[:colon])
			rest := append([]piece{{text: tok[0].text[colon+1:]}}, tok[1:]...)
			return parseQualifier(c, name, rest)
		}
		if len(tok) == 1 && strings.EqualFold(tok[0].text, "stuck") {
			c.kind = clauseStuck
			return c, nil
		}
	}
	var word strings.Builder
	for _, p := range tok {
		word.WriteString(p.text)
	}
	if word.Len() == 0 {
		return c, fmt.Errorf(`empty quotes "" match nothing (put a word between them or remove them)`)
	}
	c.kind = clauseText
	c.values = []string{strings.ToLower(word.String())}
	return c, nil
}

func parseQualifier(c clause, name string, rest []piece) (clause, error) {
	kind, ok := qualifierNames[name]
	if !ok {
		if name == "stuck" {
			return c, fmt.Errorf(`stuck takes no value (write stuck or -stuck)`)
		}
		if name == "" {
			return c, fmt.Errorf(`":" without a qualifier before it (%s)`, qualifierHelp)
		}
		return c, fmt.Errorf(`unknown qualifier %q (%s)`, name+":", qualifierHelp)
	}
	c.kind = kind
	// Split on unquoted commas only.
	var val strings.Builder
	hasVal := false
	emit := func() error {
		if !hasVal {
			return fmt.Errorf(`empty value in %s: (write %s:VALUE, or %s:a,b for any of several)`, name, name, name)
		}
		c.values = append(c.values, strings.ToLower(val.String()))
		val.Reset()
		hasVal = false
		return nil
	}
	for _, p := range rest {
		if p.quoted {
			val.WriteString(p.text)
			hasVal = hasVal || p.text != ""
			continue
		}
		parts := strings.Split(p.text, ",")
		for k, part := range parts {
			if k > 0 {
				if err := emit(); err != nil {
					return c, err
				}
			}
			val.WriteString(part)
			hasVal = hasVal || part != ""
		}
	}
	if err := emit(); err != nil {
		return c, err
	}
	for _, v := range c.values {
		if err := validateValue(kind, name, v); err != nil {
			return c, err
		}
	}
	return c, nil
}

func validateValue(kind clauseKind, name, v string) error {
	switch kind {
	case clauseState:
		if !slices.Contains(filterStates, v) {
			return fmt.Errorf("unknown state %q in state: (use %s)", v, strings.Join(filterStates, ", "))
		}
	case clauseChecks:
		if !slices.Contains(filterChecks, v) {
			return fmt.Errorf("unknown check status %q in checks: (use %s)", v, strings.Join(filterChecks, ", "))
		}
	}
	return nil
}

// String renders the filter canonically: lowercase, one clause per word,
// values quoted only when they must be. It parses back to an equal filter.
func (f *Filter) String() string {
	if f == nil {
		return ""
	}
	var b strings.Builder
	for i, c := range f.clauses {
		if i > 0 {
			b.WriteByte(' ')
		}
		if c.negate {
			b.WriteByte('-')
		}
		switch c.kind {
		case clauseStuck:
			b.WriteString("stuck")
		case clauseText:
			v := c.values[0]
			if v == "stuck" || needsQuotes(v, false) {
				writeQuoted(&b, v)
			} else {
				b.WriteString(v)
			}
		default:
			b.WriteString(c.kind.name())
			b.WriteByte(':')
			for k, v := range c.values {
				if k > 0 {
					b.WriteByte(',')
				}
				if needsQuotes(v, true) {
					writeQuoted(&b, v)
				} else {
					b.WriteString(v)
				}
			}
		}
	}
	return b.String()
}

// needsQuotes reports whether v would not survive re-parsing bare: it holds
// syntax characters, or (as a word) starts with "-" or contains a colon.
func needsQuotes(v string, inQualifier bool) bool {
	if v == "" || (!inQualifier && v[0] == '-') {
		return true
	}
	for _, r := range v {
		if unicode.IsSpace(r) || r == '"' || r == '\'' || r == '\\' || r == ',' || r == ':' || r == utf8.RuneError {
			return true
		}
	}
	return false
}

func writeQuoted(b *strings.Builder, v string) {
	b.WriteByte('"')
	for _, r := range v {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
}
