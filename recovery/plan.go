package recovery

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
)

// Metadata keys Fly sets on every machine of a release.
const (
	metaReleaseVersion = "fly_release_version"
	metaReleaseID      = "fly_release_id"
)

func (e *Engine) planUpdate(ctx context.Context, kind Kind, req UpdateRequest) (*Plan, error) {
	f, err := e.survey(ctx, req.Image)
	if err != nil {
		return nil, err
	}
	return e.planUpdateOn(f, kind, req)
}

func (e *Engine) planUpdateOn(f *fleet, kind Kind, req UpdateRequest) (*Plan, error) {
	image := req.Image
	if image == "" {
		// The target follows intent: a one-region rollback keeps its
		// region's image (regionTarget below, per machine).
		image = f.target.For(req.Selector.Region).Image
	}
	if image == "" {
		return nil, fmt.Errorf("no target image known for %s (no releases and no machine metadata): pass --image", e.opts.App)
	}
	label := req.Label
	if label == "" {
		label = model.LabelFromImage(image)
	}
	meta := map[string]string{}
	version, id := req.ReleaseVersion, req.ReleaseID
	if version == 0 && id == "" {
		// Align metadata only with a release that really deployed this
		// image; otherwise fly status would show a wrong version.
		for _, r := range f.releases {
			if sameImage(r.Image, image) && r.Version > version {
				version, id = r.Version, r.ID
			}
		}
	}
	if version > 0 {
		meta[metaReleaseVersion] = strconv.Itoa(version)
	}
	if id != "" {
		meta[metaReleaseID] = id
	}
	rows, err := f.selectMachines(req.Selector)
	if err != nil {
		return nil, err
	}
	p := e.newPlan(kind, f, req.Selector.describe())
	// Marks go out with the same update call (no extra request): another
	// flyrescue reading the fleet knows who did this, and that a rollback
	// is the operators' intent, not a straggler to push forward.
	meta[model.MarkAction] = p.ID
	meta[model.MarkBy] = e.opts.Operator
	if kind == KindRollback && version > 0 {
		meta[model.MarkRollback] = strconv.Itoa(version)
		meta[model.MarkRollbackAt] = p.CreatedAt.UTC().Format(time.RFC3339)
		if req.Selector.Region != "" {
			meta[model.MarkRollbackRegion] = req.Selector.Region
			p.Args["region"] = req.Selector.Region
		}
	}
	p.Args["image"] = image
	p.Args["label_env"] = e.opts.LabelEnv
	p.Args["label"] = label
	if version > 0 {
		p.Args["release_version"] = strconv.Itoa(version)
	}
	regionTarget := func(region string) (string, string, map[string]string) {
		if req.Image != "" || req.Selector.Region != "" {
			return image, label, meta
		}
		t, ok := f.target.ByRegion[region]
		if !ok || sameImage(t.Image, image) {
			return image, label, meta
		}
		m := map[string]string{model.MarkAction: p.ID, model.MarkBy: e.opts.Operator}
		if t.Release != nil {
			m[metaReleaseVersion] = strconv.Itoa(t.Release.Version)
			if t.Release.ID != "" {
				m[metaReleaseID] = t.Release.ID
			}
		}
		return t.Image, model.LabelFromImage(t.Image), m
	}
	for _, i := range rows {
		mm := f.snap.Machines[i]
		raw := f.raw[mm.ID]
		toImage, toLabel, toMeta := regionTarget(mm.Region)
		s := Step{
			MachineID: mm.ID, Name: mm.Name, Op: OpUpdate, Region: mm.Region, Group: mm.Group,
			FromImage: configImage(raw), ToImage: toImage, FromState: mm.State, ToState: updateTargetState(mm.State),
			FromInstanceID: mm.InstanceID, Label: toLabel, Metadata: toMeta,
		}
		if f.snap.IsStuck(mm.ID) && mm.State != model.StateFailed {
			// A machine wedged in a transitional state would only queue the
			// update behind it: the runbook's answer is destroy --force and
			// scale back. A failed machine is different: a new config often
			// brings it back, so it is updated (and reported if it fails).
			s.Reason = "stuck in " + mm.State + ": destroy it with --force, then scale the group back"
			p.Skipped = append(p.Skipped, s)
			continue
		}
		if reason := updateDone(raw, s, e.opts.LabelEnv); reason != "" {
			s.Reason = reason
			p.Skipped = append(p.Skipped, s)
			continue
		}
		p.Steps = append(p.Steps, s)
	}
	f.dyingSkips(p, req.Selector, OpUpdate)
	if meta[metaReleaseVersion] == "" && meta[metaReleaseID] == "" {
		p.Notes = append(p.Notes, "no release is known for "+image+": fly_release_* metadata is left as it is")
	}
	return p.sorted().annotateCanary(f), nil
}

