package flyclient

import (
	"context"
	"net/url"
	"strings"
	"time"

	fly "github.com/superfly/fly-go"
)

// ListOptions narrows a machine listing.
type ListOptions struct {
	Region         string
	States         []string
	IncludeDeleted bool
}

// query builds the raw query string: fly-go's List appends its state
// argument verbatim after "?", so it must be a complete query.
func (o ListOptions) query() string {
	v := url.Values{}
	if o.Region != "" {
		v.Set("region", o.Region)
	}
	if len(o.States) > 0 {
		v.Set("state", strings.Join(o.States, ","))
	}
	if o.IncludeDeleted {
		v.Set("include_deleted", "true")
	}
	return v.Encode()
}

// List returns the app's machines.
func (c *Client) List(ctx context.Context, app string, opts ListOptions) ([]*Machine, error) {
	ctx, cancel := c.bound(ctx, machinesAPI, 0)
	defer cancel()
	ms, err := c.flaps.List(ctx, app, opts.query())
	return ms, finish(ctx, err, "list machines of", app, "")
}

// Get returns one machine.
func (c *Client) Get(ctx context.Context, app, id string) (*Machine, error) {
	if id == "" {
		// fly-go would hit the list URL and fail to decode.
		return nil, &Error{Kind: ErrInvalid, Op: "get", App: app, Message: "empty machine ID"}
	}
	ctx, cancel := c.bound(ctx, machinesAPI, 0)
	defer cancel()
	m, err := c.flaps.Get(ctx, app, id)
	return m, finish(ctx, err, "get", app, id)
}

// UpdateInput replaces a machine's whole config (the API has no partial
// updates).
type UpdateInput struct {
	ID, Region, Name string
	Config           *MachineConfig
	SkipLaunch       bool
	Nonce            string // lease nonce, "" without a lease
}

// Update sends a new config; the machine gets a new instance ID.
func (c *Client) Update(ctx context.Context, app string, in UpdateInput) (*Machine, error) {
	ctx, cancel := c.bound(ctx, machinesAPI, 0)
	defer cancel()
	m, err := c.flaps.Update(ctx, app, fly.LaunchMachineInput{
		ID: in.ID, Region: in.Region, Name: in.Name, Config: in.Config, SkipLaunch: in.SkipLaunch,
	}, in.Nonce)
	return m, finish(ctx, err, "update", app, in.ID)
}

// LaunchInput creates a machine.
type LaunchInput struct {
	Region, Name string
	Config       *MachineConfig
	SkipLaunch   bool
	LeaseTTL     int // seconds; >0 returns the machine already leased to us
}

// Launch creates a machine (the way flyctl clones one).
func (c *Client) Launch(ctx context.Context, app string, in LaunchInput) (*Machine, error) {
	ctx, cancel := c.bound(ctx, machinesAPI, 0)
	defer cancel()
	m, err := c.flaps.Launch(ctx, app, fly.LaunchMachineInput{
		Region: in.Region, Name: in.Name, Config: in.Config, SkipLaunch: in.SkipLaunch, LeaseTTL: in.LeaseTTL,
	})
	return m, finish(ctx, err, "launch", app, "")
}

// Start starts a stopped machine.
func (c *Client) Start(ctx context.Context, app, id, nonce string) error {
	ctx, cancel := c.bound(ctx, machinesAPI, 0)
	defer cancel()
	_, err := c.flaps.Start(ctx, app, id, nonce)
	return finish(ctx, err, "start", app, id)
}

// Stop stops a machine, killing it after timeout (0: the API's default).
func (c *Client) Stop(ctx context.Context, app, id, nonce string, timeout time.Duration) error {
	in := fly.StopMachineInput{ID: id}
	if timeout > 0 {
		in.Timeout = fly.Duration{Duration: timeout}
	}
	ctx, cancel := c.bound(ctx, machinesAPI, 0)
	defer cancel()
	return finish(ctx, c.flaps.Stop(ctx, app, in, nonce), "stop", app, id)
}

// Restart restarts a machine; forceStop kills it instead of waiting.
func (c *Client) Restart(ctx context.Context, app, id, nonce string, forceStop bool) error {
	ctx, cancel := c.bound(ctx, machinesAPI, 0)
	defer cancel()
	return finish(ctx, c.flaps.Restart(ctx, app, fly.RestartMachineInput{ID: id, ForceStop: forceStop}, nonce), "restart", app, id)
}

// Destroy removes a machine; force kills it if it is running.
func (c *Client) Destroy(ctx context.Context, app, id, nonce string, force bool) error {
	ctx, cancel := c.bound(ctx, machinesAPI, 0)
	defer cancel()
	return finish(ctx, c.flaps.Destroy(ctx, app, fly.RemoveMachineInput{ID: id, Kill: force}, nonce), "destroy", app, id)
}

// Suspend snapshots a started machine's memory and stops it: a later start
// resumes it where it was, faster than a cold boot.
func (c *Client) Suspend(ctx context.Context, app, id, nonce string) error {
	ctx, cancel := c.bound(ctx, machinesAPI, 0)
	defer cancel()
	return finish(ctx, c.flaps.Suspend(ctx, app, id, nonce), "suspend", app, id)
}

// Cordon tells Fly Proxy to stop routing requests to the machine; it keeps
// running (Machine.Cordoned shows it).
func (c *Client) Cordon(ctx context.Context, app, id, nonce string) error {
	ctx, cancel := c.bound(ctx, machinesAPI, 0)
	defer cancel()
	return finish(ctx, c.flaps.Cordon(ctx, app, id, nonce), "cordon", app, id)
}

// Uncordon lets Fly Proxy route requests to the machine again.
func (c *Client) Uncordon(ctx context.Context, app, id, nonce string) error {
	ctx, cancel := c.bound(ctx, machinesAPI, 0)
	defer cancel()
	return finish(ctx, c.flaps.Uncordon(ctx, app, id, nonce), "uncordon", app, id)
}
