package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
	"github.com/flyrescue/flyrescue/recovery"
)

// wholeID is the journal's form of an action ID, which people never see.
var wholeID = regexp.MustCompile(`\d{8}T\d{6}-[0-9a-f]{6}`)

// seenBy runs the command line and returns what people read of it
// (stdout and stderr), failing on a whole action ID in it.
func seenBy(t *testing.T, code int, args ...string) string {
	t.Helper()
	r := runCLI(t, args...)
	if r.code != code {
		t.Fatalf("%v: exit %d, want %d: %v\n%s", args, r.code, code, r.err, r.stdout)
	}
	out := r.stdout + r.stderr
	if id := wholeID.FindString(out); id != "" {
		t.Errorf("%v shows the whole ID %s, not %s:\n%s", args, id, recovery.DisplayID(id), out)
	}
	return out
}

// An action is named one way everywhere people read it (the run, log, its
// markdown, undo, resume), and that name, like the whole ID the journal
// keeps and log --json prints, names it back.
func TestActionIDsShowOneForm(t *testing.T) {
	srv := simEnv(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 6, NoRateLimit: true})
	ids := startedIDs(srv, 2)
	out := seenBy(t, 0, append([]string{"stop", "-a", "shop", "--yes"}, ids...)...)
	acts := logJSONOf(t)
	whole, display := acts[0]["id"].(string), acts[0]["display_id"].(string)
	if !wholeID.MatchString(whole) || display != recovery.DisplayID(whole) || display == whole {
		t.Fatalf("log --json: id %q, display_id %q", whole, display)
	}
	for _, want := range []string{"Plan " + display + ":", "(action " + display + ")"} {
		if !strings.Contains(out, want) {
			t.Errorf("the run lacks %q:\n%s", want, out)
		}
	}
	for _, name := range []string{whole, display} {
		if out := seenBy(t, 0, "log", "-a", "shop", "--action", name); !strings.HasPrefix(out, display+"  ") {
			t.Errorf("log --action %s:\n%s", name, out)
		}
	}
	if md := seenBy(t, 0, "log", "-a", "shop", "--markdown"); !strings.Contains(md, "`flyrescue undo -a shop "+display+"`") {
		t.Errorf("markdown lacks the undo hint:\n%s", md)
	}
	if out := seenBy(t, 0, "undo", "-a", "shop", "--dry-run", display); !strings.Contains(out, "undoes "+display) {
		t.Errorf("undo --dry-run:\n%s", out)
	}
	seenBy(t, 0, "undo", "-a", "shop", "--yes", display)
	if out := seenBy(t, exitNothingToDo, "undo", "-a", "shop", "--yes", whole); !strings.Contains(out, "already undone by ") {
		t.Errorf("undo again:\n%s", out)
	}
	if out := seenBy(t, 0, "log", "-a", "shop"); !strings.Contains(out, "undone by ") || !strings.Contains(out, "undoes "+display) {
		t.Errorf("log after undo:\n%s", out)
	}

	interruptedStop(t, srv, "shop")
	acts = logJSONOf(t)
	stopped := recovery.DisplayID(acts[len(acts)-1]["id"].(string))
	if out := seenBy(t, 0, "resume", "-a", "shop", "--dry-run"); !strings.Contains(out, "resumes "+stopped) {
		t.Errorf("resume --dry-run:\n%s", out)
	}
	if md := seenBy(t, 0, "log", "-a", "shop", "--markdown"); !strings.Contains(md, "`flyrescue resume -a shop "+stopped+"`") {
		t.Errorf("markdown lacks the resume hint:\n%s", md)
	}
}
