package recovery

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
)

// planScale brings a group to a count. Up clones a healthy machine of the
// group on the target image (flyctl clones whichever machine the API lists
// first, old image included); down removes the worst machines first.
func (e *Engine) planScale(ctx context.Context, req ScaleRequest) (*Plan, error) {
	if req.Group == "" {
		return nil, fmt.Errorf("scale needs a process group (e.g. web, worker)")
	}
	f, err := e.survey(ctx, "")
	if err != nil {
		return nil, err
	}
	count := req.Count
	if req.Back {
		hist, err := e.history()
		if err != nil {
			return nil, err
		}
		// The incident's baseline (the journal's first record of the app),
		// so --back, the dashboard's scale form and `status` agree; a group
		// that record does not know falls back to its first recorded count.
		n, ok := baselineCount(IncidentFacts(hist, e.opts.App), req.Group, req.Region)
		if !ok {
			n, ok = RememberedCount(hist, req.Group, req.Region)
		}
		if !ok {
			return nil, fmt.Errorf("the journal remembers no count for group %s%s: give the count", req.Group, inRegion(req.Region))
		}
		count = n
	}
	if count < 0 {
		return nil, fmt.Errorf("count must be 0 or more, not %d", count)
	}
	if err := CheckScaleCount(count); err != nil {
		return nil, err
	}
	var members []int
	regionCount := map[string]int{}
	for i, m := range f.snap.Machines {
		if m.Group != req.Group {
			continue
		}
		regionCount[m.Region]++
		if req.Region == "" || m.Region == req.Region {
			members = append(members, i)
		}
	}
	if len(regionCount) == 0 {
		return nil, unknownGroupError(f.snap, req.Group)
	}
	// --back restores a count the group really had; a count typed in may
	// be a slip of the finger, so it may grow the group only so far.
	if limit := ScaleUpLimit(len(members)); !req.Back && count > limit {
		return nil, fmt.Errorf("scaling group %s%s from %d to %d machines is refused: at most %d at once (%dx its count, and never less than %d); scale in steps (e.g. to %d first) if you mean it",
			req.Group, inRegion(req.Region), len(members), count, limit, scaleUpFactor, scaleUpFloor, limit)
	}
	p := e.newPlan(KindScale, f, "group "+req.Group+inRegion(req.Region))
	p.Args["group"] = req.Group
	p.Args["count"] = strconv.Itoa(count)
	p.Args["from"] = strconv.Itoa(len(members))
	if req.Region != "" {
		p.Args["region"] = req.Region
	}
	if req.Back {
		p.Args["back"] = "true"
	}
	switch {
	case count > len(members):
		if err := e.planScaleUp(p, f, req, members, regionCount, count-len(members)); err != nil {
			return nil, err
		}
	case count < len(members):
		planScaleDown(p, f, members, len(members)-count)
	default:
		p.Notes = append(p.Notes, fmt.Sprintf("group %s%s already has %d machines", req.Group, inRegion(req.Region), count))
	}
	return p.finish().annotateCanary(f), nil
}

// Bounds on a scale count: a typo (99999999) must be refused before it
// plans millions of launches, in the CLI and the dashboard alike.
const (
	// MaxScaleCount is the most machines one process group (or region of
	// it) may be scaled to.
	MaxScaleCount = 10_000
	scaleUpFactor = 10
	scaleUpFloor  = 100
)

// CheckScaleCount refuses a count above MaxScaleCount, naming the limit.
func CheckScaleCount(count int) error {
	if count > MaxScaleCount {
		return fmt.Errorf("scale count %d is above the limit of %d machines per process group; give a smaller count", count, MaxScaleCount)
	}
	return nil
}

// ScaleUpLimit is the most a group of current machines may be scaled to in
// one action: 10x its count, at least 100, at most MaxScaleCount.
func ScaleUpLimit(current int) int {
	return min(max(scaleUpFactor*current, scaleUpFloor), MaxScaleCount)
}

