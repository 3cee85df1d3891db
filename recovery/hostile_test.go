package recovery

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/flyclient/flysim"
	"github.com/flyrescue/flyrescue/model"
)

// TestBadImageCanaryThenBreaker: the target image starts but fails its
// health checks, and no machine runs it yet. An update of 200 machines
// must touch at most 3 per group (a canary, then the breaker), record the
// rest halted, and say which groups halted and why.
func TestBadImageCanaryThenBreaker(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "total-failure", Machines: 200, NoRateLimit: true, Seed: 5})
	r.sim.SetImageBehavior(r.sim.TargetImage(), flysim.ImageFailsChecks)
	e := r.engine(Options{WaitTimeout: 2 * time.Second})
	p, err := e.PlanUpdate(context.Background(), UpdateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Limits.Canary) != 3 {
		t.Errorf("plan should send every group canary-first, got %v", p.Limits.Canary)
	}
	if !strings.Contains(strings.Join(p.Notes, "\n"), "web goes canary-first") {
		t.Errorf("plan notes do not say web goes canary-first: %q", p.Notes)
	}
	r.sim.ResetStats()
	var halts []Event
	haltedSteps := 0
	var mu sync.Mutex
	res, err := e.Execute(context.Background(), p, func(ev Event) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case ev.Phase == PhaseHalted && ev.MachineID == "":
			halts = append(halts, ev)
		case ev.Phase == PhaseHalted:
			haltedSteps++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	stats := r.sim.Stats()
	touched := map[string]int{}
	live := r.machines()
	for id, n := range stats.MutationsPerMachine {
		touched[live[id].Group]++
		if n != 1 {
			t.Errorf("%s mutated %d times", id, n)
		}
	}
	for g, n := range touched {
		if n > 3 {
			t.Errorf("group %s: %d machines got the failing image, want at most 3", g, n)
		}
	}
	if len(res.Halts) != 3 || len(halts) != 3 {
		t.Fatalf("want 3 halted groups, got %v (events %d)", res.Halts, len(halts))
	}
	for _, h := range halts {
		if !strings.Contains(h.Reason, "health checks not passing") || h.Group == "" {
			t.Errorf("halt event %+v does not name the group and cause", h)
		}
	}
	if haltedSteps != res.Halted {
		t.Errorf("%d steps reported halted by events, %d by the result", haltedSteps, res.Halted)
	}
	if res.Halted < len(p.Steps)-9 || res.OK != 0 {
		t.Errorf("want the rest halted and nothing ok: %+v", res)
	}
	// The journal records halted outcomes, so the log explains every machine.
	recs, _, err := e.Journal().Records()
	if err != nil {
		t.Fatal(err)
	}
	halted := 0
	for _, rec := range recs {
		if rec.Outcome != nil && rec.Outcome.Outcome == OutcomeHalted {
			halted++
		}
	}
	if halted != res.Halted {
		t.Errorf("journal has %d halted outcomes, result %d", halted, res.Halted)
	}
	// A plain resume does not push the failing image on: halted steps
	// wait for the operator to name the action.
	if _, err := e.PlanResume(context.Background(), ""); !errors.Is(err, ErrNothingToDo) {
		t.Errorf("resume with no action: %v, want nothing to do", err)
	}
	rp, err := e.PlanResume(context.Background(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rp.Steps) < res.Halted || len(rp.Limits.Canary) != 3 {
		t.Errorf("resume of %s: %d steps (want >= %d halted), canary %v", p.ID, len(rp.Steps), res.Halted, rp.Limits.Canary)
	}
}

// TestProvenImageGoesAtFullBudget: in the minority case the target already
// runs healthy on a fifth of each group, so no group is canaried and the
// first wave fills the budget.
func TestProvenImageGoesAtFullBudget(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "minority", Machines: 200, NoRateLimit: true, Seed: 2, Speed: 20})
	e := r.engine(Options{})
	p, err := e.PlanUpdate(context.Background(), UpdateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Limits.Canary) != 0 {
		t.Fatalf("proven image canaried: %v", p.Limits.Canary)
	}
	r.sim.ResetStats()
	res := r.run(e, p)
	if res.OK < len(p.Steps)-2 {
		t.Errorf("want (nearly) all ok: %+v", res)
	}
	stats := r.sim.Stats()
	for g, peak := range stats.PeakUnavailable {
		b := p.Limits.GroupBudget[g]
		if peak > b {
			t.Errorf("%s: peak %d over budget %d", g, peak, b)
		}
		if g == "web" && peak < b/2 {
			t.Errorf("%s: peak %d: the proven image did not go at the budget %d", g, peak, b)
		}
	}
}

