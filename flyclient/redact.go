package flyclient

import (
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Secrets never leave the process: some proxies and gateways echo the
// Authorization header in their error bodies, and those bodies become error
// text that is printed, journaled and pasted into incident channels. Redact
// sits between every error and every output.

const redacted = "[REDACTED]"

var (
	secretsMu sync.RWMutex
	secrets   []string // longest first, so a token is removed before its parts
)

// tokenShapes match credentials by their shape, whatever token the process
// was given: Fly macaroons and OAuth tokens, and any Bearer or FlyV1
// Authorization value.
var tokenShapes = []*regexp.Regexp{
	regexp.MustCompile(`(?i)\b(FlyV1|Bearer)\s+[^\s"'\\]+`),
	regexp.MustCompile(`\bf[mo][0-9][a-z]?_[A-Za-z0-9+/=_\-.,]+`),
}

// RegisterSecret makes Redact remove s (and each comma-separated token in it,
// with or without its FlyV1/Bearer scheme) from any text. flyclient.New
// registers the token it is given.
func RegisterSecret(s string) {
	var parts []string
	add := func(p string) {
		p = strings.TrimSpace(p)
		if len(p) >= 8 {
			parts = append(parts, p)
		}
	}
	add(s)
	bare := stripScheme(strings.TrimSpace(s))
	add(bare)
	for _, p := range strings.Split(bare, ",") {
		add(stripScheme(strings.TrimSpace(p)))
	}
	if len(parts) == 0 {
		return
	}
	secretsMu.Lock()
	defer secretsMu.Unlock()
	for _, p := range parts {
		known := false
		for _, q := range secrets {
			known = known || q == p
		}
		if !known {
			secrets = append(secrets, p)
		}
	}
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
}

func stripScheme(s string) string {
	for _, scheme := range []string{"FlyV1 ", "Bearer ", "flyv1 ", "bearer "} {
		if strings.HasPrefix(s, scheme) {
			return strings.TrimSpace(s[len(scheme):])
		}
	}
	return s
}

// Redact removes every registered secret and anything shaped like a Fly
// token or an Authorization value from s.
func Redact(s string) string {
	if s == "" {
		return s
	}
	secretsMu.RLock()
	for _, sec := range secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, redacted)
		}
	}
	secretsMu.RUnlock()
	s = tokenShapes[0].ReplaceAllStringFunc(s, func(m string) string {
		scheme, _, _ := strings.Cut(m, " ")
		if strings.HasSuffix(m, redacted) {
			return m
		}
		return scheme + " " + redacted
	})
	return tokenShapes[1].ReplaceAllString(s, redacted)
}

// RedactError is err with its text redacted (nil stays nil). The kind is
// kept: errors.Is still matches the original.
func RedactError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if clean := Redact(msg); clean != msg {
		return &redactedError{msg: clean, err: err}
	}
	return err
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
