package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

func TestStatusErrorsAndExitCodes(t *testing.T) {
	t.Run("no token and no app", func(t *testing.T) {
		isolate(t)
		r := runCLI(t, "status")
		if r.code != exitAuth || !strings.Contains(r.err.Error(), "fly auth login") || !strings.Contains(r.err.Error(), "-a/--app") || !strings.Contains(r.err.Error(), "flyrescue demo") {
			t.Fatalf("code %d: %v", r.code, r.err)
		}
	})
	t.Run("unknown app", func(t *testing.T) {
		simEnv(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 3})
		r := runCLI(t, "status", "-a", "nope")
		if r.code != exitNotFound || !strings.Contains(r.err.Error(), "-a/--app") {
			t.Fatalf("code %d: %v", r.code, r.err)
		}
	})
	t.Run("bad token", func(t *testing.T) {
		simEnv(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 3, Token: "the-right-one"})
		t.Setenv("FLY_API_TOKEN", "a-wrong-one")
		r := runCLI(t, "status", "-a", "shop")
		if r.code != exitAuth || !strings.Contains(r.err.Error(), "fly auth login") || strings.Contains(r.err.Error(), "a-wrong-one") {
			t.Fatalf("code %d: %v", r.code, r.err)
		}
	})
	t.Run("token of another org (403)", func(t *testing.T) {
		simEnv(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 3, Token: "mine", ForeignToken: "theirs"})
		t.Setenv("FLY_API_TOKEN", "theirs")
		for _, args := range [][]string{{"status", "-a", "shop"}, {"restart", "-a", "shop", "--all", "--yes"}} {
			r := runCLI(t, args...)
			if r.code != exitAuth || !strings.Contains(r.err.Error(), "no access to this app") || strings.Contains(r.err.Error(), "theirs") {
				t.Fatalf("%v: code %d: %v", args, r.code, r.err)
			}
		}
	})
	t.Run("API unreachable", func(t *testing.T) {
		isolate(t)
		t.Setenv("FLY_API_TOKEN", "t")
		r := runCLI(t, "status", "-a", "shop", "--timeout", "5s")
		if r.code != exitUnreachable || !strings.Contains(r.err.Error(), "FLY_FLAPS_BASE_URL") {
			t.Fatalf("code %d: %v", r.code, r.err)
		}
	})
	t.Run("invalid image", func(t *testing.T) {
		simEnv(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 3})
		r := runCLI(t, "status", "-a", "shop", "--image", "not an image")
		if r.code != exitUsage || !strings.Contains(r.err.Error(), "REGISTRY/REPO:TAG") {
			t.Fatalf("code %d: %v", r.code, r.err)
		}
	})
	t.Run("app from fly.toml", func(t *testing.T) {
		simEnv(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 3})
		writeTestFile(t, "fly.toml", "app = \"shop\"\n")
		r := runCLI(t, "status", "--json")
		if r.err != nil || !strings.Contains(r.stdout, `"app": "shop"`) {
			t.Fatalf("%v\n%s", r.err, r.stdout)
		}
	})
}

func TestStatusTextNamesTheCaseAndMachines(t *testing.T) {
	srv := simEnv(t, flysim.Options{App: "shop", Scenario: "majority", Machines: 120})
	r := runCLI(t, "status", "-a", "shop")
	if r.err != nil {
		t.Fatal(r.err)
	}
	for _, want := range []string{"App shop: 120 machines", "Target " + srv.Sim.TargetImage(), "from releases", "GROUP", "worker_autoscale", "Runbook:", "machines:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status output lacks %q:\n%s", want, r.stdout)
		}
	}
}

// statusOf runs `status --json` and decodes it.
func statusOf(t *testing.T, args ...string) statusReport {
	t.Helper()
	r := runCLI(t, append([]string{"status", "--json"}, args...)...)
	if r.err != nil {
		t.Fatalf("status: %v", r.err)
	}
	var rep statusReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("status --json is not JSON: %v\n%s", err, r.stdout)
	}
	return rep
}