// TestTwoOperatorsSameSelection: two flyrescue engines (two journals, as two
// processes would have) update the same selection at once. Lease, then
// read: no machine is updated twice, and the group budgets hold across
// both.
func TestTwoOperatorsSameSelection(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "minority", Machines: 200, Seed: 9})
	a := r.engine(Options{Operator: "alice"})
	r2 := *r
	r2.dir = t.TempDir()
	b := r2.engine(Options{Operator: "bob"})
	pa, err := a.PlanUpdate(context.Background(), UpdateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	pb, err := b.PlanUpdate(context.Background(), UpdateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	r.sim.ResetStats()
	var wg sync.WaitGroup
	var ra, rb *Result
	wg.Add(2)
	go func() { defer wg.Done(); ra = r.run(a, pa) }()
	go func() {
		defer wg.Done()
		time.Sleep(150 * time.Millisecond) // the second operator is a moment later
		rb = r.run(b, pb)
	}()
	wg.Wait()
	stats := r.sim.Stats()
	for id, n := range stats.MutationsPerMachine {
		if n > 1 {
			t.Errorf("%s mutated %d times", id, n)
		}
	}
	for g, peak := range stats.PeakUnavailable {
		if b := pa.Limits.GroupBudget[g]; peak > b {
			t.Errorf("%s: peak unavailable %d over the budget %d", g, peak, b)
		}
	}
	target := r.sim.TargetImage()
	for _, m := range r.machines() {
		if m.Image != target && m.LeaseOwner != flysim.LeaseBot {
			t.Errorf("%s left on %s", m.ID, m.Image)
		}
	}
	t.Logf("alice: %d ok %d skipped %d failed; bob: %d ok %d skipped %d failed; peak %v budget %v",
		ra.OK, ra.Skipped, ra.Failed, rb.OK, rb.Skipped, rb.Failed, stats.PeakUnavailable, pa.Limits.GroupBudget)
}

// TestBesideRunningDeploy: a deploy is still rolling the target out (it
// keeps 5-9 machines replacing, most of them web) while we update the same
// fleet with a budget of 12 per group. We never re-update a machine the
// deploy already moved, and the machines down at once, the deploy's and
// ours together, stay within the budget.
func TestBesideRunningDeploy(t *testing.T) {
	// Simulated time runs 20x: the fleet is re-read every 50 ms, i.e.
	// every simulated second.
	r := newRig(t, flysim.Options{Scenario: "minority", Machines: 200, Seed: 4, Deploying: true, Speed: 20, NoRateLimit: true})
	e := r.engine(Options{MaxUnavailable: 12, WaitTimeout: 20 * time.Second, FleetRefresh: 50 * time.Millisecond})
	// The operator opens flyrescue while the deploy is under way: it
	// started 3 s (simulated) in, and each machine takes 8 s, so by 20 s
	// it has as many machines in flight as it will have.
	time.Sleep(time.Second)
	if countDown(r, "web") == 0 {
		t.Fatal("the deploy is not moving: nothing to test beside")
	}
	p, err := e.PlanUpdate(context.Background(), UpdateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond) // the operator reads the plan
	r.sim.ResetStats()
	res := r.run(e, p)
	stats := r.sim.Stats()
	for id, n := range stats.MutationsPerMachine {
		if n > 1 {
			t.Errorf("%s mutated %d times", id, n)
		}
	}
	for g, peak := range stats.PeakUnavailable {
		if b := p.Limits.GroupBudget[g]; peak > b {
			t.Errorf("%s: peak unavailable %d over the budget %d", g, peak, b)
		}
	}
	if res.OK == 0 {
		t.Error("did nothing beside the deploy")
	}
	t.Logf("ok %d skipped %d failed %d; peak %v budget %v", res.OK, res.Skipped, res.Failed, stats.PeakUnavailable, p.Limits.GroupBudget)
}

// countDown counts a group's live machines that are not started.
func countDown(r *rig, group string) int {
	n := 0
	for _, m := range r.machines() {
		if m.Group == group && m.State != "started" {
			n++
		}
	}
	return n
}

// TestLostAnswersNeverApplyTwice: 30% of mutating calls are carried out and
// then their connection is closed without an answer, and 10% more are
// carried out and answered 500. A retry must read the machine and see that
// the change landed: no machine is updated or restarted twice, and every
// one ends verified.
func TestLostAnswersNeverApplyTwice(t *testing.T) {
	for _, op := range []Op{OpUpdate, OpRestart, OpStop, OpDestroy, OpSuspend, OpCordon} {
		t.Run(string(op), func(t *testing.T) {
			r := newRig(t, flysim.Options{Scenario: "minority", Machines: 200, NoRateLimit: true, Seed: 11, LostAnswerRate: 0.3, AppliedErrorRate: 0.1})
			e := r.engine(Options{})
			var p *Plan
			var err error
			sel := Selector{Query: "image:old"}
			switch op {
			case OpUpdate:
				p, err = e.PlanUpdate(context.Background(), UpdateRequest{})
			case OpRestart:
				p, err = e.PlanRestart(context.Background(), sel)
			case OpStop:
				p, err = e.PlanStop(context.Background(), sel)
			case OpDestroy:
				p, err = e.PlanDestroy(context.Background(), DestroyRequest{Selector: sel, Force: true})
			default:
				p, err = e.PlanVerb(context.Background(), Kind(op), VerbRequest{Selector: sel})
			}
			if err != nil {
				t.Fatal(err)
			}
			r.sim.ResetStats()
			res := r.run(e, p)
			stats := r.sim.Stats()
			if stats.LostAnswers == 0 || stats.AppliedErrors == 0 {
				t.Fatalf("no answers were lost (%d) or failed after applying (%d)", stats.LostAnswers, stats.AppliedErrors)
			}
			twice := 0
			for id, n := range stats.MutationsPerMachine {
				if n > 1 {
					twice++
					t.Errorf("%s mutated %d times", id, n)
				}
			}
			for _, m := range failures(res) {
				if !contains(m.Error, flysim.LeaseBot) {
					t.Errorf("%s: %s %s", m.MachineID, m.Outcome, m.Error)
				}
			}
			t.Logf("%s: %d steps, %d ok; %d lost answers, %d 500s after applying, %d machines mutated twice",
				op, len(p.Steps), res.OK, stats.LostAnswers, stats.AppliedErrors, twice)
		})
	}
}

// TestLostAnswersScaleUpLaunchesOnce: creates whose answers are lost must
// not become two machines: a retry finds the machine its step tagged.
func TestLostAnswersScaleUpLaunchesOnce(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "healthy", Machines: 100, NoRateLimit: true, Seed: 12, LostAnswerRate: 0.3})
	e := r.engine(Options{})
	before := len(r.machines())
	web := 0
	for _, m := range r.machines() {
		if m.Group == "web" {
			web++
		}
	}
	p, err := e.PlanScale(context.Background(), ScaleRequest{Group: "web", Count: web + 30})
	if err != nil {
		t.Fatal(err)
	}
	res := r.run(e, p)
	if res.OK != 30 {
		t.Errorf("want 30 launches ok: %+v", failures(res))
	}
	if got := len(r.machines()); got != before+30 {
		t.Errorf("%d machines after scaling up by 30 from %d: a lost answer launched twice", got, before)
	}
	if r.sim.Stats().LostAnswers == 0 {
		t.Error("no answer was lost")
	}
}

