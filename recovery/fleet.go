package recovery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"os/user"
	"sort"
	"strings"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
)

// fleet is one live read of the app that a plan is made from.
type fleet struct {
	raw      map[string]*flyclient.Machine
	snap     *model.Snapshot
	releases []model.Release
	target   model.Target
	facts    model.IncidentFacts
	read     *fleetRead
	// dying are the machines being destroyed: on screen everywhere, out of
	// snap (no plan but a forced destroy can act on them), in a snapshot of
	// their own so selectors (IDs, `stuck`...) still find them.
	dying *model.Snapshot
}

// incidentFacts is what the journal knows of the incident; a journal that
// cannot be read gives none (planning must not fail on it here: actions
// that need the journal read it themselves and say why).
func (e *Engine) incidentFacts() model.IncidentFacts {
	hist, err := e.history()
	if err != nil {
		return model.IncidentFacts{Operator: e.opts.Operator}
	}
	f := IncidentFacts(hist, e.opts.App)
	f.Operator = e.opts.Operator
	return f
}

// budgetRead is the fleet as the budget sees it (computed once).
func (f *fleet) budgetRead() *fleetRead {
	if f.read == nil {
		list := make([]*flyclient.Machine, 0, len(f.raw))
		for _, m := range f.raw {
			list = append(list, m)
		}
		f.read = newFleetRead(list)
	}
	return f.read
}

// survey lists the app's machines and releases. Releases are optional: a
// failing release query only loses the metadata alignment.
func (e *Engine) survey(ctx context.Context, flagImage string) (*fleet, error) {
	if e.opts.App == "" {
		return nil, fmt.Errorf("no app given (use -a/--app or FLY_APP)")
	}
	// The same reading as `status` and the dashboard (flyclient.ReadFleet),
	// through the engine's pacing, rate limit and retries.
	read, err := flyclient.ReadFleet(ctx, engineSource{e}, e.opts.App, flyclient.ReadOptions{
		LabelEnv: e.opts.LabelEnv, Releases: true, Retry: e.retrying})
	if err != nil {
		return nil, fmt.Errorf("listing machines of %s: %w", e.opts.App, err)
	}
	f := &fleet{raw: make(map[string]*flyclient.Machine, len(read.Raw)), releases: read.Releases}
	models := make([]model.Machine, 0, len(read.Raw))
	var dying []model.Machine
	for i, m := range read.Raw {
		// A machine being destroyed is on screen everywhere, but only a
		// forced destroy can act on it (one wedged in destroying): the
		// other planners never see it.
		if m.State == model.StateDestroying {
			dying = append(dying, read.Machines[i])
			continue
		}
		f.raw[m.ID] = m
		models = append(models, read.Machines[i])
	}
	// The target follows the operators' intent: a rollback recorded in the
	// journal or marked on machines is not undone by a later `update`.
	f.facts = e.incidentFacts()
	f.target = model.FollowIntent(model.ChooseTarget(flagImage, f.releases, models), f.releases, models, f.facts)
	f.snap = model.NewSnapshot(e.opts.App, models, f.releases, f.target, model.Options{StuckAfter: e.opts.StuckAfter})
	f.dying = model.NewSnapshot(e.opts.App, dying, f.releases, f.target, model.Options{StuckAfter: e.opts.StuckAfter})
	return f, nil
}

// engineSource reads through the engine's pacer and rate limiter.
type engineSource struct{ e *Engine }

func (s engineSource) List(ctx context.Context, app string, opts flyclient.ListOptions) ([]*flyclient.Machine, error) {
	return s.e.list(ctx)
}

func (s engineSource) Releases(ctx context.Context, app string, limit int) ([]model.Release, error) {
	var rels []model.Release
	err := s.e.call(ctx, "releases", app, func(ctx context.Context) error {
		var err error
		rels, err = s.e.api.Releases(ctx, app, limit)
		return err
	})
	return rels, err
}