func (e *Engine) planScaleUp(p *Plan, f *fleet, req ScaleRequest, members []int, regionCount map[string]int, add int) error {
	// Any machine of the group, anywhere, can serve as the template: the
	// region of a new machine is a launch argument, not part of its config.
	var groupRows []int
	for i, m := range f.snap.Machines {
		if m.Group == req.Group {
			groupRows = append(groupRows, i)
		}
	}
	tpl, why := pickTemplate(f, groupRows)
	if tpl == nil {
		return fmt.Errorf("group %s has no machine to copy a config from; deploy it with `fly deploy` first", req.Group)
	}
	cfg, err := flyclient.CloneConfig(tpl.Config)
	if err != nil {
		return fmt.Errorf("copying %s's config: %w", tpl.ID, err)
	}
	// A clone must not inherit another machine's standby role.
	cfg.Standbys = nil
	delete(cfg.Env, "FLY_STANDBY_FOR")
	if f.target.Image != "" && !sameImage(cfg.Image, f.target.Image) {
		cfg.Image = f.target.Image
		if cfg.Env == nil {
			cfg.Env = map[string]string{}
		}
		cfg.Env[e.opts.LabelEnv] = model.LabelFromImage(f.target.Image)
		if r := f.target.Release; r != nil {
			if cfg.Metadata == nil {
				cfg.Metadata = map[string]string{}
			}
			cfg.Metadata[metaReleaseVersion] = strconv.Itoa(r.Version)
			cfg.Metadata[metaReleaseID] = r.ID
		}
		why += ", moved to the target image"
	}
	p.Notes = append(p.Notes, fmt.Sprintf("new machines copy the config of %s (%s): %s", tpl.ID, why, cfg.Image))
	regions := []string{req.Region}
	if req.Region == "" {
		regions = regions[:0]
		for r := range regionCount {
			regions = append(regions, r)
		}
		sort.Strings(regions)
	}
	// Spread new machines onto the regions with the fewest.
	for n := 0; n < add; n++ {
		best := regions[0]
		for _, r := range regions[1:] {
			if regionCount[r] < regionCount[best] {
				best = r
			}
		}
		regionCount[best]++
		p.Steps = append(p.Steps, Step{
			Op: OpLaunch, Region: best, Group: req.Group, ToImage: cfg.Image, ToState: model.StateStarted,
			Config: cfg, Reason: "scale up from " + tpl.ID,
		})
	}
	return nil
}

// pickTemplate prefers a started, healthy machine on the target image, then
// any machine on the target image, then any started one, then any.
func pickTemplate(f *fleet, rows []int) (*flyclient.Machine, string) {
	tiers := []struct {
		why string
		ok  func(i int) bool
	}{
		{"healthy, on the target image", func(i int) bool {
			m := f.snap.Machines[i]
			return f.snap.OnTargetAt(i) && m.State == model.StateStarted && m.Checks.Critical == 0 && m.Checks.Warning == 0
		}},
		{"on the target image", func(i int) bool { return f.snap.OnTargetAt(i) }},
		{"started", func(i int) bool { return f.snap.Machines[i].State == model.StateStarted }},
		{"the only kind left", func(int) bool { return true }},
	}
	for _, t := range tiers {
		for _, i := range rows {
			if raw := f.raw[f.snap.Machines[i].ID]; raw != nil && raw.Config != nil && t.ok(i) {
				return raw, t.why
			}
		}
	}
	return nil, ""
}

// planScaleDown removes the worst first: failed, stuck, old image, failing
// checks, then the newest (the least proven).
func planScaleDown(p *Plan, f *fleet, members []int, remove int) {
	type cand struct {
		row    int
		rank   int
		reason string
	}
	var cands []cand
	for _, i := range members {
		m := f.snap.Machines[i]
		c := cand{row: i, rank: 4, reason: "newest"}
		switch {
		case m.State == model.StateFailed:
			c.rank, c.reason = 0, "failed"
		case f.snap.StuckAt(i):
			c.rank, c.reason = 1, "stuck in "+m.State
		case !f.snap.OnTargetAt(i):
			c.rank, c.reason = 2, "old image "+m.ImageTag
		case m.Checks.Critical > 0 || m.Checks.Warning > 0:
			c.rank, c.reason = 3, "checks failing"
		}
		cands = append(cands, c)
	}
	sort.SliceStable(cands, func(a, b int) bool {
		if cands[a].rank != cands[b].rank {
			return cands[a].rank < cands[b].rank
		}
		ma, mb := f.snap.Machines[cands[a].row], f.snap.Machines[cands[b].row]
		if !ma.CreatedAt.Equal(mb.CreatedAt) {
			return ma.CreatedAt.After(mb.CreatedAt)
		}
		return ma.ID < mb.ID
	})
	for _, c := range cands[:remove] {
		m := f.snap.Machines[c.row]
		p.Steps = append(p.Steps, Step{
			MachineID: m.ID, Name: m.Name, Op: OpDestroy, Region: m.Region, Group: m.Group,
			FromImage: m.Image, ToImage: m.Image, FromState: m.State, ToState: model.StateDestroyed,
			FromInstanceID: m.InstanceID, Force: true, Reason: c.reason,
		})
	}
	p.Notes = append(p.Notes, "scale down force-destroys; undo relaunches the saved configs as new machines")
}

func inRegion(r string) string {
	if r == "" {
		return ""
	}
	return " in " + r
}

// history reads the engine's journal grouped by action.
func (e *Engine) history() ([]*ActionLog, error) {
	if e.journal == nil {
		return nil, nil
	}
	recs, _, err := e.journal.Records()
	if err != nil {
		return nil, err
	}
	return History(recs), nil
}

// unknownGroupError names the app's groups, and the nearest one when the
// name looks like a typo of it: `scale wrker 3` must not plan from nothing.
func unknownGroupError(snap *model.Snapshot, group string) error {
	names := make([]string, 0, len(snap.Groups))
	for _, g := range snap.Groups {
		names = append(names, g.Name)
	}
	msg := fmt.Sprintf("app %s has no process group %q (groups: %s)", snap.App, group, strings.Join(names, ", "))
	if near, ok := model.Nearest(group, names); ok {
		return fmt.Errorf("%s; did you mean %s?", msg, near)
	}
	return fmt.Errorf("%s; give one of those", msg)
}
