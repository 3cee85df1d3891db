package main

import (
	"encoding/json"
	"os/user"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

// journalUpdateAndDestroy runs a real update and a real destroy through the
// command line against the simulator, so the journal holds two actions.
func journalUpdateAndDestroy(t *testing.T) *flysim.Server {
	t.Helper()
	srv := simEnv(t, flysim.Options{App: "shop", Scenario: "minority", Machines: 40})
	if r := runCLI(t, "update", "-a", "shop", "--select", "group:web", "--yes"); r.err != nil {
		t.Fatalf("update: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
	if r := runCLI(t, "destroy", "-a", "shop", "--select", "group:worker_autoscale", "--force", "--yes"); r.err != nil {
		t.Fatalf("destroy: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
	return srv
}

func operatorName() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}

func logJSONOf(t *testing.T, args ...string) []map[string]any {
	t.Helper()
	r := runCLI(t, append([]string{"log", "-a", "shop", "--json"}, args...)...)
	if r.err != nil {
		t.Fatalf("log --json: %v", r.err)
	}
	var out []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("log --json is not JSON: %v\n%s", err, r.stdout)
	}
	return out
}

func TestLogMarkdownIncidentTimeline(t *testing.T) {
	journalUpdateAndDestroy(t)
	acts := logJSONOf(t)
	if len(acts) != 2 || acts[0]["kind"] != "update" || acts[1]["kind"] != "destroy" {
		t.Fatalf("journal holds %v", acts)
	}
	updMachines := len(acts[0]["machines"].([]any))
	dstMachines := len(acts[1]["machines"].([]any))
	if updMachines <= 10 || dstMachines == 0 {
		t.Fatalf("want >10 updated and some destroyed machines, got %d and %d", updMachines, dstMachines)
	}

	r := runCLI(t, "log", "-a", "shop", "--markdown")
	if r.err != nil {
		t.Fatal(r.err)
	}
	md := r.stdout
	for _, want := range []string{
		"## flyrescue actions on shop",
		"### ", "update by " + operatorName(), "destroy by " + operatorName(),
		"- **Operator** " + operatorName(),
		" UTC",
		"- **Machines** " + itoa(updMachines) + ": ",
		"- **Machines** " + itoa(dstMachines) + ": ",
		"and " + itoa(updMachines-10) + " more",
		"- **Outcome** " + itoa(updMachines) + " ok, 0 failed, 0 skipped, 0 interrupted",
		"- **Outcome** " + itoa(dstMachines) + " ok, 0 failed, 0 skipped, 0 interrupted",
		"`flyrescue undo -a shop " + acts[0]["display_id"].(string) + "`",
		"`" + acts[1]["display_id"].(string) + "`",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "sim-token") || strings.Contains(r.stderr, "sim-token") {
		t.Fatal("the API token appears in the log output")
	}
	// Each machine ID of the destroy (<= 10) is named.
	for _, m := range acts[1]["machines"].([]any) {
		if id := m.(map[string]any)["id"].(string); !strings.Contains(md, "`"+id+"`") {
			t.Errorf("destroyed machine %s not named", id)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestLogFilters(t *testing.T) {
	journalUpdateAndDestroy(t)

	t.Run("kind", func(t *testing.T) {
		r := runCLI(t, "log", "-a", "shop", "--markdown", "--kind", "destroy")
		if r.err != nil {
			t.Fatal(r.err)
		}
		if strings.Contains(r.stdout, "update by") || !strings.Contains(r.stdout, "destroy by") || !strings.Contains(r.stdout, "kind destroy") {
			t.Fatalf("--kind destroy:\n%s", r.stdout)
		}
		if acts := logJSONOf(t, "--kind", "destroy"); len(acts) != 1 || acts[0]["kind"] != "destroy" {
			t.Fatalf("--json --kind destroy: %v", acts)
		}
		txt := runCLI(t, "log", "-a", "shop", "--kind", "update,destroy")
		if txt.err != nil || !strings.Contains(txt.stdout, "update") || !strings.Contains(txt.stdout, "destroy") {
			t.Fatalf("text --kind update,destroy: %v\n%s", txt.err, txt.stdout)
		}
	})
	t.Run("since", func(t *testing.T) {
		if acts := logJSONOf(t, "--since", "2h"); len(acts) != 2 {
			t.Fatalf("--since 2h kept %d actions", len(acts))
		}
		future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		r := runCLI(t, "log", "-a", "shop", "--markdown", "--since", future)
		if r.err != nil || !strings.Contains(r.stdout, "No actions journaled for shop match") || strings.Contains(r.stdout, "### ") {
			t.Fatalf("future --since: %v\n%s", r.err, r.stdout)
		}
		txt := runCLI(t, "log", "-a", "shop", "--since", future)
		if txt.err != nil || !strings.Contains(txt.stdout, "No actions journaled for shop match") {
			t.Fatalf("text future --since: %v\n%s", txt.err, txt.stdout)
		}
		if acts := logJSONOf(t, "--since", future); len(acts) != 0 {
			t.Fatalf("--json future --since: %v", acts)
		}
	})
	t.Run("action", func(t *testing.T) {
		all := logJSONOf(t)
		id := all[0]["id"].(string)
		acts := logJSONOf(t, "--action", id)
		if len(acts) != 1 || acts[0]["id"] != id {
			t.Fatalf("--action %s: %v", id, acts)
		}
		// The dashboard's short form (no date) names it too.
		_, short, _ := strings.Cut(id, "T")
		if acts := logJSONOf(t, "--action", short); len(acts) != 1 || acts[0]["id"] != id {
			t.Fatalf("--action %s (short): %v", short, acts)
		}
		r := runCLI(t, "log", "-a", "shop", "--action", "nope")
		if r.code != exitNotFound {
			t.Fatalf("unknown --action: code %d: %v", r.code, r.err)
		}
	})
	t.Run("bad since", func(t *testing.T) {
		r := runCLI(t, "log", "-a", "shop", "--markdown", "--since", "yesterday")
		if r.code != exitUsage || strings.Contains(r.err.Error(), "\n") || !strings.Contains(r.err.Error(), "2h") || !strings.Contains(r.err.Error(), "RFC3339") {
			t.Fatalf("code %d: %v", r.code, r.err)
		}
	})
	t.Run("bad kind", func(t *testing.T) {
		r := runCLI(t, "log", "-a", "shop", "--kind", "explode")
		if r.code != exitUsage || !strings.Contains(r.err.Error(), "rollback") {
			t.Fatalf("code %d: %v", r.code, r.err)
		}
	})
	t.Run("json keys", func(t *testing.T) {
		for _, a := range logJSONOf(t) {
			for _, k := range []string{"id", "kind", "at", "undoes", "machines"} {
				if _, ok := a[k]; !ok {
					t.Fatalf("action lacks %q: %v", k, a)
				}
			}
			for _, m := range a["machines"].([]any) {
				for _, k := range []string{"id", "outcome", "error"} {
					if _, ok := m.(map[string]any)[k]; !ok {
						t.Fatalf("machine lacks %q: %v", k, m)
					}
				}
			}
		}
	})
}
