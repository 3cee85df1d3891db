package flyclient

import (
	"context"
	"sort"

	"github.com/flyrescue/flyrescue/model"
	fly "github.com/superfly/fly-go"
)

// Releases returns up to limit releases, newest first, with their images (what
// `fly releases --image` shows).
// ReleasesRead is how many releases every reader of the fleet (status, the
// dashboard, the engine) asks for, so they agree on the target and on what
// a rollback can go back to.
const ReleasesRead = 50

func (c *Client) Releases(ctx context.Context, app string, limit int) ([]model.Release, error) {
	ctx, cancel := c.bound(ctx, graphqlAPI, 0)
	defer cancel()
	rs, err := c.gql.GetAppReleasesMachines(ctx, app, "", limit)
	if err != nil {
		return nil, finish(ctx, err, "list releases of", app, "")
	}
	out := make([]model.Release, 0, len(rs))
	for _, r := range rs {
		out = append(out, releaseToModel(r))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Version > out[j].Version })
	return out, nil
}

// CurrentRelease returns the app's current release.
func (c *Client) CurrentRelease(ctx context.Context, app string) (*model.Release, error) {
	ctx, cancel := c.bound(ctx, graphqlAPI, 0)
	defer cancel()
	r, err := c.gql.GetAppCurrentReleaseMachines(ctx, app)
	if err != nil {
		return nil, finish(ctx, err, "get current release of", app, "")
	}
	if r == nil {
		return nil, &Error{Kind: ErrNotFound, Op: "get current release of", App: app, Message: "the app has no release"}
	}
	m := releaseToModel(*r)
	return &m, nil
}

func releaseToModel(r fly.Release) model.Release {
	return model.Release{
		ID: r.ID, Version: r.Version, Status: r.Status, Description: r.Description, Reason: r.Reason,
		Image: r.ImageRef, User: r.User.Email, CreatedAt: r.CreatedAt,
	}
}

// App is what flyrescue needs to know about an app.
type App struct {
	Name         string
	Status       string
	Organization string
	MachineCount int
}

// App returns the app's details; an unknown app is ErrNotFound.
func (c *Client) App(ctx context.Context, name string) (*App, error) {
	ctx, cancel := c.bound(ctx, machinesAPI, 0)
	defer cancel()
	a, err := c.flaps.GetApp(ctx, name)
	if err != nil {
		return nil, finish(ctx, err, "get", name, "")
	}
	return &App{Name: a.Name, Status: a.Status, Organization: a.Organization.Slug, MachineCount: int(a.MachineCount)}, nil
}
