package model

import (
	"cmp"
	"slices"
	"sort"
	"strings"
	"sync"
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
	Ready    int // on target, started, not cordoned, checks passing (or no checks)
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

	rows []rowInfo // parallel to Machines
	strs []string  // the distinct strings rows refer to
	hay  string    // every row's haystack, back to back (see haystack)

	text *textCache // free-text results of recent keystrokes; nil in literals

	// The last Diff against this snapshot (see Diff).
	diffMu   sync.Mutex
	diffOld  *Snapshot
	diffSet  bool
	diffLast Delta
}

// rowInfo is the per-machine data the filter and classifier read on every
// keystroke, computed once per poll. It holds no pointers (strings are
// indices into Snapshot.strs), so the garbage collector neither scans it nor
// pays write barriers filling it.
type rowInfo struct {
	hayLo, hayHi int32 // Snapshot.hay[hayLo:hayHi] is the row's haystack
	effState     int32 // the rest index Snapshot.strs
	checks       int32
	group        int32 // lowercase
	region       int32 // lowercase
	tag          int32 // lowercase
	image        int32 // lowercase
	stuck        bool
	onTarget     bool
	ascii        bool  // haystack is ASCII without NUL, so the fast matcher applies
	kind         uint8 // ImageKind
}

// haystack returns the lowercase "id name group region tag state" of row i,
// the text free-text words are matched against.
func (s *Snapshot) haystack(i int) string {
	r := &s.rows[i]
	return s.hay[r.hayLo:r.hayHi]
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
		rows:       make([]rowInfo, len(machines)),
		text:       &textCache{},
	}
	slices.SortStableFunc(s.Releases, func(a, b Release) int { return cmp.Compare(b.Version, a.Version) })

	// The newest release version that deployed each image decides the order
	// of old image groups.
	releaseVersion := make(map[string]int, len(s.Releases))
	for _, r := range s.Releases {
		if k := imageKey(r.Image); r.Image != "" && releaseVersion[k] == 0 {
			releaseVersion[k] = r.Version
		}
	}
	targetKey := imageKey(target.Image)
	// A one-region rollback overrides the target there; each region's key
	// is worked out once, when the region is first seen.
	var regionTarget []string // per region index: the override's image key, "" for none

	// Thousands of machines share a handful of images, groups and regions,
	// so each distinct string is parsed, lowercased and hashed once; the
	// per-machine lookups are short linear scans (see smallIndex).
	var (
		rawImages smallIndex         // Machine.Image as given -> index in rawInfo
		rawInfo   []rawImage         // per distinct Machine.Image
		imageIdx  = map[string]int{} // image key -> index in ImageGroups
		hasRelVer []bool             // per image group: a release lists its image
		groups    smallIndex         // Machine.Group -> index in s.Groups
		groupLow  []int32            // per group, lowercase, in s.strs
		regions   smallIndex         // Machine.Region -> index in regionCnt
		regionCnt []int
		regionLow []int32
		// Indices into s.strs of the other per-row strings.
		states, checks, tags smallIndex
		// Per-state counts are kept in short slices during the loop and
		// turned into maps at the end: a fleet has a handful of states, and
		// map writes per machine were a measurable share of snapshot time.
		groupStates [][]stateCount
	)
	// All haystacks live in one string, so there is one allocation instead
	// of several per machine.
	var hay strings.Builder
	hay.Grow(96 * len(machines))
	var plain []bool // per s.strs: lowercase ASCII without NUL, see isPlain
	for i := range s.Machines {
		m := &s.Machines[i]
		if m.ImageTag == "" {
			m.ImageTag = ImageTag(m.Image)
		}
		ri, ok := rawImages.find(m.Image)
		if !ok {
			key := imageKey(m.Image)
			ii, seen := imageIdx[key]
			if !seen {
				ii = len(s.ImageGroups)
				imageIdx[key] = ii
				rv := releaseVersion[key]
				ig := ImageGroup{Image: key, Tag: ImageTag(key), Kind: ImageOther, ReleaseVersion: rv}
				switch {
				case targetKey != "" && key == targetKey:
					ig.Kind = ImageTarget
				case rv > 0 || m.ReleaseVersion > 0:
					ig.Kind = ImageOld
				}
				s.ImageGroups = append(s.ImageGroups, ig)
				hasRelVer = append(hasRelVer, rv != 0)
			}
			ri = rawImages.add(m.Image, len(rawInfo))
			rawInfo = append(rawInfo, rawImage{group: ii, lower: s.intern(lower(m.Image)), key: key})
		}
		raw := &rawInfo[ri]
		ig := &s.ImageGroups[raw.group]

		r := &s.rows[i]
		r.stuck = isStuck(m, opts.Now, opts.StuckAfter)
		effState := m.State
		if r.stuck && m.State != StateFailed {
			effState = StateStuck
		}
		r.effState = s.internAt(&states, effState, effState)
		checkStatus := m.Checks.Status()
		r.checks = s.internAt(&checks, checkStatus, checkStatus)
		r.image = raw.lower
		r.tag = s.internAt(&tags, m.ImageTag, "")

		gi, ok := groups.find(m.Group)
		if !ok {
			gi = groups.add(m.Group, len(s.Groups))
			s.Groups = append(s.Groups, GroupStats{Name: m.Group})
			groupLow = append(groupLow, s.intern(lower(m.Group)))
			groupStates = append(groupStates, nil)
		}
		r.group = groupLow[gi]
		rgi, ok := regions.find(m.Region)
		if !ok {
			rgi = regions.add(m.Region, len(regionCnt))
			regionCnt = append(regionCnt, 0)
			regionLow = append(regionLow, s.intern(lower(m.Region)))
			rt := ""
			if o, ok := target.ByRegion[m.Region]; ok {
				rt = imageKey(o.Image)
			}
			regionTarget = append(regionTarget, rt)
		}
		regionCnt[rgi]++
		r.region = regionLow[rgi]
		r.kind = uint8(ig.Kind)
		r.onTarget = ig.Kind == ImageTarget
		if rt := regionTarget[rgi]; rt != "" {
			r.onTarget = raw.key == rt
			switch {
			case r.onTarget:
				r.kind = uint8(ImageTarget)
			case ig.Kind == ImageTarget:
				r.kind = uint8(ImageOld)
			}
		}

		// The ID and name are per machine; the rest are shared strings
		// lowercased once, written as they are.
		r.hayLo = int32(hay.Len())
		ascii := writeLower(&hay, m.ID)
		hay.WriteByte(' ')
		ascii = writeLower(&hay, m.Name) && ascii
		for _, k := range [...]int32{r.group, r.region, r.tag, r.effState} {
			hay.WriteByte(' ')
			for int(k) >= len(plain) {
				plain = append(plain, isPlain(s.strs[len(plain)]))
			}
			if plain[k] {
				hay.WriteString(s.strs[k])
			} else {
				ascii = writeLower(&hay, s.strs[k]) && ascii
			}
		}
		r.hayHi = int32(hay.Len())
		r.ascii = ascii

		if r.stuck {
			s.Stuck = append(s.Stuck, m.ID)
		}
		if r.onTarget {
			s.OnTarget++
		}

		g := &s.Groups[gi]
		groupStates[gi] = countState(groupStates[gi], effState)
		if m.State != StateDestroyed {
			g.Total++
		}
		if r.onTarget {
			g.OnTarget++
			// A cordoned machine gets no traffic: started and healthy, but
			// not ready to serve.
			if m.State == StateStarted && !m.Cordoned && (checkStatus == ChecksPassing || checkStatus == ChecksNone) {
				g.Ready++
			}
		}

		ig.Count++
		if ig.Kind == ImageOld && !hasRelVer[raw.group] && m.ReleaseVersion > ig.ReleaseVersion {
			ig.ReleaseVersion = m.ReleaseVersion
		}
		ig.States = addToState(ig.States, effState, i)
	}
	s.hay = hay.String()
	// Machines were visited in ID order, so Stuck is already sorted.

	for gi, counts := range groupStates {
		s.Groups[gi].States = make(map[string]int, len(counts))
		for _, c := range counts {
			s.Groups[gi].States[c.state] = c.n
		}
	}
	s.States = make(map[string]int, 8)
	for _, ig := range s.ImageGroups {
		for _, sg := range ig.States {
			s.States[sg.State] += len(sg.Rows)
		}
	}
	s.Regions = make(map[string]int, len(regionCnt))
	for k, name := range regions.keys {
		s.Regions[name] += regionCnt[regions.vals[k]]
	}

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

