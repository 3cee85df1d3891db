package flysim

import (
	"container/heap"
	"encoding/json"
	"time"
)

// Realistic durations at Speed 1 (simulated time). flyd takes seconds to pull
// and boot a new version; checks need a few intervals before they pass.
const (
	launchToStarting = 1 * time.Second
	startDuration    = 2 * time.Second
	updateDuration   = 8 * time.Second
	stopDuration     = 3 * time.Second
	restartDuration  = 4 * time.Second
	suspendDuration  = 2 * time.Second
	destroyDuration  = 2 * time.Second
	checksDelay      = 5 * time.Second
)

type stepKind int

const (
	stepState      stepKind = iota // move to step.state, then maybe chain
	stepUpdateDone                 // an update's new version boots (or fails, or reverts)
	stepChecks                     // health checks settle after a start
	stepDeploy                     // Options.Deploying: the deploy reaches this machine
)

type step struct {
	kind             stepKind
	state            string
	evType, evStatus string
	force            bool     // applies even to a FaultStuck machine (forced destroy)
	exit             exitInfo // evType "exit": how the process ended
	launch           bool     // stepUpdateDone: boot the new version
	then             *step
	thenAfter        time.Duration
}

// queued is a machine's transition, or (m nil) an actor's periodic turn.
type queued struct {
	at    time.Time // simulated
	seq   uint64
	m     *machine
	gen   uint64
	st    step
	actor actorKind
}

// stepQueue is a min-heap on (at, seq): transitions apply in time order, so
// peak_unavailable sees the same moments a real fleet would.
type stepQueue []*queued

func (q stepQueue) Len() int { return len(q) }
func (q stepQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q stepQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *stepQueue) Push(x any)   { *q = append(*q, x.(*queued)) }
func (q *stepQueue) Pop() any {
	old := *q
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return it
}

// advanceLocked applies every transition that is due on the simulated clock.
// Transitions are applied lazily (on each request and wait wake-up) instead of
// by a background goroutine, so a Sim needs no Close.
func (s *Sim) advanceLocked() {
	now := s.simNow()
	applied := false
	for s.queue.Len() > 0 && !s.queue[0].at.After(now) {
		q := heap.Pop(&s.queue).(*queued)
		if q.actor != actorNone {
			s.actorTickLocked(q)
			applied = true
			continue
		}
		// A step superseded by a later operation, or one a wedged machine
		// never finishes, is dropped.
		live := q.gen == q.m.gen && q.m.state != stateDestroyed && (q.m.fault != FaultStuck || q.st.force)
		if live {
			s.applyLocked(q)
			applied = true
		}
		s.deployPoppedLocked(q, live)
		s.settleDeployLocked()
	}
	if applied {
		s.notifyLocked()
	}
}

// nextDueLocked is the real time of the next queued transition (zero if none).
func (s *Sim) nextDueLocked() time.Time {
	if s.queue.Len() == 0 {
		return time.Time{}
	}
	return s.realAt(s.queue[0].at)
}

func (s *Sim) applyLocked(q *queued) {
	m, st := q.m, q.st
	at := s.realAt(q.at)
	switch st.kind {
	case stepState:
		s.setStateLocked(m, st.state, at)
		if st.evType != "" {
			s.eventLocked(m, at, st.evType, st.evStatus, "flyd", &st.exit)
		}
		if st.state == stateDestroyed {
			m.lease = nil
		}
		if st.state == stateStarted {
			s.scheduleAt(m, q.at, checksDelay, step{kind: stepChecks})
			if m.isJob() {
				s.jobStartedLocked(m, q.at)
			}
		}
		if st.then != nil {
			s.scheduleAt(m, q.at, st.thenAfter, *st.then)
		}
	case stepUpdateDone:
		s.finishUpdateLocked(m, q.at, st.launch)
	case stepChecks:
		if m.state == stateStarted {
			s.setChecksLocked(m, s.imageBehaviorLocked(m.cfg.Image) != ImageFailsChecks, at, true)
		}
	case stepDeploy:
		s.deployStepLocked(m, q.at)
	}
	m.touch()
}

func checkOutput(passing bool) string {
	if passing {
		return "Success"
	}
	return "GET /health: 500 Internal Server Error"
}

func (s *Sim) scheduleAt(m *machine, from time.Time, d time.Duration, st step) {
	s.seq++
	heap.Push(&s.queue, &queued{at: from.Add(d), seq: s.seq, m: m, gen: m.gen, st: st})
}

// unavailableState: not serving, for peak_unavailable (destroyed ones are gone).
func unavailableState(state string) bool { return state != stateStarted && state != stateDestroyed }

// setStateLocked is the only place states change, so unavailable counts and
// the per-group peak stay exact.
func (s *Sim) setStateLocked(m *machine, state string, at time.Time) {
	if m.state == state {
		return
	}
	s.uncountLocked(m)
	m.state = state
	s.countLocked(m)
	m.updatedAt = at
	if state != stateStarted && m.checksPassing {
		m.checksPassing = false
		m.checksOutput = "connect: connection refused"
		m.checksAt = at
	}
	m.touch()
}

func (s *Sim) uncountLocked(m *machine) {
	if unavailableState(m.state) {
		s.unavailable[m.group()]--
	}
}

