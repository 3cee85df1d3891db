package model

import (
	"fmt"
	"strconv"
	"strings"
)

// DeployCase names the runbook case the fleet is in.
type DeployCase string

const (
	CaseComplete        DeployCase = "complete"
	CaseTotalFailure    DeployCase = "total_failure"
	CaseMinorityUpdated DeployCase = "minority_updated"
	CaseMajorityUpdated DeployCase = "majority_updated"
	// CaseInProgress: nothing to do but wait, or little left: a deploy is
	// running, or every machine is on target but some are in flight, a
	// group is below its baseline, or someone still holds leases.
	CaseInProgress DeployCase = "in_progress"
	// CaseUnknown is used when there is no target image or no machine to judge.
	CaseUnknown DeployCase = "unknown"
)

// Classification is the runbook's verdict on a snapshot.
type Classification struct {
	Case    DeployCase
	Summary string
	Advice  []Advice
	// BadRelease is set when the target image itself looks broken. Despite
	// the name (kept for callers), it is the release to roll back to: the
	// newest older release whose image machines run healthily, else the
	// release right before the target. When no release lists such an image
	// it is built from the machines (ID empty). nil when the release is fine.
	BadRelease *Release
}

// Classify applies the runbook to s alone: the incident it judges by has
// no journal and no earlier poll (the baseline is now). Callers that know
// more build the incident themselves and call ClassifyIncident.
func Classify(s *Snapshot) Classification {
	inc := BuildIncident(s, IncidentFacts{}, s.At)
	return ClassifyIncident(s, &inc)
}

// ClassifyIncident applies the runbook to s as inc judges it: which case the
// deploy is in, and the steps that get it out, main step first and stuck
// machines last. It is COMPLETE only when the incident is done; a bad
// release leads; machines in flight or leased by someone else are never
// advised on; groups below their baseline are scaled back.
func ClassifyIncident(s *Snapshot, inc *Incident) Classification {
	var c Classification
	t := s.Target
	total, onTarget := 0, 0
	var stragglers []int // rows
	var held []string
	for i := range s.Machines {
		if !deployable(s.Machines[i].State) {
			continue
		}
		total++
		id := s.Machines[i].ID
		switch {
		case s.rows[i].onTarget:
			onTarget++
		case s.rows[i].stuck:
		case inc.HeldBy[id] != "":
			held = append(held, id)
		case inc.Phases[i] == PhaseInFlight:
			// Someone (a deploy, our own run) is at work on it.
		default:
			stragglers = append(stragglers, i)
		}
	}

	label := t.Label
	if label == "" {
		label = t.Tag
	}
	heldNote := heldWhy(inc, held)
	switch {
	case t.Image == "":
		c.Case = CaseUnknown
		c.Summary = "no target image known (pass --image, or check `fly releases --image`)"
	case total == 0:
		c.Case = CaseUnknown
		c.Summary = "no machines to judge"
	case inc.Deploy != nil && inc.BadRelease == nil:
		c.Case = CaseInProgress
		c.Summary = fmt.Sprintf("deploy of v%d still running: %d of %d machines on %s; wait for it before acting", inc.Deploy.Version, onTarget, total, label)
	case onTarget == 0 && inc.BadRelease == nil:
		c.Case = CaseTotalFailure
		c.Summary = fmt.Sprintf("total update failure: none of %d machines on %s; background jobs are likely stopped", total, label)
		if a, ok := restartOneWorker(s, inc); ok {
			c.Advice = append(c.Advice, a)
		}
		c.Advice = append(c.Advice, updateAdvice(s, stragglers, held, "once the job backlog drains, retry the deploy: update every machine to the target image"+heldNote)...)
	case onTarget == total && len(s.Stuck) == 0:
		if inc.Done {
			c.Case = CaseComplete
			c.Summary = fmt.Sprintf("deploy complete: all %d machines on %s", total, label)
		} else {
			c.Case = CaseInProgress
			c.Summary = fmt.Sprintf("all %d machines on %s, not done yet: %s", total, label, strings.Join(inc.Left, "; "))
		}
	default:
		c.Case = CaseMajorityUpdated
		c.Summary = fmt.Sprintf("majority updated: %d of %d machines on %s", onTarget, total, label)
		why := "update the stragglers one by one to the target image and RELEASE_LABEL"
		if 2*onTarget < total {
			c.Case = CaseMinorityUpdated
			c.Summary = fmt.Sprintf("minority updated: %d of %d machines on %s", onTarget, total, label)
			why = "redo the deploy with the already-built image: update every remaining machine"
		}
		if rollback, bad := inc.BadRelease, inc.BadReason; rollback != nil {
			c.BadRelease = rollback
			c.Summary = fmt.Sprintf("BAD RELEASE %s · roll back to %s: %s; %s", t.Name(), releaseVersionName(rollback), bad, c.Summary)
			c.Advice = append(c.Advice, rollbackAdvice(s, inc, rollback, bad))
		} else {
			c.Advice = append(c.Advice, updateAdvice(s, stragglers, held, why+heldNote)...)
		}
	}
	if n := len(s.Stuck); n > 0 {
		c.Summary += fmt.Sprintf("; %d %s", n, FailedOrStuck)
		c.Advice = append(c.Advice, stuckAdvice(s, inc, c.BadRelease)...)
	}
	c.Advice = append(c.Advice, scaleBackAdvice(s, inc, c.BadRelease)...)
	return c
}

