package flysim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"
)

var okBody = map[string]bool{"ok": true}

func notFromState(action, state string) string {
	return fmt.Sprintf("failed_precondition: unable to %s machine from current state: %s", action, state)
}

// beginLocked moves m into a transitional state now, with flyd's event,
// and schedules where it ends up after d (simulated).
func (s *Sim) beginLocked(m *machine, transitional, evType string, d time.Duration, end step) {
	m.gen++
	now := time.Now()
	s.setStateLocked(m, transitional, now)
	s.eventLocked(m, now, evType, transitional, "user", nil)
	s.schedule(m, d, end)
}

// acceptedLocked counts the mutation, wakes waiters and answers 200 ok.
func (s *Sim) acceptedLocked(w http.ResponseWriter, m *machine) {
	s.mutatedLocked(m.id)
	s.notifyLocked()
	writeJSON(w, http.StatusOK, okBody)
}

// mutableLocked resolves a live machine the caller may change, answering
// 404/409 itself otherwise.
func (s *Sim) mutableLocked(w http.ResponseWriter, r *http.Request) *machine {
	m := s.machineLocked(w, r, true)
	if m == nil || s.leaseBlocksLocked(w, r, m) {
		return nil
	}
	return m
}

func (s *Sim) handleStart(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.mutableLocked(w, r)
	if m == nil {
		return
	}
	prev := m.state
	switch prev {
	case stateStarted:
		// Starting a started machine is a no-op, as on the real API.
	case stateStopped, stateSuspended, stateCreated, stateFailed:
		m.gen++
		s.setStateLocked(m, stateStarting, time.Now())
		s.schedule(m, startDuration, step{kind: stepState, state: stateStarted, evType: "start", evStatus: "started"})
	default:
		// flyd's wording (seen in hexclave PR #2060) for e.g. replacing.
		writeError(w, http.StatusPreconditionFailed, "unable to start machine from current state: "+prev)
		return
	}
	s.mutatedLocked(m.id)
	s.notifyLocked()
	writeJSON(w, http.StatusOK, map[string]any{"previous_state": prev, "migrated": false, "new_host": ""})
}

func (s *Sim) handleStop(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Signal  string `json:"signal"`
		Timeout any    `json:"timeout"`
	}
	if r.ContentLength != 0 {
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			writeError(w, http.StatusBadRequest, "invalid_argument: could not decode request body: "+err.Error())
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.mutableLocked(w, r)
	if m == nil {
		return
	}
	if m.fault == FaultStuck {
		// A wedged machine accepts the stop and then ignores it.
		s.mutatedLocked(m.id)
		writeJSON(w, http.StatusOK, okBody)
		return
	}
	switch m.state {
	case stateStopped, stateSuspended, stateCreated:
	case stateStarted, stateStarting, stateFailed, stateRestarting:
		s.beginLocked(m, stateStopping, "stop", stopDuration, step{kind: stepState, state: stateStopped, evType: "exit", evStatus: "stopped", exit: exitRequested})
	default:
		writeError(w, http.StatusPreconditionFailed, notFromState("stop", m.state))
		return
	}
	s.acceptedLocked(w, m)
}

// transition is a lifecycle call that takes a machine in one of the from
// states through transitional to end, or answers 412 from any other state.
type transition struct {
	verb, transitional string
	from               []string
	took               time.Duration
	end                step
}

var (
	restartTransition = transition{verb: "restart", transitional: stateRestarting, from: []string{stateStarted, stateFailed},
		took: restartDuration, end: step{kind: stepState, state: stateStarted, evType: "start", evStatus: "started"}}
	suspendTransition = transition{verb: "suspend", transitional: stateSuspending, from: []string{stateStarted},
		took: suspendDuration, end: step{kind: stepState, state: stateSuspended, evType: "suspend", evStatus: "suspended"}}
)

func (s *Sim) handleTransition(t transition) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		m := s.mutableLocked(w, r)
		if m == nil {
			return
		}
		if !slices.Contains(t.from, m.state) {
			writeError(w, http.StatusPreconditionFailed, notFromState(t.verb, m.state))
			return
		}
		s.beginLocked(m, t.transitional, t.verb, t.took, t.end)
		s.acceptedLocked(w, m)
	}
}

func (s *Sim) handleCordon(on bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		m := s.mutableLocked(w, r)
		if m == nil {
			return
		}
		m.cordoned = on
		typ := "uncordon"
		if on {
			typ = "cordon"
		}
		s.eventLocked(m, time.Now(), typ, m.state, "user", nil)
		s.mutatedLocked(m.id)
		writeJSON(w, http.StatusOK, okBody)
	}
}

