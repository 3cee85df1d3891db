package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/flyrescue/flyrescue/config"
	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

// actionFlags are the flags every mutating command shares.
type actionFlags struct {
	conn             connection
	query            string
	dryRun, yes      bool
	maxUnavailable   float64
	haltAfter        float64
	concurrency      int
	retries          int
	waitTimeout      time.Duration
	skipHealthChecks bool
	journalDir       string
	labelEnv         string
	stuckAfter       time.Duration
	leaseTTL         time.Duration
	verbose          bool
	readOnly         bool
	// scoped commands (the registry's Command.Scoped: stop, restart,
	// destroy...) act on the whole app only with --all: a forgotten
	// --select must not take the app down.
	scoped, all bool
	// readsJournal: the plan is built from the journal (scale --back), so
	// it cannot be made without one.
	readsJournal bool
}

// scopeError refuses a scoped command with nothing to narrow it.
func (f *actionFlags) scopeError(cmd string, args []string) error {
	if !f.scoped || len(args) > 0 || strings.TrimSpace(f.query) != "" || f.all {
		return nil
	}
	return &exitError{exitUsage, fmt.Errorf("%s with no MACHINE_ID and no --select would act on every machine of the app: name the machines, narrow it (e.g. --select stuck), or pass --all if you mean it", cmd)}
}

func (f *actionFlags) add(cmd *cobra.Command, selects bool) {
	f.conn.addFlags(cmd)
	fl := cmd.Flags()
	if selects {
		fl.StringVar(&f.query, "select", "", "Machines matching a filter query, e.g. 'group:web state:failed' (default: the machine IDs given, else all)")
		_ = cmd.RegisterFlagCompletionFunc("select", cobra.FixedCompletions(
			[]string{"group:", "state:", "region:", "image:old", "image:new", "checks:critical", "stuck", "-"},
			cobra.ShellCompDirectiveNoSpace|cobra.ShellCompDirectiveNoFileComp))
	}
	fl.BoolVar(&f.dryRun, "dry-run", false, "Print the plan and change nothing")
	fl.BoolVarP(&f.yes, "yes", "y", false, "Do not ask for confirmation")
	fl.Float64Var(&f.maxUnavailable, "max-unavailable", recovery.DefaultMaxUnavailable, "Machines per process group we may have down at once: a fraction (<1) or a count")
	fl.Float64Var(&f.haltAfter, "halt-after", 0, "Machines of a group failing verification for one cause that halt the group: a count, or a fraction (<1) of the group (default: 2 while the image is unproven there, else 10%)")
	fl.IntVar(&f.concurrency, "concurrency", recovery.DefaultConcurrency, "Machines worked on at once, all groups together")
	fl.IntVar(&f.retries, "retries", recovery.DefaultRetries, "Extra attempts for transient failures (rate limits, 5xx, timeouts)")
	fl.DurationVar(&f.waitTimeout, "wait-timeout", recovery.DefaultWaitTimeout, "How long a machine may take to reach its state and pass its checks")
	fl.BoolVar(&f.skipHealthChecks, "skip-health-checks", false, "Do not wait for health checks to pass")
	fl.StringVar(&f.journalDir, "journal-dir", "", "Where the action journal lives (default: FLYRESCUE_STATE_DIR, else $XDG_STATE_HOME/flyrescue)")
	fl.StringVar(&f.labelEnv, "label-env", flyclient.DefaultLabelEnv, "Env var that carries the release label")
	fl.DurationVar(&f.stuckAfter, "stuck-after", model.DefaultStuckAfter, "How long in a transitional state makes a machine stuck (what --select 'stuck' picks)")
	fl.DurationVar(&f.leaseTTL, "lease-ttl", recovery.DefaultLeaseTTL, "TTL of the leases we take (refreshed while held)")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "Print every step of the plan")
	fl.BoolVar(&f.readOnly, "read-only", false, "Plan and print, never act (the settings file can make this the default, per app)")
	_ = fl.MarkHidden("lease-ttl")
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{exitUsage, fmt.Errorf("%v (see `flyrescue %s --help`)", err, c.Name())}
	})
}

