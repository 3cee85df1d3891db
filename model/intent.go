package model

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Rollback is one rollback an operator made: from this journal, or read
// from the marks another flyrescue left in machine metadata.
type Rollback struct {
	Version  int
	Image    string // "" when only the version is known; filled from the releases
	Region   string // "" for the whole app
	At       time.Time
	By       string
	ActionID string
	// FromMetadata: known only from machine marks (another journal's).
	FromMetadata bool
}

// FollowIntent turns the release target into the one the operators mean: an
// operator's rollback stays the target (in its region, or everywhere) until
// a release newer than the rollback appears. An explicit --image wins over
// everything. Rollbacks come from facts (this journal) and from the marks
// on machines (any flyrescue).
func FollowIntent(t Target, releases []Release, machines []Machine, facts IncidentFacts) Target {
	if t.Source == TargetFromFlag {
		return t
	}
	rbs := append([]Rollback(nil), facts.Rollbacks...)
	rbs = append(rbs, rollbacksFromMarks(machines, rbs)...)
	if len(rbs) == 0 {
		return t
	}
	slices.SortStableFunc(rbs, func(a, b Rollback) int { return a.At.Compare(b.At) })
	var whole *Rollback
	regional := map[string]*Rollback{}
	for k := range rbs {
		rb := &rbs[k]
		if rb.Image == "" {
			for _, r := range releases {
				if r.Version == rb.Version {
					rb.Image = r.Image
				}
			}
		}
		if rb.Image == "" || supersededBy(rb, releases) != nil {
			continue
		}
		if rb.Region == "" {
			whole = rb
			clear(regional)
		} else {
			regional[rb.Region] = rb
		}
	}
	out := t
	if whole != nil {
		out = targetOfRollback(whole, releases)
	}
	for region, rb := range regional {
		if out.ByRegion == nil {
			out.ByRegion = map[string]Target{}
		}
		out.ByRegion[region] = targetOfRollback(rb, releases)
	}
	return out
}

func targetOfRollback(rb *Rollback, releases []Release) Target {
	src := TargetFromRollback
	if rb.FromMetadata {
		src = TargetFromMetadata
	}
	var rel *Release
	for i := range releases {
		if releases[i].Version == rb.Version {
			c := releases[i]
			rel = &c
		}
	}
	t := newTarget(rb.Image, src, rel)
	t.Since, t.By = rb.At, rb.By
	return t
}

// supersededBy is the release that replaces a rollback: newer than the
// release rolled back to, and created after the rollback.
func supersededBy(rb *Rollback, releases []Release) *Release {
	for i := range releases {
		r := &releases[i]
		if r.Version > rb.Version && r.CreatedAt.After(rb.At) && r.Image != "" {
			return r
		}
	}
	return nil
}

// rollbacksFromMarks collects the rollbacks machines carry marks of, one per
// action, leaving out actions already known from the journal.
func rollbacksFromMarks(machines []Machine, known []Rollback) []Rollback {
	var out []Rollback
	seen := map[string]bool{}
	for _, rb := range known {
		seen[rb.ActionID] = true
	}
	for i := range machines {
		mk := machines[i].Mark
		// A mark counts while the machine still runs the release it names:
		// a later update moves fly_release_version on.
		if mk == nil || mk.RollbackVersion == 0 || seen[mk.Action] || machines[i].ReleaseVersion != mk.RollbackVersion {
			continue
		}
		seen[mk.Action] = true
		out = append(out, Rollback{Version: mk.RollbackVersion, Image: machines[i].Image, Region: mk.RollbackRegion,
			At: mk.RollbackAt, By: mk.By, ActionID: mk.Action, FromMetadata: true})
	}
	return out
}

// Describe says where a target comes from, in words an operator can check:
// "rollback to v61 at 17:02 by alice@example.com".
func (t Target) Describe() string {
	var b strings.Builder
	switch t.Source {
	case TargetFromFlag:
		b.WriteString("--image")
	case TargetFromRollback, TargetFromMetadata:
		b.WriteString("rollback to " + t.Name())
		if !t.Since.IsZero() {
			b.WriteString(" at " + t.Since.Local().Format("15:04"))
		}
		if t.By != "" {
			b.WriteString(" by " + t.By)
		}
		if t.Source == TargetFromMetadata {
			b.WriteString(" (machine marks)")
		}
	case TargetFromReleases:
		b.WriteString("newest release " + t.Name())
	case TargetFromMachines:
		b.WriteString("newest image on the machines")
	default:
		b.WriteString("unknown")
	}
	for _, region := range sortedKeys(t.ByRegion) {
		o := t.ByRegion[region]
		fmt.Fprintf(&b, "; %s: %s", region, o.Describe())
	}
	return b.String()
}

// Name is the release version ("v61"), else the label.
func (t Target) Name() string {
	if t.Release != nil && t.Release.Version > 0 {
		return fmt.Sprintf("v%d", t.Release.Version)
	}
	if t.Label != "" {
		return t.Label
	}
	return t.Tag
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
