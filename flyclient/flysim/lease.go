package flysim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// HeldLease is a lease another operator holds on a machine. An empty
// MachineID picks the first started, unleased machine of the previous
// (old) image in ID order, so "any N old machines" is the same N for a seed.
type HeldLease struct {
	MachineID, Owner, Description string
	TTL                           time.Duration // real time; 0 = 24 h, like a stalled deploy's
}

// HoldLeases makes each lease held (see HeldLease) and returns the machines
// leased, in order.
func (s *Sim) HoldLeases(leases ...HeldLease) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	return s.holdLeasesLocked(leases)
}

// placeLeases applies Options.Leases while New builds the sim.
func (s *Sim) placeLeases(leases []HeldLease) error {
	_, err := s.holdLeasesLocked(leases)
	return err
}

func (s *Sim) holdLeasesLocked(leases []HeldLease) ([]string, error) {
	now := time.Now()
	ids := make([]string, 0, len(leases))
	for _, hl := range leases {
		if hl.Owner == "" {
			return ids, fmt.Errorf("flysim: lease on %q needs an owner", hl.MachineID)
		}
		ttl := hl.TTL
		if ttl == 0 {
			ttl = 24 * time.Hour
		}
		id := hl.MachineID
		if id == "" {
			for _, cand := range s.order {
				m := s.machines[cand]
				if m.state == stateStarted && m.cfg.Image == s.previous.image && m.activeLease(now) == nil {
					id = cand
					break
				}
			}
			if id == "" {
				return ids, fmt.Errorf("flysim: no started, unleased machine of the previous image left for %s's lease", hl.Owner)
			}
		}
		if err := s.holdLeaseLocked(id, hl.Owner, hl.Description, ttl); err != nil {
			return ids, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func (s *Sim) holdLeaseLocked(machineID, owner, description string, ttl time.Duration) error {
	m, ok := s.machines[machineID]
	if !ok {
		return fmt.Errorf("flysim: machine %s not found", machineID)
	}
	now := time.Now()
	if l := m.activeLease(now); l != nil && l.owner != owner {
		return fmt.Errorf("flysim: machine %s lease already held by %s", machineID, l.owner)
	}
	m.lease = &lease{nonce: s.hexID(12), owner: owner, description: description, expires: now.Add(ttl)}
	m.touch()
	return nil
}

// defaultLeaseTTL applies when ?ttl= is absent (seconds, real time).
const defaultLeaseTTL = 30

type leaseData struct {
	Nonce       string `json:"nonce"`
	ExpiresAt   int64  `json:"expires_at"`
	Owner       string `json:"owner"`
	Description string `json:"description"`
	Version     string `json:"version"`
}

func leaseBody(m *machine, l *lease) map[string]any {
	return map[string]any{"status": "success", "data": leaseData{
		Nonce: l.nonce, ExpiresAt: l.expires.Unix(), Owner: l.owner, Description: l.description, Version: m.instanceID,
	}}
}

// leaseConflictLocked answers a call that does not hold m's lease the way the
// real API does (409 naming the holder), and counts it.
func (s *Sim) leaseConflictLocked(w http.ResponseWriter, m *machine, l *lease) {
	s.stats.leaseConflicts++
	writeJSON(w, http.StatusConflict, map[string]string{"status": "error", "message": heldMessage(m, l)})
}

// handleGetLease shows the holder and, like the real API (which is what lets
// `fly machine leases clear` work), its nonce.
func (s *Sim) handleGetLease(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, l := s.activeLeaseLocked(w, r); l != nil {
		writeJSON(w, http.StatusOK, leaseBody(m, l))
	}
}

// activeLeaseLocked resolves the machine and its live lease, answering 404
// itself when either is missing.
func (s *Sim) activeLeaseLocked(w http.ResponseWriter, r *http.Request) (*machine, *lease) {
	m := s.machineLocked(w, r, true)
	if m == nil {
		return nil, nil
	}
	l := m.activeLease(time.Now())
	if l == nil {
		writeError(w, http.StatusNotFound, "lease not found")
	}
	return m, l
}

// handleAcquireLease creates (201) or, with the holder's nonce, refreshes
// (200) a lease. fly-go sends the TTL as ?ttl= and no body.
func (s *Sim) handleAcquireLease(w http.ResponseWriter, r *http.Request) {
	ttl := defaultLeaseTTL
	if v := r.URL.Query().Get("ttl"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "invalid_argument: ttl must be a positive number of seconds")
			return
		}
		ttl = n
	}
	// The API's CreateLeaseRequest body: {"description", "ttl"}; fly-go
	// v0.9.3 sends none, flyrescue sends a description.
	var body struct {
		Description string `json:"description"`
		TTL         int    `json:"ttl"`
	}
	if r.ContentLength != 0 {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeError(w, http.StatusBadRequest, "invalid_argument: could not decode request body: "+err.Error())
			return
		}
		if body.TTL > 0 {
			ttl = body.TTL
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.machineLocked(w, r, true)
	if m == nil {
		return
	}
	now := time.Now()
	expires := now.Add(time.Duration(ttl) * time.Second)
	nonce := r.Header.Get("fly-machine-lease-nonce")
	if l := m.activeLease(now); l != nil {
		if nonce != l.nonce {
			s.leaseConflictLocked(w, m, l)
			return
		}
		l.expires = expires
		writeJSON(w, http.StatusOK, leaseBody(m, l))
		return
	}
	m.lease = &lease{nonce: s.hexID(12), owner: leaseOwner, description: body.Description, expires: expires}
	m.touch()
	writeJSON(w, http.StatusCreated, leaseBody(m, m.lease))
}

func (s *Sim) handleReleaseLease(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, l := s.activeLeaseLocked(w, r)
	if l == nil {
		return
	}
	if r.Header.Get("fly-machine-lease-nonce") != l.nonce {
		s.leaseConflictLocked(w, m, l)
		return
	}
	m.lease = nil
	m.touch()
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": okBody})
}