func (f *actionFlags) selector(args []string, region string) recovery.Selector {
	return recovery.Selector{MachineIDs: args, Query: f.query, Region: region}
}

// actionConnect is the one place the action commands get their client, app
// and journal.
//
// A plan that only gets printed (--dry-run, --read-only) and is not built
// from the journal does not need a sound journal: on a corrupt one it warns
// and plans without it (the engine then refuses to execute anything).
func actionConnect(ctx context.Context, f *actionFlags, planOnly bool, errOut io.Writer) (*recovery.Engine, error) {
	client, app, err := f.conn.connect(ctx)
	if err != nil {
		return nil, err
	}
	journal, err := recovery.OpenJournal(f.journalDir, app)
	if err != nil {
		return nil, &exitError{exitJournal, fmt.Errorf("%w (no action runs without its journal; fix the directory or pass --journal-dir)", err)}
	}
	// A journal damaged before its last line cannot be trusted to undo or
	// resume anything, so nothing runs on top of it.
	if _, _, err := journal.Records(); err != nil {
		journal.Close()
		if !planOnly || f.readsJournal {
			return nil, &exitError{exitJournal, fmt.Errorf("%w (fix or delete that line, or move the file aside, then retry; nothing was changed)", err)}
		}
		fmt.Fprintf(errOut, "warning: the journal is corrupt: %v\nwarning: nothing can run until that line is fixed or the file is moved aside; planning without the journal\n", err)
		journal = nil
	}
	if journal != nil && journal.TornTail != "" {
		fmt.Fprintln(errOut, "warning:", journal.TornTail)
	}
	retries := f.retries
	if retries == 0 {
		retries = -1 // the engine reads 0 as "default"
	}
	return recovery.NewEngine(client, journal, recovery.Options{
		App: app, MaxUnavailable: f.maxUnavailable, Concurrency: f.concurrency, Retries: retries,
		WaitTimeout: f.waitTimeout, SkipHealthChecks: f.skipHealthChecks, LabelEnv: f.labelEnv, LeaseTTL: f.leaseTTL,
		HaltAfter: f.haltAfter, StuckAfter: f.stuckAfter,
		// One whole request deadline without any answer means the API is
		// gone: end the run then, not after every retry has waited too.
		APIDownAfter: min(recovery.DefaultAPIDownAfter, client.RequestTimeout()),
	}), nil
}

type planFunc func(ctx context.Context, e *recovery.Engine) (*recovery.Plan, error)

