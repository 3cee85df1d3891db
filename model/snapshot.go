package model

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// Options tune how a snapshot judges its machines.
type Options struct {
	StuckAfter time.Duration // default DefaultStuckAfter
	Now        time.Time     // default time.Now() when the snapshot is built
}

// ImageKind says how an image relates to the deploy target.
type ImageKind int

const (
	ImageTarget ImageKind = iota // the image the deploy is converging on
	ImageOld                     // an earlier release's image
	ImageOther                   // unknown to the releases and without release metadata
)

func (k ImageKind) String() string {
	switch k {
	case ImageTarget:
		return "target"
	case ImageOld:
		return "old"
	default:
		return "other"
	}
}

// ImageGroup is every machine running one image, split by effective state.
type ImageGroup struct {
	Image          string
	Tag            string
	Kind           ImageKind
	ReleaseVersion int // the release that deployed it, 0 when unknown
	Count          int
	States         []StateGroup // most urgent state first
}

// StateGroup lists the machines of one image in one effective state.
type StateGroup struct {
	State string
	Rows  []int // indices into Snapshot.Machines, in Machines order
}

// GroupStats summarises one process group.
type GroupStats struct {
	Name     string
	Total    int // machines in the group, not counting destroyed ones
	OnTarget int
	Ready    int // on target, started and checks passing (or no checks)
	States   map[string]int
}

// Snapshot is one poll's worth of fleet state with everything the dashboard
// and the classifier need precomputed, so a keystroke never rescans strings.
type Snapshot struct {
	App         string
	At          time.Time
	StuckAfter  time.Duration
	Target      Target
	Machines    []Machine // all machines, sorted by ID
	Releases    []Release // newest first
	ImageGroups []ImageGroup
	Groups      []GroupStats   // per process group, sorted by name
	States      map[string]int // count per effective state
	Regions     map[string]int
	OnTarget    int
	Stuck       []string // IDs of stuck machines, sorted

	byID map[string]int
	rows []rowInfo // parallel to Machines
}

// rowInfo is the per-machine data the filter and classifier read on every
// keystroke, computed once per poll.
type rowInfo struct {
	effState string
	checks   string
	stuck    bool
	onTarget bool
	kind     ImageKind
	group    string // lowercase
	region   string // lowercase
	tag      string // lowercase
	image    string // lowercase
	haystack string // lowercase "id name group region tag state" for fuzzy text
	ascii    bool   // haystack is ASCII, so a byte scan can rule it out before fuzzy
}

