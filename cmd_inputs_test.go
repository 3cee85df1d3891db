package main

import (
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
	"github.com/flyrescue/flyrescue/recovery"
)

// oneLine fails unless the run ended with code and a one-line error that
// says each of says.
func oneLine(t *testing.T, r cliResult, code int, says ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d: %v\nstdout: %s\nstderr: %s", r.code, code, r.err, r.stdout, r.stderr)
	}
	msg := r.err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("the error is not one line: %q", msg)
	}
	for _, s := range says {
		if !strings.Contains(msg, s) {
			t.Errorf("the error lacks %q: %s", s, msg)
		}
	}
}

func TestMaxUnavailableRefusesNaNAndInfinity(t *testing.T) {
	srv := simEnv(t, flysim.Options{App: "shop", Scenario: "majority", Machines: 20})
	for _, v := range []string{"nan", "NaN", "inf", "+Inf", "-inf", "0", "-1"} {
		for _, args := range [][]string{
			{"update", "-a", "shop", "--dry-run", "--max-unavailable", v},
			{"restart", "-a", "shop", "--all", "--yes", "--max-unavailable=" + v},
			{"-a", "shop", "--max-unavailable", v}, // the dashboard
		} {
			oneLine(t, runCLI(t, args...), exitUsage, "--max-unavailable", "a fraction like 0.33 or a count like 5")
		}
	}
	for _, v := range []string{".nan", ".inf", "-.inf"} {
		cfg := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "flyrescue", "config.yaml")
		if err := os.MkdirAll(filepath.Dir(cfg), 0o700); err != nil {
			t.Fatal(err)
		}
		writeTestFile(t, cfg, "max_unavailable: "+v+"\n")
		oneLine(t, runCLI(t, "update", "-a", "shop", "--dry-run"), exitUsage, cfg+": line 1: max_unavailable", "a fraction like 0.33")
		os.Remove(cfg)
	}
	if m := srv.Sim.Stats().MutationsPerMachine; len(m) != 0 {
		t.Fatalf("machines were changed: %v", m)
	}
}

// filesUnder lists every file below dir.
func filesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// An app name that is not a Fly app name stops every command at once, with
// exit 2, before a journal or anything else is written.
func TestBadAppNamesStopEverythingFirst(t *testing.T) {
	for _, app := range []string{"../../../tmp/x", "../escaped", "-rf", "Shop", "a/b", "shop\x1b[2J"} {
		for _, args := range [][]string{
			{"status"}, {"update", "--dry-run"}, {"restart", "--all", "--yes"}, {"scale", "web", "3", "--yes"},
			{"undo", "--yes"}, {"resume", "--dry-run"}, {"log"}, {}, // the dashboard
		} {
			isolate(t)
			t.Setenv("FLY_API_TOKEN", "t")
			home := os.Getenv("HOME")
			r := runCLI(t, append(args, "-a", app)...)
			oneLine(t, r, exitUsage, "is not a Fly app name", "-a/--app")
			if strings.ContainsRune(r.stderr, '\x1b') {
				t.Errorf("%v: the name reached the terminal raw: %q", args, r.stderr)
			}
			if files := filesUnder(t, home); len(files) != 0 {
				t.Fatalf("%v -a %q wrote %v", args, app, files)
			}
			if _, err := recovery.JournalPath("", app); err == nil {
				t.Fatalf("%v: the journal accepts app name %q", args, app)
			}
			if path := filepath.Join(recovery.DefaultJournalDir(), app+".jsonl"); fileExists(path) {
				t.Fatalf("%v -a %q created %s", args, app, path)
			}
		}
	}
	isolate(t)
	t.Setenv("FLY_API_TOKEN", "t")
	t.Setenv("FLY_APP", "../x")
	oneLine(t, runCLI(t, "status"), exitUsage, "check FLY_APP")
	t.Setenv("FLY_APP", "")
	writeTestFile(t, "fly.toml", "app = \"../x\"\n")
	oneLine(t, runCLI(t, "update", "--dry-run"), exitUsage, "check fly.toml")
}

func TestScaleCountBounds(t *testing.T) {
	srv := simEnv(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 30})
	// Refused before connecting: no listing, fast, whatever the API.
	for _, n := range []string{"99999999", "10001", "99999999999999999999"} {
		began := time.Now()
		r := runCLI(t, "scale", "web", n, "-a", "shop", "--dry-run")
		oneLine(t, r, exitUsage, "scale count "+n, "limit of 10000 machines per process group")
		if took := time.Since(began); took > 5*time.Second {
			t.Errorf("refusing %s took %s", n, took)
		}
	}
	web := 0
	for _, m := range srv.Sim.Machines() {
		if m.Group == "web" && !m.Destroyed {
			web++
		}
	}
	limit := recovery.ScaleUpLimit(web)
	oneLine(t, runCLI(t, "scale", "web", strconv.Itoa(limit+1), "-a", "shop", "--dry-run"), exitUsage,
		"from "+strconv.Itoa(web)+" to "+strconv.Itoa(limit+1), "at most "+strconv.Itoa(limit), "scale in steps")
	if r := runCLI(t, "scale", "web", strconv.Itoa(limit), "-a", "shop", "--dry-run"); r.err != nil || !strings.Contains(r.stdout, "-> "+strconv.Itoa(limit)+" machines") {
		t.Fatalf("scale to the limit itself: %v\n%s", r.err, r.stdout)
	}
	if m := srv.Sim.Stats().MutationsPerMachine; len(m) != 0 {
		t.Fatalf("machines were changed: %v", m)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	isolate(t)
	for _, args := range [][]string{
		{"frobnicate"}, {"--frobnicate"}, {"status", "--frobnicate"}, {"status", "extra"},
		{"log", "--frobnicate"}, {"config", "--frobnicate"}, {"sim", "--frobnicate"}, {"demo", "--frobnicate"},
		{"scale"}, {"undo", "a", "b"}, {"update", "--dry-run=maybe"}, {"completion", "bash", "extra"},
	} {
		oneLine(t, runCLI(t, args...), exitUsage, "--help")
	}
}