// TestDeadAPIEndsRunInterrupted: the API starts resetting every connection
// in the middle of an update. The run must end soon after (not wait out
// its retries and timeouts), with exit-5 material (ErrUnreachable), and
// record what it could not finish as interrupted, never as failed: the
// machines did nothing wrong. Resume finishes the job once the API is back,
// applying nothing twice.
func TestDeadAPIEndsRunInterrupted(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "minority", Machines: 200, NoRateLimit: true, Seed: 13, Speed: 50})
	e := r.engine(Options{APIDownAfter: time.Second, Concurrency: 16})
	p, err := e.PlanUpdate(context.Background(), UpdateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	r.sim.ResetStats()
	var cut time.Time
	var once sync.Once
	res, err := e.Execute(context.Background(), p, func(ev Event) {
		if ev.Phase == PhaseDone && ev.MachineID != "" {
			once.Do(func() {
				cut = time.Now()
				r.sim.SetOutage(flysim.OutageReset, 0)
			})
		}
	})
	ended := time.Since(cut)
	if !errors.Is(err, flyclient.ErrUnreachable) {
		t.Fatalf("run ended with %v, want the API unreachable", err)
	}
	if ended > 10*time.Second {
		t.Errorf("the run took %s to notice the API was gone", ended)
	}
	if res.Interrupted == 0 {
		t.Errorf("want interrupted steps, got %d ok %d failed %d interrupted", res.OK, res.Failed, res.Interrupted)
	}
	for _, m := range res.Machines {
		if m.Outcome == OutcomeFailed && !contains(m.Error, flysim.LeaseBot) {
			t.Errorf("%s failed: %s", m.MachineID, m.Error)
		}
	}
	r.sim.SetOutage(flysim.OutageNone, 0)
	rp, err := e.PlanResume(context.Background(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	rres := r.run(e, rp)
	for _, m := range failures(rres) {
		t.Logf("resume: %s %s %s", m.MachineID, m.Outcome, m.Error)
	}
	for id, n := range r.sim.Stats().MutationsPerMachine {
		if n > 1 {
			t.Errorf("%s mutated %d times across the run and its resume", id, n)
		}
	}
	target := r.sim.TargetImage()
	for _, m := range r.machines() {
		if m.Image != target && m.LeaseOwner != flysim.LeaseBot {
			t.Errorf("%s left on %s after resume", m.ID, m.Image)
		}
	}
	t.Logf("ended %s after the API went away: %d ok, %d interrupted", ended.Round(time.Millisecond), res.OK, res.Interrupted)
}

// TestGroupHeldOverBudgetByOthers: a group whose budget is already used up
// by machines someone else stopped gets no more machines taken down, and
// the run says so at once instead of waiting forever.
func TestGroupHeldOverBudgetByOthers(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "minority", Machines: 40, NoRateLimit: true, Seed: 3})
	ctx := context.Background()
	var workers []string
	for _, m := range r.machines() {
		if m.Group == "worker" && m.State == "started" && m.LeaseOwner == "" {
			workers = append(workers, m.ID)
		}
	}
	// worker has 12 machines: a budget of 4 at 0.33. Stop 4 outside flyrescue.
	for _, id := range workers[:4] {
		if err := r.client.Stop(ctx, r.sim.App(), id, "", time.Second); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range workers[:4] {
		if _, err := r.client.WaitFor(ctx, r.sim.App(), id, []string{"stopped"}, "", 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	e := r.engine(Options{})
	p, err := e.PlanRestart(ctx, Selector{MachineIDs: workers[4:8]})
	if err != nil {
		t.Fatal(err)
	}
	r.sim.ResetStats()
	began := time.Now()
	res := r.run(e, p)
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("took %s to give up on a group held over its budget", took)
	}
	if res.Failed != 4 {
		t.Fatalf("want the 4 restarts refused, got %+v", res)
	}
	for _, m := range res.Machines {
		if !contains(m.Error, "already not serving") {
			t.Errorf("%s: %s", m.MachineID, m.Error)
		}
	}
	if n := len(r.sim.Stats().MutationsPerMachine); n != 0 {
		t.Errorf("%d machines were touched", n)
	}
}

// TestHangingAPIMidRun: the API starts accepting requests and never
// answering in the middle of an update. With a 500 ms request deadline the
// run must end within two deadlines of the hang, as unreachable, with what
// was in flight recorded interrupted.
func TestHangingAPIMidRun(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "minority", Machines: 100, NoRateLimit: true, Seed: 14, Speed: 20})
	const deadline = 500 * time.Millisecond
	c, err := flyclient.New(context.Background(), flyclient.Config{Token: testToken, FlapsBaseURL: r.srv.URL, APIBaseURL: r.srv.URL, RequestTimeout: deadline})
	if err != nil {
		t.Fatal(err)
	}
	r.client = c
	e := r.engine(Options{APIDownAfter: deadline, Concurrency: 16})
	p, err := e.PlanUpdate(context.Background(), UpdateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var hung time.Time
	var once sync.Once
	res, err := e.Execute(context.Background(), p, func(ev Event) {
		if ev.Phase == PhaseDone && ev.MachineID != "" {
			once.Do(func() {
				hung = time.Now()
				r.sim.SetOutage(flysim.OutageHang, 0)

			})
		}
	})
	ended := time.Since(hung)
	r.sim.SetOutage(flysim.OutageNone, 0)
	if !errors.Is(err, flyclient.ErrUnreachable) {
		t.Fatalf("run ended with %v, want the API unreachable", err)
	}
	if ended > 2*deadline {
		t.Errorf("the run ended %s after the API hung (deadline %s)", ended, deadline)
	}
	for _, m := range res.Machines {
		if m.Outcome == OutcomeFailed && !contains(m.Error, flysim.LeaseBot) {
			t.Errorf("%s failed: %s", m.MachineID, m.Error)
		}
	}
	if res.Interrupted == 0 {
		t.Errorf("nothing interrupted: %+v", res)
	}
	t.Logf("ended %s after the hang: %d ok, %d interrupted", ended.Round(time.Millisecond), res.OK, res.Interrupted)
}

// TestEchoedTokenNeverJournaled: the API echoes the Authorization header in
// every error body. The run's error texts reach the journal and the
// results, but the token never does.
func TestEchoedTokenNeverJournaled(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "minority", Machines: 60, NoRateLimit: true, Seed: 15, EchoAuth: true, FaultRate: 0.3})
	e := r.engine(Options{Retries: 1})
	p, err := e.PlanUpdate(context.Background(), UpdateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	res := r.run(e, p)
	if r.sim.Stats().Faults == 0 {
		t.Fatal("no faults injected")
	}
	raw, err := os.ReadFile(e.Journal().Path())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), testToken) {
		t.Fatal("the journal holds the token")
	}
	redacted := strings.Count(string(raw), "[REDACTED]")
	for _, m := range res.Machines {
		if strings.Contains(m.Error, testToken) {
			t.Fatalf("%s: result error holds the token: %s", m.MachineID, m.Error)
		}
	}
	if redacted == 0 {
		t.Error("no echoed header reached the journal: the test proves nothing")
	}
}

