package ui

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	fly "github.com/superfly/fly-go"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

// updateGoldens reads -update, which x/exp/golden (through teatest) already
// defines for this test binary.
func updateGoldens() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// fixedModel is the dashboard on a deterministic fleet at a fixed clock.
func fixedModel(t testing.TB, n, width, height int) *Model {
	t.Helper()
	machines, releases := model.SyntheticFleet(n, 1)
	now := func() time.Time { return model.SyntheticNow }
	eng := recovery.NewEngine(nil, nil, recovery.Options{App: model.SyntheticApp, Operator: "golden"})
	m := New(Options{App: model.SyntheticApp, Engine: eng, NoColor: true, Now: now, NoPoll: true})
	m.Update(teaSize(width, height))
	snap := buildSnapshot(m.opts, machines, releases)
	m.Update(pollResultMsg{gen: m.pollGen, snap: snap, releases: releases})
	return m
}

func checkGolden(t *testing.T, name string, m *Model) {
	t.Helper()
	got := ansi.Strip(m.View().Content)
	lines := strings.Split(got, "\n")
	if len(lines) != m.height {
		t.Errorf("%s: %d lines, want %d", name, len(lines), m.height)
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > m.width {
			t.Errorf("%s: line %d is %d wide (> %d): %q", name, i, w, m.width, l)
		}
	}
	path := filepath.Join("testdata", name+".golden")
	if updateGoldens() {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ui -run Golden -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from %s (run with -update to accept):\n%s", name, path, got)
	}
}

func TestGoldenScreens(t *testing.T) {
	for _, size := range [][2]int{{120, 40}, {80, 24}, {60, 15}} {
		w, h := size[0], size[1]
		suffix := fmt.Sprintf("%dx%d", w, h)
		t.Run("table_"+suffix, func(t *testing.T) {
			checkGolden(t, "table_"+suffix, fixedModel(t, 500, w, h))
		})
		t.Run("filter_marks_"+suffix, func(t *testing.T) {
			m := fixedModel(t, 500, w, h)
			m.Update(keyPress("/"))
			for _, r := range "group:worker_autoscale state:failed,stuck" {
				m.Update(keyPressRune(r))
			}
			m.Update(keyPress("enter"))
			m.Update(keyPress("down"))
			m.Update(keyPress("down"))
			m.Update(keyPress("space"))
			m.Update(keyPress("space"))
			checkGolden(t, "filter_marks_"+suffix, m)
		})
		t.Run("plan_"+suffix, func(t *testing.T) {
			m := fixedModel(t, 500, w, h)
			m.Update(keyPress("/"))
			for _, r := range "image:old" {
				m.Update(keyPressRune(r))
			}
			m.Update(keyPress("enter"))
			m.Update(keyPress("a"))
			m.Update(keyPress("esc"))
			m.receivePlanForTest(recovery.KindUpdate)
			checkGolden(t, "plan_"+suffix, m)
		})
		t.Run("detail_"+suffix, func(t *testing.T) {
			m := fixedModel(t, 500, w, h)
			m.Update(keyPress("down"))
			m.Update(keyPress("down"))
			mc, _ := m.cursorMachine()
			m.open(newDetailPane(m.shared, mc.ID))
			m.Update(detailMsg{id: mc.ID, machine: fakeFlyMachine(*mc), lease: &flyclient.Lease{Owner: "deploy-bot@example.com", ExpiresAt: model.SyntheticNow.Add(10 * time.Second)}})
			checkGolden(t, "detail_"+suffix, m)
		})
		t.Run("help_"+suffix, func(t *testing.T) {
			m := fixedModel(t, 500, w, h)
			m.Update(keyPress("?"))
			checkGolden(t, "help_"+suffix, m)
		})
		t.Run("journal_"+suffix, func(t *testing.T) {
			m := fixedModel(t, 500, w, h)
			m.open(m.journal)
			m.Update(journalMsg{path: "/tmp/flyrescue/app.jsonl", logs: fakeHistory()})
			checkGolden(t, "journal_"+suffix, m)
		})
	}
}

