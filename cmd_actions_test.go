package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

// Every failing action command exits with its own code and a one-line
// message saying what to do, and changes no machine.
func TestActionErrorsChangeNothing(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T) // after simEnv
		args  []string
		code  int
		says  []string
	}{
		{name: "selection matches nothing", args: []string{"update", "-a", "shop", "--select", "group:nope", "--yes"},
			code: exitNothingToDo, says: []string{"matched no machine", "flyrescue status -a shop", "nothing was changed"}},
		{name: "malformed selection", args: []string{"restart", "-a", "shop", "--select", "nosuchqualifier:x", "--yes"},
			code: exitUsage, says: []string{"--select"}},
		{name: "unterminated quote in selection", args: []string{"stop", "-a", "shop", "--select", `group:"web`, "--yes"},
			code: exitUsage, says: []string{"--select"}},
		{name: "negative scale count", args: []string{"scale", "web", "-1", "-a", "shop", "--yes"},
			code: exitUsage, says: []string{`COUNT "-1"`, "0 or more"}},
		{name: "non-numeric scale count", args: []string{"scale", "web", "abc", "-a", "shop", "--yes"},
			code: exitUsage, says: []string{`COUNT "abc"`, "0 or more"}},
		{name: "unknown release", args: []string{"rollback", "-a", "shop", "--release", "v999", "--yes"},
			code: exitNotFound, says: []string{"v999", "fly releases"}},
		{name: "unknown machine", args: []string{"restart", "-a", "shop", "nosuchmachine", "--yes"},
			code: exitNotFound, says: []string{"nosuchmachine"}},
		{name: "invalid image", args: []string{"update", "-a", "shop", "--image", "not an image", "--yes"},
			code: exitUsage, says: []string{"REGISTRY/REPO:TAG"}},
		{name: "unknown flag", args: []string{"destroy", "-a", "shop", "--frobnicate"},
			code: exitUsage, says: []string{"--frobnicate", "flyrescue destroy --help"}},
		{name: "journal dir under a regular file", setup: func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "state")
			writeTestFile(t, file, "not a directory\n")
			t.Setenv("FLYRESCUE_STATE_DIR", filepath.Join(file, "sub"))
		}, args: []string{"update", "-a", "shop", "--yes"},
			code: exitJournal, says: []string{"journal", "--journal-dir"}},
		{name: "journal dir is a regular file", setup: func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "state")
			writeTestFile(t, file, "not a directory\n")
			t.Setenv("FLYRESCUE_STATE_DIR", file)
		}, args: []string{"restart", "-a", "shop", "--yes"},
			code: exitJournal, says: []string{"journal", "--journal-dir"}},
		{name: "journal corrupt before its last line", setup: func(t *testing.T) {
			dir := os.Getenv("FLYRESCUE_STATE_DIR")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			rec := `{"type":"action","at":"2026-01-02T15:04:05Z","action":{"id":"a1","kind":"restart","app":"shop","operator":"t","steps":[]}}`
			writeTestFile(t, filepath.Join(dir, "shop.jsonl"), rec+"\n{garbage in the middle\n"+rec+"\n")
		}, args: []string{"update", "-a", "shop", "--yes"},
			code: exitJournal, says: []string{"shop.jsonl:2:", "corrupt", "move the file aside"}},
		{name: "no --yes and no terminal", args: []string{"update", "-a", "shop", "--select", "group:web"},
			code: exitRefused, says: []string{"--yes", "--dry-run"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := simEnv(t, flysim.Options{App: "shop", Scenario: "majority", Machines: 40})
			if c.setup != nil {
				c.setup(t)
			}
			r := runCLI(t, c.args...)
			if r.code != c.code {
				t.Fatalf("exit code %d, want %d: %v\n%s", r.code, c.code, r.err, r.stdout)
			}
			msg := r.err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("message is not one line: %q", msg)
			}
			for _, s := range c.says {
				if !strings.Contains(msg, s) {
					t.Errorf("message lacks %q: %s", s, msg)
				}
			}
			if strings.Contains(msg+r.stdout+r.stderr, "sim-token") {
				t.Error("the API token was printed")
			}
			if m := srv.Sim.Stats().MutationsPerMachine; len(m) != 0 {
				t.Fatalf("machines were changed: %v", m)
			}
		})
	}
}

// A journal that cannot be read also stops `log`, naming file and line.
func TestLogCorruptJournal(t *testing.T) {
	isolate(t)
	dir := os.Getenv("FLYRESCUE_STATE_DIR")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	rec := `{"type":"action","at":"2026-01-02T15:04:05Z","action":{"id":"a1","kind":"restart","app":"shop","operator":"t","steps":[]}}`
	writeTestFile(t, filepath.Join(dir, "shop.jsonl"), rec+"\nnot json\n"+rec+"\n")
	for _, format := range []string{"--json", "--markdown"} {
		r := runCLI(t, "log", "-a", "shop", format)
		if r.code != exitJournal || !strings.Contains(r.err.Error(), "shop.jsonl:2:") {
			t.Fatalf("%s: code %d: %v", format, r.code, r.err)
		}
	}
}
