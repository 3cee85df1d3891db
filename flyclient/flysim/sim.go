// Package flysim is an in-process fake of the Fly.io Machines API (plus the
// GraphQL release queries fly-go uses). The unmodified fly-go v0.9.3 client
// talks to it over HTTP, so it is both the project's test bed and its demo.
//
// Time: state transitions and wait timeouts run on a simulated clock (real
// time scaled by Options.Speed) so tests can watch a realistic deploy in
// milliseconds; lease TTLs and rate limits stay in real time because clients
// pace and refresh in real time.
package flysim

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"
)

// Options configure a Sim. Zero values get the documented defaults.
type Options struct {
	App         string        // default "demo-app"
	Scenario    string        // healthy | total-failure | minority | majority | stuck | bad-release; default "majority"
	Machines    int           // default 500
	Seed        int64         // default 1; same seed+options => identical fleet
	Speed       float64       // simulated-time factor; default 1
	Token       string        // "" accepts any non-empty token; else only this one
	FaultRate   float64       // fraction of mutating calls answered 500 before doing anything
	Latency     time.Duration // extra real latency added to every request
	NoRateLimit bool
	// ForeignToken is a valid token of another organization: the Machines
	// API answers it 403 on this app.
	ForeignToken string
	Deploying    bool // old-image machines keep moving to the target, like a running immediate deploy

	// TargetBehavior is how the deploy target (TargetImage) behaves, for
	// updates from now on and, consistently, for the machines the scenario
	// already shows on it (see buildScenario). bad-release implies
	// ImageFailsChecks unless another non-OK behaviour is given.
	TargetBehavior ImageBehavior
	// LostAnswerRate: fraction of successful mutating calls that are applied
	// and then answered by closing the connection without a byte.
	LostAnswerRate float64
	// AppliedErrorRate: fraction of successful mutating calls that are
	// applied and then answered 500 (a gateway failing after forwarding).
	AppliedErrorRate float64
	// Outage starts at construction and lasts OutageFor real time (<= 0:
	// until SetOutage(OutageNone, 0)).
	Outage    OutageMode
	OutageFor time.Duration
	// EchoAuth makes every API error message quote the request's
	// Authorization header, as some gateways do.
	EchoAuth bool
	// Leases are held by other operators from the start (see HeldLease).
	Leases []HeldLease

	// Autoscaler runs an actor like fly-autoscaler on the worker_autoscale
	// group every AutoscalerEvery (simulated; default 5 s): see autoscaler.
	Autoscaler      bool
	AutoscalerEvery time.Duration
	// AutoscalerBurst is how far above its starting count the autoscaler
	// takes the group before it destroys its clones again; default 3.
	AutoscalerBurst int
	// Teammate, when > 0, is a teammate with plain flyctl who updates one
	// started, unleased, off-target machine to the target image every
	// Teammate (simulated), as ChangeOutside does.
	Teammate time.Duration
}

// MachineFault is a per-machine misbehaviour injected by tests or scenarios.
type MachineFault int

const (
	FaultNone   MachineFault = iota
	FaultStuck               // never leaves its transitional state; only a forced destroy removes it
	FaultRevert              // its next update reverts
)

// MachineView is a copy of one machine's live state, for assertions.
type MachineView struct {
	ID, Name, State, Region, Group, Image, InstanceID string
	Env, Metadata                                     map[string]string
	ChecksPassing                                     bool
	Destroyed                                         bool
	LeaseOwner, LeaseDescription                      string
	Fault                                             MachineFault // what the scenario or a test injected
	// ChangedBy is the actor behind the machine's latest create, update
	// or destroy when no API client made it: ActorAutoscaler,
	// ActorOutside, ActorTeammate or ActorDeploy; "" for the scenario and
	// API clients. The API itself cannot tell them apart (see actors.go).
	ChangedBy string
}

// ReleaseView is one release of the app's history.
type ReleaseView struct {
	Version   int
	ID        string
	Image     string
	Status    string
	CreatedAt time.Time
}