// runAction plans, shows the plan, confirms, executes with one line per
// machine outcome, and sums up.
func runAction(cmd *cobra.Command, f *actionFlags, plan planFunc) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if err := validLimits(f.maxUnavailable, f.concurrency); err != nil {
		return err
	}
	if v, ok := verbOfCommand(cmd.Name()); ok && v.Planner == recovery.PlansJournal {
		f.readsJournal = true
	}
	e, err := actionConnect(ctx, f, f.dryRun || f.readOnly, errOut)
	if err != nil {
		return err
	}
	if j := e.Journal(); j != nil {
		defer j.Close()
	}
	p, err := plan(ctx, e)
	if err != nil {
		return planExit(err)
	}
	printPlan(out, p, f.verbose || f.dryRun)
	if len(p.Steps) == 0 && len(p.Reconciled) == 0 {
		return nothingToRun(out, p)
	}
	// Planning wrote nothing; from here on only running the plan writes.
	if len(p.Steps) == 0 && (f.dryRun || f.readOnly) {
		return nothingLeftUnrecorded(out, p, f.dryRun)
	}
	if f.dryRun {
		fmt.Fprintln(out, "Dry run: nothing was changed.")
		return nil
	}
	if f.readOnly {
		why := settingsFrom(cmd.Context()).readOnlyWhy
		if why == "" {
			why = "--read-only"
		}
		return &exitError{exitRefused, fmt.Errorf("%s is read-only (%s): the plan above was not run, nothing was changed; pass --read-only=false to act", p.App, why)}
	}
	if len(p.Steps) == 0 {
		// Every step of the resumed action turned out done: no machine
		// changes, so nothing to confirm; the run only journals that.
		return recordNothingLeft(ctx, out, e, p)
	}
	if !f.yes {
		if err := confirm(cmd.InOrStdin(), out, p); err != nil {
			return err
		}
	}
	res, err := e.Execute(ctx, p, func(ev recovery.Event) { printOutcome(out, ev) })
	if res != nil {
		halted := ""
		if res.Halted > 0 {
			halted = fmt.Sprintf(", %d halted", res.Halted)
		}
		fmt.Fprintf(out, "%s %s: %d ok, %d failed, %d skipped, %d interrupted%s in %s. Journal: %s (action %s)\n",
			p.Kind, p.App, res.OK, res.Failed, res.Skipped, res.Interrupted, halted, res.Elapsed.Round(time.Millisecond), e.Journal().Path(), p.ID)
		if res.Reconciled > 0 {
			fmt.Fprintf(out, "%d interrupted steps of %s were found done and are now journaled as done.\n", res.Reconciled, p.Resumes)
		}
	}
	switch {
	case errors.Is(err, recovery.ErrJournal):
		return &exitError{exitJournal, err}
	case err != nil:
		return apiExit(err)
	case ctx.Err() != nil:
		return &exitError{exitActionFailed, fmt.Errorf("interrupted: %d machines were not finished; `flyrescue resume -a %s` picks them up", res.Interrupted, p.App)}
	case p.HeldByOthers > 0 && res.Failed == 0 && res.Interrupted == 0 && len(res.Halts) == 0:
		return heldError(p)
	case len(res.Halts) > 0:
		groups := make([]string, len(res.Halts))
		for i, h := range res.Halts {
			groups[i] = h.Group
		}
		return &exitError{exitActionFailed, fmt.Errorf("halted %s: machines failed verification for one cause, so %d more were not touched; fix the image or roll back, or `flyrescue resume -a %s %s` to go on (canary-first again)",
			strings.Join(groups, ", "), res.Halted, p.App, p.ID)}
	case res.Failed > 0 || res.Interrupted > 0:
		return &exitError{exitActionFailed, fmt.Errorf("%d of %d machines failed (see above, or `flyrescue log -a %s`)", res.Failed+res.Interrupted, len(p.Steps), p.App)}
	}
	return nil
}

// nothingToRun ends a plan without steps: done when nothing was needed
// (every machine already fine, a resume whose steps all turned out done),
// exit 7 when nothing matched.
func nothingToRun(out io.Writer, p *recovery.Plan) error {
	switch {
	case p.HeldByOthers > 0:
		fmt.Fprintln(out, "Nothing can be done now.")
		return heldError(p)
	case p.Resumes != "":
		fmt.Fprintf(out, "Nothing left to resume: action %s has no step to run or record.\n", p.Resumes)
		return nil
	case p.Undoes != "" && len(p.Skipped) == 0:
		fmt.Fprintln(out, "Nothing to do.")
		return &exitError{exitNothingToDo, fmt.Errorf("undoing %s needs no change to any machine of %s; nothing was changed", p.Undoes, p.App)}
	case len(p.Skipped) == 0 && p.Kind != recovery.KindScale:
		fmt.Fprintln(out, "Nothing to do.")
		return &exitError{exitNothingToDo, fmt.Errorf("the selection (%s) matched no machine of %s: check it against `flyrescue status -a %s`; nothing was changed", flyclient.PrintableLine(p.Selection), p.App, p.App)}
	}
	fmt.Fprintln(out, "Nothing to do.")
	return nil
}

// heldError: machines the operator asked for were left out because someone
// else holds them; not done, so not exit 0.
func heldError(p *recovery.Plan) error {
	return &exitError{exitActionFailed, fmt.Errorf("%d machines were left out because someone else holds their lease (see \"left out\" above): wait for the holder, or, if its holder is gone, clear it with `flyrescue clear-lease ID` (journaled), then run it again", p.HeldByOthers)}
}