// rawImage is what a snapshot derives once per distinct Machine.Image.
type rawImage struct {
	group int    // index in ImageGroups (before they are sorted)
	lower int32  // the image lowercased, in s.strs
	key   string // imageKey of the image
}

// intern adds v to s.strs and returns its index.
func (s *Snapshot) intern(v string) int32 {
	s.strs = append(s.strs, v)
	return int32(len(s.strs) - 1)
}

// internAt returns the s.strs index for key in x, interning lower(key) (or
// value, when not "") the first time key is seen.
func (s *Snapshot) internAt(x *smallIndex, key, value string) int32 {
	if v, ok := x.find(key); ok {
		return int32(v)
	}
	if value == "" {
		value = lower(key)
	}
	return int32(x.add(key, int(s.intern(value))))
}

// smallIndex maps strings to ints for the few distinct values a fleet has
// (images, groups, regions). Up to smallIndexMax keys it is a linear scan,
// which beats hashing long image references on every machine; past that it
// falls back to a map.
type smallIndex struct {
	keys []string
	vals []int
	m    map[string]int
	last int // the key found last: machines come in runs of the same values
}

const smallIndexMax = 16

func (x *smallIndex) find(key string) (int, bool) {
	if x.m != nil {
		v, ok := x.m[key]
		return v, ok
	}
	if x.last < len(x.keys) && x.keys[x.last] == key {
		return x.vals[x.last], true
	}
	for k := range x.keys {
		if x.keys[k] == key {
			x.last = k
			return x.vals[k], true
		}
	}
	return 0, false
}

