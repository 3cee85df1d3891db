package recovery

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/flyrescue/flyrescue/model"
)

// scheduler hands steps to workers in plan order. Per process group it
// enforces three things:
//   - the unavailability budget, counting every machine of the group that is
//     not serving, whoever took it down (our steps in flight, our failures,
//     and from fresh reads of the fleet everyone else's);
//   - evidence-gated waves: an image not yet proven healthy in the group goes
//     to one machine first, and the wave widens only as machines verify;
//   - a circuit breaker: when machines of the group fail verification for the
//     same cause, the group halts and nothing new starts there.
//
// A saturated or halted group never stalls the others.
type scheduler struct {
	mu      sync.Mutex
	cond    *sync.Cond
	pending []*stepState
	limit   map[string]int
	inUse   map[string]int
	// spent counts machines our failed steps left out of service: they stay
	// charged to the budget for the rest of the run.
	spent map[string]int
	// ours are the machines this run holds a slot for or has spent; the
	// fleet reads count everything else that is down as external.
	ours     map[string]bool
	fleet    *fleetRead
	external map[string]int
	// pace is how fast others are taking machines down: per group, the most
	// machines someone else took down between two reads, over the last few
	// reads. Room for that many (times the reads' age) is kept free, since
	// they keep going between our read and our act.
	pace    map[string]int
	refresh time.Duration
	// budgetWait bounds how long a step waits for room in its group.
	budgetWait time.Duration
	// notify reports what the scheduler decides as it happens (a group
	// halting, a step waiting for room); it must not block.
	notify  func(Event)
	recent  []map[string]int // others' new downs per read, newest last
	gates   map[gateKey]*gate
	breaker breaker
	stopped bool
}

// reserveWindow is how many fleet reads the others' pace is taken over.
const reserveWindow = 5

// gateKey is a group and the image a step puts on it.
type gateKey struct{ group, image string }

// gate is one group's canary state for one image.
type gate struct {
	proven   bool
	why      string
	window   int // image-changing steps that may be unverified at once
	active   int
	verified int
	need     int
}

// breaker halts a group after haltAfter verification failures of one cause.
type breaker struct {
	haltAfter float64
	failures  map[string]map[string]int // group -> cause -> count
	halted    map[string]string         // group -> why
	order     []string                  // halted groups, in the order they halted
}

func newScheduler(steps []*stepState, limit map[string]int, haltAfter float64, refresh, budgetWait time.Duration) *scheduler {
	s := &scheduler{pending: steps, limit: limit, inUse: map[string]int{}, spent: map[string]int{},
		ours: map[string]bool{}, external: map[string]int{}, pace: map[string]int{}, gates: map[gateKey]*gate{},
		refresh: refresh, budgetWait: budgetWait, breaker: breaker{haltAfter: haltAfter, failures: map[string]map[string]int{}, halted: map[string]string{}}}
	s.cond = sync.NewCond(&s.mu)
	return s
}

func (s *scheduler) limitOf(group string) int {
	if l, ok := s.limit[group]; ok {
		return l
	}
	return 1
}

// gateFor sets up the canary gates from a fleet read (at the start of a run).
func (s *scheduler) setGates(r *fleetRead) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.pending {
		if !changesImage(st.step) {
			continue
		}
		k := gateKey{st.step.Group, imageKey(st.step.ToImage)}
		if s.gates[k] != nil {
			continue
		}
		ok, n := r.proven(k.group, k.image)
		need := provenNeed(r.size[k.group])
		g := &gate{proven: ok, window: 1, need: need}
		g.why = fmt.Sprintf("%s runs healthy on %d of %d %s machines (%d needed to go at the full budget)",
			model.ImageTag(st.step.ToImage), n, r.size[k.group], k.group, need)
		s.gates[k] = g
	}
	s.observeLocked(r)
}

// observe takes a fresh fleet read.
func (s *scheduler) observe(r *fleetRead) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.observeLocked(r)
}

