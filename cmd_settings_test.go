package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
	"github.com/flyrescue/flyrescue/ui"
)

// writeSettings puts a settings file where isolate's XDG_CONFIG_HOME points
// and returns its path.
func writeSettings(t *testing.T, body string) string {
	t.Helper()
	dir := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "flyrescue")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "config.yaml")
	writeTestFile(t, p, body)
	return p
}

// The settings file feeds a command's defaults; a flag still wins.
func TestSettingsAreFlagDefaults(t *testing.T) {
	srv := simEnv(t, flysim.Options{App: "shop", Scenario: "majority", Machines: 200})
	var failed, stuckAtDefault int
	for _, m := range srv.Sim.Machines() {
		if m.State == "failed" {
			failed++
		}
		if m.Fault == flysim.FaultStuck || m.State == "failed" || m.State == "created" {
			stuckAtDefault++
		}
	}
	if stuckAtDefault <= failed {
		t.Fatalf("the scenario has no transitional stuck machines to tell the thresholds apart (%d failed, %d stuck)", failed, stuckAtDefault)
	}
	writeSettings(t, "stuck_after: 3h\nmax_unavailable: 4\nconcurrency: 8\n")

	if rep := statusOf(t, "-a", "shop"); len(rep.Stuck) != failed {
		t.Errorf("stuck_after: 3h from the file: %d stuck, want only the %d failed", len(rep.Stuck), failed)
	}
	if rep := statusOf(t, "-a", "shop", "--stuck-after", "5m"); len(rep.Stuck) != stuckAtDefault {
		t.Errorf("--stuck-after 5m over the file: %d stuck, want %d", len(rep.Stuck), stuckAtDefault)
	}

	r := runCLI(t, "restart", "-a", "shop", "--select", "group:web", "--dry-run")
	if r.err != nil || !strings.Contains(r.stdout, "at most 4 down per group") || !strings.Contains(r.stdout, "8 at once") {
		t.Errorf("limits from the file not in the plan: %v\n%s", r.err, r.stdout)
	}
	r = runCLI(t, "restart", "-a", "shop", "--select", "group:web", "--dry-run", "--concurrency", "3")
	if r.err != nil || !strings.Contains(r.stdout, "3 at once") {
		t.Errorf("--concurrency 3 over the file: %v\n%s", r.err, r.stdout)
	}
}

// read_only per app stops the action commands after the plan, says where
// it came from, and changes nothing; --read-only=false overrides it.
func TestSettingsReadOnlyPerApp(t *testing.T) {
	srv := simEnv(t, flysim.Options{App: "shop", Scenario: "majority", Machines: 40})
	path := writeSettings(t, "read_only: false\napps:\n  shop:\n    read_only: true\n")
	r := runCLI(t, "restart", "-a", "shop", "--select", "group:web", "--yes")
	if r.code != exitRefused || !strings.Contains(r.err.Error(), "apps.shop.read_only in "+path) || !strings.Contains(r.err.Error(), "--read-only=false") {
		t.Fatalf("code %d: %v", r.code, r.err)
	}
	if !strings.Contains(r.stdout, "Plan ") {
		t.Errorf("read-only still shows the plan; got:\n%s", r.stdout)
	}
	if m := srv.Sim.Stats().MutationsPerMachine; len(m) != 0 {
		t.Fatalf("read-only changed machines: %v", m)
	}
	r = runCLI(t, "restart", "-a", "shop", "--select", "group:web", "--yes", "--read-only=false")
	if r.err != nil {
		t.Fatalf("--read-only=false: %v\n%s", r.err, r.stdout)
	}
	if m := srv.Sim.Stats().MutationsPerMachine; len(m) == 0 {
		t.Fatal("--read-only=false did not act")
	}
}