// Each scenario of the simulator must read as the runbook case it models,
// with exactly the machines the simulator made stuck.
func TestStatusJSONPerScenario(t *testing.T) {
	cases := []struct {
		scenario string
		deploy   string
		badRel   bool
	}{
		{"healthy", "complete", false},
		{"total-failure", "total_failure", false},
		{"minority", "minority_updated", false},
		{"majority", "majority_updated", false},
		{"stuck", "majority_updated", false},
		{"bad-release", "minority_updated", true},
	}
	for _, c := range cases {
		t.Run(c.scenario, func(t *testing.T) {
			srv := simEnv(t, flysim.Options{App: "shop", Scenario: c.scenario, Machines: 200})
			rep := statusOf(t, "-a", "shop")
			if rep.Deploy != c.deploy {
				t.Fatalf("deploy %q, want %q (%s)", rep.Deploy, c.deploy, rep.Summary)
			}
			if rep.TargetImage != srv.Sim.TargetImage() || rep.Total != 200 {
				t.Fatalf("target %s total %d", rep.TargetImage, rep.Total)
			}
			counts := flysim.ScenarioCounts(c.scenario, 200)
			if rep.OnTarget != counts.Target {
				t.Fatalf("on target %d, sim put %d there", rep.OnTarget, counts.Target)
			}
			// The simulator's ground truth: failed machines, wedged ones, and
			// machines it left in created half an hour ago.
			var want []string
			for _, m := range srv.Sim.Machines() {
				if m.State == "failed" || m.Fault == flysim.FaultStuck || m.State == "created" {
					want = append(want, m.ID)
				}
			}
			if strings.Join(rep.Stuck, " ") != strings.Join(want, " ") {
				t.Fatalf("stuck %v\nwant  %v", rep.Stuck, want)
			}
			if (rep.BadRelease != nil) != c.badRel {
				t.Fatalf("bad release %+v", rep.BadRelease)
			}
			if c.badRel && rep.BadRelease.Image != srv.Sim.PreviousImage() {
				t.Fatalf("roll back to %s, want %s", rep.BadRelease.Image, srv.Sim.PreviousImage())
			}
			sum := 0
			for _, g := range rep.Groups {
				sum += g.Total
			}
			if sum != 200 || len(rep.Groups) != 3 {
				t.Fatalf("groups %+v", rep.Groups)
			}
			if c.deploy != "complete" && len(rep.Advice) == 0 {
				t.Fatal("no advice for a broken deploy")
			}
		})
	}
}

// A longer threshold leaves only failed machines stuck: the judgement is the
// threshold's, not the simulator's.
func TestStatusStuckThreshold(t *testing.T) {
	srv := simEnv(t, flysim.Options{App: "shop", Scenario: "majority", Machines: 200})
	rep := statusOf(t, "-a", "shop", "--stuck-after", "3h")
	var failed []string
	for _, m := range srv.Sim.Machines() {
		if m.State == "failed" {
			failed = append(failed, m.ID)
		}
	}
	if len(failed) == 0 || strings.Join(rep.Stuck, " ") != strings.Join(failed, " ") {
		t.Fatalf("stuck %v, want only the failed %v", rep.Stuck, failed)
	}
}

// In a total failure the only advice is to restart one worker_autoscale
// machine to get jobs flowing.
func TestStatusTotalFailureAdvice(t *testing.T) {
	srv := simEnv(t, flysim.Options{App: "shop", Scenario: "total-failure", Machines: 100})
	rep := statusOf(t, "-a", "shop")
	if len(rep.Advice) == 0 || rep.Advice[0].Action != "restart" || len(rep.Advice[0].Machines) != 1 {
		t.Fatalf("advice %+v", rep.Advice)
	}
	m, ok := srv.Sim.Machine(rep.Advice[0].Machines[0])
	if !ok || m.Group != "worker_autoscale" || m.State != "started" {
		t.Fatalf("advised restarting %+v", m)
	}
}

// Every token source reaches the API through the unmodified fly-go client:
// the flag, each env var, and flyctl's config.yml, in flyctl's order.
func TestTokenSourcesEndToEnd(t *testing.T) {
	simEnv(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 3, Token: "fm2_right"})
	home := os.Getenv("HOME")
	if err := os.MkdirAll(filepath.Join(home, ".fly"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(home, ".fly", "config.yml"), "access_token: wrong-from-file\n")
	for _, c := range []struct {
		name     string
		env      map[string]string
		args     []string
		wantCode int
	}{
		{"flag beats env", map[string]string{"FLY_API_TOKEN": "wrong"}, []string{"-t", "FlyV1 fm2_right"}, 0},
		{"FLY_ACCESS_TOKEN beats FLY_API_TOKEN", map[string]string{"FLY_ACCESS_TOKEN": "FlyV1 fm2_right", "FLY_API_TOKEN": "wrong"}, nil, 0},
		{"FLY_API_TOKEN beats config.yml", map[string]string{"FLY_API_TOKEN": "fm2_right"}, nil, 0},
		{"config.yml is read", map[string]string{"FLY_API_TOKEN": ""}, nil, exitAuth},
		{"FLY_CONFIG_DIR", map[string]string{"FLY_API_TOKEN": "", "FLY_CONFIG_DIR": "cfgdir"}, nil, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("FLY_ACCESS_TOKEN", "")
			for k, v := range c.env {
				if k == "FLY_CONFIG_DIR" {
					v = filepath.Join(home, v)
					if err := os.MkdirAll(v, 0o700); err != nil {
						t.Fatal(err)
					}
					writeTestFile(t, filepath.Join(v, "config.yml"), "access_token: FlyV1 fm2_right\n")
				}
				t.Setenv(k, v)
			}
			r := runCLI(t, append([]string{"status", "-a", "shop"}, c.args...)...)
			if r.code != c.wantCode {
				t.Fatalf("exit %d, want %d: %v", r.code, c.wantCode, r.err)
			}
			// The file's token was sent and refused, not found missing.
			if c.wantCode == exitAuth && strings.Contains(r.err.Error(), "no Fly API token") {
				t.Fatalf("config.yml was not read: %v", r.err)
			}
			if strings.Contains(r.stdout+r.stderr+fmt.Sprint(r.err), "fm2_right") || strings.Contains(fmt.Sprint(r.err), "wrong-from-file") {
				t.Fatal("a token was printed")
			}
		})
	}
}