// Sim is the fake API. All methods are safe for concurrent use.
type Sim struct {
	mu sync.Mutex
	muxState

	app   string
	opts  Options
	epoch time.Time // real time at which simulated time equals real time
	speed float64
	rng   *rand.Rand

	machines map[string]*machine
	order    []string // machine IDs sorted, so lists are stable
	releases []*release
	target   *release // newest release: what the deploy is rolling out
	previous *release
	deploy   *deployRun // Options.Deploying; nil otherwise
	auto     *autoscaler

	images map[string]ImageBehavior
	queue  stepQueue
	seq    uint64
	// changed is closed and replaced whenever any machine changes, so
	// waiters block without polling.
	changed chan struct{}

	faultRate   float64
	lostRate    float64 // Options.LostAnswerRate
	appliedRate float64 // Options.AppliedErrorRate
	echoAuth    bool
	outage      outage
	rateLimit   bool
	throttled   bool // every Machines API request is refused with 429
	latency     time.Duration
	limiter     *limiter
	stats       stats
	unavailable map[string]int // process group -> machines not started (destroyed excluded)
	builds      int64          // build records flyctl asked for (POST /api/v1/builds)
	logs        logBook
}

// Scenarios lists the valid Options.Scenario values.
var Scenarios = []string{"healthy", "total-failure", "minority", "majority", "stuck", "bad-release"}

// New builds a deterministic fleet for opts.
func New(opts Options) (*Sim, error) {
	if opts.App == "" {
		opts.App = "demo-app"
	}
	if opts.Scenario == "" {
		opts.Scenario = "majority"
	}
	if opts.Machines == 0 {
		opts.Machines = 500
	}
	if opts.Machines < 0 {
		return nil, fmt.Errorf("flysim: machines must be >= 0, got %d", opts.Machines)
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Speed == 0 {
		opts.Speed = 1
	}
	if opts.Speed < 0 {
		return nil, fmt.Errorf("flysim: speed must be > 0, got %g", opts.Speed)
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"fault rate", opts.FaultRate}, {"lost answer rate", opts.LostAnswerRate}, {"applied error rate", opts.AppliedErrorRate}} {
		if r.v < 0 || r.v > 1 {
			return nil, fmt.Errorf("flysim: %s must be within [0,1], got %g", r.name, r.v)
		}
	}
	if opts.TargetBehavior < ImageOK || opts.TargetBehavior > ImageFailsStart {
		return nil, fmt.Errorf("flysim: unknown target behavior %d", opts.TargetBehavior)
	}
	if opts.AutoscalerEvery < 0 || opts.AutoscalerBurst < 0 || opts.Teammate < 0 {
		return nil, fmt.Errorf("flysim: autoscaler period, autoscaler burst and teammate period must be >= 0")
	}
	if opts.AutoscalerEvery == 0 {
		opts.AutoscalerEvery = 5 * time.Second
	}
	if opts.AutoscalerBurst == 0 {
		opts.AutoscalerBurst = 3
	}
	if opts.Outage < OutageNone || opts.Outage > OutageDrip {
		return nil, fmt.Errorf("flysim: unknown outage mode %d", opts.Outage)
	}
	valid := false
	for _, sc := range Scenarios {
		valid = valid || sc == opts.Scenario
	}
	if !valid {
		return nil, fmt.Errorf("flysim: unknown scenario %q (valid: %s)", opts.Scenario, strings.Join(Scenarios, ", "))
	}
	s := &Sim{
		app:         opts.App,
		opts:        opts,
		epoch:       time.Now(),
		speed:       opts.Speed,
		rng:         rand.New(rand.NewPCG(uint64(opts.Seed), 0x5eed)),
		machines:    make(map[string]*machine, opts.Machines),
		images:      map[string]ImageBehavior{},
		changed:     make(chan struct{}),
		faultRate:   opts.FaultRate,
		lostRate:    opts.LostAnswerRate,
		appliedRate: opts.AppliedErrorRate,
		echoAuth:    opts.EchoAuth,
		outage:      outage{changed: make(chan struct{})},
		rateLimit:   !opts.NoRateLimit,
		latency:     opts.Latency,
		limiter:     newLimiter(),
		unavailable: map[string]int{},
	}
	s.stats.reset()
	buildScenario(s)
	if err := s.placeLeases(opts.Leases); err != nil {
		return nil, err
	}
	s.recountUnavailable()
	// A fresh sim counts its starting fleet as the first "moment".
	s.stats.peak = map[string]int{}
	for g, n := range s.unavailable {
		s.stats.peak[g] = n
	}
	s.settleDeployLocked() // a deploy with nothing to move is complete at once
	s.startActors()
	if opts.Outage != OutageNone {
		s.SetOutage(opts.Outage, opts.OutageFor)
	}
	return s, nil
}

// simNow is the simulated clock.
func (s *Sim) simNow() time.Time {
	return s.epoch.Add(time.Duration(float64(time.Since(s.epoch)) * s.speed))
}

