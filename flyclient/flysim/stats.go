package flysim

import "strconv"

// Stats is what GET /_sim/stats reports.
type Stats struct {
	// Requests: "METHOD /route/pattern" -> HTTP status -> count.
	Requests map[string]map[string]int `json:"requests"`
	// MutationsPerMachine: accepted mutating calls per machine (leases excluded).
	MutationsPerMachine map[string]int `json:"mutations_per_machine"`
	RateLimited         int            `json:"rate_limited"`
	LeaseConflicts      int            `json:"lease_conflicts"`
	Faults              int            `json:"faults_injected"`
	// PeakUnavailable: process group -> most machines not started at one moment.
	PeakUnavailable map[string]int `json:"peak_unavailable"`
}

type stats struct {
	requests       map[string]map[string]int
	mutations      map[string]int
	rateLimited    int
	leaseConflicts int
	faults         int
	peak           map[string]int
}

func (st *stats) reset() {
	*st = stats{requests: map[string]map[string]int{}, mutations: map[string]int{}, peak: map[string]int{}}
}

func (s *Sim) recordRequestLocked(route string, status int) {
	byStatus := s.stats.requests[route]
	if byStatus == nil {
		byStatus = map[string]int{}
		s.stats.requests[route] = byStatus
	}
	byStatus[strconv.Itoa(status)]++
	switch status {
	case 429:
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
		PeakUnavailable:     copyIntMap(s.stats.peak),
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