// handleSignal: fly-go's Kill sends {"signal":9}; a killed machine exits.
func (s *Sim) handleSignal(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Signal json.RawMessage `json:"signal"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || len(in.Signal) == 0 {
		writeError(w, http.StatusBadRequest, "invalid_argument: signal is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.machineLocked(w, r, true) // fly-go's Kill cannot send a nonce
	if m == nil {
		return
	}
	sig := string(in.Signal)
	if (sig == "9" || sig == `"SIGKILL"`) && m.state == stateStarted && m.fault != FaultStuck {
		m.gen++
		now := time.Now()
		s.setStateLocked(m, stateStopped, now)
		s.eventLocked(m, now, "exit", "stopped", "flyd", &exitKilled)
		s.notifyLocked()
	}
	s.mutatedLocked(m.id)
	writeJSON(w, http.StatusOK, okBody)
}

// handleDestroy: without kill/force only non-running machines may go
// (flyctl: "either stop first or use --force flag"); a forced destroy removes
// even a wedged machine.
func (s *Sim) handleDestroy(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	force := q.Get("kill") == "true" || q.Get("force") == "true"
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.mutableLocked(w, r)
	if m == nil {
		return
	}
	switch m.state {
	case stateStopped, stateSuspended, stateCreated, stateFailed:
	case stateDestroying:
		if !force || m.fault != FaultStuck {
			writeJSON(w, http.StatusOK, okBody)
			return
		}
		// Wedged in destroying: only a kill ends it.
	default:
		if !force {
			writeError(w, http.StatusPreconditionFailed, fmt.Sprintf(
				"failed_precondition: machine %s is %s; stop it first or destroy with kill=true", m.id, m.state))
			return
		}
	}
	// A wedged machine (FaultStuck) stays in destroying unless killed.
	s.beginLocked(m, stateDestroying, "destroy", destroyDuration, step{kind: stepState, state: stateDestroyed, evType: "destroy", evStatus: "destroyed", force: force || m.fault != FaultStuck})
	m.changedBy = ""
	s.acceptedLocked(w, m)
}

func (s *Sim) handlePs(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	m := s.machineLocked(w, r, true)
	var state string
	if m != nil {
		state = m.state
	}
	s.mu.Unlock()
	if m == nil {
		return
	}
	ps := []map[string]any{}
	if state == stateStarted {
		ps = append(ps, map[string]any{"pid": 1, "stime": 12, "rtime": 3400, "command": "/.fly/init", "directory": "/",
			"cpu": 120, "rss": 9000, "listen_sockets": []map[string]string{}},
			map[string]any{"pid": 312, "stime": 90, "rtime": 3300, "command": "ruby app", "directory": "/app",
				"cpu": 5200, "rss": 412000, "listen_sockets": []map[string]string{{"proto": "tcp", "address": "0.0.0.0:8080"}}})
	}
	writeJSON(w, http.StatusOK, ps)
}

func (s *Sim) handleGetMetadata(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	m := s.machineLocked(w, r, true)
	var md map[string]string
	if m != nil {
		md = copyMap(m.cfg.Metadata)
	}
	s.mu.Unlock()
	if m == nil {
		return
	}
	if md == nil {
		md = map[string]string{}
	}
	writeJSON(w, http.StatusOK, md)
}

func (s *Sim) handleSetMetadata(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Value string `json:"value"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_argument: could not decode request body: "+err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.machineLocked(w, r, true)
	if m == nil {
		return
	}
	s.uncountLocked(m) // fly_process_group may change
	m.cfg.Metadata = copyMap(m.cfg.Metadata)
	if m.cfg.Metadata == nil {
		m.cfg.Metadata = map[string]string{}
	}
	m.cfg.Metadata[r.PathValue("key")] = in.Value
	s.countLocked(m)
	m.touch()
	s.mutatedLocked(m.id)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNoContent)
}

func (s *Sim) handleDeleteMetadata(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.machineLocked(w, r, true)
	if m == nil {
		return
	}
	s.uncountLocked(m)
	m.cfg.Metadata = copyMap(m.cfg.Metadata)
	delete(m.cfg.Metadata, r.PathValue("key"))
	s.countLocked(m)
	m.touch()
	s.mutatedLocked(m.id)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNoContent)
}
