package recovery

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
)

// leaseLookups bounds the lease reads a plan makes at once.
const leaseLookups = 16

// withLeases reads the lease of every machine a plan would touch, so the
// plan (and --dry-run) says up front which machines someone else holds:
// a long lease (a stalled deploy's, a teammate's claim) moves its machine to
// Skipped with the holder named; a short one is work in progress that the
// run will wait for, and is noted. A failed lookup changes nothing: the run
// reads the lease again anyway.
//
// It is curried so a planner's two results pass straight through:
// e.withLeases(ctx)(e.planX(...)).
func (e *Engine) withLeases(ctx context.Context) func(*Plan, error) (*Plan, error) {
	return func(p *Plan, err error) (*Plan, error) {
		if err != nil || p == nil || len(p.Steps) == 0 {
			return p, err
		}
		return e.checkLeases(ctx, p), nil
	}
}

func (e *Engine) checkLeases(ctx context.Context, p *Plan) *Plan {
	held := make([]*flyclient.Lease, len(p.Steps))
	var wg sync.WaitGroup
	sem := make(chan struct{}, leaseLookups)
	for i, s := range p.Steps {
		if s.MachineID == "" {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			// A lookup that panics counts as one that got no answer.
			defer recoverAs("reading a lease", func(error) { held[i] = nil })
			_ = e.call(ctx, "get_lease", s.MachineID, func(ctx context.Context) error {
				l, err := e.api.FindLease(ctx, e.opts.App, s.MachineID)
				if err == nil && l != nil && l.ExpiresAt.After(time.Now()) {
					held[i] = l
				}
				return err
			})
		}()
	}
	wg.Wait()
	kept := p.Steps[:0:0]
	busy := map[string]int{}
	for i, s := range p.Steps {
		l := held[i]
		switch {
		case l == nil:
			kept = append(kept, s)
		case staleLease(&flyclient.LeaseHeldError{ExpiresAt: l.ExpiresAt}, e.opts.LeaseTTL):
			busy[holderText(l)]++
			kept = append(kept, s)
		default:
			s.Reason = (&flyclient.LeaseHeldError{MachineID: s.MachineID, Owner: l.Owner, Description: l.Description, ExpiresAt: l.ExpiresAt}).Error()
			p.Skipped = append(p.Skipped, s)
			p.Held = append(p.Held, s)
			p.HeldByOthers++
		}
	}
	if len(kept) != len(p.Steps) {
		p.Steps = kept
		p.finish()
	}
	if p.HeldByOthers > 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("%s leased by someone else for longer than a run takes and left out (see the skipped list): wait for their holder, or if it is gone clear the lease with `flyrescue clear-lease ID`", model.Counted(p.HeldByOthers, "machine")+model.Agree(p.HeldByOthers, " is", " are")))
	}
	var who []string
	for h, n := range busy {
		who = append(who, fmt.Sprintf("%d by %s", n, h))
	}
	sort.Strings(who)
	if len(who) > 0 {
		p.Notes = append(p.Notes, "machines being worked on right now (short leases), to be waited for: "+strings.Join(who, ", "))
	}
	return p
}

func holderText(l *flyclient.Lease) string {
	h := l.Owner
	if h == "" {
		h = "someone"
	}
	if d := strings.TrimSpace(l.Description); d != "" {
		h += fmt.Sprintf(" (%q)", flyclient.Redact(d))
	}
	return h
}
