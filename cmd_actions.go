package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
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
	// jsonOut: --json, the run as JSON Lines on stdout; the plan and every
	// message go to stderr.
	jsonOut bool
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
	fl.BoolVar(&f.jsonOut, "json", false, "Stream the run as JSON Lines on stdout (one object per event, with the progress figures, then the result); with --dry-run, the plan as one JSON object; messages go to stderr")
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

// runAction plans, shows the plan, confirms, executes with its progress
// (see runReporter), and sums up.
func runAction(cmd *cobra.Command, f *actionFlags, plan planFunc) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stdout, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	style := progressPlain
	switch {
	case f.jsonOut:
		style = progressJSON
	case outputIsTerminal(stdout):
		style = progressLive
	}
	// out is where people read: stdout, unless it carries JSON.
	out := stdout
	if style == progressJSON {
		out = errOut
	}
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
	if style == progressJSON && (f.dryRun || f.readOnly) {
		// Nothing will stream: the plan itself is what a script reads.
		if err := writePlanJSON(stdout, p); err != nil {
			return err
		}
	}
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
	progress := newRunReporter(stdout, style, p, f.verbose)
	res, err := e.Execute(ctx, p, progress.Event)
	progress.Finish(p, e.Journal().Path(), res, err)
	return runExit(ctx, p, res, err)
}

// runExit is how a run ended, as an exit code and the one line that says
// what to do next.
func runExit(ctx context.Context, p *recovery.Plan, res *recovery.Result, err error) error {
	switch {
	case errors.Is(err, recovery.ErrJournal):
		return &exitError{exitJournal, err}
	case err != nil:
		return apiExit(err)
	case ctx.Err() != nil:
		return &exitError{exitActionFailed, fmt.Errorf("interrupted: %s %s not finished; `flyrescue resume -a %s %s` picks them up",
			model.Counted(res.Interrupted, "machine"), wasWere(res.Interrupted), p.App, recovery.DisplayID(p.ID))}
	case p.HeldByOthers > 0 && res.Failed == 0 && res.Interrupted == 0 && len(res.Halts) == 0:
		return heldError(p)
	case len(res.Halts) > 0:
		groups := make([]string, len(res.Halts))
		for i, h := range res.Halts {
			groups[i] = h.Group
		}
		return &exitError{exitActionFailed, fmt.Errorf("halted %s: machines failed verification for one cause, so %d more %s not touched; fix the image or roll back, or `flyrescue resume -a %s %s` to go on (canary-first again)",
			strings.Join(groups, ", "), res.Halted, wasWere(res.Halted), p.App, recovery.DisplayID(p.ID))}
	case res.Failed > 0 || res.Interrupted > 0:
		return &exitError{exitActionFailed, fmt.Errorf("%d of %s failed (see above, or `flyrescue log -a %s --action %s`)",
			res.Failed+res.Interrupted, model.Counted(len(p.Steps), "machine"), p.App, recovery.DisplayID(p.ID))}
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
		fmt.Fprintf(out, "Nothing left to resume: action %s has no step to run or record.\n", recovery.DisplayID(p.Resumes))
		return nil
	case p.Undoes != "" && len(p.Skipped) == 0:
		fmt.Fprintln(out, "Nothing to do.")
		return &exitError{exitNothingToDo, fmt.Errorf("undoing %s needs no change to any machine of %s; nothing was changed", recovery.DisplayID(p.Undoes), p.App)}
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
	return &exitError{exitActionFailed, fmt.Errorf("%s %s left out because someone else holds their lease (see \"left out\" above): wait for the holder, or, if its holder is gone, clear it with `flyrescue clear-lease ID` (journaled), then run it again",
		model.Counted(p.HeldByOthers, "machine"), wasWere(p.HeldByOthers))}
}

// nothingLeftUnrecorded ends a dry or read-only resume whose every step
// was found done: nothing to run, and nothing recorded either.
func nothingLeftUnrecorded(out io.Writer, p *recovery.Plan, dryRun bool) error {
	how := "Read-only"
	if dryRun {
		how = "Dry run"
	}
	fmt.Fprintf(out, "Nothing left to resume: every step of action %s was found done against live state (%s).\n", recovery.DisplayID(p.Resumes), foundDone(p))
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
		recovery.DisplayID(p.Resumes), foundDone(p), recovery.DisplayID(p.ID))
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
	fmt.Fprintf(out, "Proceed with %s of %s? [y/N] ", p.Kind, model.Counted(len(p.Steps), "machine"))
	line, _ := bufio.NewReader(in).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
		return &exitError{exitRefused, errors.New("cancelled: nothing was changed")}
	}
	return nil
}

// isTerminal asks the OS (a char device such as /dev/null is not one).
func isTerminal(f *os.File) bool { return term.IsTerminal(f.Fd()) }
