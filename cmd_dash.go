package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/flyrescue/flyrescue/config"
	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
	"github.com/flyrescue/flyrescue/ui"
)

// dashOptions are the root command's flags: `flyrescue -a APP` opens the
// dashboard.
type dashOptions struct {
	conn       connection
	readOnly   bool
	image      string
	refresh    time.Duration
	stuckAfter time.Duration
	labelEnv   string
	theme      string
	// limits of the actions the dashboard runs
	maxUnavailable float64
	concurrency    int
}

func addDashFlags(cmd *cobra.Command, o *dashOptions) {
	o.conn.addFlags(cmd)
	f := cmd.Flags()
	f.BoolVar(&o.readOnly, "read-only", false, "Look, never touch: every mutating action is disabled")
	f.StringVar(&o.image, "image", "", "The deploy's target image (default: the newest release's image)")
	f.DurationVar(&o.refresh, "refresh", ui.DefaultRefresh, "Poll interval (at least 1s: List is rate limited per app)")
	f.DurationVar(&o.stuckAfter, "stuck-after", model.DefaultStuckAfter, "How long in a transitional state makes a machine stuck")
	f.StringVar(&o.labelEnv, "label-env", flyclient.DefaultLabelEnv, "Env var that carries the release label")
	addLookFlags(cmd, &o.theme)
	f.Float64Var(&o.maxUnavailable, "max-unavailable", recovery.DefaultMaxUnavailable, "Machines per process group an action may have down at once: a fraction (<1) or a count")
	f.IntVar(&o.concurrency, "concurrency", recovery.DefaultConcurrency, "Machines an action works on at once, all groups together")
}

// addLookFlags adds the dashboard's look-and-feel flags, shared with demo.
func addLookFlags(cmd *cobra.Command, theme *string) {
	cmd.Flags().StringVar(theme, "theme", "auto", "Colours for a dark or light terminal: auto, dark or light")
	completeValues(cmd, "theme", "auto", "dark", "light")
	// Read back by applySettings, which folds it over the settings file.
	cmd.Flags().StringToString("keys", nil, "Key bindings for this run, e.g. update=x,destroy=X (names as in the settings file)")
}

// validTheme checks --theme as the settings file's theme is checked.
func validTheme(theme string) error {
	if err := config.CheckTheme(theme); err != nil {
		return &exitError{exitUsage, fmt.Errorf("--%w", err)}
	}
	return nil
}

// dashConnect is the one place the dashboard finds its app, token and API
// (FLY_API_TOKEN/FLY_ACCESS_TOKEN, FLY_FLAPS_BASE_URL/FLY_API_BASE_URL, -a or
// FLY_APP): keep it small so the discovery can be swapped in one spot.
func dashConnect(ctx context.Context, o *dashOptions) (*flyclient.Client, string, error) {
	return o.conn.connect(ctx)
}

// The dashboard's first call: about 5 s of retries before an unreachable
// API becomes exit 5.
const preflightTimeout = 20 * time.Second

// preflight looks the app up, retrying what is transient (a 429 from
// restarting the dashboard a few times in a row must not stop it).
func preflight(ctx context.Context, client *flyclient.Client, app string) error {
	ctx, cancel := context.WithTimeout(ctx, preflightTimeout)
	defer cancel()
	return flyclient.PreflightRetry.Do(ctx, func() error {
		_, err := client.App(ctx, app)
		return err
	}, nil)
}

func runDash(ctx context.Context, o *dashOptions) error {
	if err := config.CheckRefresh(o.refresh); err != nil {
		return &exitError{exitUsage, fmt.Errorf("--%w", err)}
	}
	if err := validTheme(o.theme); err != nil {
		return err
	}
	if err := validLimits(o.maxUnavailable, o.concurrency); err != nil {
		return err
	}
	if o.image != "" {
		if err := validImageRef(o.image); err != nil {
			return &exitError{exitUsage, err}
		}
	}
	client, app, err := dashConnect(ctx, o)
	if err != nil {
		return err
	}
	// One cheap call first: a typo in the app name, a dead token or an
	// unreachable API is an error and an exit code, not a dashboard of
	// failed polls.
	if err := preflight(ctx, client, app); err != nil {
		return apiExit(err)
	}
	var engine *recovery.Engine
	if !o.readOnly {
		journal, err := recovery.OpenJournal("", app)
		if err != nil {
			return &exitError{exitJournal, fmt.Errorf("opening the action journal (set FLYRESCUE_STATE_DIR to put it elsewhere): %w", err)}
		}
		defer journal.Close()
		engine = recovery.NewEngine(client, journal, recovery.Options{
			App: app, LabelEnv: o.labelEnv, MaxUnavailable: o.maxUnavailable, Concurrency: o.concurrency,
			APIDownAfter: min(recovery.DefaultAPIDownAfter, client.RequestTimeout()), StuckAfter: o.stuckAfter,
		})
	}
	s := settingsFrom(ctx)
	return runUI(ctx, ui.Options{
		App: app, API: client, Engine: engine, ReadOnly: o.readOnly, ReadOnlyWhy: s.readOnlyWhy,
		FlagImage: o.image, Refresh: o.refresh, StuckAfter: o.stuckAfter, LabelEnv: o.labelEnv,
		NoColor: ui.NoColorFromEnv(), Theme: o.theme, KeyMap: s.keys,
	})
}

// runUI shows the dashboard; tests replace it to see the options the
// command line and the settings file produced without a terminal.
var runUI = func(ctx context.Context, opts ui.Options) error {
	if !stdioIsTerminal() {
		return &exitError{exitUsage, errNoTerminal}
	}
	return ui.Run(ctx, opts)
}

// errNoTerminal is said instead of Bubble Tea's "could not open a new TTY"
// when the dashboard is started from a script, a pipe or CI.
var errNoTerminal = errors.New("the dashboard needs a terminal, and stdin or stdout is not one: run it in a terminal window " +
	"(from a script, use `flyrescue status` to read the fleet or `flyrescue sim` to serve the simulator)")

// stdioIsTerminal reports whether the dashboard can draw: tests replace it.
var stdioIsTerminal = func() bool { return isTerminal(os.Stdin) && isTerminal(os.Stdout) }

// completeValues makes shell completion offer values for an enumerated flag.
func completeValues(cmd *cobra.Command, flag string, values ...string) {
	_ = cmd.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
}