// add records a key find did not find and returns v.
func (x *smallIndex) add(key string, v int) int {
	x.keys = append(x.keys, key)
	x.vals = append(x.vals, v)
	if x.m != nil {
		x.m[key] = v
	} else if len(x.keys) > smallIndexMax {
		x.m = make(map[string]int, 2*len(x.keys))
		for k, key := range x.keys {
			x.m[key] = x.vals[k]
		}
	}
	return v
}

// isStuck is IsStuckAt without copying the machine.
func isStuck(m *Machine, now time.Time, after time.Duration) bool {
	if m.State == StateFailed {
		return true
	}
	if !transitional[m.State] {
		return false
	}
	var since time.Time
	switch {
	case !m.StateSince.IsZero():
		since = m.StateSince
	case !m.LastEvent.At.IsZero():
		since = m.LastEvent.At
	default:
		since = m.UpdatedAt
	}
	if since.IsZero() {
		return false
	}
	return now.Sub(since) > after
}

// sortedByID copies machines in ID order, equal IDs in input order. The API
// and the simulator list machines sorted already, so that case is one copy.
// Otherwise it sorts a permutation rather than the machines themselves,
// because moving 400-byte structs dominated snapshot time at 10k machines.
func sortedByID(machines []Machine) []Machine {
	if slices.IsSortedFunc(machines, func(a, b Machine) int { return strings.Compare(a.ID, b.ID) }) {
		return slices.Clone(machines)
	}
	// Sort compact (ID prefix, position) keys: comparing through the big
	// structs missed the cache on every compare, and the first eight bytes
	// of an ID as one integer nearly always decide. The keys hold no
	// pointers, so the collector ignores them.
	keys := make([]keyed, len(machines))
	for i := range machines {
		keys[i] = keyed{idPrefix(machines[i].ID), i}
	}
	keys = radixSortByPrefix(keys, make([]keyed, len(keys)))
	// Equal prefixes (rare, but short or shared-prefix IDs happen): order
	// by the whole ID; the sorts are stable, so equal IDs keep input order.
	for lo := 0; lo < len(keys); {
		hi := lo + 1
		for hi < len(keys) && keys[hi].prefix == keys[lo].prefix {
			hi++
		}
		if hi-lo > 1 {
			slices.SortStableFunc(keys[lo:hi], func(a, b keyed) int {
				return strings.Compare(machines[a.pos].ID, machines[b.pos].ID)
			})
		}
		lo = hi
	}
	out := make([]Machine, len(machines))
	for k := range keys {
		out[k] = machines[keys[k].pos]
	}
	return out
}

type keyed struct {
	prefix uint64
	pos    int
}

