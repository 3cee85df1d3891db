package main

import (
	"fmt"
	"net"
	"os/signal"
	"strings"
	"syscall"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, newSimCmd) }

// newSimCmd runs flysim as a standalone server so flyctl, fly-go programs
// and flyrescue itself can be pointed at a fake fleet.
func newSimCmd() *cobra.Command {
	var (
		opts        flysim.Options
		addr        string
		allowRemote bool
	)
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run a fake Fly.io Machines API with a broken deploy to practise on",
		Long: "sim serves an in-process fake of the Fly.io Machines API and the GraphQL release queries,\n" +
			"seeded with a fleet from one of the runbook's scenarios. Point flyctl or flyrescue at it with\n" +
			"the printed export lines. Scenarios: healthy, total-failure, minority, majority, stuck, bad-release.",
		Example: `  flyrescue sim --scenario stuck --machines 1000 > /tmp/sim.env &
  sleep 1; . /tmp/sim.env; flyrescue status -a demo-app; fly m list -a demo-app
  flyrescue sim --scenario majority --speed 10 --faults 0.05 --latency 50ms`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return &exitError{code: exitUsage, err: fmt.Errorf("invalid --addr %q (%v): give HOST:PORT, e.g. 127.0.0.1:4280", addr, err)}
			}
			if ip := net.ParseIP(host); !allowRemote && host != "localhost" && (ip == nil || !ip.IsLoopback()) {
				return &exitError{code: exitUsage, err: fmt.Errorf("refusing to listen on non-loopback %s: use --addr 127.0.0.1:PORT or pass --allow-remote", addr)}
			}
			srv, err := flysim.Listen(addr, opts)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			defer srv.Close()
			token := opts.Token
			if token == "" {
				token = "sim-token"
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "export FLY_FLAPS_BASE_URL=%s\n", srv.URL)
			fmt.Fprintf(out, "export FLY_API_BASE_URL=%s\n", srv.URL)
			fmt.Fprintf(out, "export FLY_API_TOKEN=%s\n", token)
			fmt.Fprintf(out, "# flysim: app %s, scenario %s, %d machines, speed %gx; Ctrl-C to stop\n",
				srv.Sim.App(), orDefault(opts.Scenario, "majority"), len(srv.Sim.Machines()), orSpeed(opts.Speed))
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			<-ctx.Done()
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:4280", "Listen address")
	f.StringVar(&opts.Scenario, "scenario", "majority", "Runbook scenario: "+strings.Join(flysim.Scenarios, ", "))
	completeValues(cmd, "scenario", flysim.Scenarios...)
	f.IntVar(&opts.Machines, "machines", 500, "Number of machines")
	f.StringVar(&opts.App, "app", "demo-app", "App name")
	f.Int64Var(&opts.Seed, "seed", 1, "Seed; the same seed gives the same fleet")
	f.Float64Var(&opts.Speed, "speed", 1, "Simulated-time factor (100 = 100x faster)")
	f.StringVar(&opts.Token, "token", "", "Accept only this token (default: any non-empty token)")
	f.Float64Var(&opts.FaultRate, "faults", 0, "Fraction of mutating calls answered 500")
	f.DurationVar(&opts.Latency, "latency", 0, "Extra latency per request, e.g. 50ms")
	f.BoolVar(&opts.NoRateLimit, "no-rate-limit", false, "Disable the documented API rate limits")
	f.BoolVar(&opts.Deploying, "deploying", false, "Keep updating old-image machines to the target, like a running deploy")
	f.BoolVar(&allowRemote, "allow-remote", false, "Allow a non-loopback --addr")
	return cmd
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orSpeed(f float64) float64 {
	if f == 0 {
		return 1
	}
	return f
}
