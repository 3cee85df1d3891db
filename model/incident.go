package model

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// IncidentFacts is what the live fleet cannot say about an incident: what
// the journal remembers, what the caller saw earlier, and who holds leases.
// Every field is optional.
type IncidentFacts struct {
	// Operator is who we are: leases held by them are ours.
	Operator string
	// Baseline is each process group's machine count before the incident,
	// from the journal's first action for the app (RegionBaseline per
	// group and region); nil when the journal has none.
	Baseline       map[string]int
	RegionBaseline map[string]map[string]int
	BaselineAt     time.Time
	// FirstSeen are the counts when the incident was first seen (the
	// dashboard's first poll), the baseline when the journal has none.
	FirstSeen       map[string]int
	FirstSeenRegion map[string]map[string]int
	FirstSeenAt     time.Time
	// Rollbacks this journal made, oldest first.
	Rollbacks []Rollback
	// Touched are machines our actions created, destroyed or changed.
	Touched map[string]Touch
	// Leases are leases found on machines (by machine ID).
	Leases map[string]Lease
	// Previous is the poll before, to find changes nobody explains; nil
	// when there is none (status reads once).
	Previous *Snapshot
	// Seen are unexplained changes found by earlier polls, kept for a while.
	Seen []Other
	// ActionRunning: an action of ours is running now.
	ActionRunning bool
}

// Touch is one of our actions reaching a machine.
type Touch struct {
	ActionID string
	Op       string // update, destroy, launch ...
	At       time.Time
}

// Lease is a lease someone holds on a machine.
type Lease struct {
	Owner       string
	Description string
	Expires     time.Time
}

// LeaseDescription is what flyrescue writes on the leases it takes, so a
// teammate sees which action of whose holds a machine, and a flyrescue can
// tell its own leases from others' taken with the same token.
func LeaseDescription(actionID, operator string) string {
	return "flyrescue " + actionID + " by " + operator
}

// Ours says whether a lease was taken by flyrescue for operator.
func (l Lease) Ours(operator string) bool {
	return operator != "" && strings.HasPrefix(l.Description, "flyrescue ") && strings.HasSuffix(l.Description, " by "+operator)
}

// Phase is where one machine is on the way to the target.
type Phase uint8

const (
	PhaseSettled  Phase = iota // on its target, started (or stopped) with checks passing
	PhaseInFlight              // transitional, or started with checks not yet passing, younger than stuck-after
	PhaseStuck                 // failed, or transitional for longer than stuck-after
	PhaseOld                   // settled on another image than its target
	PhaseFailing               // on target, started, checks failing for longer than stuck-after
	PhaseGone                  // destroyed or destroying
	phaseCount
)

func (p Phase) String() string {
	return [...]string{"settled", "in flight", "stuck", "old image", "failing checks", "gone"}[p]
}

// OtherKind names who else is acting on the app.
type OtherKind string

const (
	OtherLease       OtherKind = "lease"       // someone holds leases on machines
	OtherDeploy      OtherKind = "deploy"      // a release is still running
	OtherUnexplained OtherKind = "unexplained" // machines changed between polls that no record or mark explains
)

// ReleaseCommandGroup is the process group flyctl gives the short-lived
// machine that runs a deploy's release command.
const ReleaseCommandGroup = "fly_app_release_command"

// Other is someone else acting on the app.
type Other struct {
	Kind     OtherKind
	Holder   string   // lease owner, release user; "" when unknown
	Machines []string // sorted
	Since    time.Time
	What     string
}

// GroupIncident is one process group's part of the incident.
type GroupIncident struct {
	Name     string
	Live     int // machines not gone
	Baseline int // before the incident
	Phases   [phaseCount]int
}

// Incident is the fleet judged against what was meant: the baseline, the
// target following the operators' intent, each machine's phase, who else is
// acting, and what is left before the incident is over.
type Incident struct {
	Target Target
	// Baseline is each group's count before the incident; BaselineFrom says
	// where it came from: "journal", "first poll" or "now".
	Baseline       map[string]int
	RegionBaseline map[string]map[string]int
	BaselineFrom   string
	Groups         []GroupIncident // sorted by name
	Phases         []Phase         // parallel to Snapshot.Machines
	Count          [phaseCount]int
	Others         []Other
	// HeldBy names, per machine, who else holds its lease: advice leaves
	// those machines out.
	HeldBy map[string]string
	// Deploy is a release still running, nil when none.
	Deploy *Release
	// BadRelease is the release to roll back to when the target looks
	// broken (see Classification.BadRelease); BadReason says why.
	BadRelease *Release
	BadReason  string
	Left       []string
	Done       bool
}