// radixSortByPrefix sorts keys by prefix, stably, a byte at a time (an LSD
// radix sort, several times faster than comparison sorting 10k keys), and
// returns the sorted slice, which is keys or tmp.
func radixSortByPrefix(keys, tmp []keyed) []keyed {
	if len(keys) < 2 {
		return keys
	}
	// Only bytes that differ between keys need a pass.
	and, or := ^uint64(0), uint64(0)
	for k := range keys {
		and &= keys[k].prefix
		or |= keys[k].prefix
	}
	for shift := 0; shift < 64; shift += 8 {
		if byte((and^or)>>shift) == 0 {
			continue
		}
		var count [257]int
		for k := range keys {
			count[int(byte(keys[k].prefix>>shift))+1]++
		}
		for b := 1; b < len(count); b++ {
			count[b] += count[b-1]
		}
		for k := range keys {
			b := byte(keys[k].prefix >> shift)
			tmp[count[b]] = keys[k]
			count[b]++
		}
		keys, tmp = tmp, keys
	}
	return keys
}

// idPrefix packs the first eight bytes of id big-endian, zero-padded, so
// integer order agrees with string order on them.
func idPrefix(id string) uint64 {
	var p uint64
	for k := 0; k < 8; k++ {
		p <<= 8
		if k < len(id) {
			p |= uint64(id[k])
		}
	}
	return p
}

// lower is strings.ToLower, without the scan-and-copy when s is lowercase
// ASCII already (as API values nearly always are).
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || ('A' <= c && c <= 'Z') {
			return strings.ToLower(s)
		}
	}
	return s
}

// writeLower writes s lowercased and reports whether it was ASCII without
// NUL bytes (the fast matcher's precondition).
func writeLower(b *strings.Builder, s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			b.WriteString(s[:i])
			b.WriteString(strings.ToLower(s[i:]))
			return false
		}
		if c == 0 || ('A' <= c && c <= 'Z') {
			// Rare: lowercase the rest byte by byte.
			ok := true
			b.WriteString(s[:i])
			for ; i < len(s); i++ {
				c := s[i]
				if c >= 0x80 {
					b.WriteString(strings.ToLower(s[i:]))
					return false
				}
				if c == 0 {
					ok = false
				}
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				b.WriteByte(c)
			}
			return ok
		}
	}
	b.WriteString(s)
	return true
}

// isPlain reports whether s is lowercase ASCII without NUL bytes, so it goes
// into a haystack as it is and keeps the haystack fit for the fast matcher.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == 0 || c >= 0x80 || ('A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

type stateCount struct {
	state string
	n     int
}

func countState(counts []stateCount, state string) []stateCount {
	for i := range counts {
		if counts[i].state == state {
			counts[i].n++
			return counts
		}
	}
	return append(counts, stateCount{state, 1})
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

// Index returns the position of the machine with id in Machines (the last
// one, should the API ever list an ID twice).
func (s *Snapshot) Index(id string) (int, bool) {
	// Machines is sorted by ID, so a binary search does what a map would,
	// without building a 10k-entry map on every poll.
	i := sort.Search(len(s.Machines), func(k int) bool { return s.Machines[k].ID > id }) - 1
	if i >= 0 && s.Machines[i].ID == id {
		return i, true
	}
	return 0, false
}

// Machine returns the machine with id.
func (s *Snapshot) Machine(id string) (Machine, bool) {
	if i, ok := s.Index(id); ok {
		return s.Machines[i], true
	}
	return Machine{}, false
}

// IsStuck reports whether the machine with id is stuck (failed included).
func (s *Snapshot) IsStuck(id string) bool {
	i, ok := s.Index(id)
	return ok && s.rows[i].stuck
}

// EffectiveState is the state to group and show machine i under: "stuck" for
// stuck machines that are not failed (failed already says enough), else the
// API state.
func (s *Snapshot) EffectiveState(i int) string { return s.strs[s.rows[i].effState] }

// checksAt is machine i's check status (ChecksPassing...).
func (s *Snapshot) checksAt(i int) string { return s.strs[s.rows[i].checks] }

// OnTargetAt reports whether machine i runs the target image.
func (s *Snapshot) OnTargetAt(i int) bool { return s.rows[i].onTarget }

// StuckAt reports whether machine i is stuck (failed included).
func (s *Snapshot) StuckAt(i int) bool { return s.rows[i].stuck }

// ImageKindAt reports how machine i's image relates to the target.
func (s *Snapshot) ImageKindAt(i int) ImageKind { return ImageKind(s.rows[i].kind) }

// LeaseCandidates are the machines whose leases are worth a look (each is a
// request): those not on target, or stuck, which is what advice acts on.
func (s *Snapshot) LeaseCandidates() []string {
	var ids []string
	for i, m := range s.Machines {
		if m.State != StateDestroyed && (!s.OnTargetAt(i) || s.StuckAt(i)) {
			ids = append(ids, m.ID)
		}
	}
	return ids
}
