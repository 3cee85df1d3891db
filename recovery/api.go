// Package recovery plans and executes repair actions on a Fly app's Machines:
// update, restart, start, stop, suspend, cordon, destroy, scale and rollback
// (the verbs registry in verbs.go and ops.go lists them all). Every action is a
// Plan first (printable, confirmable), then runs in parallel within a
// per-process-group unavailability budget, with leases, bounded retries,
// verification against live state, and a write-ahead journal that makes it
// undoable and resumable after a crash. It knows nothing about terminals:
// progress is a stream of typed Events.
package recovery

import (
	"context"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
)

// API is the part of *flyclient.Client the engine uses. It is declared here,
// on the consumer side, so the engine states exactly what it needs.
type API interface {
	List(ctx context.Context, app string, opts flyclient.ListOptions) ([]*flyclient.Machine, error)
	Get(ctx context.Context, app, id string) (*flyclient.Machine, error)
	Update(ctx context.Context, app string, in flyclient.UpdateInput) (*flyclient.Machine, error)
	Launch(ctx context.Context, app string, in flyclient.LaunchInput) (*flyclient.Machine, error)
	Start(ctx context.Context, app, id, nonce string) error
	Stop(ctx context.Context, app, id, nonce string, timeout time.Duration) error
	Restart(ctx context.Context, app, id, nonce string, forceStop bool) error
	Destroy(ctx context.Context, app, id, nonce string, force bool) error
	Suspend(ctx context.Context, app, id, nonce string) error
	Cordon(ctx context.Context, app, id, nonce string) error
	Uncordon(ctx context.Context, app, id, nonce string) error
	AcquireLeaseAs(ctx context.Context, app, id string, ttl time.Duration, description string) (*flyclient.Lease, error)
	FindLease(ctx context.Context, app, id string) (*flyclient.Lease, error)
	RefreshLease(ctx context.Context, app, id, nonce string, ttl time.Duration) (*flyclient.Lease, error)
	ReleaseLease(ctx context.Context, app, id, nonce string) error
	WaitFor(ctx context.Context, app, id string, states []string, instanceID string, total time.Duration) (*flyclient.Machine, error)
	Releases(ctx context.Context, app string, limit int) ([]model.Release, error)
}

// Defaults, chosen after flyctl's (see flyctl-deploys.md §1.11–1.13).
const (
	DefaultMaxUnavailable = 0.33
	DefaultConcurrency    = 64
	DefaultRetries        = 5
	DefaultWaitTimeout    = 5 * time.Minute
	// A short lease bounds how long a crashed flyrescue blocks a machine,
	// like deploy's 13 s and unlike `fly m update`'s 120 s.
	DefaultLeaseTTL = 15 * time.Second
	DefaultLabelEnv = "RELEASE_LABEL"
	// The documented API limits are per machine and action; a global
	// budget keeps a 500-machine run from bursting into 429s.
	DefaultRatePerSecond = 400
	DefaultRateBurst     = 100
	// Machines failing verification for one cause that halt their group,
	// unless HaltAfter says otherwise: the first 2 while an image is not yet
	// proven there, else 10% of the group (at least 2), so a fluke on a
	// proven image does not stop a large group.
	DefaultHaltAfterUnproven = 2
	DefaultHaltAfterProven   = 0.10
	// DefaultFleetRefresh is how often a run re-reads the fleet for its
	// budgets (the list endpoint allows about one request a second).
	DefaultFleetRefresh = 2 * time.Second
	// DefaultAPIDownAfter: no answer at all from the API for this long ends
	// a run, recording what was in flight as interrupted.
	DefaultAPIDownAfter = 15 * time.Second
)

// Options tune an Engine. Zero values take the defaults above.
type Options struct {
	App string
	// MaxUnavailable per process group: below 1 a fraction of the group's
	// machines (rounded up, at least 1), from 1 up a count.
	MaxUnavailable float64
	// Concurrency bounds machines worked on at once across all groups.
	Concurrency int
	// Retries is how many extra attempts a transient failure gets; 0 means
	// the default, a negative number none.
	Retries          int
	WaitTimeout      time.Duration
	SkipHealthChecks bool
	LeaseTTL         time.Duration
	// LabelEnv names the env var that carries the release label.
	LabelEnv string
	// RatePerSecond and RateBurst shape the client-side request budget.
	RatePerSecond float64
	RateBurst     int
	// Unpaced turns off the client-side per-machine pacing that mirrors the
	// API's documented limits (for simulators run without rate limits).
	Unpaced bool
	// BackoffBase and BackoffMax bound the exponential retry backoff.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// HaltAfter: verification failures of one cause that halt a group (a
	// count, or a fraction of the group below 1); 0 means the defaults.
	HaltAfter float64
	// FleetRefresh: how often a run re-reads the fleet for its budgets.
	FleetRefresh time.Duration
	// APIDownAfter: how long without any answer from the API ends a run.
	APIDownAfter time.Duration
	// Operator is recorded in the journal and in machine marks; default:
	// the OS user.
	Operator string
	// StuckAfter is how long in a transitional state makes a machine
	// stuck, as for status and the dashboard; default model.DefaultStuckAfter.
	StuckAfter time.Duration
	// Now is the clock for records and events (tests); default time.Now.
	Now func() time.Time
}

// Engine plans and runs actions for one app. It is safe to share between
// goroutines; one Run at a time is recommended per app.
type Engine struct {
	api     API
	journal *Journal
	opts    Options
	limiter *tokenBucket
	pacer   *pacer
}

// NewEngine builds an engine. journal may be nil only for planning and dry
// runs: Execute refuses to mutate anything without a journal.
func NewEngine(api API, journal *Journal, opts Options) *Engine {
	opts = opts.withDefaults()
	return &Engine{api: api, journal: journal, opts: opts, limiter: newTokenBucket(opts.RatePerSecond, opts.RateBurst), pacer: newPacer(!opts.Unpaced)}
}

// Options returns the effective options (defaults filled in).
func (e *Engine) Options() Options { return e.opts }

// Journal returns the engine's journal (may be nil).
func (e *Engine) Journal() *Journal { return e.journal }

// DefaultOperator is who flyrescue acts as when no one says: the OS user.
// Readers (status) use it to tell our leases from others'.
func DefaultOperator() string { return currentOperator() }

// Operator is who this engine acts as (journal records, machine marks).
func (e *Engine) Operator() string { return e.opts.Operator }

func (o Options) withDefaults() Options {
	if o.MaxUnavailable <= 0 {
		o.MaxUnavailable = DefaultMaxUnavailable
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Retries < 0 {
		o.Retries = 0
	} else if o.Retries == 0 {
		o.Retries = DefaultRetries
	}
	if o.WaitTimeout <= 0 {
		o.WaitTimeout = DefaultWaitTimeout
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = DefaultLeaseTTL
	}
	if o.LabelEnv == "" {
		o.LabelEnv = DefaultLabelEnv
	}
	if o.RatePerSecond <= 0 {
		o.RatePerSecond = DefaultRatePerSecond
	}
	if o.RateBurst <= 0 {
		o.RateBurst = DefaultRateBurst
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = 500 * time.Millisecond
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 15 * time.Second
	}
	if o.FleetRefresh <= 0 {
		o.FleetRefresh = DefaultFleetRefresh
	}
	if o.APIDownAfter <= 0 {
		o.APIDownAfter = DefaultAPIDownAfter
	}
	if o.Operator == "" {
		o.Operator = currentOperator()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