func (s *scheduler) observeLocked(r *fleetRead) {
	if prev := s.fleet; prev != nil {
		fresh := map[string]int{}
		for id, g := range r.down {
			if prev.up[id] && !s.ours[id] {
				fresh[g]++
			}
		}
		s.recent = append(s.recent, fresh)
		if len(s.recent) > reserveWindow {
			s.recent = s.recent[1:]
		}
	}
	s.pace = map[string]int{}
	for _, fresh := range s.recent {
		for g, n := range fresh {
			s.pace[g] = max(s.pace[g], n)
		}
	}
	s.fleet = r
	s.recountLocked()
	s.cond.Broadcast()
}

// recountLocked: external = down in the latest read and not ours.
func (s *scheduler) recountLocked() {
	s.external = map[string]int{}
	if s.fleet == nil {
		return
	}
	for id, g := range s.fleet.down {
		if !s.ours[id] {
			s.external[g]++
		}
	}
}

// saw folds a fresher read of one machine (ours, under our lease) into the
// fleet view, so a machine someone else took down since the last fleet read
// is counted now, not at the next read.
func (s *scheduler) saw(id, group string, up bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fleet == nil || id == "" {
		return
	}
	_, wasDown := s.fleet.down[id]
	switch {
	case up && wasDown:
		delete(s.fleet.down, id)
		s.fleet.up[id] = true
		if !s.ours[id] {
			s.external[group]--
		}
		s.cond.Broadcast()
	case !up && !wasDown:
		s.fleet.down[id] = group
		delete(s.fleet.up, id)
		if !s.ours[id] {
			s.external[group]++
		}
	}
}

// servingNow says whether the latest read shows the machine serving; it
// falls back to the planned state for machines the read does not know.
func (s *scheduler) servingNowLocked(st *stepState) bool {
	if s.fleet != nil {
		if _, down := s.fleet.down[st.step.MachineID]; down {
			return false
		}
		if s.fleet.size[st.step.Group] > 0 && st.step.MachineID != "" {
			return true
		}
	}
	return st.step.FromState == model.StateStarted
}

func (s *scheduler) freeLocked(group string) bool {
	return s.inUse[group]+s.spent[group]+s.external[group]+s.reserveLocked(group) < s.limitOf(group)
}

// reserveLocked is the room kept for others: twice their pace per read,
// more as the latest read ages.
func (s *scheduler) reserveLocked(group string) int {
	p := s.pace[group]
	if p == 0 || s.fleet == nil || s.refresh <= 0 {
		return p
	}
	return p * (2 + int(time.Since(s.fleet.at)/s.refresh))
}

// exhaustedLocked: the group's budget is all spent by our failures.
func (s *scheduler) exhaustedLocked(group string) bool {
	return s.spent[group] >= s.limitOf(group)
}

func (s *scheduler) gateLocked(st *stepState) *gate {
	if !changesImage(st.step) {
		return nil
	}
	return s.gates[gateKey{st.step.Group, imageKey(st.step.ToImage)}]
}

// next blocks until a step can run, and returns nil when there is none left
// or the run is stopping. A returned step holds a budget slot when st.slot
// is set; st.halted or st.refused say it must not run at all.
func (s *scheduler) next() *stepState {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if s.stopped || len(s.pending) == 0 {
			return nil
		}
		for i, st := range s.pending {
			g := st.step.Group
			gt := s.gateLocked(st)
			need := st.step.MachineID != "" && takesDown(st.step.Op) && s.servingNowLocked(st)
			switch {
			case s.breaker.halted[g] != "":
				st.halted = s.breaker.halted[g]
			case gt != nil && !gt.proven && gt.active >= gt.window:
				continue
			case !need:
			case s.exhaustedLocked(g):
				st.refused = errBudgetSpent.Error()
			case s.freeLocked(g):
				s.takeSlotLocked(st)
			default:
				if st.refused = s.starvedLocked(st); st.refused == "" {
					continue
				}
			}
			if gt != nil && st.halted == "" && st.refused == "" {
				gt.active++
				st.gated = true
			}
			s.pending = append(s.pending[:i], s.pending[i+1:]...)
			return st
		}
		s.cond.Wait()
	}
}

