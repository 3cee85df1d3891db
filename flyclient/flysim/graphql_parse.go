package flysim

import (
	"fmt"
	"strconv"
	"strings"
)

// A small reader of GraphQL query documents: enough of the language for the
// queries fly-go and flyctl send (aliases, arguments, variables, nested
// selections, fragments), so the sim answers exactly the fields asked for,
// under the names asked for, instead of guessing from substrings.

// gqlSelection is one entry of a selection set: a field, or a fragment
// spread or inline fragment whose fields are merged in (the sim's objects
// have one type each, so type conditions are not checked).
type gqlSelection struct {
	alias, name string
	args        map[string]gqlValue
	sel         []gqlSelection
	hasSel      bool   // the field had a selection set (an object is expected)
	spread      string // fragment spread: the fragment's name
}

// gqlValue is an argument as written: a variable reference or a literal.
type gqlValue struct {
	variable string
	literal  any
}

func (v gqlValue) resolve(vars map[string]any) any {
	if v.variable != "" {
		return vars[v.variable]
	}
	return v.literal
}

type gqlDocument struct {
	opType    string         // the first operation's: query, mutation or subscription
	operation []gqlSelection // its selection set
	fragments map[string][]gqlSelection
}

type gqlParser struct {
	src  string
	pos  int
	tok  string // current token; "" at the end
	kind byte   // 'n' name, 's' string, '0' number, 'p' punctuator
}

func parseGraphQL(src string) (doc *gqlDocument, err error) {
	defer func() {
		if r := recover(); r != nil {
			perr, ok := r.(gqlSyntaxError)
			if !ok {
				panic(r)
			}
			doc, err = nil, perr
		}
	}()
	p := &gqlParser{src: src}
	p.next()
	doc = &gqlDocument{fragments: map[string][]gqlSelection{}}
	seenOp := false
	for p.tok != "" {
		switch {
		case p.tok == "{":
			sel := p.selectionSet()
			if !seenOp {
				doc.opType, doc.operation, seenOp = "query", sel, true
			}
		case p.tok == "fragment":
			p.next()
			name := p.name()
			p.expect("on")
			p.name()
			p.directives()
			doc.fragments[name] = p.selectionSet()
		case p.tok == "query" || p.tok == "mutation" || p.tok == "subscription":
			opType := p.tok
			p.next()
			if p.kind == 'n' {
				p.next()
			}
			if p.tok == "(" {
				p.skipBalanced("(", ")")
			}
			p.directives()
			sel := p.selectionSet()
			if !seenOp {
				doc.opType, doc.operation, seenOp = opType, sel, true
			}
		default:
			p.fail("unexpected %q", p.tok)
		}
	}
	if !seenOp {
		return nil, gqlSyntaxError("no operation in the document")
	}
	return doc, nil
}

type gqlSyntaxError string

func (e gqlSyntaxError) Error() string { return "Syntax Error: " + string(e) }

func (p *gqlParser) fail(format string, a ...any) {
	panic(gqlSyntaxError(fmt.Sprintf(format, a...) + fmt.Sprintf(" at offset %d", p.pos)))
}

func (p *gqlParser) expect(tok string) {
	if p.tok != tok {
		p.fail("expected %q, found %q", tok, p.tok)
	}
	p.next()
}

func (p *gqlParser) name() string {
	if p.kind != 'n' {
		p.fail("expected a name, found %q", p.tok)
	}
	n := p.tok
	p.next()
	return n
}

func (p *gqlParser) selectionSet() []gqlSelection {
	p.expect("{")
	var out []gqlSelection
	for p.tok != "}" {
		if p.tok == "" {
			p.fail("unterminated selection set")
		}
		out = append(out, p.selection())
	}
	p.next()
	return out
}

func (p *gqlParser) selection() gqlSelection {
	if p.tok == "..." {
		p.next()
		if p.tok == "on" || p.tok == "{" || p.tok == "@" {
			if p.tok == "on" {
				p.next()
				p.name()
			}
			p.directives()
			return gqlSelection{sel: p.selectionSet(), hasSel: true}
		}
		s := gqlSelection{spread: p.name()}
		p.directives()
		return s
	}
	s := gqlSelection{name: p.name()}
	if p.tok == ":" {
		p.next()
		s.alias, s.name = s.name, p.name()
	}
	if s.alias == "" {
		s.alias = s.name
	}
	if p.tok == "(" {
		s.args = p.arguments()
	}
	p.directives()
	if p.tok == "{" {
		s.sel, s.hasSel = p.selectionSet(), true
	}
	return s
}

