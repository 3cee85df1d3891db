package main

import (
	"strings"
	"testing"
	"unicode"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Help reads like flyctl's: every command has a one-line summary in
// sentence case without a full stop, every flag a capitalised description,
// every command that changes machines an example, and --help works for all.
func TestHelpReadsLikeFlyctl(t *testing.T) {
	isolate(t)
	root := newRootCmd()
	var walk func(c *cobra.Command)
	seen := 0
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.Hidden || c.Name() == "help" || c.HasParent() && c.Parent().Name() == "completion" || c.Name() == "completion" {
			return
		}
		seen++
		name := c.CommandPath()
		if c.Short == "" || !unicode.IsUpper([]rune(c.Short)[0]) || strings.HasSuffix(c.Short, ".") {
			t.Errorf("%s: Short %q: want a sentence-case summary without a full stop", name, c.Short)
		}
		if c.GroupID == "" && c.HasParent() {
			t.Errorf("%s: not in a help group", name)
		}
		if c.Runnable() && c.Example == "" {
			t.Errorf("%s: no example", name)
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if f.Name == "help" || f.Name == "version" {
				return
			}
			if f.Usage == "" || !unicode.IsUpper([]rune(f.Usage)[0]) {
				t.Errorf("%s --%s: usage %q should start with a capital", name, f.Name, f.Usage)
			}
		})
		args := append(strings.Fields(strings.TrimPrefix(name, "flyrescue")), "--help")
		r := runCLI(t, args...)
		if r.err != nil || !strings.Contains(r.stdout, "Usage:") || !strings.Contains(r.stdout, c.Short) && c.Long == "" {
			t.Errorf("%v: %v\n%s", args, r.err, r.stdout)
		}
	}
	walk(root)
	if seen < 14 {
		t.Fatalf("walked only %d commands", seen)
	}
	// Talking to Fly means flyctl's flags: -a, -c, -t.
	for _, name := range []string{"status", "update", "restart", "start", "stop", "destroy", "scale", "rollback", "undo", "resume", "log"} {
		c, _, err := root.Find([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		for short, long := range map[string]string{"a": "app", "c": "config", "t": "access-token"} {
			if f := c.Flags().ShorthandLookup(short); f == nil || f.Name != long {
				t.Errorf("%s: -%s is not --%s", name, short, long)
			}
		}
	}
}

// Shell completion: scripts for every shell, and values for the enumerated
// flags.
func TestCompletion(t *testing.T) {
	isolate(t)
	for shell, marker := range map[string]string{"bash": "__start_flyrescue", "zsh": "#compdef flyrescue", "fish": "complete -c flyrescue", "powershell": "Register-ArgumentCompleter"} {
		r := runCLI(t, "completion", shell)
		if r.err != nil || !strings.Contains(r.stdout, marker) {
			t.Errorf("completion %s: %v (no %q)", shell, r.err, marker)
		}
	}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", ""}, []string{"status", "update", "destroy", "demo", "undo"}},
		{[]string{"__complete", "demo", "--scenario", ""}, []string{"total-failure", "majority", "bad-release"}},
		{[]string{"__complete", "--theme", ""}, []string{"auto", "dark", "light"}},
		{[]string{"__complete", "log", "--kind", ""}, []string{"update", "destroy", "undo"}},
		{[]string{"__complete", "update", "--select", ""}, []string{"group:", "state:", "image:old"}},
		{[]string{"__complete", "scale", "--"}, []string{"--back", "--region", "--dry-run"}},
	} {
		r := runCLI(t, c.args...)
		if r.err != nil {
			t.Fatalf("%v: %v", c.args, r.err)
		}
		for _, w := range c.want {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("%v: no %q in\n%s", c.args, w, r.stdout)
			}
		}
	}
}
