package flyclient

import (
	"context"
	"time"

	"github.com/flyrescue/flyrescue/model"
)

// FleetSource is what reading a fleet needs: *Client, the dashboard's API,
// or the recovery engine's paced and rate-limited view of it.
type FleetSource interface {
	List(ctx context.Context, app string, opts ListOptions) ([]*Machine, error)
	Releases(ctx context.Context, app string, limit int) ([]model.Release, error)
}

// ReadOptions say how to read a fleet.
type ReadOptions struct {
	LabelEnv string // the release-label env var ("" for RELEASE_LABEL)
	// Releases asks for the release history too (ReleasesRead of them);
	// the dashboard asks only every few polls.
	Releases bool
	// Retry wraps each request (status: SurveyRetry; the engine: its own
	// bounds); nil tries once (the dashboard backs off between polls).
	Retry func(ctx context.Context, call func() error) error
}

// ReadFleet is the one reading of a fleet that `status`, the dashboard and
// the recovery engine share: the machines as listed (destroyed ones left
// out; destroying ones kept, they still exist), their model view, and the
// releases. A failing release query is not fatal: ReleasesErr says so and
// the target falls back to the machines' metadata.
func ReadFleet(ctx context.Context, src FleetSource, app string, o ReadOptions) (*Survey, error) {
	retry := o.Retry
	if retry == nil {
		retry = func(_ context.Context, call func() error) error { return call() }
	}
	start := time.Now()
	var raw []*Machine
	err := retry(ctx, func() error {
		var err error
		raw, err = src.List(ctx, app, ListOptions{})
		return err
	})
	if err != nil {
		return nil, err
	}
	kept := raw[:0:0]
	for _, m := range raw {
		if m != nil && m.State != model.StateDestroyed {
			kept = append(kept, m)
		}
	}
	s := &Survey{Raw: kept, Machines: ToModels(kept, o.LabelEnv)}
	if o.Releases {
		s.ReleasesErr = retry(ctx, func() error {
			var err error
			s.Releases, err = src.Releases(ctx, app, ReleasesRead)
			return err
		})
	}
	s.At = time.Now()
	s.Took = s.At.Sub(start)
	return s, nil
}
