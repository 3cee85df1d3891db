package model

import "time"

// DefaultStuckAfter is how long a machine may sit in a transitional state
// before we call it stuck. Fly's docs call machines wedged after 5 minutes in
// starting/stopping/restarting/destroying, which is also flyctl's default
// --wait-timeout, so a deploy would have given up on it by then.
const DefaultStuckAfter = 5 * time.Minute

// transitional states are the ones a healthy machine passes through; staying
// in one is what "stuck" means. created is included because a fresh machine
// normally boots in seconds, and one parked in created for hours blocks a deploy.
var transitional = map[string]bool{
	StateReplacing:  true,
	StateUpdating:   true,
	StateStarting:   true,
	StateStopping:   true,
	StateRestarting: true,
	StateDestroying: true,
	StateCreated:    true,
}

// IsTransitional reports whether state is one a machine should leave on its own.
func IsTransitional(state string) bool { return transitional[state] }

// IsStuckAt reports whether m is stuck at now: failed, or in a transitional
// state for longer than after. A machine whose state time is unknown is not
// called stuck, since we cannot tell how long it has been there.
func IsStuckAt(m Machine, now time.Time, after time.Duration) bool {
	if m.State == StateFailed {
		return true
	}
	if !transitional[m.State] {
		return false
	}
	since := StuckSince(m)
	if since.IsZero() {
		return false
	}
	return now.Sub(since) > after
}

// StuckSince is when m entered its current state as far as we know: its
// StateSince, else its last event, else its UpdatedAt.
func StuckSince(m Machine) time.Time {
	switch {
	case !m.StateSince.IsZero():
		return m.StateSince
	case !m.LastEvent.At.IsZero():
		return m.LastEvent.At
	default:
		return m.UpdatedAt
	}
}

// stateOrder ranks states by how urgently an operator must look at them, so
// grouped views put trouble at the top and healthy machines at the bottom.
var stateOrder = map[string]int{
	StateFailed:     0,
	StateStuck:      1,
	StateReplacing:  2,
	StateUpdating:   3,
	StateCreated:    4,
	StateRestarting: 5,
	StateStarting:   6,
	StateStopping:   7,
	StateSuspending: 8,
	StateStopped:    9,
	StateSuspended:  10,
	StateStarted:    11,
	StateDestroying: 13,
	StateDestroyed:  14,
}

// StateOrder returns the urgency rank of state: failed first, destroyed last.
// Unknown states sort just before destroying, since they are neither known
// trouble nor known health.
func StateOrder(state string) int {
	if o, ok := stateOrder[state]; ok {
		return o
	}
	return 12
}
