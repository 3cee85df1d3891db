package recovery

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
)

// fleetRead is what a run needs to know about the whole app, from one
// fresh listing: which machines are not serving (whoever took them down)
// and where each image is proven healthy.
type fleetRead struct {
	at   time.Time
	down map[string]string // machine ID -> group, for machines not serving
	// healthy counts serving machines per group and image (imageKey).
	healthy map[string]map[string]int
	size    map[string]int // live machines per group
	up      map[string]bool
	moving  map[string]int // machines per group in a transitional state
}

// serving says whether a machine carries traffic: started, not cordoned
// (Fly Proxy sends a cordoned machine nothing), on a healthy host, and
// passing every configured check. A machine whose checks have not reported
// yet ("0 of 0" right after a start) is not serving.
func serving(m *flyclient.Machine) bool {
	if m == nil || m.State != model.StateStarted || m.Cordoned {
		return false
	}
	if hs := string(m.HostStatus); hs != "" && hs != "ok" {
		return false
	}
	passing, total, _ := checkSummary(m)
	configured := configuredChecks(m.Config)
	if configured == 0 && total == 0 {
		return true
	}
	return total > 0 && passing == total && total >= configured
}

func newFleetRead(list []*flyclient.Machine) *fleetRead {
	r := &fleetRead{at: time.Now(), down: map[string]string{}, healthy: map[string]map[string]int{}, size: map[string]int{}, up: map[string]bool{}, moving: map[string]int{}}
	for _, m := range list {
		if m == nil || m.State == model.StateDestroyed {
			continue
		}
		g := m.ProcessGroup()
		if m.State != model.StateDestroying {
			r.size[g]++
		}
		if !serving(m) {
			r.down[m.ID] = g
			if model.IsTransitional(m.State) || m.State == model.StateStarted && !m.Cordoned {
				// On its way somewhere (a started one: checks pending). A
				// cordoned one stays out of service until someone uncordons it.
				r.moving[g]++
			}
			continue
		}
		r.up[m.ID] = true
		if r.healthy[g] == nil {
			r.healthy[g] = map[string]int{}
		}
		r.healthy[g][imageKey(configImage(m))]++
	}
	return r
}

// provenNeed is how many healthy machines of a group must already run an
// image before it goes out at the full budget: 3, or 10% of the group when
// that is fewer.
func provenNeed(groupSize int) int {
	return max(1, min(3, int(math.Ceil(float64(groupSize)*0.1))))
}

// proven says whether image already runs healthy on enough of group, and how
// many machines it runs healthy on.
func (r *fleetRead) proven(group, image string) (bool, int) {
	n := r.healthy[group][imageKey(image)]
	return n >= provenNeed(r.size[group]), n
}

// list is one listing of the app's machines.
func (e *Engine) list(ctx context.Context) ([]*flyclient.Machine, error) {
	var list []*flyclient.Machine
	err := e.call(ctx, "list", e.opts.App, func(ctx context.Context) error {
		var err error
		list, err = e.api.List(ctx, e.opts.App, flyclient.ListOptions{})
		return err
	})
	return list, err
}

// readFleet lists the app once, with the run's retries.
func (e *Engine) readFleet(ctx context.Context) (*fleetRead, error) {
	var list []*flyclient.Machine
	err := e.retrying(ctx, func() (err error) {
		list, err = e.list(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return newFleetRead(list), nil
}

// watchFleet re-reads the fleet every FleetRefresh until ctx ends, so the
// budget sees machines that others (a deploy, a teammate, the autoscaler)
// take down while we run. A failed read keeps the last one; the API being
// down is the health tracker's business.
func (e *Engine) watchFleet(ctx context.Context, sched *scheduler, wg *sync.WaitGroup) {
	defer wg.Done()
	every := e.opts.FleetRefresh
	for {
		if sleep(ctx, every) != nil {
			return
		}
		if list, err := e.list(ctx); err == nil {
			sched.observe(newFleetRead(list))
		}
	}
}
