package flysim

// Stats is what GET /_sim/stats reports.
type Stats struct {
	// Requests: "METHOD /route/pattern" -> HTTP status -> count; requests
	// that got no answer count under "lost" or "outage" instead of a status.
	Requests map[string]map[string]int `json:"requests"`
	// MutationsPerMachine: accepted mutating calls per machine (leases excluded).
	MutationsPerMachine map[string]int `json:"mutations_per_machine"`
	RateLimited         int            `json:"rate_limited"`
	LeaseConflicts      int            `json:"lease_conflicts"`
	Faults              int            `json:"faults_injected"`
	// LostAnswers: applied mutations answered by closing the connection.
	LostAnswers int `json:"lost_answers"`
	// AppliedErrors: applied mutations answered 500.
	AppliedErrors int `json:"applied_errors"`
	// OutageDropped: requests that met an outage (reset, hang or drip).
	OutageDropped int `json:"outage_dropped"`
	// PeakUnavailable: process group -> most machines not started at one moment.
	PeakUnavailable map[string]int `json:"peak_unavailable"`
	// ActorChanges: what actors other than API clients did (keys
	// AutoscalerCreated, AutoscalerDestroyed, OutsideCreated,
	// OutsideUpdated, OutsideDestroyed, TeammateUpdated, DeployUpdated).
	// None of it counts in MutationsPerMachine, which is what clients did.
	ActorChanges map[string]int `json:"actor_changes"`
}

type stats struct {
	requests       map[string]map[string]int
	mutations      map[string]int
	rateLimited    int
	leaseConflicts int
	faults         int
	lostAnswers    int
	appliedErrors  int
	outageDropped  int
	peak           map[string]int
	actor          map[string]int
}

func (st *stats) reset() {
	*st = stats{requests: map[string]map[string]int{}, mutations: map[string]int{}, peak: map[string]int{}, actor: map[string]int{}}
}

func (s *Sim) recordRequestLocked(route, status string) {
	byStatus := s.stats.requests[route]
	if byStatus == nil {
		byStatus = map[string]int{}
		s.stats.requests[route] = byStatus
	}
	byStatus[status]++
	if status == "429" {
		s.stats.rateLimited++
	}
}

// Stats returns a snapshot of the counters.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	out := Stats{
		Requests:            map[string]map[string]int{},
		MutationsPerMachine: copyIntMap(s.stats.mutations),
		RateLimited:         s.stats.rateLimited,
		LeaseConflicts:      s.stats.leaseConflicts,
		Faults:              s.stats.faults,
		LostAnswers:         s.stats.lostAnswers,
		AppliedErrors:       s.stats.appliedErrors,
		OutageDropped:       s.stats.outageDropped,
		PeakUnavailable:     copyIntMap(s.stats.peak),
		ActorChanges:        copyIntMap(s.stats.actor),
	}
	for k, v := range s.stats.requests {
		out.Requests[k] = copyIntMap(v)
	}
	return out
}

// ResetStats zeroes the counters; peak_unavailable restarts from the current count.
func (s *Sim) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	s.stats.reset()
	for g, n := range s.unavailable {
		s.stats.peak[g] = n
	}
}

func copyIntMap[K comparable](in map[K]int) map[K]int {
	out := make(map[K]int, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}
