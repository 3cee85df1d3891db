package flysim

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// handleWait blocks until the machine reaches one of the states (repeated or
// comma-separated state=, default started; "settled" = any non-transient
// state) or the timeout (seconds of simulated time, [1,60]) passes: 408.
// version/instance_id are accepted; a reverted update still satisfies the
// wait, which is exactly the trap of flyctl PR #4921.
func (s *Sim) handleWait(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	want := map[string]bool{}
	for _, v := range q["state"] {
		for _, st := range strings.Split(v, ",") {
			if st = strings.TrimSpace(st); st != "" {
				want[st] = true
			}
		}
	}
	if len(want) == 0 {
		want[stateStarted] = true
	}
	timeout := 60
	if v := q.Get("timeout"); v != "" {
		n, err := strconv.Atoi(strings.TrimSuffix(v, "s"))
		if err != nil || n < 1 || n > 60 {
			writeError(w, http.StatusBadRequest, "invalid_argument: invalid WaitMachineRequest.Timeout: value must be inside range [1s, 1m0s]")
			return
		}
		timeout = n
	}
	deadline := time.Now().Add(s.realDuration(time.Duration(timeout) * time.Second))
	for {
		s.mu.Lock()
		m := s.machineLocked(w, r, false)
		if m == nil {
			s.mu.Unlock()
			return
		}
		state, instance := m.state, m.instanceID
		changed, next := s.changed, s.nextDueLocked()
		s.mu.Unlock()
		if want[state] || want["settled"] && !transient[state] {
			writeJSON(w, http.StatusOK, map[string]any{"ok": true, "state": state, "version": instance})
			return
		}
		wake := deadline
		if !next.IsZero() && next.Before(wake) {
			wake = next
		}
		timer := time.NewTimer(time.Until(wake))
		select {
		case <-changed:
		case <-timer.C:
		case <-r.Context().Done():
			timer.Stop()
			return
		}
		timer.Stop()
		if !time.Now().Before(deadline) {
			s.mu.Lock()
			s.advanceLocked()
			state = s.machines[r.PathValue("id")].state
			s.mu.Unlock()
			if want[state] || want["settled"] && !transient[state] {
				continue // reached right at the deadline: answer 200 above
			}
			writeError(w, http.StatusRequestTimeout, fmt.Sprintf(
				"deadline_exceeded: machine failed to reach desired state, current state: %s", state))
			return
		}
	}
}