// A broken settings file stops every command that reads it with the file
// and line, exit 2, and nothing done; commands that do not read it still run.
func TestSettingsErrorsNameFileAndLine(t *testing.T) {
	cases := map[string]struct{ body, says string }{
		"bad duration":         {"refresh: 2s\nstuck_after: soon\n", "line 2"},
		"misspelt key":         {"refersh: 2s\n", "line 1"},
		"below the floor":      {"refresh: 200ms\n", "line 1: refresh 200ms is below the 1s floor"},
		"unknown binding":      {"keys:\n  updaet: x\n", "line 2: unknown key binding updaet"},
		"duplicate binding":    {"keys:\n  update: x\n  restart: x\n", `line 3: duplicate key binding: "x" is bound to update and restart`},
		"clash with a default": {"theme: dark\nkeys:\n  destroy: q\n", `line 3: keys.destroy: "q" would trigger both destroy and quit`},
		"ctrl on destroy":      {"keys:\n  destroy: ctrl+d\n", "line 2: keys.destroy: ctrl+d is too easy to hit"},
		"not a key":            {"keys:\n  update: ctlr+u\n", `line 2: keys.update: "ctlr+u" is not a key`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			srv := simEnv(t, flysim.Options{App: "shop", Scenario: "majority", Machines: 20})
			path := writeSettings(t, c.body)
			for _, args := range [][]string{{"status", "-a", "shop"}, {"restart", "-a", "shop", "--yes"}, {"-a", "shop"}, {"demo"}} {
				r := runCLI(t, args...)
				if r.code != exitUsage || !strings.Contains(r.err.Error(), path+": ") || !strings.Contains(r.err.Error(), c.says) {
					t.Fatalf("%v: code %d: %v", args, r.code, r.err)
				}
				if strings.Contains(r.err.Error(), "\n") {
					t.Errorf("not one line: %q", r.err)
				}
			}
			if m := srv.Sim.Stats().MutationsPerMachine; len(m) != 0 {
				t.Fatalf("machines changed: %v", m)
			}
			if r := runCLI(t, "completion", "bash"); r.err != nil || !strings.Contains(r.stdout, "__start_flyrescue") {
				t.Fatalf("completion with a broken settings file: %v", r.err)
			}
		})
	}
}

// Flags the settings file shares are checked the same way on the command
// line, before anything connects.
func TestDashboardFlagErrors(t *testing.T) {
	simEnv(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 3})
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"-a", "shop", "--refresh", "200ms"}, "below the 1s floor"},
		{[]string{"-a", "shop", "--theme", "purple"}, "auto, dark or light"},
		{[]string{"-a", "shop", "--max-unavailable", "0"}, "--max-unavailable 0 is not above 0"},
		{[]string{"-a", "shop", "--concurrency", "0"}, "--concurrency must be at least 1"},
		{[]string{"demo", "--theme", "sepia"}, "auto, dark or light"},
	} {
		r := runCLI(t, c.args...)
		if r.code != exitUsage || !strings.Contains(r.err.Error(), c.says) {
			t.Errorf("%v: code %d: %v", c.args, r.code, r.err)
		}
	}
}

// captureUI replaces the terminal with a recorder of the options the
// dashboard would have been given.
func captureUI(t *testing.T) *ui.Options {
	t.Helper()
	var got ui.Options
	prev := runUI
	runUI = func(_ context.Context, o ui.Options) error { got = o; return nil }
	t.Cleanup(func() { runUI = prev })
	return &got
}

// The dashboard gets every setting: refresh, thresholds, limits, theme,
// keys, and read-only with where it came from.
func TestSettingsReachTheDashboard(t *testing.T) {
	simEnv(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 3})
	got := captureUI(t)
	writeSettings(t, "refresh: 5s\nstuck_after: 20m\nlabel_env: DEPLOY_LABEL\nmax_unavailable: 4\nconcurrency: 8\ntheme: light\nkeys:\n  update: x\n")
	if r := runCLI(t, "-a", "shop"); r.err != nil {
		t.Fatal(r.err)
	}
	if got.Refresh != 5*time.Second || got.StuckAfter != 20*time.Minute || got.LabelEnv != "DEPLOY_LABEL" || got.Theme != "light" || got.ReadOnly {
		t.Fatalf("options %+v", got)
	}
	if eo := got.Engine.Options(); eo.MaxUnavailable != 4 || eo.Concurrency != 8 || eo.LabelEnv != "DEPLOY_LABEL" {
		t.Fatalf("engine options %+v", eo)
	}
	if k := got.KeyMap.Action("update").Keys(); len(k) != 1 || k[0] != "x" {
		t.Fatalf("update bound to %v", k)
	}
	if r := runCLI(t, "-a", "shop", "--theme", "dark", "--refresh", "3s"); r.err != nil || got.Theme != "dark" || got.Refresh != 3*time.Second {
		t.Fatalf("flags over the file: %v, %+v", r.err, got)
	}

	path := writeSettings(t, "apps:\n  shop:\n    read_only: true\n")
	if r := runCLI(t, "-a", "shop"); r.err != nil || !got.ReadOnly || got.Engine != nil || got.ReadOnlyWhy != "apps.shop.read_only in "+path {
		t.Fatalf("per-app read-only: %v, read-only %v, why %q", r.err, got.ReadOnly, got.ReadOnlyWhy)
	}
	if r := runCLI(t, "-a", "shop", "--read-only=false"); r.err != nil || got.ReadOnly || got.Engine == nil {
		t.Fatalf("--read-only=false over the file: %v, read-only %v", r.err, got.ReadOnly)
	}
	// The demo is a sandbox: read_only, which guards real apps, does not
	// apply, but the theme and keys do.
	writeSettings(t, "read_only: true\ntheme: light\nkeys:\n  destroy: X\n")
	if r := runCLI(t, "demo", "--machines", "10"); r.err != nil || got.ReadOnly || got.Theme != "light" || got.KeyMap.Action("destroy").Keys()[0] != "X" {
		t.Fatalf("demo: %v, read-only %v, theme %q", r.err, got.ReadOnly, got.Theme)
	}
}

