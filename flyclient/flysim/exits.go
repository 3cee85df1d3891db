package flysim

import (
	"encoding/json"
	"time"
)

// How a machine's main process ends, as flyd reports it in "exit" events,
// and the two kinds of machine whose process ends by itself: a new version
// that crashes on boot (crash loop) and a one-off job such as the release
// command (auto_destroy).

// exitInfo is the request of an "exit" event: fly.MachineExitEvent under
// exit_event, and restart_count. flyctl reads them (its smoke check
// dereferences request.exit_event of the newest exit event), so every exit
// event carries one.
type exitInfo struct {
	code          int
	oom           bool
	requestedStop bool
	restarting    bool
	signal        int // -1: the process was not signalled
	restartCount  int
}

var (
	exitRequested = exitInfo{requestedStop: true, signal: -1} // a stop asked for through the API
	exitKilled    = exitInfo{code: 137, signal: 9}            // SIGKILL through the API
	exitJobDone   = exitInfo{signal: -1}                      // a one-off command that finished
)

// exitRequest is the wire form of exitInfo.
type exitRequest struct {
	ExitEvent struct {
		ExitCode      int    `json:"exit_code"`
		GuestExitCode int    `json:"guest_exit_code"`
		GuestSignal   int    `json:"guest_signal"`
		OOMKilled     bool   `json:"oom_killed"`
		RequestedStop bool   `json:"requested_stop"`
		Restarting    bool   `json:"restarting"`
		Signal        int    `json:"signal"`
		ExitedAt      string `json:"exited_at"`
	} `json:"exit_event"`
	RestartCount int `json:"restart_count"`
}

func (e exitInfo) request(at time.Time) json.RawMessage {
	var r exitRequest
	x := &r.ExitEvent
	x.ExitCode, x.GuestExitCode, x.GuestSignal, x.OOMKilled = e.code, e.code, e.signal, e.oom
	x.RequestedStop, x.Restarting, x.Signal = e.requestedStop, e.restarting, e.signal
	x.ExitedAt = at.UTC().Format(time.RFC3339Nano)
	r.RestartCount = e.restartCount
	b, _ := json.Marshal(r)
	return b
}

// crashOf is how m's new version crashes on boot: Sidekiq workers run out
// of memory (killed, 137), the web servers raise at boot (exit 1).
func crashOf(m *machine) exitInfo {
	if m.group() == "worker" || m.group() == AutoscaleGroup {
		return exitInfo{code: 137, oom: true, signal: 9}
	}
	return exitInfo{code: 1, signal: -1}
}

// maxRestarts is how often flyd restarts a crashed process under the
// config's restart policy: on-failure (the default) max_retries times, 10
// unless set; never for "no".
func (c *machineConfig) maxRestarts() int {
	var p struct {
		Policy     string `json:"policy"`
		MaxRetries int    `json:"max_retries"`
	}
	if len(c.Restart) > 0 {
		_ = json.Unmarshal(c.Restart, &p)
	}
	switch {
	case p.Policy == "no":
		return 0
	case p.MaxRetries > 0:
		return p.MaxRetries
	}
	return 10
}

// crashLoopLocked records a version that never stays up between from and
// to: flyd starts it, it crashes, flyd restarts it as its policy allows and
// gives up at to, when the machine fails. The newest exit event says it is
// no longer restarting.
func (s *Sim) crashLoopLocked(m *machine, from, to time.Time) {
	retries := m.cfg.maxRestarts()
	attempts := retries + 1
	gap := to.Sub(from) / time.Duration(2*attempts)
	at := from
	for i := 0; i < attempts; i++ {
		at = at.Add(gap)
		s.eventLocked(m, at, "start", "started", "flyd", nil)
		at = at.Add(gap)
		e := crashOf(m)
		e.restartCount, e.restarting = i, i < retries
		status := stateStopped
		if !e.restarting {
			at, status = to, stateFailed
		}
		s.eventLocked(m, at, "exit", status, "flyd", &e)
	}
}

// jobDuration is how long a one-off command (the release command) runs.
const jobDuration = 4 * time.Second

// isJob: an auto_destroy machine runs one command, exits and is destroyed,
// as flyctl's release command machine does.
func (m *machine) isJob() bool { return m.cfg.AutoDestroy }

// jobStartedLocked queues the end of a job that just started at simAt: it
// exits 0, stops, and auto_destroy removes it.
func (s *Sim) jobStartedLocked(m *machine, simAt time.Time) {
	destroyed := &step{kind: stepState, state: stateDestroyed, evType: "destroy", evStatus: "destroyed", force: true}
	s.scheduleAt(m, simAt, jobDuration, step{kind: stepState, state: stateStopped, evType: "exit", evStatus: stateStopped,
		exit: exitJobDone, then: destroyed, thenAfter: time.Second})
}
