package ui

import (
	"context"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

// FleetAPI is the read side of *flyclient.Client the dashboard polls with,
// declared here so tests and adapters can stand in for it.
type FleetAPI interface {
	List(ctx context.Context, app string, opts flyclient.ListOptions) ([]*flyclient.Machine, error)
	Get(ctx context.Context, app, id string) (*flyclient.Machine, error)
	FindLease(ctx context.Context, app, id string) (*flyclient.Lease, error)
	Releases(ctx context.Context, app string, limit int) ([]model.Release, error)
	Logs(ctx context.Context, app string, opts flyclient.LogsOptions) (*flyclient.LogPage, error)
}

// Options configure the dashboard.
type Options struct {
	App string
	API FleetAPI
	// Context is the base of every command the dashboard starts (polls,
	// plans, actions): cancelling it (a SIGTERM to the process) cancels
	// them all, an action included, which then winds down cleanly. Nil:
	// Run's context (New alone: context.Background, for tests).
	Context context.Context
	// Engine plans and runs actions; nil means the dashboard is read-only.
	Engine   *recovery.Engine
	ReadOnly bool
	// ReadOnlyWhy says where read-only came from, for the message a disabled
	// key shows (e.g. "apps.shop.read_only in ~/.config/flyrescue/config.yaml").
	ReadOnlyWhy string
	// KeyMap replaces the default bindings (see KeyMap.Rebind); nil keeps them.
	KeyMap *KeyMap
	// Theme is auto (ask the terminal for its background), dark or light.
	Theme string
	// FlagImage is --image: the deploy target, overriding the releases.
	FlagImage string
	// Refresh is the poll interval; default 2 s, floor 1 s (List is rate
	// limited to 1 request per second per app on Fly).
	Refresh    time.Duration
	StuckAfter time.Duration
	LabelEnv   string
	// JournalNote is shown in the footer and help (e.g. the demo's temp dir).
	JournalNote string
	NoColor     bool
	// Now is the clock; tests fix it for golden screens.
	Now func() time.Time
	// NoPoll stops the dashboard from polling by itself (tests feed polls).
	NoPoll bool
}

// Poll interval bounds.
const (
	DefaultRefresh = 2 * time.Second
	MinRefresh     = time.Second
)

// Timeouts for the calls the dashboard makes. They bound how long a dead
// API can leave a spinner turning.
const (
	pollTimeout   = 15 * time.Second
	planTimeout   = 60 * time.Second
	detailTimeout = 10 * time.Second
	// releasesEvery: releases change only on deploys, so fetch them on
	// every Nth poll rather than doubling the request rate.
	releasesEvery = 10
	// leasesEvery: leases are looked up (on machines not on target, at most
	// 200 of them) every few polls, so the others acting and the advice
	// name who holds what without a request per machine every poll.
	leasesEvery = 5
)

func (o Options) withDefaults() Options {
	if o.Context == nil {
		o.Context = context.Background()
	}
	if o.Refresh <= 0 {
		o.Refresh = DefaultRefresh
	}
	if o.Refresh < MinRefresh {
		o.Refresh = MinRefresh
	}
	if o.LabelEnv == "" {
		o.LabelEnv = flyclient.DefaultLabelEnv
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Engine == nil && !o.ReadOnly {
		o.ReadOnly = true
		o.ReadOnlyWhy = "no recovery engine"
	}
	if o.ReadOnlyWhy == "" {
		o.ReadOnlyWhy = "--read-only"
	}
	return o
}

func (o Options) keyMap() KeyMap {
	if o.KeyMap != nil {
		return *o.KeyMap
	}
	return DefaultKeyMap()
}