// updateTargetState keeps stopped machines stopped, as deploys do; anything
// else is expected to come up started.
func updateTargetState(state string) string {
	switch state {
	case model.StateStopped, model.StateSuspended:
		return model.StateStopped
	}
	return model.StateStarted
}

// updateDone says why a machine already is where an update step would put
// it, or "" when it is not.
func updateDone(m *flyclient.Machine, s Step, labelEnv string) string {
	if m == nil || m.Config == nil {
		return ""
	}
	if !sameImage(m.Config.Image, s.ToImage) {
		return ""
	}
	if s.Config != nil {
		// Undo: the saved config's label is the one to reach.
		if m.Config.Env[labelEnv] != s.Config.Env[labelEnv] {
			return ""
		}
	} else if s.Label != "" && m.Config.Env[labelEnv] != s.Label {
		return ""
	}
	for k, v := range s.Metadata {
		// Our marks name the action: a machine already where the step
		// would put it needs no update just to be marked.
		if !strings.HasPrefix(k, "flyrescue_") && m.Config.Metadata[k] != v {
			return ""
		}
	}
	want := s.ToState
	if want == model.StateStopped && (m.State == model.StateStopped || m.State == model.StateSuspended) {
		return "already on " + model.ImageTag(s.ToImage) + " and stopped"
	}
	if m.State == want {
		return "already on " + model.ImageTag(s.ToImage) + " and " + m.State
	}
	return ""
}

// updateDoneFor is update's done test, with the engine's label env.
func updateDoneFor(e *Engine, m *flyclient.Machine, s Step) string {
	return updateDone(m, s, e.opts.LabelEnv)
}

// foundUpdate: an interrupted update took effect when the machine is where
// it would put it on another instance than the one the intent saw.
func foundUpdate(e *Engine, s Step, ml MachineLog, m *flyclient.Machine) bool {
	return updateDone(m, s, e.opts.LabelEnv) != "" && m.InstanceID != ml.Intent.InstanceBefore
}

// updateWaitStates: an update leaves a stopped machine stopped (or
// suspended), anything else started.
func updateWaitStates(s Step) []string {
	if s.ToState == model.StateStopped {
		return []string{model.StateStopped, model.StateSuspended}
	}
	return []string{model.StateStarted}
}

// updateChangesImage: an update to another image, or to a saved config
// (an undo), puts an image that may be unproven in the group.
func updateChangesImage(s Step) bool {
	return s.FromImage == "" || !sameImage(s.FromImage, s.ToImage) || s.Config != nil
}

// planSelection is what the per-machine planners start from: a fresh read of
// the fleet, the selected rows, and an empty plan of kind over them.
func (e *Engine) planSelection(ctx context.Context, kind Kind, sel Selector) (*fleet, []int, *Plan, error) {
	f, err := e.survey(ctx, "")
	if err != nil {
		return nil, nil, nil, err
	}
	rows, err := f.selectMachines(sel)
	if err != nil {
		return nil, nil, nil, err
	}
	return f, rows, e.newPlan(kind, f, sel.describe()), nil
}