// heldWhy names machines left out of the advice because someone else holds
// their lease, and what the operator can do about it.
func heldWhy(inc *Incident, held []string) string {
	if len(held) == 0 {
		return ""
	}
	return fmt.Sprintf(" (left out: %s; wait, or if the holder is gone `flyrescue clear-lease`)", heldByHolder(inc, held, func(n int) string { return strconv.Itoa(n) }))
}

// heldByHolder counts ids by who holds their lease, in holder order:
// "1 leased by alice, 2 leased by bob", each count said by count.
func heldByHolder(inc *Incident, ids []string, count func(int) string) string {
	byHolder := map[string]int{}
	for _, id := range ids {
		byHolder[inc.HeldBy[id]]++
	}
	var parts []string
	for _, h := range sortedKeys(byHolder) {
		parts = append(parts, count(byHolder[h])+" leased by "+h)
	}
	return strings.Join(parts, ", ")
}

// updateAdvice updates stragglers to their target: one step per target
// image, since a one-region rollback gives its region its own. held are
// the stragglers left out for someone else's lease.
func updateAdvice(s *Snapshot, stragglers []int, held []string, why string) []Advice {
	if len(stragglers) == 0 {
		return nil
	}
	if len(s.Target.ByRegion) == 0 {
		ids := make([]string, len(stragglers))
		for k, i := range stragglers {
			ids[k] = s.Machines[i].ID
		}
		return []Advice{{Action: ActionUpdate, Machines: ids, Held: held, Image: s.Target.Image, Label: s.Target.Label, Count: len(ids), Why: why}}
	}
	var order []string
	byImage := map[string][]string{}
	for _, i := range stragglers {
		m := &s.Machines[i]
		img := s.Target.For(m.Region).Image
		if _, ok := byImage[img]; !ok {
			order = append(order, img)
		}
		byImage[img] = append(byImage[img], m.ID)
	}
	var out []Advice
	for _, img := range order {
		ids := byImage[img]
		out = append(out, Advice{Action: ActionUpdate, Machines: ids, Image: img, Label: LabelFromImage(img), Count: len(ids), Why: why})
	}
	return out
}

