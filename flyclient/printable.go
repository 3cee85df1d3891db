package flyclient

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Printable is s made safe to show: secrets redacted (see Redact) and every
// control character a terminal could act on escaped, so an escape sequence
// from the API, a journal or an argument is shown, never obeyed. Newlines
// and tabs are kept.
func Printable(s string) string { return EscapeControls(Redact(s), "\n\t") }

// PrintableLine is Printable for text that must stay on one line: newlines
// and carriage returns are escaped too.
func PrintableLine(s string) string { return EscapeControls(Redact(s), "\t") }

// EscapeControls writes C0 controls (but those in keep), DEL and C1
// controls as \xNN or \uNNNN, and bytes that are not UTF-8 as \xNN (an
// 8-bit terminal reads a lone 0x9b as CSI).
func EscapeControls(s, keep string) string {
	if !needsEscape(s, keep) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case (r < 0x20 || r == 0x7f) && !strings.ContainsRune(keep, r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r <= 0x9f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func needsEscape(s, keep string) bool {
	ascii := true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 0x80:
			ascii = false
		case c == 0x7f, c < 0x20 && strings.IndexByte(keep, c) < 0:
			return true
		}
	}
	return !ascii && (!utf8.ValidString(s) || hasC1(s))
}

func hasC1(s string) bool {
	for _, r := range s {
		if r >= 0x80 && r <= 0x9f {
			return true
		}
	}
	return false
}
