package flyclient_test

import (
	"testing"

	"github.com/flyrescue/flyrescue/flyclient"
)

func TestEscapeControls(t *testing.T) {
	for _, c := range []struct{ in, keep, want string }{
		{"plain text, ünïcödé ✓", "", "plain text, ünïcödé ✓"},
		{"\x1b[31mred\x1b[0m", "\n\t", `\x1b[31mred\x1b[0m`},
		{"a\nb\tc\rd", "\n\t", "a\nb\tc\\x0dd"},
		{"a\nb\tc", "\t", "a\\x0ab\tc"},
		{"bell\x07 del\x7f", "", `bell\x07 del\x7f`},
		{"c1 csi \u009b31m", "", `c1 csi \u009b31m`},
		{"raw byte \x9b31m", "", `raw byte \x9b31m`},
		{"\x00nul", "", `\x00nul`},
	} {
		if got := flyclient.EscapeControls(c.in, c.keep); got != c.want {
			t.Errorf("EscapeControls(%q, %q) = %q, want %q", c.in, c.keep, got, c.want)
		}
	}
}

func TestPrintableRedactsAndEscapes(t *testing.T) {
	flyclient.RegisterSecret("printable-secret-123")
	got := flyclient.PrintableLine("echo: printable-secret-123\n\x1b]0;title\x07")
	if want := `echo: [REDACTED]\x0a\x1b]0;title\x07`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := flyclient.Printable("two\nlines"); got != "two\nlines" {
		t.Fatalf("Printable dropped a newline: %q", got)
	}
}