// receivePlanForTest opens the confirm dialog on a plan built from the
// marks, as the engine would plan an update, changed by edit.
func (m *Model) receivePlanForTest(kind recovery.Kind, edit ...func(*recovery.Plan)) {
	ids, hidden := m.targets()
	p := &recovery.Plan{ID: "20261123T031500-abc123", Kind: kind, App: m.opts.App, Selection: "machines " + strings.Join(ids, ","),
		Limits: recovery.Limits{MaxUnavailable: 0.33, GroupBudget: map[string]int{"web": 70, "worker": 50, "worker_autoscale": 50}, Concurrency: 32, Retries: 5, WaitTimeout: 5 * time.Minute}}
	for i, id := range ids {
		mc, _ := m.snap.Machine(id)
		p.Steps = append(p.Steps, recovery.Step{Seq: i + 1, MachineID: id, Op: recovery.OpUpdate, Group: mc.Group, Region: mc.Region, FromImage: mc.Image, ToImage: m.snap.Target.Image})
	}
	for _, e := range edit {
		e(p)
	}
	m.planSeq++
	m.planning = true
	m.status = planningPrefix + string(kind) + "…"
	m.receivePlan(planMsg{seq: m.planSeq, req: planRequest{kind: kind, ids: ids, hidden: hidden, image: m.snap.Target.Image}, plan: p})
}

func fakeFlyMachine(mc model.Machine) *flyclient.Machine {
	return &fly.Machine{
		ID: mc.ID, Name: mc.Name, State: mc.State, Region: mc.Region, InstanceID: mc.InstanceID, PrivateIP: "fdaa:0:1::3",
		CreatedAt: mc.CreatedAt.UTC().Format(time.RFC3339), UpdatedAt: mc.UpdatedAt.UTC().Format(time.RFC3339), HostStatus: "ok",
		Config: &fly.MachineConfig{
			Image:    mc.Image,
			Env:      map[string]string{"RELEASE_LABEL": mc.ReleaseLabel},
			Metadata: map[string]string{"fly_process_group": mc.Group, "fly_release_version": fmt.Sprint(mc.ReleaseVersion), "fly_platform_version": "v2"},
			Guest:    &fly.MachineGuest{CPUKind: "shared", CPUs: 2, MemoryMB: 2048},
			Restart:  &fly.MachineRestart{Policy: "on-failure"},
		},
		Events: []*fly.MachineEvent{
			{Type: "exit", Status: "failed", Source: "flyd", Timestamp: model.SyntheticNow.Add(-5 * time.Minute).UnixMilli(),
				Request: &fly.MachineRequest{ExitEvent: &fly.MachineExitEvent{ExitCode: 137, OOMKilled: true}, RestartCount: 3}},
			{Type: "update", Status: "replacing", Source: "user", Timestamp: model.SyntheticNow.Add(-6 * time.Minute).UnixMilli()},
			{Type: "launch", Status: "created", Source: "user", Timestamp: model.SyntheticNow.Add(-90 * 24 * time.Hour).UnixMilli()},
		},
		Checks: []*fly.MachineCheckStatus{
			{Name: "alive", Status: "critical", Output: "dial tcp [fdaa::3]:8080: connect: connection refused"},
			{Name: "http", Status: "passing", Output: "HTTP 200 OK"},
		},
	}
}

func fakeHistory() []*recovery.ActionLog {
	ok := &recovery.OutcomeRecord{Outcome: recovery.OutcomeOK}
	bad := &recovery.OutcomeRecord{Outcome: recovery.OutcomeFailed, Error: "lease held by deploy-bot@example.com"}
	return []*recovery.ActionLog{
		{Action: recovery.ActionRecord{ID: "20261123T030000-aaa111", Kind: recovery.KindRestart, Selection: "machines 0a1b2c3d4e5f60", Operator: "alice@laptop"},
			At: model.SyntheticNow.Add(-20 * time.Minute), Machines: []recovery.MachineLog{{MachineID: "0a1b2c3d4e5f60", Outcome: ok}}},
		{Action: recovery.ActionRecord{ID: "20261123T031500-abc123", Kind: recovery.KindUpdate, Selection: "group:worker_autoscale state:failed",
			Operator: "alice@laptop", App: "locksmith-api", Args: map[string]string{"image": "registry.fly.io/locksmith-api:locksmith-api.v62-6-g16f78e3"}},
			At: model.SyntheticNow.Add(-5 * time.Minute), Machines: []recovery.MachineLog{{MachineID: "1d8e7f6a5b4c30", Outcome: ok}, {MachineID: "2e9f8a7b6c5d40", Outcome: ok},
				{MachineID: "3fa09b8c7d6e50", Outcome: bad}, {MachineID: "4ab1ac9d8e7f60", Intent: &recovery.IntentRecord{}}}},
	}
}
