package model

// Delta is what changed between two polls, by machine ID, so the dashboard
// can flash changed rows and keep marks and the cursor on the same machines.
type Delta struct {
	Added   []string // sorted
	Removed []string // sorted
	Changed []string // sorted; state, image, instance, checks or last event differ
}

// Empty reports whether nothing changed.
func (d Delta) Empty() bool { return len(d.Added)+len(d.Removed)+len(d.Changed) == 0 }

// Diff compares two snapshots. old may be nil, in which case every machine of
// next is Added. Both snapshots list machines by ID, so one merge pass finds
// everything without building maps.
//
// The result is remembered on next (for the last old it was asked about):
// a poll diffs the same pair twice, for the incident's unexplained changes
// and for the dashboard's flashes, and at 10,000 machines that is a tenth
// of the poll.
func Diff(old, next *Snapshot) Delta {
	if next == nil {
		return diff(old, &Snapshot{})
	}
	next.diffMu.Lock()
	defer next.diffMu.Unlock()
	if next.diffOld != old || !next.diffSet {
		next.diffOld, next.diffSet, next.diffLast = old, true, diff(old, next)
	}
	return next.diffLast
}

func diff(old, next *Snapshot) Delta {
	var d Delta
	if old == nil {
		old = &Snapshot{}
	}
	a, b := old.Machines, next.Machines
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j >= len(b) || (i < len(a) && a[i].ID < b[j].ID):
			d.Removed = append(d.Removed, a[i].ID)
			i++
		case i >= len(a) || b[j].ID < a[i].ID:
			d.Added = append(d.Added, b[j].ID)
			j++
		default:
			if machineChanged(&a[i], &b[j]) || old.effState(i) != next.effState(j) {
				d.Changed = append(d.Changed, b[j].ID)
			}
			i++
			j++
		}
	}
	return d
}

// machineChanged compares what an operator would see change in a row. The
// effective state (stuck) is compared by the caller, since it lives in the
// snapshot, not the machine.
func machineChanged(a, b *Machine) bool {
	return a.State != b.State ||
		a.Image != b.Image ||
		a.InstanceID != b.InstanceID ||
		a.Checks != b.Checks ||
		a.LastEvent.Type != b.LastEvent.Type ||
		a.LastEvent.Status != b.LastEvent.Status ||
		a.LastEvent.Source != b.LastEvent.Source ||
		!a.LastEvent.At.Equal(b.LastEvent.At)
}

// effState tolerates snapshots not built by NewSnapshot (no rows).
func (s *Snapshot) effState(i int) string {
	if i < len(s.rows) {
		return s.EffectiveState(i)
	}
	return s.Machines[i].State
}