// scaleBackAdvice brings groups below their baseline, with nothing stuck
// left to destroy, back to it.
func scaleBackAdvice(s *Snapshot, inc *Incident, rollback *Release) []Advice {
	image, label := s.Target.Image, s.Target.Label
	if rollback != nil {
		image, label = rollback.Image, LabelFromImage(rollback.Image)
	}
	var out []Advice
	for _, g := range inc.Groups {
		if g.Live >= g.Baseline || g.Phases[PhaseStuck] > 0 || image == "" {
			continue
		}
		out = append(out, Advice{
			Action: ActionScale, Group: g.Name, Count: g.Baseline, Image: image, Label: label,
			Why: fmt.Sprintf("scale %s back to %d, its count before the incident (%s; %d now)", groupName(g.Name), g.Baseline, baselineWords(inc.BaselineFrom), g.Live),
		})
	}
	return out
}

func baselineWords(from string) string {
	switch from {
	case "journal":
		return "from the journal's first record"
	case "first poll":
		return "when the incident was first seen"
	}
	return "now"
}

// deployable reports whether a deploy would touch a machine in state; flyctl
// skips destroyed and destroying machines, and so do our counts.
func deployable(state string) bool {
	return state != StateDestroyed && state != StateDestroying
}

// restartOneWorker picks the machine to restart after a total failure. The
// release command quieted every Sidekiq process, so restarting one
// worker_autoscale machine (its old image is fine) gets jobs flowing again.
// It prefers worker_autoscale, then worker, then anything; started machines
// with healthy checks first; the smallest ID breaks ties.
func restartOneWorker(s *Snapshot, inc *Incident) (Advice, bool) {
	best, bestRank := -1, 1<<30
	for i := range s.Machines {
		m := &s.Machines[i]
		if s.rows[i].stuck || !deployable(m.State) || inc.HeldBy[m.ID] != "" {
			continue
		}
		rank := 0
		switch m.Group {
		case "worker_autoscale":
		case "worker":
			rank += 10
		default:
			rank += 20
		}
		switch {
		case m.State == StateStarted && s.checksAt(i) != ChecksCritical:
		case m.State == StateStarted:
			rank += 1
		default:
			rank += 100 // not running at all: a restart may not help, but it is a start
		}
		if rank < bestRank {
			best, bestRank = i, rank
		}
	}
	if best < 0 {
		return Advice{}, false
	}
	m := s.Machines[best]
	return Advice{
		Action: ActionRestart, Machines: []string{m.ID}, Group: m.Group, Count: 1,
		Why: fmt.Sprintf("restart one %s machine so its Sidekiq process leaves quiet mode and jobs flow again", groupName(m.Group)),
	}, true
}

// stuckAdvice destroys stuck machines group by group (forced, since they
// will not stop), then scales each group back to its count. The scale step
// names the image because `fly scale count` would otherwise clone whichever
// machine the API lists first, old image included.
func stuckAdvice(s *Snapshot, inc *Incident, rollback *Release) []Advice {
	image, label := s.Target.Image, s.Target.Label
	if rollback != nil {
		image, label = rollback.Image, LabelFromImage(rollback.Image)
	}
	// Like every step, a destroy leaves out the machines someone else
	// holds the lease of, and says so: the group's failed/stuck count in
	// the header is then the step's plus those.
	byGroup, heldByGroup := make(map[string][]string), make(map[string][]string)
	for _, id := range s.Stuck { // sorted, so each group's list is too
		m, _ := s.Machine(id)
		if inc.HeldBy[id] != "" {
			heldByGroup[m.Group] = append(heldByGroup[m.Group], id)
			continue
		}
		byGroup[m.Group] = append(byGroup[m.Group], id)
	}
	var out []Advice
	for _, g := range inc.Groups { // sorted by name
		ids, held := byGroup[g.Name], heldByGroup[g.Name]
		if len(ids) == 0 {
			continue
		}
		count := max(g.Baseline, g.Live)
		out = append(out,
			Advice{
				Action: ActionDestroy, Machines: ids, Held: held, Group: g.Name, Count: count, Force: true,
				Why: fmt.Sprintf("%s %s %s (failed, or transitional for over %s); destroy with --force%s", Counted(len(ids), groupName(g.Name)+" machine"),
					Agree(len(ids), "is", "are"), FailedOrStuck, s.StuckAfter, heldWhy(inc, held)),
			},
			Advice{
				Action: ActionScale, Group: g.Name, Count: count, Image: image, Label: label,
				Why: fmt.Sprintf("scale %s back to %d after destroying the %s %s", groupName(g.Name), count, FailedOrStuck, Agree(len(ids), "machine", "machines")),
			})
	}
	return out
}

