package recovery

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

// buildCLI compiles the flyrescue binary once per test run.
func buildCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "flyrescue")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/flyrescue/flyrescue")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestCrashMidUpdateThenResume kills the command line with SIGKILL in the
// middle of a 200-machine update; `log` must show the interrupted intents
// and `resume` must finish the rest, losing nothing and doing nothing twice.
func TestCrashMidUpdateThenResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildCLI(t)
	srv, err := flysim.Start(flysim.Options{Scenario: "total-failure", Machines: 200, Speed: 40, Seed: 3, Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	sim := srv.Sim
	home := t.TempDir()
	journalDir := filepath.Join(home, "journal")
	env := append(os.Environ(), "HOME="+home, "FLY_API_TOKEN="+testToken, "FLY_ACCESS_TOKEN=",
		"FLY_FLAPS_BASE_URL="+srv.URL, "FLY_API_BASE_URL="+srv.URL, "FLY_APP="+sim.App(), "FLYRESCUE_STATE_DIR="+journalDir)
	cli := func(args ...string) *exec.Cmd {
		c := exec.Command(bin, args...)
		c.Env = env
		return c
	}
	// --dry-run prints the plan and touches nothing; without --yes and
	// without a terminal the command refuses.
	sim.ResetStats()
	if out, err := cli("update", "--dry-run").CombinedOutput(); err != nil || !strings.Contains(string(out), "Dry run") {
		t.Fatalf("--dry-run: %v\n%s", err, tail(string(out), 5))
	}
	refuse := cli("update")
	if out, err := refuse.CombinedOutput(); refuse.ProcessState.ExitCode() != 10 || !strings.Contains(string(out), "--yes") {
		t.Fatalf("no terminal, no --yes: exit %d, %v\n%s", refuse.ProcessState.ExitCode(), err, tail(string(out), 5))
	}
	if n := len(sim.Stats().MutationsPerMachine); n != 0 {
		t.Fatalf("%d machines changed by a dry run or a refused command", n)
	}
	// -v: a line per machine done, which a pipe otherwise gets only as
	// summaries.
	update := cli("update", "--yes", "-v", "--concurrency", "16", "--lease-ttl", "3s", "--wait-timeout", "20s")
	stdout, _ := update.StdoutPipe()
	if err := update.Start(); err != nil {
		t.Fatal(err)
	}
	done := 0
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && done < 50 {
		if strings.HasPrefix(sc.Text(), "done") {
			done++
		}
	}
	if err := update.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	update.Wait()

	out, err := cli("log", "--json").Output()
	if err != nil {
		t.Fatalf("log: %v", err)
	}
	var actions []struct {
		ID       string
		Kind     string
		Undoes   *string
		Machines []struct{ ID, Outcome, Error string }
		Pending  int
	}
	if err := json.Unmarshal(out, &actions); err != nil || len(actions) != 1 {
		t.Fatalf("log --json: %v\n%s", err, out)
	}
	interrupted := 0
	for _, m := range actions[0].Machines {
		if m.Outcome == "interrupted" {
			interrupted++
		}
	}
	t.Logf("killed after %d done: log shows %d machines with outcomes (%d interrupted), %d never started",
		done, len(actions[0].Machines), interrupted, actions[0].Pending)
	if interrupted == 0 || actions[0].Pending == 0 {
		t.Fatalf("expected interrupted intents and unstarted steps in the log:\n%s", out)
	}

	began := time.Now()
	resume := cli("resume", "--yes", "--concurrency", "16", "--lease-ttl", "3s", "--wait-timeout", "20s")
	// Machines a deploy bot holds leases on fail (exit 9), reported with
	// the owner; nothing else may.
	rout, err := resume.CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 9 {
			t.Fatalf("resume: %v\n%s", err, tail(string(rout), 15))
		}
	}
	for _, line := range strings.Split(string(rout), "\n") {
		if strings.HasPrefix(line, "failed") && !strings.Contains(line, flysim.LeaseBot) {
			t.Errorf("resume: %s", line)
		}
	}
	t.Logf("resume took %s", time.Since(began).Round(time.Millisecond))

	stats := sim.Stats()
	for _, m := range sim.Machines() {
		if m.LeaseOwner == flysim.LeaseBot {
			continue
		}
		if m.Image != sim.TargetImage() || m.State != "started" {
			t.Errorf("%s: %s on %s after resume", m.ID, m.State, m.Image)
		}
		if n := stats.MutationsPerMachine[m.ID]; n != 1 {
			t.Errorf("%s was mutated %d times", m.ID, n)
		}
	}
	out, _ = cli("log", "--json").Output()
	json.Unmarshal(out, &actions)
	if len(actions) != 2 {
		t.Fatalf("want the update and its resume in the log, got %d actions", len(actions))
	}
	// An intent the dead run left open is either marked done (reconciled)
	// or was finished by the resume action.
	finished := map[string]bool{}
	for _, m := range actions[1].Machines {
		finished[m.ID] = m.Outcome == "ok"
	}
	reconciled := 0
	for _, m := range actions[0].Machines {
		switch {
		case m.Outcome == "interrupted" && !finished[m.ID]:
			t.Errorf("%s: interrupted and not finished by the resume", m.ID)
		case m.Outcome == "ok" && strings.Contains(m.Error, "found done"):
			reconciled++
		}
	}
	t.Logf("%d interrupted steps were found done, %d run by the resume", reconciled, len(actions[1].Machines))
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
