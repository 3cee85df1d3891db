package flyclient

import (
	"context"
	"sync"
	"time"

	"github.com/flyrescue/flyrescue/model"
)

// Survey is one reading of an app (see ReadFleet): its machines and its
// release history.
type Survey struct {
	Raw      []*Machine      // as listed, destroyed ones left out
	Machines []model.Machine // parallel to Raw
	Releases []model.Release // newest first
	// ReleasesErr is set when the machines came back but the releases did
	// not; the target image then falls back to the machines' metadata, and the
	// caller should say so.
	ReleasesErr error
	At          time.Time
	Took        time.Duration
}

// Survey lists the app's machines and releases, retrying transient failures a
// few times. labelEnv names the release-label env var ("" for RELEASE_LABEL).
func (c *Client) Survey(ctx context.Context, app, labelEnv string) (*Survey, error) {
	return ReadFleet(ctx, c, app, ReadOptions{LabelEnv: labelEnv, Releases: true, Retry: retryTransient})
}

func retryTransient(ctx context.Context, call func() error) error {
	// An API that gave no answer within the request deadline is not asked
	// again: each try would cost the whole deadline.
	return SurveyRetry.Do(ctx, call, func(err error) bool { return IsTransient(err) && !isNoAnswer(err) })
}

// leaseProbeMax bounds the leases one survey looks up: each is a request,
// and the machines worth asking about are the few not yet on target.
const leaseProbeMax = 200

// ProbeLeases looks up the leases on ids (at most leaseProbeMax of them, a
// few at a time) and returns the ones held, by machine ID. A lookup that
// fails is left out: leases inform the advice, they do not gate a survey.
func (c *Client) ProbeLeases(ctx context.Context, app string, ids []string) map[string]model.Lease {
	return ProbeLeases(ctx, c, app, ids)
}

// LeaseFinder is what ProbeLeases needs: *Client, or the dashboard's API.
type LeaseFinder interface {
	FindLease(ctx context.Context, app, id string) (*Lease, error)
}

// ProbeLeases is Client.ProbeLeases through any LeaseFinder.
func ProbeLeases(ctx context.Context, c LeaseFinder, app string, ids []string) map[string]model.Lease {
	if len(ids) > leaseProbeMax {
		ids = ids[:leaseProbeMax]
	}
	out := map[string]model.Lease{}
	var mu sync.Mutex
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func(id string) {
			defer wg.Done()
			defer func() { <-sem }()
			l, err := c.FindLease(ctx, app, id)
			if err != nil || l == nil || l.Owner == "" {
				return
			}
			mu.Lock()
			out[id] = model.Lease{Owner: l.Owner, Description: l.Description, Expires: l.ExpiresAt}
			mu.Unlock()
		}(id)
	}
	wg.Wait()
	return out
}