func groupName(g string) string {
	if g == "" {
		return "(no group)"
	}
	return g
}

func releaseName(r *Release) string {
	if r.Version > 0 {
		return fmt.Sprintf("v%d (%s)", r.Version, ImageTag(r.Image))
	}
	return ImageTag(r.Image)
}

// rollbackTarget decides whether the target image is broken and, if so, what
// to roll back to. It calls the release bad when most target machines that
// finished updating (started or failed) crashed or fail critical checks
// while machines on older images run healthily: then the image, not the
// platform, is at fault, and updating the stragglers would spread it.
// It returns the reason, or "" when the release looks fine.
func rollbackTarget(s *Snapshot) (*Release, string) {
	finished, broken := 0, 0
	healthyOld := make(map[string]int) // image key -> healthy machines
	for i := range s.Machines {
		m, r := &s.Machines[i], &s.rows[i]
		if !deployable(m.State) {
			continue
		}
		if r.onTarget {
			if m.State == StateFailed || m.State == StateStarted {
				finished++
				if m.State == StateFailed || s.checksAt(i) == ChecksCritical {
					broken++
				}
			}
			continue
		}
		if c := s.checksAt(i); m.State == StateStarted && (c == ChecksPassing || c == ChecksNone) {
			healthyOld[imageKey(m.Image)]++
		}
	}
	if broken == 0 || 2*broken <= finished || len(healthyOld) == 0 {
		return nil, ""
	}
	reason := fmt.Sprintf("%d of %d updated machines failed or fail checks", broken, finished)

	targetKey := imageKey(s.Target.Image)
	targetVersion := 0
	if s.Target.Release != nil {
		targetVersion = s.Target.Release.Version
	}
	var before *Release
	for k := range s.Releases { // newest first
		r := &s.Releases[k]
		if r.Image == "" || imageKey(r.Image) == targetKey || (targetVersion > 0 && r.Version >= targetVersion) {
			continue
		}
		if healthyOld[imageKey(r.Image)] > 0 {
			c := *r
			return &c, reason
		}
		if before == nil {
			before = r
		}
	}
	if before != nil {
		c := *before
		return &c, reason
	}
	// No release lists a healthy image: fall back to the newest old image
	// group that machines run healthily, so the operator still has an image.
	for _, g := range s.ImageGroups { // target first, then old images newest first
		if g.Kind != ImageTarget && healthyOld[g.Image] > 0 {
			return &Release{Version: g.ReleaseVersion, Image: g.Image, Description: "image of healthy running machines"}, reason
		}
	}
	return nil, ""
}

// rollbackAdvice redeploys the rollback image to every machine not already
// on it, stuck ones excepted (they are destroyed instead).
func rollbackAdvice(s *Snapshot, inc *Incident, to *Release, reason string) Advice {
	key := imageKey(to.Image)
	var ids []string
	for i := range s.Machines {
		m := &s.Machines[i]
		if deployable(m.State) && !s.rows[i].stuck && imageKey(m.Image) != key && inc.HeldBy[m.ID] == "" {
			ids = append(ids, m.ID)
		}
	}
	why := fmt.Sprintf("the target image looks broken (%s); redeploy %s", reason, releaseName(to))
	if len(s.Regions) > 1 {
		why += ", one region first"
	}
	why += ". A rollback does not undo config, secrets or migrations"
	return Advice{
		Action: ActionRollback, Machines: ids, Image: to.Image, Label: LabelFromImage(to.Image), Count: len(ids),
		Why: strings.TrimSpace(why),
	}
}