// InFlight is how many machines are in flight.
func (inc *Incident) InFlight() int { return inc.Count[PhaseInFlight] }

// unexplainedFor is how long an unexplained change stays among the others.
const unexplainedFor = 2 * time.Minute

// BuildIncident judges s against facts at now. It is pure and linear in the
// machines, so it runs on every poll.
func BuildIncident(s *Snapshot, facts IncidentFacts, now time.Time) Incident {
	inc := Incident{Target: s.Target, Phases: make([]Phase, len(s.Machines)), HeldBy: map[string]string{}}

	// One pass finds each row's group (machines come in runs, so the
	// small index's last-hit check nearly always answers) and whether the
	// group has checks configured: a machine just started with "0 of 0"
	// has not registered them yet.
	var groups smallIndex
	for _, g := range s.Groups {
		groups.add(g.Name, len(inc.Groups))
		inc.Groups = append(inc.Groups, GroupIncident{Name: g.Name})
	}
	rowGroup := make([]int32, len(s.Machines))
	hasChecks := make([]bool, len(inc.Groups))
	for i := range s.Machines {
		gi, _ := groups.find(s.Machines[i].Group)
		rowGroup[i] = int32(gi)
		if s.Machines[i].Checks.Total > 0 {
			hasChecks[gi] = true
		}
	}
	regions := make([]smallIndex, len(inc.Groups)) // per group: region -> live count index
	regionLive := make([][]int, len(inc.Groups))
	for i := range s.Machines {
		gi := rowGroup[i]
		p := s.phaseAt(i, hasChecks[gi], now)
		inc.Phases[i] = p
		inc.Count[p]++
		g := &inc.Groups[gi]
		g.Phases[p]++
		if p != PhaseGone {
			g.Live++
			region := s.Machines[i].Region
			ri, ok := regions[gi].find(region)
			if !ok {
				ri = regions[gi].add(region, len(regionLive[gi]))
				regionLive[gi] = append(regionLive[gi], 0)
			}
			regionLive[gi][ri]++
		}
	}
	live := make(map[string]map[string]int, len(inc.Groups)) // group -> region -> live machines
	for gi, g := range inc.Groups {
		rm := make(map[string]int, len(regions[gi].keys))
		for k, name := range regions[gi].keys {
			rm[name] = regionLive[gi][regions[gi].vals[k]]
		}
		live[g.Name] = rm
	}
	groupAt := map[string]int{}
	for gi, g := range inc.Groups {
		groupAt[g.Name] = gi
	}

	// The baseline: the journal's, else the first poll's, else now.
	switch {
	case facts.Baseline != nil:
		inc.Baseline, inc.RegionBaseline, inc.BaselineFrom = facts.Baseline, facts.RegionBaseline, "journal"
	case facts.FirstSeen != nil:
		inc.Baseline, inc.RegionBaseline, inc.BaselineFrom = facts.FirstSeen, facts.FirstSeenRegion, "first poll"
	default:
		inc.Baseline, inc.RegionBaseline, inc.BaselineFrom = map[string]int{}, live, "now"
		for _, g := range inc.Groups {
			inc.Baseline[g.Name] = g.Live
		}
	}
	for k := range inc.Groups {
		g := &inc.Groups[k]
		if n, ok := inc.Baseline[g.Name]; ok {
			g.Baseline = n
		} else {
			g.Baseline = g.Live // a group born during the incident
		}
	}
	for name, n := range inc.Baseline {
		if _, ok := groupAt[name]; !ok && n > 0 {
			// Every machine of the group is gone: it is still owed.
			groupAt[name] = len(inc.Groups)
			inc.Groups = append(inc.Groups, GroupIncident{Name: name, Baseline: n})
		}
	}
	slices.SortFunc(inc.Groups, func(a, b GroupIncident) int { return strings.Compare(a.Name, b.Name) })

	inc.findOthers(s, facts, now)
	inc.BadRelease, inc.BadReason = rollbackTarget(s)
	inc.Left = inc.left(s, facts)
	inc.Done = len(inc.Left) == 0
	return inc
}