// planSimple plans an op that acts on each selected machine as it is
// (restart, start, stop, suspend, cordon, uncordon, destroy): one step per
// machine the op's registry entry does not skip.
func (e *Engine) planSimple(ctx context.Context, kind Kind, op Op, sel Selector, force bool) (*Plan, error) {
	spec := opOf(op)
	if spec.skip == nil {
		return nil, fmt.Errorf("%s cannot be planned machine by machine", op)
	}
	f, rows, p, err := e.planSelection(ctx, kind, sel)
	if err != nil {
		return nil, err
	}
	if force {
		p.Args["force"] = "true"
	}
	step := func(mm model.Machine) Step {
		s := Step{MachineID: mm.ID, Name: mm.Name, Op: op, Region: mm.Region, Group: mm.Group, FromImage: mm.Image,
			ToImage: mm.Image, FromState: mm.State, ToState: spec.ToState, FromInstanceID: mm.InstanceID, Force: force}
		if s.ToState == "" {
			s.ToState = mm.State // the op leaves the state as it is
		}
		return s
	}
	if !spec.reachesDying {
		f.dyingSkips(p, sel, op)
	} else {
		// One wedged in destroying is the runbook's stuck machine: only
		// force reaches it. Its rows come from the dying snapshot.
		for _, i := range f.selectDying(sel) {
			s := step(f.dying.Machines[i])
			if !force {
				s.Reason = "being destroyed already: if it stays in destroying, destroy it with --force"
				p.Skipped = append(p.Skipped, s)
				continue
			}
			p.Steps = append(p.Steps, s)
		}
	}
	for _, i := range rows {
		mm := f.snap.Machines[i]
		s := step(mm)
		v := machineView{state: mm.State, force: force, stuck: f.snap.IsStuck(mm.ID), cordoned: mm.Cordoned}
		if s.Reason = spec.skip(v); s.Reason != "" {
			p.Skipped = append(p.Skipped, s)
			continue
		}
		p.Steps = append(p.Steps, s)
	}
	if spec.planNote != "" {
		p.Notes = append(p.Notes, spec.planNote)
	}
	return p.sorted(), nil
}

func (e *Engine) planRollback(ctx context.Context, req RollbackRequest) (*Plan, error) {
	f, err := e.survey(ctx, "")
	if err != nil {
		return nil, err
	}
	if len(f.releases) == 0 {
		return nil, fmt.Errorf("no releases known for %s: roll back with `flyrescue update --image IMAGE` instead", e.opts.App)
	}
	rel, err := pickRollbackRelease(f, req.Release)
	if err != nil {
		return nil, err
	}
	p, err := e.planUpdateOn(f, KindRollback, UpdateRequest{
		Selector: req.Selector, Image: rel.Image, ReleaseVersion: rel.Version, ReleaseID: rel.ID,
	})
	if err != nil {
		return nil, err
	}
	p.Args["release"] = "v" + strconv.Itoa(rel.Version)
	p.Notes = append(p.Notes, fmt.Sprintf("rolls back to v%d (%s); config, secrets and database migrations are not rolled back", rel.Version, rel.Image))
	return p, nil
}

func pickRollbackRelease(f *fleet, want string) (model.Release, error) {
	if want != "" {
		v, err := strconv.Atoi(strings.TrimPrefix(strings.ToLower(want), "v"))
		if err != nil {
			return model.Release{}, fmt.Errorf("--release %q: want a version like v61", want)
		}
		for _, r := range f.releases {
			if r.Version == v {
				if r.Image == "" {
					return r, fmt.Errorf("release v%d has no image on record (pruned?): pass --image", v)
				}
				return r, nil
			}
		}
		return model.Release{}, notFound(fmt.Sprintf("no release v%d among the %d newest of %s (see `fly releases --image`)", v, len(f.releases), f.snap.App))
	}
	// Default: the newest complete release older than the target whose
	// image differs from it, i.e. the last one known to have worked.
	var best *model.Release
	for i := range f.releases {
		r := &f.releases[i]
		if r.Image == "" || sameImage(r.Image, f.target.Image) || r.Status != "complete" {
			continue
		}
		if f.target.Release != nil && r.Version >= f.target.Release.Version {
			continue
		}
		if best == nil || r.Version > best.Version {
			best = r
		}
	}
	if best == nil {
		return model.Release{}, fmt.Errorf("no earlier complete release with a different image: pass --release vN")
	}
	return *best, nil
}

// notFoundError names something (a release, a machine) that does not exist;
// errors.Is matches it to flyclient.ErrNotFound so callers map it like an
// API 404.
type notFoundError struct{ msg string }

func notFound(msg string) error               { return &notFoundError{msg} }
func (e *notFoundError) Error() string        { return e.msg }
func (e *notFoundError) Is(target error) bool { return target == flyclient.ErrNotFound }