// A request the API rejects as invalid (400) exits 2 from status and from
// an action alike: the arguments must change, a retry cannot help.
func TestAPIBadRequestIsExit2Everywhere(t *testing.T) {
	echoEnv(t, http.StatusBadRequest)
	oneLine(t, runCLI(t, "status", "-a", "other"), exitUsage, "list machines of app other")
	oneLine(t, runCLI(t, "update", "-a", "other", "--dry-run", "--retries", "0"), exitUsage, "list machines of app other")
}

func TestTokenWithANewlineIsExit3(t *testing.T) {
	simEnv(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 3})
	t.Setenv("FLY_API_TOKEN", "fm2_first\nfm2_second")
	for _, args := range [][]string{{"status", "-a", "shop"}, {"restart", "-a", "shop", "--all", "--yes"}} {
		r := runCLI(t, args...)
		oneLine(t, r, exitAuth, "the token has a newline in it: check FLY_API_TOKEN")
		if strings.Contains(r.stderr, "fm2_") || strings.Contains(r.stderr, "network") {
			t.Errorf("%v: %s", args, r.stderr)
		}
	}
}

func TestNothingToDoIsExit7(t *testing.T) {
	for _, err := range []error{recovery.ErrNothingToDo, &wrapped{recovery.ErrNothingToDo}} {
		if code := exitCode(planExit(err)); code != exitNothingToDo {
			t.Errorf("planExit(%v) exits %d, want %d", err, code, exitNothingToDo)
		}
	}
}

type wrapped struct{ err error }

func (w *wrapped) Error() string { return "nothing to undo: " + w.err.Error() }
func (w *wrapped) Unwrap() error { return w.err }

// A resume whose every step turns out done against live state says so and
// exits 0: the action is complete.
func TestResumeWithEveryStepDoneExits0(t *testing.T) {
	srv := simEnv(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 6})
	var id string
	for _, m := range srv.Sim.Machines() {
		if m.State == "started" {
			id = m.ID
			break
		}
	}
	if r := runCLI(t, "stop", "-a", "shop", id, "--yes"); r.err != nil {
		t.Fatalf("stop: %v\n%s", r.err, r.stdout)
	}
	// Drop the outcome: the journal now says the process died mid-step,
	// after the machine was stopped.
	path, err := recovery.JournalPath("", "shop")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if !strings.Contains(line, `"type":"outcome"`) {
			kept = append(kept, line)
		}
	}
	writeTestFile(t, path, strings.Join(kept, ""))
	r := runCLI(t, "resume", "-a", "shop", "--yes")
	if r.err != nil || !strings.Contains(r.stdout, "Nothing left to resume: every step of action") {
		t.Fatalf("code %d: %v\n%s", r.code, r.err, r.stdout)
	}
}

// A plan only printed (--dry-run, --read-only) is made on a corrupt journal,
// with a warning naming file and line; a real run, and any plan made from
// the journal, still refuses with exit 8.
func TestCorruptJournalStillPlans(t *testing.T) {
	srv := simEnv(t, flysim.Options{App: "shop", Scenario: "majority", Machines: 20})
	dir := os.Getenv("FLYRESCUE_STATE_DIR")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	rec := `{"type":"action","at":"2026-01-02T15:04:05Z","action":{"id":"a1","kind":"restart","app":"shop","operator":"t","steps":[]}}`
	path := filepath.Join(dir, "shop.jsonl")
	corrupt := rec + "\n{garbage in the middle\n" + rec + "\n"
	writeTestFile(t, path, corrupt)

	r := runCLI(t, "update", "-a", "shop", "--dry-run")
	if r.err != nil || !strings.Contains(r.stdout, "Plan ") || !strings.Contains(r.stdout, "Dry run: nothing was changed.") {
		t.Fatalf("update --dry-run: %v\n%s\n%s", r.err, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "shop.jsonl:2:") || !strings.Contains(r.stderr, "nothing can run until") {
		t.Fatalf("no warning naming the line: %q", r.stderr)
	}
	r = runCLI(t, "update", "-a", "shop", "--read-only")
	if r.code != exitRefused || !strings.Contains(r.stdout, "Plan ") || !strings.Contains(r.stderr, "shop.jsonl:2:") {
		t.Fatalf("update --read-only: %d %v\n%s\n%s", r.code, r.err, r.stdout, r.stderr)
	}
	oneLine(t, runCLI(t, "update", "-a", "shop", "--yes"), exitJournal, "shop.jsonl:2:")
	oneLine(t, runCLI(t, "undo", "-a", "shop", "--dry-run"), exitJournal, "shop.jsonl:2:")
	oneLine(t, runCLI(t, "scale", "web", "--back", "-a", "shop", "--dry-run"), exitJournal, "shop.jsonl:2:")
	if b, _ := os.ReadFile(path); string(b) != corrupt {
		t.Fatalf("the corrupt journal was changed:\n%s", b)
	}
	if m := srv.Sim.Stats().MutationsPerMachine; len(m) != 0 {
		t.Fatalf("machines were changed: %v", m)
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