// phaseAt decides machine i's phase.
func (s *Snapshot) phaseAt(i int, groupHasChecks bool, now time.Time) Phase {
	m, r := &s.Machines[i], &s.rows[i]
	switch {
	case !deployable(m.State):
		return PhaseGone
	case r.stuck:
		return PhaseStuck
	case transitional[m.State]:
		return PhaseInFlight
	}
	if m.State == StateStarted {
		pending := m.Checks.Passing < m.Checks.Total || (m.Checks.Total == 0 && groupHasChecks)
		if pending {
			since := m.StateSince
			switch {
			case !since.IsZero():
			case !m.LastEvent.At.IsZero():
				since = m.LastEvent.At
			default:
				since = m.UpdatedAt
			}
			if since.IsZero() || now.Sub(since) <= s.StuckAfter {
				return PhaseInFlight
			}
			if r.onTarget {
				return PhaseFailing
			}
		}
	}
	if !r.onTarget {
		return PhaseOld
	}
	return PhaseSettled
}

// findOthers lists leases held by others, a running deploy, and changes
// between polls that neither our journal nor any flyrescue mark explains.
func (inc *Incident) findOthers(s *Snapshot, facts IncidentFacts, now time.Time) {
	// Leases, one entry per holder.
	byHolder := map[string]*Other{}
	var holders []string
	addLease := func(id string, l Lease) {
		if l.Owner == "" || l.Ours(facts.Operator) || (!l.Expires.IsZero() && l.Expires.Before(now)) {
			return
		}
		inc.HeldBy[id] = l.Owner
		o := byHolder[l.Owner]
		if o == nil {
			o = &Other{Kind: OtherLease, Holder: l.Owner}
			byHolder[l.Owner] = o
			holders = append(holders, l.Owner)
		}
		o.Machines = append(o.Machines, id)
		what := "holds the lease"
		if l.Description != "" {
			what += " (" + l.Description + ")"
		}
		if !l.Expires.IsZero() {
			what += " until " + l.Expires.Local().Format("Jan 2 15:04")
		}
		o.What = what
	}
	for i := range s.Machines {
		m := &s.Machines[i]
		if l, ok := facts.Leases[m.ID]; ok {
			addLease(m.ID, l)
		} else if m.LeaseOwner != "" {
			addLease(m.ID, Lease{Owner: m.LeaseOwner})
		}
	}
	slices.Sort(holders)
	for _, h := range holders {
		o := byHolder[h]
		slices.Sort(o.Machines)
		inc.Others = append(inc.Others, *o)
	}

	// A release still running is a deploy at work.
	for k := range s.Releases {
		r := s.Releases[k]
		if r.Status != "running" {
			continue
		}
		inc.Deploy = &r
		o := Other{Kind: OtherDeploy, Holder: r.User, Since: r.CreatedAt,
			What: fmt.Sprintf("deploy of v%d is running", r.Version)}
		key := imageKey(r.Image)
		for i := range s.Machines {
			if inc.Phases[i] == PhaseInFlight && imageKey(s.Machines[i].Image) == key {
				o.Machines = append(o.Machines, s.Machines[i].ID)
			}
		}
		inc.Others = append(inc.Others, o)
		break
	}

	// Changes between polls nobody explains.
	for _, o := range facts.Seen {
		if o.Kind == OtherUnexplained && now.Sub(o.Since) < unexplainedFor {
			inc.Others = append(inc.Others, o)
		}
	}
	if facts.Previous != nil {
		inc.Others = append(inc.Others, unexplained(facts.Previous, s, facts, inc.Deploy)...)
	}
}