// The dashboard checks the app and token before it takes the screen, so
// its errors are the same one-liners and exit codes as status's.
func TestDashboardPreflight(t *testing.T) {
	got := captureUI(t)
	t.Run("unknown app", func(t *testing.T) {
		simEnv(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 3})
		r := runCLI(t, "-a", "nope")
		if r.code != exitNotFound || !strings.Contains(r.err.Error(), "-a/--app") || got.App != "" {
			t.Fatalf("code %d: %v (dashboard opened for %q)", r.code, r.err, got.App)
		}
	})
	t.Run("bad token", func(t *testing.T) {
		simEnv(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 3, Token: "right"})
		t.Setenv("FLY_API_TOKEN", "wrong")
		r := runCLI(t, "-a", "shop")
		if r.code != exitAuth || !strings.Contains(r.err.Error(), "fly auth login") || got.App != "" {
			t.Fatalf("code %d: %v", r.code, r.err)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		isolate(t)
		t.Setenv("FLY_API_TOKEN", "t")
		r := runCLI(t, "-a", "shop")
		if r.code != exitUnreachable || got.App != "" {
			t.Fatalf("code %d: %v", r.code, r.err)
		}
	})
	t.Run("macaroon token", func(t *testing.T) {
		simEnv(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 3, Token: "fm2_abc,fm2_def"})
		t.Setenv("FLY_API_TOKEN", "FlyV1 fm2_abc,fm2_def")
		if r := runCLI(t, "-a", "shop"); r.err != nil || got.App != "shop" {
			t.Fatalf("a FlyV1 macaroon was refused: %v", r.err)
		}
	})
}

// --keys rebinds for one run, over the file, with the same checks.
func TestKeysFlag(t *testing.T) {
	simEnv(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 3})
	got := captureUI(t)
	writeSettings(t, "keys:\n  update: x\n")
	if r := runCLI(t, "demo", "--machines", "5", "--keys", "update=e,destroy=X"); r.err != nil {
		t.Fatal(r.err)
	}
	if got.KeyMap.Action("update").Keys()[0] != "e" || got.KeyMap.Action("destroy").Keys()[0] != "X" {
		t.Fatalf("update %v destroy %v", got.KeyMap.Action("update").Keys(), got.KeyMap.Action("destroy").Keys())
	}
	r := runCLI(t, "-a", "shop", "--keys", "destroy=q")
	if r.code != exitUsage || !strings.Contains(r.err.Error(), `--keys: keys.destroy: "q" would trigger both destroy and quit`) {
		t.Fatalf("code %d: %v", r.code, r.err)
	}
}

// `config` shows each setting's value and source; `--example` prints a file
// that loads cleanly.
func TestConfigCommand(t *testing.T) {
	isolate(t)
	r := runCLI(t, "config")
	if r.err != nil || !strings.Contains(r.stdout, "not found; defaults in force") || !strings.Contains(r.stdout, "refresh              2s               default") {
		t.Fatalf("%v\n%s", r.err, r.stdout)
	}
	path := writeSettings(t, "refresh: 5s\nkeys:\n  update: x\napps:\n  shop:\n    read_only: true\n")
	r = runCLI(t, "config", "-a", "shop")
	for _, want := range []string{"Settings file: " + path, "5s               line 1", "read_only            true             apps.shop, line 6", "keys.update          x                line 3"} {
		if r.err != nil || !strings.Contains(r.stdout, want) {
			t.Errorf("no %q in:\n%s (%v)", want, r.stdout, r.err)
		}
	}
	if r := runCLI(t, "config", "-a", "other"); !strings.Contains(r.stdout, "read_only            false            default") {
		t.Errorf("another app got shop's override:\n%s", r.stdout)
	}
	writeSettings(t, "keys:\n  destroy: q\n")
	if r := runCLI(t, "config"); r.code != exitUsage || !strings.Contains(r.err.Error(), path+": line 2: keys.destroy") {
		t.Errorf("bad file: code %d: %v", r.code, r.err)
	}
	r = runCLI(t, "config", "--example")
	writeSettings(t, r.stdout)
	if r := runCLI(t, "config"); r.err != nil || !strings.Contains(r.stdout, "line ") {
		t.Fatalf("the example does not load: %v\n%s", r.err, r.stdout)
	}
}