func (s *Sim) countLocked(m *machine) {
	if unavailableState(m.state) {
		g := m.group()
		s.unavailable[g]++
		if s.unavailable[g] > s.stats.peak[g] {
			s.stats.peak[g] = s.unavailable[g]
		}
	}
}

func (s *Sim) recountUnavailable() {
	s.unavailable = map[string]int{}
	for _, m := range s.machines {
		if unavailableState(m.state) {
			s.unavailable[m.group()]++
		}
	}
}

// eventLocked records one of m's events and the log lines it tells. An
// "exit" event carries how the process ended (exit; nil is a clean exit);
// exit is ignored for other types.
func (s *Sim) eventLocked(m *machine, at time.Time, typ, status, source string, exit *exitInfo) {
	var req json.RawMessage
	if typ == "exit" {
		if exit == nil {
			exit = &exitJobDone
		}
		req = exit.request(at)
	} else {
		exit = nil
	}
	m.addEvent(event{ID: s.newInstanceID(), Type: typ, Status: status, Source: source, Timestamp: at.UnixMilli(), Request: req})
	s.logEventLocked(m, at, typ, status, exit)
	m.touch()
}

// setChecksLocked settles m's health checks at at: their first result
// after a boot (fresh) or a change; the logs tell it.
func (s *Sim) setChecksLocked(m *machine, passing bool, at time.Time, fresh bool) {
	was := m.checksPassing
	m.checksPassing, m.checksOutput, m.checksAt = passing, checkOutput(passing), at
	s.logChecksLocked(m, at, fresh, was)
	m.touch()
}

// beginUpdateLocked swaps in a new version and starts replacing it at
// simAt, keeping the old version so flyd-style reverts can restore it.
// Timing from simAt, not from whenever the queue is drained, keeps a lazily
// applied deploy step from stretching its update (and peak_unavailable).
func (s *Sim) beginUpdateLocked(m *machine, cfg machineConfig, skipLaunch bool, source string, simAt time.Time) {
	now := s.realAt(simAt)
	m.gen++
	m.prevCfg, m.prevRef, m.prevInstanceID, m.prevState = m.cfg, m.ref, m.instanceID, m.state
	s.uncountLocked(m)
	m.cfg = cfg
	m.ref = s.refForImage(cfg.Image)
	m.instanceID = s.newInstanceID()
	s.countLocked(m) // re-enter under a possibly new process group
	s.setStateLocked(m, stateReplacing, now)
	s.eventLocked(m, now, "update", "replacing", source, nil)
	launch := !skipLaunch && m.prevState != stateStopped && m.prevState != stateSuspended
	s.scheduleAt(m, simAt, updateDuration, step{kind: stepUpdateDone, launch: launch})
}

func (s *Sim) finishUpdateLocked(m *machine, simAt time.Time, launch bool) {
	at := s.realAt(simAt)
	behavior := s.imageBehaviorLocked(m.cfg.Image)
	switch {
	case m.fault == FaultRevert || behavior == ImageReverts:
		// flyd could not bring the new version up and put the old one back:
		// the machine looks healthy but runs the old image (PR #4921).
		if m.fault == FaultRevert {
			m.fault = FaultNone
		}
		s.uncountLocked(m)
		m.cfg, m.ref, m.instanceID = m.prevCfg, m.prevRef, m.prevInstanceID
		s.countLocked(m)
		s.eventLocked(m, at, "update", "reverted", "flyd", nil)
		back := m.prevState
		if back != stateStopped && back != stateSuspended {
			back = stateStarted
		}
		s.setStateLocked(m, back, at)
		if back == stateStarted {
			s.eventLocked(m, at, "start", "started", "flyd", nil)
			s.scheduleAt(m, simAt, checksDelay, step{kind: stepChecks})
		}
	case !launch:
		s.setStateLocked(m, stateStopped, at)
		s.eventLocked(m, at, "update", "stopped", "flyd", nil)
	case behavior == ImageFailsStart:
		s.setStateLocked(m, stateFailed, at)
		s.crashLoopLocked(m, s.realAt(simAt.Add(-updateDuration/2)), at)
	default:
		s.setStateLocked(m, stateStarted, at)
		s.eventLocked(m, at, "start", "started", "flyd", nil)
		s.scheduleAt(m, simAt, checksDelay, step{kind: stepChecks})
	}
}

// deployStepLocked is the background deploy of Options.Deploying reaching m.
// Like flyctl it skips machines someone else holds a lease on.
// It rolls out its own release even after CreateRelease put a newer one on
// top, and stops once that release is no longer running.
func (s *Sim) deployStepLocked(m *machine, simAt time.Time) {
	rel := s.deploy.rel
	if rel.status != ReleaseRunning || baseImage(m.cfg.Image) == rel.image || m.activeLease(time.Now()) != nil {
		return
	}
	if m.state != stateStarted && m.state != stateStopped {
		return
	}
	cfg := m.cfg.clone()
	s.applyRelease(&cfg, rel)
	s.beginUpdateLocked(m, cfg, false, "user", simAt)
	m.changedBy = ActorDeploy
	s.deploy.awaiting[m.id] = m.gen
	s.stats.actor[DeployUpdated]++
}