// selectMachines resolves a selector into snapshot rows. Machines being
// destroyed are not rows (see selectDying); naming one is not an error.
func (f *fleet) selectMachines(sel Selector) ([]int, error) {
	var missing []string
	for _, id := range sel.MachineIDs {
		_, live := f.snap.Index(id)
		_, dying := f.dying.Index(id)
		if !live && !dying {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return nil, notFound(fmt.Sprintf("no live machine %s in app %s (destroyed, or a typo?)", strings.Join(missing, ", "), f.snap.App))
	}
	return selectIn(f.snap, sel)
}

// selectDying is the selector applied to the machines being destroyed.
func (f *fleet) selectDying(sel Selector) []int {
	rows, _ := selectIn(f.dying, sel) // the query parsed already for the live fleet
	return rows
}

// ReasonBeingDestroyed is why a plan other than a destroy skips a machine
// that is being destroyed: callers holding marks treat it as gone.
const ReasonBeingDestroyed = "being destroyed: only `destroy --force` acts on it"

// dyingSkips lists the selected machines being destroyed as skipped, for
// the plans that cannot act on them.
func (f *fleet) dyingSkips(p *Plan, sel Selector, op Op) {
	for _, i := range f.selectDying(sel) {
		m := f.dying.Machines[i]
		p.Skipped = append(p.Skipped, Step{MachineID: m.ID, Name: m.Name, Op: op, Region: m.Region, Group: m.Group,
			FromImage: m.Image, FromState: m.State, Reason: ReasonBeingDestroyed})
	}
}

func selectIn(snap *model.Snapshot, sel Selector) ([]int, error) {
	var rows []int
	switch {
	case len(sel.MachineIDs) > 0:
		for _, id := range sel.MachineIDs {
			if i, ok := snap.Index(id); ok {
				rows = append(rows, i)
			}
		}
	case sel.Query != "":
		flt, err := model.ParseFilter(sel.Query)
		if err != nil {
			return nil, fmt.Errorf("--select %q: %w", sel.Query, err)
		}
		rows = flt.Apply(snap)
		sort.Ints(rows)
	default:
		for i := range snap.Machines {
			rows = append(rows, i)
		}
	}
	if sel.Region != "" {
		kept := rows[:0]
		for _, i := range rows {
			if snap.Machines[i].Region == sel.Region {
				kept = append(kept, i)
			}
		}
		rows = kept
	}
	return rows, nil
}

// counts are the live machines per group and per group and region.
func (f *fleet) counts() (map[string]int, map[string]map[string]int) {
	groups := map[string]int{}
	regions := map[string]map[string]int{}
	for _, m := range f.snap.Machines {
		groups[m.Group]++
		if regions[m.Group] == nil {
			regions[m.Group] = map[string]int{}
		}
		regions[m.Group][m.Region]++
	}
	return groups, regions
}

// newPlan fills what every plan shares: identity, limits, counts.
func (e *Engine) newPlan(kind Kind, f *fleet, selection string) *Plan {
	now := e.opts.Now()
	p := &Plan{
		ID: newActionID(now), Kind: kind, App: e.opts.App, Selection: selection,
		Args: map[string]string{}, CreatedAt: now,
	}
	p.GroupCounts, p.RegionCounts = f.counts()
	p.seen = f.budgetRead()
	p.Limits = Limits{
		MaxUnavailable: e.opts.MaxUnavailable, Concurrency: e.opts.Concurrency, Retries: e.opts.Retries,
		WaitTimeout: e.opts.WaitTimeout, SkipHealthChecks: e.opts.SkipHealthChecks, LeaseTTL: e.opts.LeaseTTL,
		HaltAfter: e.opts.HaltAfter, GroupBudget: map[string]int{},
	}
	for g, n := range p.GroupCounts {
		p.Limits.GroupBudget[g] = groupBudget(e.opts.MaxUnavailable, n)
	}
	return p
}

// annotateCanary says, for each group a plan puts a new image on, whether
// that image is already proven healthy there (full budget at once) or goes
// to one machine first. The run decides again from a fresh read.
func (p *Plan) annotateCanary(f *fleet) *Plan {
	read := f.budgetRead()
	seen := map[gateKey]bool{}
	for _, s := range p.Steps {
		k := gateKey{s.Group, imageKey(s.ToImage)}
		if !changesImage(s) || seen[k] {
			continue
		}
		seen[k] = true
		ok, n := read.proven(s.Group, s.ToImage)
		if ok {
			continue
		}
		if p.Limits.Canary == nil {
			p.Limits.Canary = map[string]string{}
		}
		why := fmt.Sprintf("%s runs healthy on %d of %d %s machines (%d needed)", model.ImageTag(s.ToImage), n, read.size[s.Group], s.Group, provenNeed(read.size[s.Group]))
		p.Limits.Canary[s.Group] = why
		p.Notes = append(p.Notes, fmt.Sprintf("%s goes canary-first: %s; one machine first, widening as machines verify; %d failures of one cause halt the group",
			s.Group, why, haltThreshold(p.Limits.HaltAfter, read.size[s.Group], false)))
	}
	return p
}

// groupBudget turns --max-unavailable into a machine count for a group of n,
// as flyctl does: a fraction is rounded up, a number of 1 or more is a count;
// at least one machine may always be worked on.
func groupBudget(maxUnavailable float64, n int) int {
	var b int
	if maxUnavailable >= 1 {
		b = int(maxUnavailable)
	} else {
		b = int(math.Ceil(float64(n) * maxUnavailable))
	}
	return max(1, b)
}

// finish numbers the steps in the order they are.
func (p *Plan) finish() *Plan {
	for i := range p.Steps {
		p.Steps[i].Seq = i + 1
	}
	return p
}

// sorted orders the steps: machines already out of service first (working
// on them costs no capacity and brings it back), then stopped ones, then
// running ones; each by group, region and ID so plans are stable.
func (p *Plan) sorted() *Plan {
	rank := func(s Step) int {
		switch s.FromState {
		case model.StateStarted:
			return 2
		case model.StateStopped, model.StateSuspended:
			return 1
		case "":
			return 1 // launches
		}
		return 0
	}
	sort.SliceStable(p.Steps, func(i, j int) bool {
		a, b := p.Steps[i], p.Steps[j]
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra < rb
		}
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		return a.MachineID < b.MachineID
	})
	return p.finish()
}

func (s Selector) describe() string {
	var parts []string
	switch {
	case len(s.MachineIDs) > 0:
		parts = append(parts, "machines "+strings.Join(s.MachineIDs, ","))
	case s.Query != "":
		parts = append(parts, "select "+s.Query)
	default:
		parts = append(parts, "all machines")
	}
	if s.Region != "" {
		parts = append(parts, "region "+s.Region)
	}
	return strings.Join(parts, ", ")
}

func newActionID(now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}

func currentOperator() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}

func imageKey(image string) string {
	image = strings.TrimSpace(image)
	if at := strings.IndexByte(image, '@'); at >= 0 && model.ImageTag(image) != "" {
		return image[:at]
	}
	return image
}

func sameImage(a, b string) bool { return imageKey(a) == imageKey(b) }

// configImage is the image a machine's config asks for.
func configImage(m *flyclient.Machine) string {
	if m.Config != nil && m.Config.Image != "" {
		return m.Config.Image
	}
	return m.FullImageRef()
}
