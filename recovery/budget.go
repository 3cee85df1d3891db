package recovery

import (
	"context"
	"sync"

	"github.com/flyrescue/flyrescue/model"
)

// scheduler hands steps to workers in plan order, skipping past steps whose
// process group has no unavailability budget left so one saturated group
// never stalls the others.
type scheduler struct {
	mu      sync.Mutex
	cond    *sync.Cond
	pending []*stepState
	limit   map[string]int
	inUse   map[string]int
	// spent counts machines our failed steps left out of service: they stay
	// charged to the budget for the rest of the run, so a bad image cannot
	// take a whole group down one budget-full at a time.
	spent   map[string]int
	stopped bool
}

func newScheduler(steps []*stepState, limit map[string]int) *scheduler {
	s := &scheduler{pending: steps, limit: limit, inUse: map[string]int{}, spent: map[string]int{}}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// needsSlot says whether a step makes a machine in state unavailable.
func needsSlot(op Op, state string) bool {
	if state != model.StateStarted {
		return false
	}
	switch op {
	case OpUpdate, OpRestart, OpStop, OpDestroy:
		return true
	}
	return false
}

func (s *scheduler) limitOf(group string) int {
	if l, ok := s.limit[group]; ok {
		return l
	}
	return 1
}

// exhaustedLocked: the group's budget is all spent by failures.
func (s *scheduler) exhaustedLocked(group string) bool {
	return s.spent[group] >= s.limitOf(group)
}

func (s *scheduler) freeLocked(group string) bool {
	return s.inUse[group]+s.spent[group] < s.limitOf(group)
}

// next blocks until a step can run, and returns nil when there is none left
// or the run is stopping. The returned step holds a budget slot when
// st.slot is set.
func (s *scheduler) next() *stepState {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if s.stopped || len(s.pending) == 0 {
			return nil
		}
		for i, st := range s.pending {
			need := needsSlot(st.step.Op, st.step.FromState)
			switch {
			case !need:
			case s.exhaustedLocked(st.step.Group):
				st.doomed = true
			case s.freeLocked(st.step.Group):
				s.inUse[st.step.Group]++
				st.slot = true
			default:
				continue
			}
			s.pending = append(s.pending[:i], s.pending[i+1:]...)
			return st
		}
		s.cond.Wait()
	}
}

// acquire takes a slot for a step that turned out to need one (the machine
// was started after all). It fails when the group's budget is spent or ctx
// ends.
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
		if s.exhaustedLocked(st.step.Group) {
			return errBudgetSpent
		}
		if s.freeLocked(st.step.Group) {
			s.inUse[st.step.Group]++
			st.slot = true
			return nil
		}
		s.cond.Wait()
	}
}

// release gives a step's slot back: the machine is serving again (or never
// stopped serving).
func (s *scheduler) release(st *stepState) { s.freeSlot(st, false) }

// spend keeps a failed step's slot charged for the rest of the run.
func (s *scheduler) spend(st *stepState) { s.freeSlot(st, true) }

// freeSlot lets another step of the group start; charge counts the machine
// as still out of service for the rest of the run.
func (s *scheduler) freeSlot(st *stepState, charge bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st.slot {
		st.slot = false
		s.inUse[st.step.Group]--
		if charge {
			s.spent[st.step.Group]++
		}
		s.cond.Broadcast()
	}
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