// TestCancelWhileRetryingIsInterrupted: the operator presses ctrl+c while
// steps wait to retry a 500. Those steps are recorded interrupted (resume
// picks them up), never failed (which resume would skip).
func TestCancelWhileRetryingIsInterrupted(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "minority", Machines: 40, NoRateLimit: true, Seed: 16, FaultRate: 1})
	e := r.engine(Options{BackoffBase: 200 * time.Millisecond, BackoffMax: time.Second})
	p, err := e.PlanUpdate(context.Background(), UpdateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	retrying := 0
	res, err := e.Execute(ctx, p, func(ev Event) {
		if ev.Phase == PhaseRetrying {
			if retrying++; retrying == 10 {
				cancel()
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range res.Machines {
		if m.Outcome == OutcomeFailed && !contains(m.Error, flysim.LeaseBot) {
			t.Errorf("%s recorded failed on cancel: %s", m.MachineID, m.Error)
		}
	}
	if res.Interrupted == 0 {
		t.Fatalf("nothing interrupted: %+v", res)
	}
	hist, err := e.history()
	if err != nil {
		t.Fatal(err)
	}
	if c := Resumable(hist); len(c) != 1 || c[0].Action.ID != p.ID {
		t.Errorf("the cancelled action is not resumable")
	}
}

// TestLeasesSayWhoseActionHoldsThem: while a step acts, its machine's lease
// says which action of whose holds it, so a teammate's flyrescue (or `fly m
// leases view`) can tell, and our own status does not count it as someone
// else's.
func TestLeasesSayWhoseActionHoldsThem(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "minority", Machines: 20, NoRateLimit: true, Seed: 17, Speed: 20})
	e := r.engine(Options{})
	p, err := e.PlanUpdate(context.Background(), UpdateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	want := model.LeaseDescription(p.ID, "tester")
	var seen, wrong []string
	var mu sync.Mutex
	r.run2(e, p, func(ev Event) {
		if ev.Phase != PhaseActing {
			return
		}
		v, _ := r.sim.Machine(ev.MachineID)
		mu.Lock()
		defer mu.Unlock()
		if v.LeaseDescription == want {
			seen = append(seen, ev.MachineID)
		} else {
			wrong = append(wrong, ev.MachineID+": "+v.LeaseDescription)
		}
	})
	if len(seen) == 0 || len(wrong) > 0 {
		t.Fatalf("leases with %q: %d; others: %v", want, len(seen), wrong)
	}
	if !(model.Lease{Description: want}).Ours("tester") || (model.Lease{Description: want}).Ours("alice") {
		t.Error("Lease.Ours does not tell ours from others'")
	}
}

// TestForceDestroyOfAMachineStuckDestroying: a machine wedged in
// `destroying` (it will not finish on its own) is the runbook's stuck
// machine: only a forced destroy reaches it. Other plans name it as being
// destroyed; a destroy without --force says to force it.
func TestForceDestroyOfAMachineStuckDestroying(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "healthy", Machines: 6, NoRateLimit: true, Seed: 18})
	ctx := context.Background()
	var id string
	for _, m := range r.machines() {
		id = m.ID
		break
	}
	if err := r.client.Stop(ctx, r.sim.App(), id, "", time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := r.client.WaitFor(ctx, r.sim.App(), id, []string{"stopped"}, "", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	r.sim.SetMachineFault(id, flysim.FaultStuck)
	if err := r.client.Destroy(ctx, r.sim.App(), id, "", false); err != nil {
		t.Fatal(err)
	}
	if v, _ := r.sim.Machine(id); v.State != "destroying" {
		t.Fatalf("setup: machine is %s, not destroying", v.State)
	}
	e := r.engine(Options{})
	up, err := e.PlanUpdate(ctx, UpdateRequest{Selector: Selector{MachineIDs: []string{id}}, Image: r.sim.PreviousImage()})
	if err != nil || len(up.Steps) != 0 || len(up.Skipped) != 1 || !contains(up.Skipped[0].Reason, "being destroyed") {
		t.Fatalf("update of a machine being destroyed: %v %+v", err, up)
	}
	soft, err := e.PlanDestroy(ctx, DestroyRequest{Selector: Selector{MachineIDs: []string{id}}})
	if err != nil || len(soft.Steps) != 0 || len(soft.Skipped) != 1 || !contains(soft.Skipped[0].Reason, "--force") {
		t.Fatalf("destroy without force: %v %+v", err, soft)
	}
	p, err := e.PlanDestroy(ctx, DestroyRequest{Selector: Selector{MachineIDs: []string{id}}, Force: true})
	if err != nil || len(p.Steps) != 1 {
		t.Fatalf("destroy --force: %v %+v", err, p)
	}
	if res := r.run(e, p); res.OK != 1 {
		t.Fatalf("destroy --force: %+v", failures(res))
	}
	if v, _ := r.sim.Machine(id); !v.Destroyed {
		t.Errorf("machine is %s after a forced destroy", v.State)
	}
}

// TestClearLeases: a deploy that died left day-long leases. clear-lease
// plans them with their holder, clears exactly those, leaves alone a lease
// that changed since the plan (its holder is alive), and never journals a
// nonce. Afterwards an update reaches the freed machines.
func TestClearLeases(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "minority", Machines: 200, NoRateLimit: true, Seed: 19})
	ctx := context.Background()
	e := r.engine(Options{})
	var held []string
	for _, m := range r.machines() {
		if m.LeaseOwner == flysim.LeaseBot {
			held = append(held, m.ID)
		}
	}
	if len(held) != 2 {
		t.Fatalf("the scenario leases %d machines to the bot, want 2", len(held))
	}
	p, err := e.PlanClearLeases(ctx, Selector{Query: "image:old"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Steps) != 2 || !contains(p.Steps[0].Reason, flysim.LeaseBot) || !contains(p.Steps[0].Reason, "deploy") {
		t.Fatalf("plan: %d steps %+v", len(p.Steps), p.Steps)
	}
	// One holder comes back to life: it releases and re-takes its lease.
	alive := p.Steps[1].MachineID
	if l, err := r.client.FindLease(ctx, r.sim.App(), alive); err != nil || l == nil {
		t.Fatal(err)
	} else if err := r.client.ReleaseLease(ctx, r.sim.App(), alive, l.Nonce); err != nil {
		t.Fatal(err)
	}
	if err := r.sim.HoldLease(alive, flysim.LeaseBot, time.Hour); err != nil {
		t.Fatal(err)
	}
	cleared, err := r.client.FindLease(ctx, r.sim.App(), p.Steps[0].MachineID)
	if err != nil || cleared == nil {
		t.Fatal(err)
	}
	res := r.run(e, p)
	if res.OK != 1 || res.Skipped != 1 {
		t.Fatalf("want one cleared and one left alone: %+v", res.Machines)
	}
	if v, _ := r.sim.Machine(p.Steps[0].MachineID); v.LeaseOwner != "" {
		t.Errorf("%s still leased by %s", v.ID, v.LeaseOwner)
	}
	if v, _ := r.sim.Machine(alive); v.LeaseOwner != flysim.LeaseBot {
		t.Errorf("the live holder's new lease on %s was cleared", alive)
	}
	raw, err := os.ReadFile(e.Journal().Path())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), cleared.Nonce) {
		t.Error("the journal holds the cleared lease's nonce")
	}
	if _, err := e.PlanUndo(ctx, p.ID); !errors.Is(err, ErrNothingToDo) {
		t.Errorf("undo of a clear-lease: %v", err)
	}
	up, err := e.PlanUpdate(ctx, UpdateRequest{Selector: Selector{MachineIDs: []string{p.Steps[0].MachineID}}})
	if err != nil || len(up.Steps) != 1 {
		t.Fatalf("the freed machine cannot be updated: %v %+v", err, up)
	}
}