// nothingLeftUnrecorded ends a dry or read-only resume whose every step
// was found done: nothing to run, and nothing recorded either.
func nothingLeftUnrecorded(out io.Writer, p *recovery.Plan, dryRun bool) error {
	how := "Read-only"
	if dryRun {
		how = "Dry run"
	}
	fmt.Fprintf(out, "Nothing left to resume: every step of action %s was found done against live state (%s).\n", p.Resumes, foundDone(p))
	fmt.Fprintf(out, "%s: nothing was changed; the journal still shows them unfinished until `flyrescue resume -a %s` records them.\n", how, p.App)
	return nil
}

// recordNothingLeft runs a resume plan without steps: it only journals the
// resumed action's steps as found done, so the journal explains each one.
func recordNothingLeft(ctx context.Context, out io.Writer, e *recovery.Engine, p *recovery.Plan) error {
	_, err := e.Execute(ctx, p, nil)
	switch {
	case errors.Is(err, recovery.ErrJournal):
		return &exitError{exitJournal, err}
	case err != nil:
		return planExit(err)
	}
	fmt.Fprintf(out, "Nothing left to resume: every step of action %s was found done against live state (%s), and the journal now says so (action %s).\n",
		p.Resumes, foundDone(p), p.ID)
	return nil
}

// foundDone says what a resume found: "3 found done, 1 gone before it began".
func foundDone(p *recovery.Plan) string {
	done := len(p.Reconciled) - len(p.Skipped)
	s := fmt.Sprintf("%d found done", done)
	if len(p.Skipped) > 0 {
		s += fmt.Sprintf(", %d gone before they began", len(p.Skipped))
	}
	return s
}

// validLimits checks --max-unavailable and --concurrency, which the
// settings file also feeds.
func validLimits(maxUnavailable float64, concurrency int) error {
	if err := config.CheckMaxUnavailable(maxUnavailable); err != nil {
		return &exitError{exitUsage, fmt.Errorf("--max-unavailable %w", err)}
	}
	switch {
	case concurrency < 1:
		return &exitError{exitUsage, errors.New("--concurrency must be at least 1")}
	}
	return nil
}

func planExit(err error) error {
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		return err
	case errors.Is(err, recovery.ErrJournal):
		return &exitError{exitJournal, err}
	case errors.Is(err, recovery.ErrNothingToDo):
		return &exitError{exitNothingToDo, err}
	case errors.Is(err, flyclient.ErrUnauthorized), errors.Is(err, flyclient.ErrNotFound), errors.Is(err, flyclient.ErrUnreachable),
		errors.Is(err, flyclient.ErrServer), errors.Is(err, flyclient.ErrTimeout), errors.Is(err, flyclient.ErrRateLimited),
		errors.Is(err, flyclient.ErrInvalid):
		return apiExit(err)
	}
	return &exitError{exitUsage, err}
}

// confirm asks on a terminal and refuses without one: a mutating command
// must be a deliberate act.
func confirm(in io.Reader, out io.Writer, p *recovery.Plan) error {
	f, ok := in.(*os.File)
	if !ok || !isTerminal(f) {
		return &exitError{exitRefused, errors.New("refusing to change machines without confirmation: stdin is not a terminal (pass --yes, or --dry-run to only see the plan)")}
	}
	fmt.Fprintf(out, "Proceed with %s of %d machines? [y/N] ", p.Kind, len(p.Steps))
	line, _ := bufio.NewReader(in).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
		return &exitError{exitRefused, errors.New("cancelled: nothing was changed")}
	}
	return nil
}

// isTerminal asks the OS (a char device such as /dev/null is not one).
func isTerminal(f *os.File) bool { return term.IsTerminal(f.Fd()) }

