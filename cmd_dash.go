package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

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
}

func addDashFlags(cmd *cobra.Command, o *dashOptions) {
	o.conn.addFlags(cmd)
	f := cmd.Flags()
	f.BoolVar(&o.readOnly, "read-only", false, "look, never touch: every mutating action is disabled")
	f.StringVar(&o.image, "image", "", "the deploy's target image (default: the newest release's image)")
	f.DurationVar(&o.refresh, "refresh", ui.DefaultRefresh, "poll interval (at least 1s: List is rate limited per app)")
	f.DurationVar(&o.stuckAfter, "stuck-after", model.DefaultStuckAfter, "how long in a transitional state makes a machine stuck")
	f.StringVar(&o.labelEnv, "label-env", flyclient.DefaultLabelEnv, "env var that carries the release label")
}

// dashConnect is the one place the dashboard finds its app, token and API
// (FLY_API_TOKEN/FLY_ACCESS_TOKEN, FLY_FLAPS_BASE_URL/FLY_API_BASE_URL, -a or
// FLY_APP): keep it small so the discovery can be swapped in one spot.
func dashConnect(ctx context.Context, o *dashOptions) (*flyclient.Client, string, error) {
	return o.conn.connect(ctx)
}

func runDash(ctx context.Context, o *dashOptions) error {
	if o.image != "" {
		if err := validImageRef(o.image); err != nil {
			return &exitError{exitUsage, err}
		}
	}
	client, app, err := dashConnect(ctx, o)
	if err != nil {
		return err
	}
	var engine *recovery.Engine
	if !o.readOnly {
		journal, err := recovery.OpenJournal("", app)
		if err != nil {
			return &exitError{exitJournal, fmt.Errorf("opening the action journal (set FLYRESCUE_STATE_DIR to put it elsewhere): %w", err)}
		}
		defer journal.Close()
		engine = recovery.NewEngine(client, journal, recovery.Options{App: app, LabelEnv: o.labelEnv})
	}
	return ui.Run(ctx, ui.Options{
		App: app, API: client, Engine: engine, ReadOnly: o.readOnly,
		FlagImage: o.image, Refresh: o.refresh, StuckAfter: o.stuckAfter, LabelEnv: o.labelEnv,
		NoColor: ui.NoColorFromEnv(),
	})
}