// starvedLocked says why a step that needs a slot will not get one, or ""
// while waiting may still help. Waiting helps while machines of the group
// are moving (ours in flight, others' in transition or being taken down);
// a group held over its budget by machines that sit stopped or failed would
// wait forever, so the step is refused at once with the reason, and so is
// one that has waited budgetWait.
func (s *scheduler) starvedLocked(st *stepState) string {
	g := st.step.Group
	now := time.Now()
	if st.waitingSince.IsZero() || s.inUse[g] > 0 {
		// Our own steps in flight free their room when they end, each
		// within its own wait and settle timeouts: waiting for them is
		// never starvation, however slow the machines (or this host) are.
		// The bound below is for room others hold.
		st.waitingSince = now
	}
	moving := s.inUse[g] > 0 || s.pace[g] > 0 || (s.fleet != nil && s.fleet.moving[g] > 0)
	down := s.external[g] + s.spent[g]
	if moving && now.Sub(st.waitingSince) < s.budgetWait {
		if !st.toldWaiting && s.notify != nil {
			st.toldWaiting = true
			s.notify(Event{Seq: st.step.Seq, MachineID: st.step.MachineID, Op: st.step.Op, Phase: PhaseQueued,
				Reason: fmt.Sprintf("waiting for room in %s: %d of its machines are not serving (ours in flight %d), budget %d", g, down+s.inUse[g], s.inUse[g], s.limitOf(g))})
		}
		return ""
	}
	why := fmt.Sprintf("not taken down: %d machines of %s are already not serving and its budget is %d", down, g, s.limitOf(g))
	if r := s.reserveLocked(g); r > 0 {
		why += fmt.Sprintf(" (%d kept for others taking machines down)", r)
	}
	if moving {
		why += fmt.Sprintf(" (waited %s for room)", s.budgetWait)
	}
	return why + "; bring those back (or destroy and scale), or raise --max-unavailable"
}

// takeSlotLocked charges a machine to the budget as ours: from now on it
// counts in inUse (or spent), not as external.
func (s *scheduler) takeSlotLocked(st *stepState) {
	s.inUse[st.step.Group]++
	st.slot = true
	if st.step.MachineID != "" {
		s.claimLocked(st.step.MachineID)
	}
}

// claimLocked makes a machine ours: it no longer counts as external.
func (s *scheduler) claimLocked(id string) {
	if s.ours[id] {
		return
	}
	s.ours[id] = true
	if s.fleet != nil {
		if g, down := s.fleet.down[id]; down {
			s.external[g]--
		}
	}
}

// unclaimLocked gives a machine back to the fleet count.
func (s *scheduler) unclaimLocked(id string) {
	if !s.ours[id] {
		return
	}
	delete(s.ours, id)
	if s.fleet != nil {
		if g, down := s.fleet.down[id]; down {
			s.external[g]++
		}
	}
}