func printPlan(w io.Writer, p *recovery.Plan, every bool) {
	fmt.Fprintf(w, "Plan %s: %s %d machines of %s (%s)\n", p.ID, p.Kind, len(p.Steps), p.App, flyclient.PrintableLine(p.Selection))
	if p.Undoes != "" {
		fmt.Fprintf(w, "  undoes %s\n", p.Undoes)
	}
	if p.Resumes != "" {
		fmt.Fprintf(w, "  resumes %s\n", p.Resumes)
	}
	if p.Kind == recovery.KindScale {
		fmt.Fprintf(w, "  group %s%s: %s -> %s machines\n", p.Args["group"], inRegionText(p.Args["region"]), p.Args["from"], p.Args["count"])
	}
	if img := p.Args["image"]; img != "" {
		fmt.Fprintf(w, "  image %s, %s=%s\n", img, p.Args["label_env"], p.Args["label"])
	}
	var budgets []string
	for g, b := range p.Limits.GroupBudget {
		budgets = append(budgets, fmt.Sprintf("%s %d", g, b))
	}
	sort.Strings(budgets)
	fmt.Fprintf(w, "  limits: at most %s down per group (%s), %d at once, %d retries, wait %s, health checks %s\n",
		strconv.FormatFloat(p.Limits.MaxUnavailable, 'g', -1, 64), strings.Join(budgets, ", "), p.Limits.Concurrency,
		p.Limits.Retries, p.Limits.WaitTimeout, map[bool]string{true: "skipped", false: "required"}[p.Limits.SkipHealthChecks])
	// Summary by group and change, so 500 machines read in a few lines.
	type key struct{ group, op, from, to string }
	counts := map[key]int{}
	var keys []key
	for _, s := range p.Steps {
		k := key{s.Group, string(s.Op), short(s.FromImage), short(s.ToImage)}
		if counts[k] == 0 {
			keys = append(keys, k)
		}
		counts[k]++
	}
	for _, k := range keys {
		change := k.to
		if k.from != "" && k.from != k.to {
			change = k.from + " -> " + k.to
		}
		fmt.Fprintf(w, "  %-8s %4d  group %-18s %s\n", k.op, counts[k], k.group, change)
	}
	if len(p.Skipped) > 0 {
		var held, fine []recovery.Step
		for _, s := range p.Skipped {
			if strings.Contains(s.Reason, " is leased by ") {
				held = append(held, s)
			} else {
				fine = append(fine, s)
			}
		}
		if len(fine) > 0 {
			fmt.Fprintf(w, "  %d machines need nothing (e.g. %s: %s)\n", len(fine), fine[0].MachineID, flyclient.PrintableLine(fine[0].Reason))
		}
		for _, s := range held {
			fmt.Fprintf(w, "  left out  %s: %s\n", s.MachineID, flyclient.PrintableLine(s.Reason))
		}
	}
	for _, n := range p.Notes {
		fmt.Fprintf(w, "  note: %s\n", flyclient.PrintableLine(n))
	}
	if every {
		for _, s := range p.Steps {
			id := s.MachineID
			if id == "" {
				id = "(new)"
			}
			fmt.Fprintf(w, "  %3d %-8s %-15s %-16s %-4s %-9s %s -> %s %s\n", s.Seq, s.Op, id, s.Group, s.Region, s.FromState, short(s.FromImage), short(s.ToImage), s.Reason)
		}
	}
}

func inRegionText(r string) string {
	if r == "" {
		return ""
	}
	return " in " + r
}

// short is the tag of an image, which is what tells releases apart.
func short(image string) string {
	if i := strings.LastIndexByte(image, ':'); i >= 0 && !strings.Contains(image[i:], "/") {
		return image[i+1:]
	}
	return image
}

// printOutcome prints one line per finished machine, and one for a group
// that halted (its machines that were never touched are not listed one by
// one: `log` has them).
func printOutcome(w io.Writer, ev recovery.Event) {
	if ev.Phase == recovery.PhaseHalted {
		if ev.MachineID == "" && ev.Group != "" {
			fmt.Fprintln(w, "HALTED      "+flyclient.PrintableLine(ev.Reason))
		}
		return
	}
	if ev.MachineID == "" && ev.NewMachineID == "" || !ev.Phase.Final() {
		return
	}
	id := ev.MachineID
	if ev.NewMachineID != "" && ev.NewMachineID != id {
		id = ev.NewMachineID + " (new)"
	}
	line := fmt.Sprintf("%-11s %-16s %-8s", ev.Phase, id, ev.Op)
	if ev.Attempt > 1 {
		line += fmt.Sprintf(" after %d attempts", ev.Attempt)
	}
	if ev.Reason != "" {
		line += "  " + flyclient.PrintableLine(ev.Reason)
	}
	fmt.Fprintln(w, line)
}
