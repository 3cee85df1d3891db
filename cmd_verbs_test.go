package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/flyclient/flysim"
	"github.com/flyrescue/flyrescue/recovery"
)

// simMachine reads a machine through the API, as the real Machines API shows
// it (its cordoned flag included).
func simMachine(t *testing.T, srv *flysim.Server, id string) *flyclient.Machine {
	t.Helper()
	c, err := flyclient.New(context.Background(), flyclient.Config{Token: "sim-token", FlapsBaseURL: srv.URL, APIBaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Get(context.Background(), srv.Sim.App(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func startedIDs(srv *flysim.Server, n int) []string {
	var ids []string
	for _, m := range srv.Sim.Machines() {
		if m.State == "started" && len(ids) < n {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

// suspend, cordon and uncordon on the command line, like stop and start:
// a scoped verb refuses the whole app without --all, the plan is printed,
// --yes runs it, the simulator shows the change, log --kind finds the
// action, and undo puts the machines back.
func TestSuspendCordonUncordonCommands(t *testing.T) {
	srv := simEnv(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 12, NoRateLimit: true})
	ids := startedIDs(srv, 2)
	for _, verb := range []string{"suspend", "cordon"} {
		if r := runCLI(t, verb, "-a", "shop", "--yes"); r.code != exitUsage || !strings.Contains(r.err.Error(), "--all") {
			t.Errorf("%s with no scope: code %d, %v", verb, r.code, r.err)
		}
	}
	if m := srv.Sim.Stats().MutationsPerMachine; len(m) != 0 {
		t.Fatalf("refused commands changed machines: %v", m)
	}
	checks := []struct {
		verb string
		done func(*flyclient.Machine) bool
		undo func(*flyclient.Machine) bool
	}{
		{"suspend", func(m *flyclient.Machine) bool { return m.State == "suspended" }, func(m *flyclient.Machine) bool { return m.State == "started" }},
		{"cordon", func(m *flyclient.Machine) bool { return m.Cordoned && m.State == "started" }, func(m *flyclient.Machine) bool { return !m.Cordoned }},
	}
	for _, c := range checks {
		r := runCLI(t, append([]string{c.verb, "-a", "shop", "--yes", "--skip-health-checks"}, ids...)...)
		if r.code != 0 || !strings.Contains(r.stdout, "Plan ") || !strings.Contains(r.stdout, c.verb+" shop: 2 ok") {
			t.Fatalf("%s: code %d, %v\n%s", c.verb, r.code, r.err, r.stdout)
		}
		for _, id := range ids {
			if m := simMachine(t, srv, id); !c.done(m) {
				t.Errorf("%s: %s is %s (cordoned %v)", c.verb, id, m.State, m.Cordoned)
			}
		}
		r = runCLI(t, "log", "-a", "shop", "--json", "--kind", c.verb)
		var entries []struct {
			Kind recovery.Kind `json:"kind"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &entries); err != nil || len(entries) != 1 || string(entries[0].Kind) != c.verb {
			t.Fatalf("log --kind %s: %v %s", c.verb, err, r.stdout)
		}
		if r := runCLI(t, "undo", "-a", "shop", "--yes", "--skip-health-checks"); r.code != 0 {
			t.Fatalf("undo %s: code %d, %v\n%s", c.verb, r.code, r.err, r.stdout)
		}
		for _, id := range ids {
			if m := simMachine(t, srv, id); !c.undo(m) {
				t.Errorf("undo of %s: %s is %s (cordoned %v)", c.verb, id, m.State, m.Cordoned)
			}
		}
	}
	// uncordon acts on the whole app without --all (it brings capacity
	// back) and leaves machines that are not cordoned alone.
	if r := runCLI(t, "cordon", "-a", "shop", "--yes", ids[0]); r.code != 0 {
		t.Fatalf("cordon: %v", r.err)
	}
	r := runCLI(t, "uncordon", "-a", "shop", "--yes")
	if r.code != 0 || !strings.Contains(r.stdout, "uncordon shop: 1 ok") || !strings.Contains(r.stdout, "need nothing") {
		t.Fatalf("uncordon: code %d, %v\n%s", r.code, r.err, r.stdout)
	}
	if simMachine(t, srv, ids[0]).Cordoned {
		t.Error("still cordoned after uncordon")
	}
}

// A suspend killed mid-run is finished by resume, the step whose answer
// died with the process found done, nothing suspended twice.
func TestResumeInterruptedSuspend(t *testing.T) {
	srv := simEnv(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 6})
	interruptedRun(t, srv, "shop", "suspend")
	r := runCLI(t, "resume", "-a", "shop", "--yes")
	if r.code != 0 || !strings.Contains(r.stdout, "1 interrupted step of") {
		t.Fatalf("resume: code %d, %v\n%s", r.code, r.err, r.stdout)
	}
	suspended := 0
	for _, m := range srv.Sim.Machines() {
		if m.State == "suspended" {
			suspended++
		}
	}
	if suspended != 2 {
		t.Errorf("%d machines suspended after the resume, want 2", suspended)
	}
	for id, n := range srv.Sim.Stats().MutationsPerMachine {
		if n != 1 {
			t.Errorf("%s changed %d times", id, n)
		}
	}
}

// The verbs' commands, their help groups and log --kind's values come from
// the registry: every verb with a command is there, in its group.
func TestVerbCommandsFromTheRegistry(t *testing.T) {
	isolate(t)
	root := newRootCmd()
	for _, v := range recovery.Verbs() {
		if v.Command.Name == "" {
			continue
		}
		c, _, err := root.Find([]string{v.Command.Name})
		if err != nil || c.Name() != v.Command.Name || c.GroupID != v.Command.Group || c.Short != v.Command.Short {
			t.Errorf("%s: command %v (group %q), %v", v.Kind, c.Name(), c.GroupID, err)
			continue
		}
		if all := c.Flags().Lookup("all"); (all != nil) != v.Command.Scoped {
			t.Errorf("%s: --all %v, scoped %v", v.Kind, all != nil, v.Command.Scoped)
		}
		if force := c.Flags().Lookup("force"); (force != nil) != (v.Force != "") {
			t.Errorf("%s: --force %v, registry force %q", v.Kind, force != nil, v.Force)
		}
	}
	r := runCLI(t, "__complete", "log", "--kind", "")
	for _, k := range recovery.JournaledKinds() {
		if !strings.Contains(r.stdout, string(k)+"\n") {
			t.Errorf("log --kind does not complete %s:\n%s", k, r.stdout)
		}
	}
	if strings.Contains(r.stdout, string(recovery.KindApplyAdvice)) {
		t.Error("log --kind offers apply-advice, which is never journaled")
	}
}
