package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

// `--dry-run --json` gives a script the plan as one object on stdout (the
// text plan goes to stderr), with each step's flyctl twin, and changes
// nothing: no machine, no journal.
func TestDryRunJSONPrintsThePlan(t *testing.T) {
	srv := simEnv(t, flysim.Options{App: "shop", Scenario: "minority", Machines: 30, NoRateLimit: true})
	r := runCLI(t, "update", "-a", "shop", "--select", "image:old", "--dry-run", "--json")
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one JSON line on stdout, got %d:\n%s", len(lines), r.stdout)
	}
	var p jsonPlan
	if err := json.Unmarshal([]byte(lines[0]), &p); err != nil {
		t.Fatal(err)
	}
	old := 0
	for _, m := range srv.Sim.Machines() {
		if !m.Destroyed && m.Image != srv.Sim.TargetImage() {
			old++
		}
	}
	if p.Type != "plan" || p.Kind != "update" || p.App != "shop" || p.Run || len(p.Steps) == 0 || len(p.Steps)+len(p.Skipped) != old {
		t.Fatalf("plan: type %q kind %q, %d steps + %d skipped, %d old machines", p.Type, p.Kind, len(p.Steps), len(p.Skipped), old)
	}
	if len(p.Flyctl) != len(p.Steps) || !strings.HasPrefix(p.Flyctl[0], "fly machine update "+p.Steps[0].MachineID+" --image "+srv.Sim.TargetImage()) {
		t.Fatalf("flyctl twins: %q", p.Flyctl)
	}
	if strings.Contains(r.stdout+r.stderr, "sim-token") || !strings.Contains(r.stderr, "Dry run: nothing was changed.") {
		t.Fatalf("token shown, or no plan text on stderr:\n%s", r.stderr)
	}
	if n := len(srv.Sim.Stats().MutationsPerMachine); n != 0 {
		t.Fatalf("a dry run changed %d machines", n)
	}
	if entries, _ := os.ReadDir(filepath.Join(os.Getenv("FLYRESCUE_STATE_DIR"))); len(entries) > 0 {
		for _, e := range entries {
			if info, _ := e.Info(); info != nil && info.Size() > 0 {
				t.Fatalf("a dry run wrote the journal %s", e.Name())
			}
		}
	}
}
