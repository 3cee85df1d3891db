package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/flyclient/flysim"
	"github.com/flyrescue/flyrescue/recovery"
	"github.com/flyrescue/flyrescue/ui"
)

func init() { subcommands = append(subcommands, newDemoCmd) }

type demoOptions struct {
	scenario string
	machines int
	speed    float64
	seed     int64
	readOnly bool
	deploy   bool
	theme    string
	faults   simFaults
}

// newDemoCmd runs the dashboard against an embedded simulator: no token, no
// network, a deploy that is half-way through and still moving.
func newDemoCmd() *cobra.Command {
	o := &demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Try the dashboard on a simulated app whose deploy died half-way (no token, no network)",
		Long: "demo starts the Fly Machines API simulator on 127.0.0.1 with a broken deploy from one of the\n" +
			"runbook's scenarios and opens the dashboard on it. Actions really run against the simulator;\n" +
			"their journal goes to a temporary directory, never to your real journals.",
		Example: "  flyrescue demo\n  flyrescue demo --scenario stuck --machines 2000 --speed 10\n" +
			"  flyrescue demo --target fails-checks --lost-answers 0.2 --lease-any 5=alice@example.com",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.scenario, "scenario", "majority", "Runbook scenario: "+strings.Join(flysim.Scenarios, ", "))
	completeValues(cmd, "scenario", flysim.Scenarios...)
	f.IntVar(&o.machines, "machines", 500, "Number of machines")
	f.Float64Var(&o.speed, "speed", 1, "Simulated-time factor (10 = ten times faster)")
	f.Int64Var(&o.seed, "seed", 1, "Seed; the same seed gives the same fleet")
	f.BoolVar(&o.readOnly, "read-only", false, "Disable every mutating action")
	f.BoolVar(&o.deploy, "deploying", true, "Keep the deploy running (old machines keep moving to the target); --deploying=false holds the fleet still")
	o.faults.addFlags(cmd, false)
	addLookFlags(cmd, &o.theme)
	return cmd
}

func runDemo(ctx context.Context, o *demoOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := validTheme(o.theme); err != nil {
		return err
	}
	if o.machines < 1 {
		// flysim reads 0 as "the default", which would quietly show 500.
		return &exitError{exitUsage, fmt.Errorf("--machines must be at least 1 (got %d); try --machines 50", o.machines)}
	}
	opts := flysim.Options{
		App: "demo-app", Scenario: o.scenario, Machines: o.machines, Seed: o.seed, Speed: o.speed, Deploying: o.deploy,
	}
	if err := o.faults.apply(&opts); err != nil {
		return &exitError{exitUsage, err}
	}
	srv, err := flysim.Start(opts)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	defer srv.Close()
	client, err := flyclient.New(ctx, flyclient.Config{
		Token: "demo-token", FlapsBaseURL: srv.URL, APIBaseURL: srv.URL, UserAgent: "flyrescue-demo/" + version,
	})
	if err != nil {
		return err
	}
	app := srv.Sim.App()
	dir, err := os.MkdirTemp("", "flyrescue-demo-")
	if err != nil {
		return &exitError{exitJournal, err}
	}
	defer os.RemoveAll(dir)
	var engine *recovery.Engine
	if !o.readOnly {
		journal, err := recovery.OpenJournal(dir, app)
		if err != nil {
			return &exitError{exitJournal, err}
		}
		defer journal.Close()
		// Waits are in real time while the simulator runs o.speed times
		// faster: scale them, or a canary on a bad image takes minutes to
		// fail in a demo that moves in seconds.
		wait := max(time.Duration(float64(recovery.DefaultWaitTimeout)/max(o.speed, 1)), 20*time.Second)
		engine = recovery.NewEngine(client, journal, recovery.Options{App: app, WaitTimeout: wait})
	}
	return runUI(ctx, ui.Options{
		App: app, API: client, Engine: engine, ReadOnly: o.readOnly,
		JournalNote: fmt.Sprintf("demo: simulated %s, journal in %s (deleted on exit)", o.scenario, dir),
		NoColor:     ui.NoColorFromEnv(), Theme: o.theme, KeyMap: settingsFrom(ctx).keys,
	})
}