// realAt maps a simulated instant back to wall-clock time (for timestamps).
func (s *Sim) realAt(sim time.Time) time.Time {
	return s.epoch.Add(time.Duration(float64(sim.Sub(s.epoch)) / s.speed))
}

// realDuration converts a simulated duration into the real time it takes.
func (s *Sim) realDuration(d time.Duration) time.Duration {
	return time.Duration(float64(d) / s.speed)
}

// notifyLocked wakes every waiter; callers hold s.mu.
func (s *Sim) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// App returns the app name the sim serves.
func (s *Sim) App() string { return s.app }

// TargetImage is the image of the newest release (the deploy target).
func (s *Sim) TargetImage() string { return s.target.image }

// PreviousImage is the image of the last good release before the target.
func (s *Sim) PreviousImage() string { return s.previous.image }

// Releases returns the release history, newest first.
func (s *Sim) Releases() []ReleaseView {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked() // a deploy's status follows its machines
	out := make([]ReleaseView, 0, len(s.releases))
	for i := len(s.releases) - 1; i >= 0; i-- {
		r := s.releases[i]
		out = append(out, releaseView(r))
	}
	return out
}

// Machines returns a copy of every machine (destroyed ones too), sorted by ID.
func (s *Sim) Machines() []MachineView {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	out := make([]MachineView, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.viewLocked(s.machines[id]))
	}
	return out
}

// Machine returns one machine's state.
func (s *Sim) Machine(id string) (MachineView, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	m, ok := s.machines[id]
	if !ok {
		return MachineView{}, false
	}
	return s.viewLocked(m), true
}

func (s *Sim) viewLocked(m *machine) MachineView {
	v := MachineView{
		ID: m.id, Name: m.name, State: m.state, Region: m.region, Group: m.group(),
		Image: m.cfg.Image, InstanceID: m.instanceID,
		Env: copyMap(m.cfg.Env), Metadata: copyMap(m.cfg.Metadata),
		ChecksPassing: m.checksPassing, Destroyed: m.state == stateDestroyed, Fault: m.fault, ChangedBy: m.changedBy,
	}
	if l := m.activeLease(time.Now()); l != nil {
		v.LeaseOwner, v.LeaseDescription = l.owner, l.description
	}
	return v
}

// HoldLease makes owner hold machineID's lease for ttl (real time), as
// another operator or a crashed deploy would; HoldLeases adds a description.
func (s *Sim) HoldLease(machineID, owner string, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.holdLeaseLocked(machineID, owner, "", ttl)
}

// Unavailable returns process group -> machines currently not started
// (destroyed ones excluded): the live value PeakUnavailable is the maximum of.
func (s *Sim) Unavailable() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	out := map[string]int{}
	for g, n := range s.unavailable {
		if n != 0 {
			out[g] = n
		}
	}
	return out
}

// SetMachineFault injects f into one machine.
func (s *Sim) SetMachineFault(machineID string, f MachineFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.machines[machineID]; ok {
		m.fault = f
	}
}

// SetFaultRate changes the fraction of mutating calls answered 500.
func (s *Sim) SetFaultRate(f float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faultRate = f
}

// SetRateLimit switches the documented rate limits on or off.
func (s *Sim) SetRateLimit(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimit = on
}

// SetThrottled makes every Machines API request answer 429, as when the
// org's rate limit is exhausted by something else (a script polling in a
// loop, another dashboard), until it is switched off.
func (s *Sim) SetThrottled(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttled = on
}

// SetLatency changes the extra real latency added to every request.
func (s *Sim) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// addMachineLocked registers m and keeps s.order sorted.
func (s *Sim) addMachineLocked(m *machine) {
	s.machines[m.id] = m
	i := sort.SearchStrings(s.order, m.id)
	s.order = append(s.order, "")
	copy(s.order[i+1:], s.order[i:])
	s.order[i] = m.id
}

// imageBehaviorLocked: a digest-pinned image (a clone's) behaves as its base image.
func (s *Sim) imageBehaviorLocked(image string) ImageBehavior { return s.images[baseImage(image)] }

// schedule queues a transition for m after the simulated duration d.
func (s *Sim) schedule(m *machine, d time.Duration, st step) {
	s.seq++
	heap.Push(&s.queue, &queued{at: s.simNow().Add(d), seq: s.seq, m: m, gen: m.gen, st: st})
}

func copyMap(in map[string]string) map[string]string {
	if in == nil {
		return nil
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}