// acquire takes a slot for a step that turned out to need one (the fresh
// read under the lease shows it serving after all). It fails when the
// group's budget is spent, the group halted, or ctx ends.
func (s *scheduler) acquire(ctx context.Context, st *stepState) error {
	stop := context.AfterFunc(ctx, func() {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	defer stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if why := s.breaker.halted[st.step.Group]; why != "" {
			return &errHalted{why}
		}
		if s.exhaustedLocked(st.step.Group) {
			return errBudgetSpent
		}
		if s.freeLocked(st.step.Group) {
			s.takeSlotLocked(st)
			return nil
		}
		if why := s.starvedLocked(st); why != "" {
			return permanent("%s", why)
		}
		s.cond.Wait()
	}
}

// release gives a step's slot back: the machine is serving again (or never
// stopped serving).
func (s *scheduler) release(st *stepState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.freeSlotLocked(st, false)
}

func (s *scheduler) freeSlotLocked(st *stepState, charge bool) {
	if !st.slot {
		return
	}
	st.slot = false
	s.inUse[st.step.Group]--
	if charge {
		s.spent[st.step.Group]++
	} else if st.step.MachineID != "" {
		s.unclaimLocked(st.step.MachineID)
	}
	s.cond.Broadcast()
}

// end records how a step ended. A machine that failed verification stays
// charged to the budget whatever its state (a started machine failing its
// checks serves nobody), counts toward the group's breaker, and keeps the
// canary window from widening; a verified one widens it.
func (s *scheduler) end(st *stepState, out Outcome, cause string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := st.step.Group
	verifyFailed := out == OutcomeFailed && cause != ""
	if gt := s.gateLocked(st); gt != nil && st.gated {
		st.gated = false
		gt.active--
		if out == OutcomeOK {
			gt.verified++
			gt.window++
			if gt.verified >= gt.need {
				gt.proven = true
			}
		}
	}
	switch {
	case verifyFailed:
		// A machine that was down already when we came (a failed one we
		// tried to repair) holds no slot: the fleet reads keep counting it.
		s.freeSlotLocked(st, true)
		proven := true
		if gt := s.gateLocked(st); gt != nil {
			proven = gt.proven
		}
		s.tripLocked(g, cause, proven)
	case out == OutcomeOK && opOf(st.step.Op).LeavesDown && st.step.MachineID != "":
		// Down (or gone) because the operator asked for exactly that: the
		// slot goes back for the next one, and the machine does not count
		// as an outage for the rest of the run. The budget paces taking
		// machines down; it does not forbid a stop or a destroy asked for.
		if st.slot {
			st.slot = false
			s.inUse[g]--
		}
		s.claimLocked(st.step.MachineID)
	default:
		s.freeSlotLocked(st, false)
	}
	s.cond.Broadcast()
}

func (s *scheduler) fleetDownLocked(id string) bool {
	if s.fleet == nil {
		return false
	}
	_, down := s.fleet.down[id]
	return down
}

// tripLocked counts a verification failure and halts the group when one
// cause reaches the threshold.
func (s *scheduler) tripLocked(group, cause string, proven bool) {
	b := &s.breaker
	if b.halted[group] != "" {
		return
	}
	if b.failures[group] == nil {
		b.failures[group] = map[string]int{}
	}
	b.failures[group][cause]++
	n := b.failures[group][cause]
	size := s.limit[group]
	if s.fleet != nil && s.fleet.size[group] > 0 {
		size = s.fleet.size[group]
	}
	if n >= haltThreshold(b.haltAfter, size, proven) {
		b.halted[group] = fmt.Sprintf("%d machines of %s failed verification: %s", n, group, cause)
		b.order = append(b.order, group)
		if s.notify != nil {
			s.notify(Event{Phase: PhaseHalted, Group: group, Reason: "halted " + group + ": " + b.halted[group] +
				"; nothing more is started there (`flyrescue resume` with the action ID goes on, canary-first, when you decide to)"})
		}
	}
}

// haltThreshold turns --halt-after into a count for a group of n: a
// fraction of the group (rounded up), or a count; never more than the
// group. Unset, it is 2 for an image not proven in the group, else 10% of
// the group (at least 2).
func haltThreshold(haltAfter float64, n int, proven bool) int {
	var t int
	switch {
	case haltAfter >= 1:
		t = int(haltAfter)
	case haltAfter > 0:
		t = int(math.Ceil(float64(n) * haltAfter))
	case proven:
		t = max(DefaultHaltAfterUnproven, int(math.Ceil(float64(n)*DefaultHaltAfterProven)))
	default:
		t = DefaultHaltAfterUnproven
	}
	return max(1, min(t, max(n, 1)))
}

// halts returns the halted groups and why, in the order they halted.
func (s *scheduler) halts() []GroupHalt {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]GroupHalt, 0, len(s.breaker.order))
	for _, g := range s.breaker.order {
		out = append(out, GroupHalt{Group: g, Reason: s.breaker.halted[g]})
	}
	return out
}

// canaryGroups describes the gates, for the plan and the run's first event.
func (s *scheduler) canaryGroups() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k, g := range s.gates {
		if !g.proven {
			out = append(out, k.group+" goes canary-first: "+g.why)
		}
	}
	sort.Strings(out)
	return out
}

// stop makes next return nil from now on and hands back what never ran.
func (s *scheduler) stop() []*stepState {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	left := s.pending
	s.pending = nil
	s.cond.Broadcast()
	return left
}

// causeOf names a verification failure's cause for the breaker: failures
// that share a cause are the same problem on different machines.
func causeOf(err error) string {
	var vf *verifyError
	if ok := asVerify(err, &vf); ok {
		return vf.cause
	}
	return ""
}

func joinHalts(h []GroupHalt) string {
	parts := make([]string, len(h))
	for i, x := range h {
		parts[i] = x.Reason
	}
	return strings.Join(parts, "; ")
}
