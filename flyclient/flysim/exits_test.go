package flysim

import (
	"strings"
	"testing"

	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
)

// exitEvents are m's exit events, newest first, each checked to carry what
// flyctl dereferences (request.exit_event) and restart_count's place.
func exitEvents(t *testing.T, m *fly.Machine) []*fly.MachineEvent {
	t.Helper()
	var out []*fly.MachineEvent
	for _, ev := range m.Events {
		if ev.Type != "exit" {
			continue
		}
		if ev.Request == nil || ev.Request.ExitEvent == nil || ev.Request.ExitEvent.ExitedAt.IsZero() {
			t.Fatalf("machine %s: exit event without request.exit_event: %+v", m.ID, ev)
		}
		out = append(out, ev)
	}
	return out
}

// isConstantlyRestarting is flyctl's smoke check (internal/machine,
// leasable_machine.go), which crashed on the sim's old exit events.
func isConstantlyRestarting(m *fly.Machine) bool {
	for _, ev := range m.Events {
		if ev.Type == "exit" {
			return !ev.Request.ExitEvent.RequestedStop && ev.Request.ExitEvent.Restarting &&
				ev.Request.RestartCount > 1 && ev.Request.ExitEvent.ExitCode != 0
		}
	}
	return false
}

// Every exit event carries request.exit_event and restart_count, in every
// scenario and after a stop, a kill and a crash loop; a rolling deploy's
// smoke check reads them.
func TestEveryExitEventCarriesItsRequest(t *testing.T) {
	for _, sc := range Scenarios {
		e := newEnv(t, Options{Scenario: sc, Machines: 100, NoRateLimit: true, TargetBehavior: ImageFailsStart})
		ms, err := e.flaps.List(ctx(t), e.app, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			exitEvents(t, m)
			isConstantlyRestarting(m)
		}
	}
	e := newEnv(t, Options{Scenario: "healthy", Machines: 10, NoRateLimit: true})
	ids := e.sim.Machines()
	stopped, killed := ids[0].ID, ids[1].ID
	if err := e.flaps.Stop(ctx(t), e.app, fly.StopMachineInput{ID: stopped}, ""); err != nil {
		t.Fatal(err)
	}
	if err := e.flaps.Kill(ctx(t), e.app, killed); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]fly.MachineExitEvent{
		stopped: {ExitCode: 0, RequestedStop: true, Signal: -1},
		killed:  {ExitCode: 137, Signal: 9},
	} {
		if err := e.flaps.Wait(ctx(t), e.app, id, flaps.WithWaitStates("stopped")); err != nil {
			t.Fatal(err)
		}
		m, _ := e.flaps.Get(ctx(t), e.app, id)
		evs := exitEvents(t, m)
		if len(evs) != 1 {
			t.Fatalf("%s: %d exit events", id, len(evs))
		}
		got := evs[0].Request.ExitEvent
		if got.ExitCode != want.ExitCode || got.RequestedStop != want.RequestedStop || got.Signal != want.Signal ||
			got.Restarting || got.OOMKilled || isConstantlyRestarting(m) {
			t.Fatalf("%s: exit %+v, want %+v", id, got, want)
		}
	}
}

// A version that cannot boot crash-loops: flyd restarts it up to the
// restart policy's max_retries (10), the workers OOM-killed (137) and the
// web servers exiting 1, then gives up and the machine is failed.
func TestCrashLoopEvents(t *testing.T) {
	e := newEnv(t, Options{Scenario: "total-failure", Machines: 20, NoRateLimit: true})
	e.sim.SetTargetBehavior(ImageFailsStart)
	byGroup := map[string]string{}
	for _, m := range e.sim.Machines() {
		if m.LeaseOwner == "" && byGroup[m.Group] == "" {
			byGroup[m.Group] = m.ID
		}
	}
	for group, id := range byGroup {
		if _, err := updateTo(t, e, id, e.sim.TargetImage(), ""); err != nil {
			t.Fatal(err)
		}
		if err := e.flaps.Wait(ctx(t), e.app, id, flaps.WithWaitStates("failed")); err != nil {
			t.Fatal(err)
		}
		m, _ := e.flaps.Get(ctx(t), e.app, id)
		evs := exitEvents(t, m)
		if len(evs) != 10 { // 11 crashes; 20 events kept, the oldest start fell off
			t.Fatalf("%s: %d exit events", group, len(evs))
		}
		wantCode, oom := 1, false
		if group != "web" {
			wantCode, oom = 137, true
		}
		for i, ev := range evs {
			x := ev.Request.ExitEvent
			if x.ExitCode != wantCode || x.OOMKilled != oom || x.RequestedStop || x.Restarting != (i > 0) ||
				ev.Request.RestartCount != 10-i {
				t.Fatalf("%s: exit %d (newest first): %+v restart_count %d", group, i, x, ev.Request.RestartCount)
			}
		}
		if m.State != "failed" || evs[0].Status != "failed" || m.Events[0] != evs[0] || isConstantlyRestarting(m) {
			t.Fatalf("%s: state %s, newest event %+v", group, m.State, m.Events[0])
		}
		// Mid-loop the smoke check sees a machine constantly restarting.
		mid := *m
		mid.Events = m.Events[2:]
		if !isConstantlyRestarting(&mid) {
			t.Fatalf("%s: mid-loop is not constantly restarting", group)
		}
	}
}

