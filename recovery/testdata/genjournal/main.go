// Command genjournal writes a realistic journal by driving the engine over
// flysim, in whatever format the engine of this checkout writes. At commit
// 8bbfbbd, before the journal had a schema of its own, it wrote
// journal-v0.jsonl; a later format's fixture is made the same way, so each
// compatibility test reads a journal of the same shape. From the
// repository root:
//
//	go run ./recovery/testdata/genjournal -o recovery/testdata/journal-vN.jsonl
//
// Beside the journal it writes the fleet it ran on (genOptions, without
// the token) as <name>.fleet.json: a test plans from the journal against a
// sim of that fleet, which the same seed makes the same machines.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/flyclient/flysim"
	"github.com/flyrescue/flyrescue/recovery"
)

// token is the sim's token: the journal must not hold it (checked below).
const token = "genjournal-token-must-never-be-journaled"

// genOptions is the fleet: 40 machines, a fifth on the target image, two
// day-long leases held by a stalled deploy.
func genOptions() flysim.Options {
	bot := flysim.HeldLease{Owner: flysim.LeaseBot, Description: flysim.LeaseBotDescription}
	return flysim.Options{Scenario: "minority", Machines: 40, Seed: 12, Speed: 200, NoRateLimit: true, Token: token,
		Leases: []flysim.HeldLease{bot, bot}}
}

func main() {
	out := flag.String("o", "", "where to write the journal")
	flag.Parse()
	if *out == "" {
		fail(fmt.Errorf("give -o FILE"))
	}
	if err := generate(*out); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "genjournal:", err)
	os.Exit(1)
}

type gen struct {
	ctx context.Context
	sim *flysim.Sim
	e   *recovery.Engine
	// old are the machines on the previous image that nobody leases, in ID
	// order; pick hands each out once.
	old []flysim.MachineView
}

// pick takes n of the old machines, of group when not "".
func (g *gen) pick(n int, group string) []string {
	var ids []string
	for i := 0; i < len(g.old) && len(ids) < n; {
		if m := g.old[i]; group == "" || m.Group == group {
			ids = append(ids, m.ID)
			g.old = append(g.old[:i], g.old[i+1:]...)
			continue
		}
		i++
	}
	return ids
}

func generate(out string) error {
	srv, err := flysim.Start(genOptions())
	if err != nil {
		return err
	}
	defer srv.Close()
	ctx := context.Background()
	client, err := flyclient.New(ctx, flyclient.Config{Token: token, FlapsBaseURL: srv.URL, APIBaseURL: srv.URL})
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "genjournal")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	j, err := recovery.OpenJournal(dir, srv.Sim.App())
	if err != nil {
		return err
	}
	defer j.Close()
	g := &gen{ctx: ctx, sim: srv.Sim, e: recovery.NewEngine(client, j, recovery.Options{App: srv.Sim.App(), Unpaced: true,
		WaitTimeout: 3 * time.Second, BackoffBase: 20 * time.Millisecond, BackoffMax: 300 * time.Millisecond,
		Operator: "oncall@example.com"})}
	if err := g.actions(); err != nil {
		return err
	}
	data, err := os.ReadFile(j.Path())
	if err != nil {
		return err
	}
	if bytes.Contains(data, []byte(token)) {
		return fmt.Errorf("the journal holds the token")
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		return err
	}
	fleet := genOptions()
	fleet.Token = ""
	b, err := json.MarshalIndent(fleet, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(strings.TrimSuffix(out, ".jsonl")+".fleet.json", append(b, '\n'), 0o644)
}

