package main

import (
	"fmt"
	"io"
	"net"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
	"github.com/flyrescue/flyrescue/model"
	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, newSimCmd) }

// newSimCmd runs flysim as a standalone server so flyctl, fly-go programs
// and flyrescue itself can be pointed at a fake fleet.
func newSimCmd() *cobra.Command {
	var (
		opts        flysim.Options
		faults      simFaults
		addr        string
		allowRemote bool
	)
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run a fake Fly.io Machines API with a broken deploy to practise on",
		Long: "sim serves an in-process fake of the Fly.io Machines API and the GraphQL release queries,\n" +
			"seeded with a fleet from one of the runbook's scenarios. Point flyctl or flyrescue at it with\n" +
			"the printed export lines. Scenarios: healthy, total-failure, minority, majority, stuck, bad-release.\n" +
			"Hostile-world switches: a bad deploy target (--target), answers lost after the change was made\n" +
			"(--lost-answers) or turned into 500s (--applied-errors), an outage (--outage), error messages that\n" +
			"quote your Authorization header (--echo-auth) and leases held by someone else (--lease, --lease-any).\n" +
			"Other actors: an autoscaler (--autoscaler), a teammate with plain flyctl (--teammate) and a deploy\n" +
			"still running (--deploying; its release stays running until it is done, then complete or failed).",
		Example: `  flyrescue sim --scenario stuck --machines 1000 > /tmp/sim.env &
  sleep 1; . /tmp/sim.env; flyrescue status -a demo-app; fly m list -a demo-app
  flyrescue sim --scenario majority --speed 10 --faults 0.05 --latency 50ms
  flyrescue sim --target fails-checks --lost-answers 0.1 --outage hang:30s --lease-any 3=alice@example.com:10m
  flyrescue sim --deploying --autoscaler --teammate 30s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return &exitError{code: exitUsage, err: fmt.Errorf("invalid --addr %q (%v): give HOST:PORT, e.g. 127.0.0.1:4280", addr, err)}
			}
			if ip := net.ParseIP(host); !allowRemote && host != "localhost" && (ip == nil || !ip.IsLoopback()) {
				return &exitError{code: exitUsage, err: fmt.Errorf("refusing to listen on non-loopback %s: use --addr 127.0.0.1:PORT or pass --allow-remote", addr)}
			}
			if err := faults.apply(&opts); err != nil {
				return &exitError{code: exitUsage, err: err}
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
			for _, e := range simExports(srv, token) {
				fmt.Fprintf(out, "export %s=%s\n", e[0], e[1])
			}
			fmt.Fprintf(out, "# flysim: app %s, scenario %s, %s, speed %gx; Ctrl-C to stop\n",
				srv.Sim.App(), orDefault(opts.Scenario, "majority"), model.Counted(len(srv.Sim.Machines()), "machine"), orSpeed(opts.Speed))
			describeReleases(out, srv.Sim)
			faults.describe(out, &opts, srv.Sim)
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
	f.Float64Var(&opts.FaultRate, "faults", 0, "Fraction of mutating calls refused with 500 before anything is changed")
	f.DurationVar(&opts.Latency, "latency", 0, "Extra latency per request, e.g. 50ms")
	f.BoolVar(&opts.NoRateLimit, "no-rate-limit", false, "Disable the documented API rate limits")
	f.BoolVar(&opts.Deploying, "deploying", false, "Keep updating old-image machines to the target, like a running deploy; its release is running until done, then complete or failed")
	f.BoolVar(&allowRemote, "allow-remote", false, "Allow a non-loopback --addr")
	faults.addFlags(cmd, true)
	return cmd
}

// simExports are the environment flyctl and flyrescue need to talk to the
// sim and nothing else: the Machines API, GraphQL, the REST API flyctl
// reaches through FLY_UIEX_BASE_URL (releases, organizations, logs), the
// token and the app; flyctl's update check and metrics are switched off, as
// they would go to Fly.
func simExports(srv *flysim.Server, token string) [][2]string {
	return [][2]string{
		{"FLY_FLAPS_BASE_URL", srv.URL},
		{"FLY_API_BASE_URL", srv.URL},
		{"FLY_UIEX_BASE_URL", srv.URL},
		{"FLY_API_TOKEN", token},
		{"FLY_APP", srv.Sim.App()},
		{"FLY_NO_UPDATE_CHECK", "1"},
		{"FLY_SEND_METRICS", "0"},
	}
}

// describeReleases names the images to deploy in a rehearsal: the target
// (deploying it again behaves as --target says) and the previous release
// (a rollback).
func describeReleases(out io.Writer, sim *flysim.Sim) {
	rs := sim.Releases()
	if len(rs) < 2 {
		return
	}
	fmt.Fprintf(out, "# target v%d (%s, %s): %s\n", rs[0].Version, rs[0].Status, sim.TargetBehavior(), rs[0].Image)
	fmt.Fprintf(out, "# previous v%d (%s): %s\n", rs[1].Version, rs[1].Status, rs[1].Image)
}

// simFaults are the hostile-world flags sim and demo share.
type simFaults struct {
	target        string
	lostAnswers   float64
	appliedErrors float64
	outage        string
	echoAuth      bool
	leases        []string // ID=OWNER[:TTL]
	leaseAny      []string // N=OWNER[:TTL]
	// Other actors on the app.
	autoscaler      bool
	autoscalerEvery time.Duration
	teammate        time.Duration
}

// Descriptions of the leases the flags place, so they can be told apart
// from the scenario's deploy-bot leases.
const (
	leaseFlagDescription    = "held by another operator (flyrescue sim --lease)"
	leaseAnyFlagDescription = "held by another operator (flyrescue sim --lease-any)"
)

// addFlags registers the flags; byID adds --lease, which needs machine IDs
// the user has seen (sim prints them, the demo does not).
func (f *simFaults) addFlags(cmd *cobra.Command, byID bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.target, "target", "ok", "How the deploy target image behaves: "+strings.Join(flysim.ImageBehaviors, ", "))
	completeValues(cmd, "target", flysim.ImageBehaviors...)
	fl.Float64Var(&f.lostAnswers, "lost-answers", 0, "Fraction of mutating calls applied and then answered by closing the connection")
	fl.Float64Var(&f.appliedErrors, "applied-errors", 0, "Fraction of mutating calls applied and then answered 500")
	fl.StringVar(&f.outage, "outage", "", "API outage from the start: reset, hang or drip, optionally :DURATION (e.g. hang:30s)")
	completeValues(cmd, "outage", "reset", "hang", "drip", "hang:30s")
	fl.BoolVar(&f.echoAuth, "echo-auth", false, "Quote the request's Authorization header in every API error message")
	if byID {
		fl.StringArrayVar(&f.leases, "lease", nil, "Lease machine ID to OWNER, as ID=OWNER[:TTL] (repeatable; TTL default 24h)")
	}
	fl.StringArrayVar(&f.leaseAny, "lease-any", nil, "Lease N started old-image machines to OWNER, as N=OWNER[:TTL] (repeatable)")
	fl.BoolVar(&f.autoscaler, "autoscaler", false, "Run an autoscaler like fly-autoscaler on worker_autoscale: clones its first machine (old image and all), destroys its clones again")
	fl.DurationVar(&f.autoscalerEvery, "autoscaler-every", 5*time.Second, "Simulated time between the autoscaler's turns")
	fl.DurationVar(&f.teammate, "teammate", 0, "Every DURATION (simulated), a teammate with plain flyctl updates one old-image machine to the newest release, e.g. 30s")
}

// apply validates the flags into opts.
func (f *simFaults) apply(opts *flysim.Options) error {
	b, err := flysim.ParseImageBehavior(f.target)
	if err != nil {
		return fmt.Errorf("invalid --target: %w", err)
	}
	opts.TargetBehavior = b
	for name, v := range map[string]float64{"--lost-answers": f.lostAnswers, "--applied-errors": f.appliedErrors} {
		if v < 0 || v > 1 {
			return fmt.Errorf("invalid %s %g: give a fraction between 0 and 1, e.g. 0.1", name, v)
		}
	}
	opts.LostAnswerRate, opts.AppliedErrorRate = f.lostAnswers, f.appliedErrors
	if f.outage != "" {
		if opts.Outage, opts.OutageFor, err = flysim.ParseOutage(f.outage); err != nil {
			return fmt.Errorf("invalid --outage: %w", err)
		}
	}
	opts.EchoAuth = f.echoAuth
	if f.autoscalerEvery <= 0 {
		return fmt.Errorf("invalid --autoscaler-every %s: give a positive duration, e.g. 5s", f.autoscalerEvery)
	}
	if f.teammate < 0 {
		return fmt.Errorf("invalid --teammate %s: give a positive duration, e.g. 30s, or 0 for none", f.teammate)
	}
	opts.Autoscaler, opts.AutoscalerEvery, opts.Teammate = f.autoscaler, f.autoscalerEvery, f.teammate
	for _, v := range f.leases {
		id, owner, ttl, err := parseLeaseFlag(v)
		if err != nil {
			return fmt.Errorf("invalid --lease %q: %w (want ID=OWNER[:TTL], e.g. 148e272b2d1e89=alice@example.com:10m)", v, err)
		}
		opts.Leases = append(opts.Leases, flysim.HeldLease{MachineID: id, Owner: owner, Description: leaseFlagDescription, TTL: ttl})
	}
	for _, v := range f.leaseAny {
		count, owner, ttl, err := parseLeaseFlag(v)
		n, nerr := strconv.Atoi(count)
		if err == nil && (nerr != nil || n < 1) {
			err = fmt.Errorf("%q is not a positive count", count)
		}
		if err != nil {
			return fmt.Errorf("invalid --lease-any %q: %w (want N=OWNER[:TTL], e.g. 3=alice@example.com:10m)", v, err)
		}
		for range n {
			opts.Leases = append(opts.Leases, flysim.HeldLease{Owner: owner, Description: leaseAnyFlagDescription, TTL: ttl})
		}
	}
	return nil
}

// parseLeaseFlag splits KEY=OWNER[:TTL]; owners are e-mail addresses, so a
// colon starts the TTL.
func parseLeaseFlag(v string) (key, owner string, ttl time.Duration, err error) {
	key, rest, ok := strings.Cut(v, "=")
	if !ok || key == "" {
		return "", "", 0, fmt.Errorf("no =")
	}
	owner, ttlText, timed := strings.Cut(rest, ":")
	if owner == "" {
		return "", "", 0, fmt.Errorf("no owner")
	}
	if timed {
		if ttl, err = time.ParseDuration(ttlText); err != nil || ttl <= 0 {
			return "", "", 0, fmt.Errorf("TTL %q is not a positive duration", ttlText)
		}
	}
	return key, owner, ttl, nil
}

// describe prints the faults in force as shell comments after the exports.
func (f *simFaults) describe(out io.Writer, opts *flysim.Options, sim *flysim.Sim) {
	var on []string
	if opts.TargetBehavior != flysim.ImageOK {
		on = append(on, "target "+opts.TargetBehavior.String())
	}
	if opts.LostAnswerRate > 0 {
		on = append(on, fmt.Sprintf("lost answers %g", opts.LostAnswerRate))
	}
	if opts.AppliedErrorRate > 0 {
		on = append(on, fmt.Sprintf("500 after applying %g", opts.AppliedErrorRate))
	}
	if opts.Outage != flysim.OutageNone {
		d := "until stopped"
		if opts.OutageFor > 0 {
			d = "for " + opts.OutageFor.String()
		}
		on = append(on, fmt.Sprintf("outage %s %s", opts.Outage, d))
	}
	if opts.EchoAuth {
		on = append(on, "errors echo Authorization")
	}
	if len(on) > 0 {
		fmt.Fprintf(out, "# faults: %s\n", strings.Join(on, ", "))
	}
	var actors []string
	if opts.Autoscaler {
		actors = append(actors, fmt.Sprintf("autoscaler on %s every %s", flysim.AutoscaleGroup, opts.AutoscalerEvery))
	}
	if opts.Teammate > 0 {
		actors = append(actors, fmt.Sprintf("teammate updating one old-image machine every %s", opts.Teammate))
	}
	if len(actors) > 0 {
		fmt.Fprintf(out, "# actors: %s (simulated time)\n", strings.Join(actors, ", "))
	}
	for _, m := range sim.Machines() {
		if m.LeaseDescription == leaseFlagDescription || m.LeaseDescription == leaseAnyFlagDescription {
			fmt.Fprintf(out, "# lease: %s held by %s\n", m.ID, m.LeaseOwner)
		}
	}
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
