package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
		}, args: []string{"restart", "-a", "shop", "--all", "--yes"},
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
		{name: "stop with no scope", args: []string{"stop", "-a", "shop", "--yes"},
			code: exitUsage, says: []string{"every machine of the app", "--select", "--all"}},
		{name: "destroy --force with no scope", args: []string{"destroy", "-a", "shop", "--force", "--yes"},
			code: exitUsage, says: []string{"every machine of the app", "--all"}},
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

// An API that keeps answering 429 past the retries gives exit 6 and a
// message that says what to do, for a survey and for an action; nothing
// changes.
func TestRateLimitedTooLong(t *testing.T) {
	srv := simEnv(t, flysim.Options{App: "shop", Scenario: "majority", Machines: 20})
	srv.Sim.SetThrottled(true)
	for _, args := range [][]string{
		{"status", "-a", "shop"},
		{"restart", "-a", "shop", "--select", "group:web", "--yes", "--retries", "2"},
	} {
		r := runCLI(t, args...)
		if r.code != exitRateLimited {
			t.Fatalf("%v: exit %d, want %d: %v", args, r.code, exitRateLimited, r.err)
		}
		msg := r.err.Error()
		if strings.Contains(msg, "\n") || !strings.Contains(msg, "rate limit") || !strings.Contains(msg, "wait a minute and retry") {
			t.Errorf("%v: message %q", args, msg)
		}
	}
	if st := srv.Sim.Stats(); st.RateLimited < 3 || len(st.MutationsPerMachine) != 0 {
		t.Fatalf("%d requests refused with 429, %d machines changed", st.RateLimited, len(st.MutationsPerMachine))
	}
}

// An action that ran and failed on some machines exits 9, names how many,
// points to the journal, and still finishes the others.
func TestActionPartlyFailed(t *testing.T) {
	srv := simEnv(t, flysim.Options{App: "shop", Scenario: "majority", Machines: 40})
	var web []string
	for _, m := range srv.Sim.Machines() {
		if m.Group == "web" && m.State == "started" {
			web = append(web, m.ID)
		}
	}
	if len(web) < 3 {
		t.Fatalf("only %d started web machines", len(web))
	}
	held := web[0]
	if err := srv.Sim.HoldLease(held, "someone-else@example.com", time.Hour); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"restart", "-a", "shop", "--yes", "--retries", "1"}, web...)
	r := runCLI(t, args...)
	if r.code != exitActionFailed {
		t.Fatalf("exit %d, want %d: %v\n%s", r.code, exitActionFailed, r.err, r.stdout)
	}
	msg := r.err.Error()
	want := "1 machine was left out because someone else holds their lease"
	if strings.Contains(msg, "\n") || !strings.Contains(msg, want) || !strings.Contains(msg, "flyrescue clear-lease") {
		t.Errorf("message %q, want %q and how to clear it", msg, want)
	}
	if !strings.Contains(r.stdout, held) || !strings.Contains(r.stdout, "someone-else@example.com") {
		t.Errorf("the output does not say which machine failed and who holds it:\n%s", r.stdout)
	}
	mutated := srv.Sim.Stats().MutationsPerMachine
	if mutated[held] != 0 {
		t.Errorf("the leased machine was changed")
	}
	for _, id := range web[1:] {
		if mutated[id] == 0 {
			t.Errorf("%s was not restarted", id)
		}
	}
	lr := runCLI(t, "log", "-a", "shop", "--json")
	if lr.err != nil || !strings.Contains(lr.stdout, held) {
		t.Fatalf("the journal lacks the failed machine: %v", lr.err)
	}
	journal, err := os.ReadFile(filepath.Join(os.Getenv("FLYRESCUE_STATE_DIR"), "shop.jsonl"))
	if err != nil || len(journal) == 0 {
		t.Fatalf("no journal: %v", err)
	}
	if strings.Contains(string(journal)+r.stdout+lr.stdout, "sim-token") {
		t.Fatal("the API token reached the journal or the output")
	}
}

// The simulator refuses to listen beyond loopback unless told to.
func TestSimRefusesNonLoopback(t *testing.T) {
	isolate(t)
	for _, addr := range []string{"0.0.0.0:0", "10.1.2.3:4280", "[::]:0", "example.com:80"} {
		r := runCLI(t, "sim", "--addr", addr)
		if r.code != exitUsage || !strings.Contains(r.err.Error(), "--allow-remote") || !strings.Contains(r.err.Error(), "127.0.0.1") {
			t.Errorf("%s: exit %d: %v", addr, r.code, r.err)
		}
	}
	if r := runCLI(t, "sim", "--addr", "no-port"); r.code != exitUsage || !strings.Contains(r.err.Error(), "--addr") {
		t.Errorf("no port: exit %d: %v", r.code, r.err)
	}
}