// panicky is the real client with a bug planted: Update of one machine
// panics, as a nil dereference in our code would.
type panicky struct {
	*flyclient.Client
	id string
}

func (p panicky) Update(ctx context.Context, app string, in flyclient.UpdateInput) (*flyclient.Machine, error) {
	if in.ID == p.id {
		panic("planted bug")
	}
	return p.Client.Update(ctx, app, in)
}

// TestPanicOnAStepFailsThatStep: a panic on an engine goroutine ends that
// one step as failed, with the reason, and the run goes on; the process
// (and a dashboard's terminal) survives.
func TestPanicOnAStepFailsThatStep(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "minority", Machines: 20, NoRateLimit: true, Seed: 20})
	e := r.engine(Options{})
	p, err := e.PlanUpdate(context.Background(), UpdateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	bad := p.Steps[0].MachineID
	e.api = panicky{Client: r.client, id: bad}
	res := r.run(e, p)
	var got MachineResult
	for _, m := range res.Machines {
		if m.MachineID == bad {
			got = m
		}
	}
	if got.Outcome != OutcomeFailed || !contains(got.Error, "internal error") || !contains(got.Error, "planted bug") {
		t.Fatalf("the panicking step: %+v", got)
	}
	if res.OK != len(p.Steps)-1 {
		t.Errorf("the other steps did not finish: %+v", failures(res))
	}
	if v, _ := r.sim.Machine(bad); v.LeaseOwner != "" {
		t.Errorf("the panicking step left its lease on %s", bad)
	}
}

// TestRunWaitDoesNotNeedAReader: a caller that stops reading the events
// (a dashboard that quit, a script that only waits) does not block the run
// or Wait.
func TestRunWaitDoesNotNeedAReader(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "minority", Machines: 300, NoRateLimit: true, Seed: 21})
	e := r.engine(Options{})
	p, err := e.PlanRestart(context.Background(), Selector{Query: "image:old"})
	if err != nil {
		t.Fatal(err)
	}
	run := e.Start(context.Background(), p) // far more events than the channel holds, none read
	done := make(chan struct{})
	var res *Result
	go func() { res, _ = run.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(40 * time.Second):
		t.Fatal("Wait blocked on a reader that never came")
	}
	if res == nil || res.OK+res.Failed < len(p.Steps)-5 {
		t.Fatalf("result %+v", res)
	}
}