// flyctl's release command: a machine launched with skip_launch (left
// stopped), started, that runs its command, exits 0 and auto_destroy
// removes it; flyctl reads the exit code from the exit event after the
// last start, and stops following the logs at "Main child exited
// normally". Meanwhile every running Sidekiq process is quieted.
func TestReleaseCommandMachine(t *testing.T) {
	e := newEnv(t, Options{Scenario: "healthy", Machines: 20, NoRateLimit: true})
	src, _ := e.flaps.Get(ctx(t), e.app, firstWhere(t, e.sim, func(m MachineView) bool { return m.Group == "web" }).ID)
	cfg := &fly.MachineConfig{
		Image:       e.sim.TargetImage(),
		Init:        fly.MachineInit{Cmd: []string{"bin/rake", "sidekiq:quiet"}},
		Env:         map[string]string{"RELEASE_COMMAND": "1", "FLY_PROCESS_GROUP": "fly_app_release_command"},
		Metadata:    map[string]string{"fly_process_group": "fly_app_release_command", "fly_platform_version": "v2", "fly_release_id": "r", "fly_release_version": "63"},
		Restart:     &fly.MachineRestart{Policy: fly.MachineRestartPolicyNo},
		AutoDestroy: true,
		Guest:       src.Config.Guest,
		DNS:         &fly.DNSConfig{SkipRegistration: true},
	}
	m, err := e.flaps.Launch(ctx(t), e.app, fly.LaunchMachineInput{Config: cfg, Region: "iad", SkipLaunch: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.flaps.Wait(ctx(t), e.app, m.ID, flaps.WithWaitStates("stopped")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.flaps.Start(ctx(t), e.app, m.ID, ""); err != nil {
		t.Fatal(err)
	}
	if err := e.flaps.Wait(ctx(t), e.app, m.ID, flaps.WithWaitStates("started")); err != nil {
		t.Fatal(err)
	}
	if err := e.flaps.Wait(ctx(t), e.app, m.ID, flaps.WithWaitStates("destroyed")); err != nil {
		t.Fatal(err)
	}
	got, err := e.flaps.Get(ctx(t), e.app, m.ID)
	if err != nil || got.State != "destroyed" {
		t.Fatalf("release command machine: %+v %v", got, err)
	}
	exit := got.GetLatestEventOfTypeAfterType("exit", "start")
	if exit == nil {
		t.Fatalf("no exit after the start: %+v", got.Events)
	}
	if code, err := exit.Request.GetExitCode(); err != nil || code != 0 {
		t.Fatalf("exit code %d %v", code, err)
	}
	if !logged(e.sim.Logs(m.ID), "Main child exited normally with code: 0") || !logged(e.sim.Logs(m.ID), "Quieting") {
		t.Fatalf("release command logs: %+v", e.sim.Logs(m.ID))
	}
	worker := firstWhere(t, e.sim, func(v MachineView) bool { return v.Group == "worker" })
	if !logged(e.sim.Logs(worker.ID), "Received TSTP, no longer accepting new work") {
		t.Fatalf("worker not quieted: %+v", e.sim.Logs(worker.ID))
	}
}

func logged(lines []LogLine, part string) bool {
	for _, l := range lines {
		if strings.Contains(l.Message, part) {
			return true
		}
	}
	return false
}