// NewSnapshot builds a snapshot. The input slices are copied, so callers may
// reuse them.
func NewSnapshot(app string, machines []Machine, releases []Release, target Target, opts Options) *Snapshot {
	if opts.StuckAfter <= 0 {
		opts.StuckAfter = DefaultStuckAfter
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	s := &Snapshot{
		App:        app,
		At:         opts.Now,
		StuckAfter: opts.StuckAfter,
		Target:     target,
		Machines:   sortedByID(machines),
		Releases:   slices.Clone(releases),
		States:     make(map[string]int),
		Regions:    make(map[string]int),
		byID:       make(map[string]int, len(machines)),
		rows:       make([]rowInfo, len(machines)),
	}
	slices.SortStableFunc(s.Releases, func(a, b Release) int { return cmp.Compare(b.Version, a.Version) })

	// The newest release version that deployed each image decides the order
	// of old image groups.
	releaseVersion := make(map[string]int)
	for _, r := range s.Releases {
		if k := imageKey(r.Image); r.Image != "" && releaseVersion[k] == 0 {
			releaseVersion[k] = r.Version
		}
	}
	targetKey := imageKey(target.Image)

	imageIndex := make(map[string]int)    // image key -> index in ImageGroups
	rawImageIndex := make(map[string]int) // Machine.Image as given -> same
	groupKind := make([]ImageKind, 0, 8)
	groupIndex := make(map[string]int)
	// All haystacks live in one string: one allocation instead of several
	// per machine, which at 10k machines was most of the snapshot's cost.
	hay := make([]byte, 0, 96*len(machines))
	hayStart := make([]int, len(machines)+1)
	for i := range s.Machines {
		m := &s.Machines[i]
		if m.ImageTag == "" {
			m.ImageTag = ImageTag(m.Image)
		}
		s.byID[m.ID] = i
		// Thousands of machines share a handful of image strings, so the
		// parsing is done once per distinct string.
		var key string
		ii, seen := rawImageIndex[m.Image]
		if seen {
			key = s.ImageGroups[ii].Image
		} else {
			key = imageKey(m.Image)
			if ii, seen = imageIndex[key]; seen {
				rawImageIndex[m.Image] = ii
			}
		}
		r := &s.rows[i]
		r.stuck = IsStuckAt(*m, opts.Now, opts.StuckAfter)
		r.effState = m.State
		if r.stuck && m.State != StateFailed {
			r.effState = StateStuck
		}
		r.checks = m.Checks.Status()
		r.onTarget = targetKey != "" && key == targetKey
		r.group = strings.ToLower(m.Group)
		r.region = strings.ToLower(m.Region)
		r.tag = strings.ToLower(m.ImageTag)
		r.image = strings.ToLower(m.Image)
		hayStart[i] = len(hay)
		for j, f := range [...]string{m.ID, m.Name, m.Group, m.Region, m.ImageTag, r.effState} {
			if j > 0 {
				hay = append(hay, ' ')
			}
			hay = appendLower(hay, f)
		}

		if r.stuck {
			s.Stuck = append(s.Stuck, m.ID)
		}
		if r.onTarget {
			s.OnTarget++
		}
		s.States[r.effState]++
		s.Regions[m.Region]++

		gi, ok := groupIndex[m.Group]
		if !ok {
			gi = len(s.Groups)
			groupIndex[m.Group] = gi
			s.Groups = append(s.Groups, GroupStats{Name: m.Group, States: make(map[string]int)})
		}
		g := &s.Groups[gi]
		g.States[r.effState]++
		if m.State != StateDestroyed {
			g.Total++
		}
		if r.onTarget {
			g.OnTarget++
			if m.State == StateStarted && (r.checks == ChecksPassing || r.checks == ChecksNone) {
				g.Ready++
			}
		}

		if !seen {
			ii = len(s.ImageGroups)
			imageIndex[key] = ii
			ig := ImageGroup{Image: key, Tag: ImageTag(key), Kind: ImageOther, ReleaseVersion: releaseVersion[key]}
			switch {
			case r.onTarget:
				ig.Kind = ImageTarget
			case ig.ReleaseVersion > 0 || m.ReleaseVersion > 0:
				ig.Kind = ImageOld
			}
			s.ImageGroups = append(s.ImageGroups, ig)
			rawImageIndex[m.Image] = ii
		}
		ig := &s.ImageGroups[ii]
		if ii == len(groupKind) {
			groupKind = append(groupKind, ig.Kind)
		}
		ig.Count++
		if ig.Kind == ImageOld && releaseVersion[key] == 0 && m.ReleaseVersion > ig.ReleaseVersion {
			ig.ReleaseVersion = m.ReleaseVersion
		}
		ig.States = addToState(ig.States, r.effState, i)
	}
	hayStart[len(machines)] = len(hay)
	allHay := string(hay)
	for i := range s.rows {
		s.rows[i].haystack = allHay[hayStart[i]:hayStart[i+1]]
		s.rows[i].ascii = isASCII(s.rows[i].haystack)
		s.rows[i].kind = groupKind[rawImageIndex[s.Machines[i].Image]]
	}
	// Machines were visited in ID order, so Stuck is already sorted.

	slices.SortFunc(s.Groups, func(a, b GroupStats) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(s.ImageGroups, func(a, b ImageGroup) int {
		if a.Kind != b.Kind {
			return cmp.Compare(a.Kind, b.Kind)
		}
		if a.ReleaseVersion != b.ReleaseVersion {
			return cmp.Compare(b.ReleaseVersion, a.ReleaseVersion)
		}
		return strings.Compare(a.Image, b.Image)
	})
	for i := range s.ImageGroups {
		slices.SortFunc(s.ImageGroups[i].States, func(a, b StateGroup) int {
			if oa, ob := StateOrder(a.State), StateOrder(b.State); oa != ob {
				return cmp.Compare(oa, ob)
			}
			return strings.Compare(a.State, b.State)
		})
	}
	return s
}

// sortedByID copies machines in ID order, equal IDs in input order. It sorts
// a permutation rather than the machines themselves because moving 400-byte
// structs dominated snapshot time at 10k machines.
func sortedByID(machines []Machine) []Machine {
	if slices.IsSortedFunc(machines, func(a, b Machine) int { return strings.Compare(a.ID, b.ID) }) {
		return slices.Clone(machines)
	}
	// Sort compact (ID, position) pairs: comparing through the big structs
	// missed the cache on every compare.
	type keyed struct {
		id  string
		pos int
	}
	keys := make([]keyed, len(machines))
	for i := range machines {
		keys[i] = keyed{machines[i].ID, i}
	}
	slices.SortFunc(keys, func(a, b keyed) int {
		if c := strings.Compare(a.id, b.id); c != 0 {
			return c
		}
		return cmp.Compare(a.pos, b.pos)
	})
	out := make([]Machine, len(machines))
	for k, key := range keys {
		out[k] = machines[key.pos]
	}
	return out
}

// appendLower appends s lowercased, without allocating for ASCII.
func appendLower(buf []byte, s string) []byte {
	if !isASCII(s) {
		return append(buf, strings.ToLower(s)...)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf = append(buf, c)
	}
	return buf
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// addToState appends row to the group for state. Image groups hold a handful
// of states, so a linear scan beats a map here.
func addToState(groups []StateGroup, state string, row int) []StateGroup {
	for i := range groups {
		if groups[i].State == state {
			groups[i].Rows = append(groups[i].Rows, row)
			return groups
		}
	}
	return append(groups, StateGroup{State: state, Rows: []int{row}})
}

// Index returns the position of the machine with id in Machines.
func (s *Snapshot) Index(id string) (int, bool) {
	i, ok := s.byID[id]
	return i, ok
}

// Machine returns the machine with id.
func (s *Snapshot) Machine(id string) (Machine, bool) {
	if i, ok := s.byID[id]; ok {
		return s.Machines[i], true
	}
	return Machine{}, false
}

// IsStuck reports whether the machine with id is stuck (failed included).
func (s *Snapshot) IsStuck(id string) bool {
	i, ok := s.byID[id]
	return ok && s.rows[i].stuck
}

// EffectiveState is the state to group and show machine i under: "stuck" for
// stuck machines that are not failed (failed already says enough), else the
// API state.
func (s *Snapshot) EffectiveState(i int) string { return s.rows[i].effState }

// OnTargetAt reports whether machine i runs the target image.
func (s *Snapshot) OnTargetAt(i int) bool { return s.rows[i].onTarget }

// StuckAt reports whether machine i is stuck (failed included).
func (s *Snapshot) StuckAt(i int) bool { return s.rows[i].stuck }

// ImageKindAt reports how machine i's image relates to the target.
func (s *Snapshot) ImageKindAt(i int) ImageKind { return s.rows[i].kind }
