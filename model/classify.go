package model

import (
	"fmt"
	"strings"
)

// DeployCase names the runbook case the fleet is in.
type DeployCase string

const (
	CaseComplete        DeployCase = "complete"
	CaseTotalFailure    DeployCase = "total_failure"
	CaseMinorityUpdated DeployCase = "minority_updated"
	CaseMajorityUpdated DeployCase = "majority_updated"
	// CaseUnknown is used when there is no target image or no machine to judge.
	CaseUnknown DeployCase = "unknown"
)

// Advice actions.
const (
	ActionRestart  = "restart"
	ActionUpdate   = "update"
	ActionDestroy  = "destroy"
	ActionScale    = "scale"
	ActionRollback = "rollback"
)

// Advice is one step of the runbook applied to this fleet.
type Advice struct {
	Action   string   // ActionRestart, ActionUpdate, ActionDestroy, ActionScale, ActionRollback
	Machines []string // sorted IDs the action applies to
	Group    string   // process group, for destroy and scale
	Count    int      // destroy and scale: the group's count before destroying, to scale back to
	Force    bool     // destroy: --force, since stuck machines will not stop cleanly
	Image    string   // update, scale and rollback: the image to run
	Label    string   // update, scale and rollback: the RELEASE_LABEL to set with it
	Why      string
}

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

// Classify applies the runbook to s: which case the deploy is in, and the
// steps that get it out, main step first and stuck machines last.
func Classify(s *Snapshot) Classification {
	var c Classification
	t := s.Target
	total, onTarget := 0, 0
	var stragglers []string
	for i := range s.Machines {
		if !deployable(s.Machines[i].State) {
			continue
		}
		total++
		if s.rows[i].onTarget {
			onTarget++
		} else if !s.rows[i].stuck {
			stragglers = append(stragglers, s.Machines[i].ID)
		}
	}

	label := t.Label
	if label == "" {
		label = t.Tag
	}
	switch {
	case t.Image == "":
		c.Case = CaseUnknown
		c.Summary = "no target image known (pass --image, or check `fly releases --image`)"
	case total == 0:
		c.Case = CaseUnknown
		c.Summary = "no machines to judge"
	case onTarget == 0:
		c.Case = CaseTotalFailure
		c.Summary = fmt.Sprintf("total update failure: none of %d machines on %s; background jobs are likely stopped", total, label)
		if a, ok := restartOneWorker(s); ok {
			c.Advice = append(c.Advice, a)
		}
		c.Advice = append(c.Advice, Advice{
			Action: ActionUpdate, Machines: stragglers, Image: t.Image, Label: t.Label, Count: len(stragglers),
			Why: "once the job backlog drains, retry the deploy: update every machine to the target image",
		})
	case onTarget == total && len(s.Stuck) == 0:
		c.Case = CaseComplete
		c.Summary = fmt.Sprintf("deploy complete: all %d machines on %s", total, label)
	default:
		c.Case = CaseMajorityUpdated
		c.Summary = fmt.Sprintf("majority updated: %d of %d machines on %s", onTarget, total, label)
		why := "update the stragglers one by one to the target image and RELEASE_LABEL"
		if 2*onTarget < total {
			c.Case = CaseMinorityUpdated
			c.Summary = fmt.Sprintf("minority updated: %d of %d machines on %s", onTarget, total, label)
			why = "redo the deploy with the already-built image: update every remaining machine"
		}
		rollback, bad := rollbackTarget(s)
		if bad != "" {
			c.BadRelease = rollback
			c.Summary += fmt.Sprintf("; the target release looks bad (%s): roll back to %s", bad, releaseName(rollback))
			c.Advice = append(c.Advice, rollbackAdvice(s, rollback, bad))
		} else if len(stragglers) > 0 {
			c.Advice = append(c.Advice, Advice{
				Action: ActionUpdate, Machines: stragglers, Image: t.Image, Label: t.Label, Count: len(stragglers), Why: why,
			})
		}
	}
	if n := len(s.Stuck); n > 0 {
		c.Summary += fmt.Sprintf("; %d stuck", n)
		c.Advice = append(c.Advice, stuckAdvice(s, c.BadRelease)...)
	}
	return c
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
func restartOneWorker(s *Snapshot) (Advice, bool) {
	best, bestRank := -1, 1<<30
	for i := range s.Machines {
		m := &s.Machines[i]
		if s.rows[i].stuck || !deployable(m.State) {
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
func stuckAdvice(s *Snapshot, rollback *Release) []Advice {
	image, label := s.Target.Image, s.Target.Label
	if rollback != nil {
		image, label = rollback.Image, LabelFromImage(rollback.Image)
	}
	byGroup := make(map[string][]string)
	for _, id := range s.Stuck { // sorted, so each group's list is too
		m, _ := s.Machine(id)
		byGroup[m.Group] = append(byGroup[m.Group], id)
	}
	var out []Advice
	for _, g := range s.Groups { // sorted by name
		ids := byGroup[g.Name]
		if len(ids) == 0 {
			continue
		}
		out = append(out,
			Advice{
				Action: ActionDestroy, Machines: ids, Group: g.Name, Count: g.Total, Force: true,
				Why: fmt.Sprintf("%d %s machine(s) stuck (failed, or transitional for over %s); destroy with --force", len(ids), groupName(g.Name), s.StuckAfter),
			},
			Advice{
				Action: ActionScale, Group: g.Name, Count: g.Total, Image: image, Label: label,
				Why: fmt.Sprintf("scale %s back to %d after destroying the stuck machine(s)", groupName(g.Name), g.Total),
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
func rollbackAdvice(s *Snapshot, to *Release, reason string) Advice {
	key := imageKey(to.Image)
	var ids []string
	for i := range s.Machines {
		m := &s.Machines[i]
		if deployable(m.State) && !s.rows[i].stuck && imageKey(m.Image) != key {
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

// Title says the step in a few words, the same on every screen.
func (a Advice) Title() string {
	n := len(a.Machines)
	s := "s"
	if n == 1 {
		s = ""
	}
	switch a.Action {
	case ActionUpdate:
		return fmt.Sprintf("update %d machine%s to %s", n, s, LabelFromImage(a.Image))
	case ActionRestart:
		return fmt.Sprintf("restart %d %s machine%s", n, a.Group, s)
	case ActionDestroy:
		force := ""
		if a.Force {
			force = " with --force"
		}
		return fmt.Sprintf("destroy %d stuck machine%s%s", n, s, force)
	case ActionScale:
		return fmt.Sprintf("scale %s back to %d", a.Group, a.Count)
	case ActionRollback:
		return "roll back to " + LabelFromImage(a.Image)
	}
	return a.Action
}