// actions runs, in order: an update with one machine held by another's
// lease, a destroy and its undo, a scale up and back, a clear-lease, an
// update to an image that fails its checks (halted steps), a cancelled
// restart (an interrupted and pending steps) and a stop whose last outcomes
// a crash took (intents without outcomes).
func (g *gen) actions() error {
	leased := g.oldMachines()
	if len(g.old) < 16 || len(leased) != 2 {
		return fmt.Errorf("fleet: %d old unleased machines, %d leased", len(g.old), len(leased))
	}
	update, err := g.e.PlanUpdate(g.ctx, recovery.UpdateRequest{Selector: recovery.Selector{MachineIDs: append(g.pick(3, ""), leased[0])}})
	if err := g.run(update, err); err != nil {
		return err
	}
	if len(update.Held) != 1 {
		return fmt.Errorf("update: %d held, want 1", len(update.Held))
	}
	destroy, err := g.e.PlanDestroy(g.ctx, recovery.DestroyRequest{Selector: recovery.Selector{MachineIDs: g.pick(1, "")}, Force: true})
	if err := g.run(destroy, err); err != nil {
		return err
	}
	undo, err := g.e.PlanUndo(g.ctx, destroy.ID)
	if err := g.run(undo, err); err != nil {
		return err
	}
	if len(undo.Steps) != 1 || undo.Steps[0].Config == nil {
		return fmt.Errorf("undo of the destroy: %+v", undo.Steps)
	}
	workers := 0
	for _, m := range g.sim.Machines() {
		if m.Group == "worker" && !m.Destroyed {
			workers++
		}
	}
	up, err := g.e.PlanScale(g.ctx, recovery.ScaleRequest{Group: "worker", Count: workers + 1})
	if err := g.run(up, err); err != nil {
		return err
	}
	back, err := g.e.PlanScale(g.ctx, recovery.ScaleRequest{Group: "worker", Back: true})
	if err := g.run(back, err); err != nil {
		return err
	}
	clear, err := g.e.PlanClearLeases(g.ctx, recovery.Selector{MachineIDs: leased[1:]})
	if err := g.run(clear, err); err != nil {
		return err
	}
	if err := g.halted(g.pick(6, "web")); err != nil {
		return err
	}
	if err := g.cancelled(g.pick(3, "")); err != nil {
		return err
	}
	return g.crashed(g.pick(3, ""))
}

// oldMachines fills g.old and returns the old machines someone leases, in
// ID order.
func (g *gen) oldMachines() (leased []string) {
	ms := g.sim.Machines()
	sort.Slice(ms, func(i, k int) bool { return ms[i].ID < ms[k].ID })
	for _, m := range ms {
		switch {
		case m.Image != g.sim.PreviousImage():
		case m.LeaseOwner != "":
			leased = append(leased, m.ID)
		default:
			g.old = append(g.old, m)
		}
	}
	return leased
}

func (g *gen) run(p *recovery.Plan, err error) error {
	if err != nil {
		return err
	}
	_, err = g.e.Execute(g.ctx, p, nil)
	return err
}

// halted updates machines to an older release whose image fails its health
// checks: unproven, so a canary goes first and the breaker halts the rest.
func (g *gen) halted(ids []string) error {
	rels := g.sim.Releases()
	image := rels[len(rels)-1].Image // the oldest: no machine runs it
	g.sim.SetImageBehavior(image, flysim.ImageFailsChecks)
	p, err := g.e.PlanUpdate(g.ctx, recovery.UpdateRequest{Selector: recovery.Selector{MachineIDs: ids}, Image: image})
	if err != nil {
		return err
	}
	res, err := g.e.Execute(g.ctx, p, nil)
	if err != nil {
		return err
	}
	if res.Halted == 0 {
		return fmt.Errorf("update to a failing image halted nothing: %+v", res.Machines)
	}
	return nil
}

// cancelled restarts machines one at a time and cancels the run when the
// first step is under way.
func (g *gen) cancelled(ids []string) error {
	p, err := g.e.PlanRestart(g.ctx, recovery.Selector{MachineIDs: ids})
	if err != nil {
		return err
	}
	p.Limits.Concurrency = 1
	ctx, cancel := context.WithCancel(g.ctx)
	defer cancel()
	run := g.e.Start(ctx, p)
	for ev := range run.Events() {
		if ev.MachineID != "" && ev.Phase != recovery.PhaseQueued {
			cancel()
		}
	}
	res, err := run.Wait()
	if err != nil {
		return err
	}
	if res.Interrupted == 0 && res.OK == len(p.Steps) {
		return fmt.Errorf("the cancelled restart interrupted nothing: %+v", res.Machines)
	}
	return nil
}

// crashed stops machines, then cuts the outcomes of the last two steps from
// the journal, as a process killed between the API call and the outcome
// leaves it.
func (g *gen) crashed(ids []string) error {
	p, err := g.e.PlanStop(g.ctx, recovery.Selector{MachineIDs: ids})
	if err := g.run(p, err); err != nil {
		return err
	}
	path := g.e.Journal().Path()
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	lines := strings.SplitAfter(string(data), "\n")
	var kept []string
	cut := 0
	for i := len(lines) - 1; i >= 0; i-- {
		var rec recovery.Record
		if cut < 2 && json.Unmarshal([]byte(lines[i]), &rec) == nil && rec.Outcome != nil && rec.Outcome.ActionID == p.ID {
			cut++
			continue
		}
		kept = append([]string{lines[i]}, kept...)
	}
	if cut != 2 {
		return fmt.Errorf("stop: %d outcomes to cut, want 2", cut)
	}
	return writeLines(path, kept)
}

func writeLines(path string, lines []string) error {
	f, err := os.Create(filepath.Clean(path))
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, l := range lines {
		w.WriteString(l)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