func (p *gqlParser) arguments() map[string]gqlValue {
	p.expect("(")
	args := map[string]gqlValue{}
	for p.tok != ")" {
		n := p.name()
		p.expect(":")
		args[n] = p.value()
	}
	p.next()
	return args
}

// directives are read and ignored (@include and @skip are not used by the
// clients the sim serves).
func (p *gqlParser) directives() {
	for p.tok == "@" {
		p.next()
		p.name()
		if p.tok == "(" {
			p.arguments()
		}
	}
}

func (p *gqlParser) value() gqlValue {
	switch {
	case p.tok == "$":
		p.next()
		return gqlValue{variable: p.name()}
	case p.kind == 's':
		v := p.tok
		p.next()
		return gqlValue{literal: v}
	case p.kind == '0':
		v := p.tok
		p.next()
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return gqlValue{literal: float64(n)} // as encoding/json decodes numbers
		}
		f, _ := strconv.ParseFloat(v, 64)
		return gqlValue{literal: f}
	case p.tok == "[":
		p.next()
		var list []any
		for p.tok != "]" {
			list = append(list, p.value().literal)
		}
		p.next()
		return gqlValue{literal: list}
	case p.tok == "{":
		p.next()
		obj := map[string]any{}
		for p.tok != "}" {
			n := p.name()
			p.expect(":")
			obj[n] = p.value().literal
		}
		p.next()
		return gqlValue{literal: obj}
	case p.kind == 'n':
		n := p.name()
		switch n {
		case "true":
			return gqlValue{literal: true}
		case "false":
			return gqlValue{literal: false}
		case "null":
			return gqlValue{}
		}
		return gqlValue{literal: n} // an enum value
	}
	p.fail("expected a value, found %q", p.tok)
	return gqlValue{}
}

func (p *gqlParser) skipBalanced(open, close string) {
	depth := 0
	for {
		switch p.tok {
		case open:
			depth++
		case close:
			depth--
		case "":
			p.fail("unbalanced %q", open)
		}
		p.next()
		if depth == 0 {
			return
		}
	}
}

// next reads the next token, skipping white space, commas and comments.
func (p *gqlParser) next() {
	s := p.src
	for p.pos < len(s) {
		c := s[p.pos]
		if c == '#' {
			for p.pos < len(s) && s[p.pos] != '\n' {
				p.pos++
			}
			continue
		}
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' {
			p.pos++
			continue
		}
		break
	}
	if p.pos >= len(s) {
		p.tok, p.kind = "", 0
		return
	}
	start := p.pos
	c := s[p.pos]
	switch {
	case strings.HasPrefix(s[p.pos:], "..."):
		p.pos += 3
		p.tok, p.kind = "...", 'p'
	case strings.IndexByte("!$():=@[]{|}&", c) >= 0:
		p.pos++
		p.tok, p.kind = s[start:p.pos], 'p'
	case c == '"':
		p.tok, p.kind = p.stringToken(), 's'
	case c == '-' || c >= '0' && c <= '9':
		p.pos++
		for p.pos < len(s) && strings.IndexByte("0123456789.eE+-", s[p.pos]) >= 0 {
			p.pos++
		}
		p.tok, p.kind = s[start:p.pos], '0'
	case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		for p.pos < len(s) && (s[p.pos] == '_' || s[p.pos] >= 'a' && s[p.pos] <= 'z' ||
			s[p.pos] >= 'A' && s[p.pos] <= 'Z' || s[p.pos] >= '0' && s[p.pos] <= '9') {
			p.pos++
		}
		p.tok, p.kind = s[start:p.pos], 'n'
	default:
		p.fail("unexpected character %q", c)
	}
}

func (p *gqlParser) stringToken() string {
	s := p.src
	if strings.HasPrefix(s[p.pos:], `"""`) {
		end := strings.Index(s[p.pos+3:], `"""`)
		if end < 0 {
			p.fail("unterminated block string")
		}
		v := s[p.pos+3 : p.pos+3+end]
		p.pos += end + 6
		return v
	}
	start := p.pos
	p.pos++
	for p.pos < len(s) && s[p.pos] != '"' {
		if s[p.pos] == '\\' {
			p.pos++
		}
		p.pos++
	}
	if p.pos >= len(s) {
		p.fail("unterminated string")
	}
	p.pos++
	v, err := strconv.Unquote(s[start:p.pos])
	if err != nil {
		p.fail("bad string %s", s[start:p.pos])
	}
	return v
}