// unexplained compares two polls: machines that appeared, vanished or moved
// to another image or instance, with no record of ours, no new flyrescue
// mark and no running deploy to account for them.
func unexplained(prev, next *Snapshot, facts IncidentFacts, deploy *Release) []Other {
	d := Diff(prev, next)
	explained := func(id string, before, after *Machine) bool {
		if (before != nil && before.Group == ReleaseCommandGroup) || (after != nil && after.Group == ReleaseCommandGroup) {
			return true // a deploy's release command: flyctl made it and it destroys itself
		}
		if t, ok := facts.Touched[id]; ok && !t.At.Before(prev.At.Add(-time.Minute)) {
			return true
		}
		if after != nil && after.Mark != nil && (before == nil || before.Mark == nil || before.Mark.Action != after.Mark.Action) {
			return true
		}
		if deploy != nil && after != nil && after.ReleaseVersion == deploy.Version && after.ReleaseVersion != 0 {
			return true
		}
		return false
	}
	// A new machine carrying a mark some machine already had is a copy (the
	// autoscaler clones configs, metadata and all), not flyrescue's work.
	prevActions := map[string]bool{}
	for _, m := range prev.Machines {
		if m.Mark != nil {
			prevActions[m.Mark.Action] = true
		}
	}
	var created, destroyed, changed []string
	for _, id := range d.Added {
		m, _ := next.Machine(id)
		if m.Mark != nil && prevActions[m.Mark.Action] {
			if t, ok := facts.Touched[id]; !ok || t.At.Before(prev.At.Add(-time.Minute)) {
				created = append(created, id)
				continue
			}
		}
		if !deployable(m.State) || explained(id, nil, &m) {
			continue
		}
		created = append(created, id)
	}
	for _, id := range d.Removed {
		m, _ := prev.Machine(id)
		if !deployable(m.State) || explained(id, &m, nil) {
			continue
		}
		destroyed = append(destroyed, id)
	}
	for _, id := range d.Changed {
		a, _ := prev.Machine(id)
		b, _ := next.Machine(id)
		if a.InstanceID == b.InstanceID && imageKey(a.Image) == imageKey(b.Image) && deployable(b.State) {
			continue // a state or checks change: machines do that on their own
		}
		if !deployable(a.State) || explained(id, &a, &b) {
			continue
		}
		changed = append(changed, id)
	}
	var out []Other
	add := func(ids []string, what string) {
		if len(ids) > 0 {
			out = append(out, Other{Kind: OtherUnexplained, Machines: ids, Since: next.At,
				What: fmt.Sprintf("%s %s between polls by something other than flyrescue (autoscaler, a deploy, a teammate)", Counted(len(ids), "machine"), what)})
		}
	}
	add(created, "created")
	add(destroyed, "destroyed")
	add(changed, "changed")
	return out
}

// left says what stands between the fleet and the end of the incident.
func (inc *Incident) left(s *Snapshot, facts IncidentFacts) []string {
	var out []string
	if s.Target.Image == "" {
		out = append(out, "no target image known (pass --image, or check `fly releases --image`)")
	}
	if inc.BadRelease != nil {
		out = append(out, fmt.Sprintf("BAD RELEASE %s: roll back to %s", s.Target.Name(), releaseVersionName(inc.BadRelease)))
	}
	if d := inc.Deploy; d != nil {
		who := ""
		if d.User != "" {
			who = " by " + d.User
		}
		out = append(out, fmt.Sprintf("a deploy of v%d is running%s: wait for it to finish (or stop it) before acting", d.Version, who))
	}
	for _, g := range inc.Groups {
		name := groupName(g.Name)
		for _, p := range []Phase{PhaseStuck, PhaseInFlight, PhaseFailing, PhaseOld} {
			if n := g.Phases[p]; n > 0 {
				out = append(out, fmt.Sprintf("%s: %s %s", name, Counted(n, "machine"), phaseWords(p)))
			}
		}
		if g.Live < g.Baseline {
			out = append(out, fmt.Sprintf("%s: scale back to %d (%d now)", name, g.Baseline, g.Live))
		}
	}
	for _, o := range inc.Others {
		if o.Kind == OtherLease {
			out = append(out, fmt.Sprintf("%s leased by %s: wait, or if the holder is gone `flyrescue clear-lease`", Counted(len(o.Machines), "machine"), o.Holder))
		}
	}
	if facts.ActionRunning {
		out = append(out, "an action of ours is still running")
	}
	return out
}

func phaseWords(p Phase) string {
	switch p {
	case PhaseStuck:
		return FailedOrStuck
	case PhaseInFlight:
		return "in flight"
	case PhaseFailing:
		return "failing checks"
	case PhaseOld:
		return "on an old image"
	}
	return p.String()
}

func releaseVersionName(r *Release) string {
	if r.Version > 0 {
		return fmt.Sprintf("v%d", r.Version)
	}
	return ImageTag(r.Image)
}
