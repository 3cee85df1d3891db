package flysim

import (
	"container/heap"
	"fmt"
	"time"
)

// Actors other than API clients: an autoscaler like fly-autoscaler, a
// teammate with plain flyctl or a CI job (ChangeOutside, CreateOutside,
// DestroyOutside, Options.Teammate) and the running deploy of
// Options.Deploying. Each of them would call the Machines API with its own
// token, so, as on the real API, their events have source "user" (and
// flyd's for the transitions that follow), exactly like any client's:
// nothing on the wire says who it was. fly-autoscaler sets no metadata
// marker either: it launches a verbatim copy of the first machine's config
// (superfly/fly-autoscaler, reconciler.go). Only the sim knows: their
// changes count in Stats.ActorChanges, never in MutationsPerMachine (what
// clients did), and MachineView.ChangedBy names the actor.

// Values of MachineView.ChangedBy.
const (
	ActorAutoscaler = "autoscaler"
	ActorOutside    = "outside"
	ActorTeammate   = "teammate"
	ActorDeploy     = "deploy"
)

// Keys of Stats.ActorChanges.
const (
	AutoscalerCreated   = "autoscaler_created"
	AutoscalerDestroyed = "autoscaler_destroyed"
	OutsideCreated      = "outside_created"
	OutsideUpdated      = "outside_updated"
	OutsideDestroyed    = "outside_destroyed"
	TeammateUpdated     = "teammate_updated"
	DeployUpdated       = "deploy_updated"
)

// AutoscaleGroup is the process group the autoscaler manages.
const AutoscaleGroup = "worker_autoscale"

type actorKind int

const (
	actorNone actorKind = iota
	actorAutoscaler
	actorTeammate
)

// autoscaler is a load that comes and goes: each turn it either clones the
// first machine of AutoscaleGroup (in ID order, whatever its image: after a
// deploy or a rollback that can be the old one, the realistic hazard) into a
// new machine, until the group is AutoscalerBurst above its starting count,
// or destroys the newest machine it created (by force, as fly-autoscaler
// does, skipping any someone holds a lease on) until the group is back at
// its starting count; then it turns round. Below its starting count (an
// operator destroyed some) it creates, as fly-autoscaler's minimum does. Like
// fly-autoscaler it does nothing while the current release is running, and
// takes no leases.
type autoscaler struct {
	min, max int
	growing  bool
	clones   []string // machines it created, oldest first
}

func (s *Sim) startActors() {
	if s.opts.Autoscaler {
		n := 0
		for _, m := range s.machines {
			if m.group() == AutoscaleGroup && liveState(m.state) {
				n++
			}
		}
		s.auto = &autoscaler{min: n, max: n + s.opts.AutoscalerBurst, growing: true}
		s.scheduleActor(actorAutoscaler, s.simNow().Add(s.opts.AutoscalerEvery))
	}
	if s.opts.Teammate > 0 {
		s.scheduleActor(actorTeammate, s.simNow().Add(s.opts.Teammate))
	}
}

func (s *Sim) scheduleActor(a actorKind, at time.Time) {
	s.seq++
	heap.Push(&s.queue, &queued{at: at, seq: s.seq, actor: a})
}

func liveState(state string) bool { return state != stateDestroyed && state != stateDestroying }

// actorTickLocked runs one actor's turn and queues its next. Turns missed
// while nobody looked are dropped, as a time.Ticker drops ticks, so a sim
// left alone for hours does not replay thousands of them at once.
func (s *Sim) actorTickLocked(q *queued) {
	every := s.opts.Teammate
	switch q.actor {
	case actorAutoscaler:
		every = s.opts.AutoscalerEvery
		s.autoscaleLocked(q.at)
	case actorTeammate:
		s.teammateLocked(q.at)
	}
	next := q.at.Add(every)
	if now := s.simNow(); next.Add(every).Before(now) {
		next = now
	}
	s.scheduleActor(q.actor, next)
}

func (s *Sim) autoscaleLocked(simAt time.Time) {
	if s.target.status == ReleaseRunning {
		return // fly-autoscaler: "release in progress, skipping reconciliation"
	}
	a := s.auto
	var first *machine
	n := 0
	for _, id := range s.order {
		m := s.machines[id]
		if m.group() != AutoscaleGroup || !liveState(m.state) {
			continue
		}
		if first == nil {
			first = m
		}
		n++
	}
	var victim *machine
	now := time.Now()
	kept := a.clones[:0]
	for _, id := range a.clones {
		if m := s.machines[id]; liveState(m.state) {
			kept = append(kept, id)
		}
	}
	a.clones = kept
	for i := len(a.clones) - 1; i >= 0 && victim == nil; i-- {
		if m := s.machines[a.clones[i]]; m.activeLease(now) == nil {
			victim = m
		}
	}
	if n >= a.max {
		a.growing = false
	}
	if n <= a.min || victim == nil {
		a.growing = true
	}
	switch {
	case a.growing && n < a.max && first != nil:
		cfg := first.cfg.clone()
		cfg.Image = fullImageRef(first.ref) // what fly-autoscaler's clone asks for
		m := s.createLocked(cfg, first.region, simAt, ActorAutoscaler)
		a.clones = append(a.clones, m.id)
		s.stats.actor[AutoscalerCreated]++
	case !a.growing:
		s.destroyLocked(victim, simAt, ActorAutoscaler)
		s.stats.actor[AutoscalerDestroyed]++
	}
}

// teammateLocked: Options.Teammate updates the first started, unleased
// machine (in ID order) that is not on the current release's image.
func (s *Sim) teammateLocked(simAt time.Time) {
	now := time.Now()
	for _, id := range s.order {
		m := s.machines[id]
		if m.state == stateStarted && baseImage(m.cfg.Image) != s.target.image && m.activeLease(now) == nil {
			if s.changeLocked(m, s.target.image, simAt, ActorTeammate) == nil {
				s.stats.actor[TeammateUpdated]++
			}
			return
		}
	}
}

// fullImageRef is fly-go's Machine.FullImageRef: registry/repository:tag@digest.
func fullImageRef(ref imageRef) string {
	img := ref.Registry + "/" + ref.Repository
	switch {
	case ref.Tag != "" && ref.Digest != "":
		img += ":" + ref.Tag + "@" + ref.Digest
	case ref.Digest != "":
		img += "@" + ref.Digest
	case ref.Tag != "":
		img += ":" + ref.Tag
	}
	return img
}

// ChangeOutside updates machineID to image the way a teammate with plain
// flyctl (fly machine update --image) or a CI job would: the rest of the
// config is kept as it is (release metadata included, so it may name
// another release than the image), the machine gets a new instance ID and
// goes replacing -> started (a stopped one stays stopped). It is refused
// when someone holds the machine's lease, while it is replacing or
// destroying, and when it is gone.
func (s *Sim) ChangeOutside(machineID, image string) error {
	if image == "" {
		return fmt.Errorf("flysim: ChangeOutside needs an image")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.liveMachineLocked(machineID)
	if err != nil {
		return err
	}
	if err := s.changeLocked(m, image, s.simNow(), ActorOutside); err != nil {
		return err
	}
	s.stats.actor[OutsideUpdated]++
	s.notifyLocked()
	return nil
}

func (s *Sim) changeLocked(m *machine, image string, simAt time.Time, actor string) error {
	if l := m.activeLease(time.Now()); l != nil {
		return fmt.Errorf("flysim: %s", heldMessage(m, l))
	}
	switch m.state {
	case stateReplacing:
		return fmt.Errorf("flysim: machine %s: aborted: machine is replacing: concurrent update in progress", m.id)
	case stateDestroying:
		return fmt.Errorf("flysim: machine %s: unable to update machine from current state: destroying", m.id)
	}
	cfg := m.cfg.clone()
	cfg.Image = image
	s.beginUpdateLocked(m, cfg, false, "user", simAt)
	m.changedBy = actor
	return nil
}

// CreateOutside launches a machine in group and region running image, as a
// teammate's fly machine run would: the group's usual config, with the
// release metadata of image's newest release when it has one, else of the
// current release (a CI-built image no release names). An empty region is
// iad, an empty image the current release's. It returns the new ID.
func (s *Sim) CreateOutside(group, region, image string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	if region == "" {
		region = regions[0]
	}
	rel := s.target
	if image == "" {
		image = rel.image
	} else if r := s.newestReleaseOfLocked(baseImage(image)); r != nil {
		rel = r
	}
	cfg := s.baseConfig(group, region, rel)
	cfg.Image = image
	m := s.createLocked(cfg, region, s.simNow(), ActorOutside)
	s.stats.actor[OutsideCreated]++
	s.notifyLocked()
	return m.id
}

// DestroyOutside destroys machineID by force, as a teammate's fly machine
// destroy --force would. It is refused when someone holds the lease and
// when the machine is gone; one already destroying is left to finish.
func (s *Sim) DestroyOutside(machineID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.liveMachineLocked(machineID)
	if err != nil {
		return err
	}
	if l := m.activeLease(time.Now()); l != nil {
		return fmt.Errorf("flysim: %s", heldMessage(m, l))
	}
	if m.state == stateDestroying {
		return nil
	}
	s.destroyLocked(m, s.simNow(), ActorOutside)
	s.stats.actor[OutsideDestroyed]++
	s.notifyLocked()
	return nil
}

func (s *Sim) newestReleaseOfLocked(image string) *release {
	for i := len(s.releases) - 1; i >= 0; i-- {
		if s.releases[i].image == image {
			return s.releases[i]
		}
	}
	return nil
}

// createLocked launches a machine from cfg at simAt: created, starting,
// started, like the API's create without skip_launch; no lease.
func (s *Sim) createLocked(cfg machineConfig, region string, simAt time.Time, actor string) *machine {
	at := s.realAt(simAt)
	m := &machine{
		id: s.newMachineID(), name: s.newName(), region: region, privateIP: s.newPrivateIP(),
		state: stateCreated, cfg: cfg, ref: s.refForImage(cfg.Image), instanceID: s.newInstanceID(),
		createdAt: at, updatedAt: at, checksAt: at, checksOutput: "connect: connection refused", changedBy: actor,
	}
	s.addMachineLocked(m)
	s.countLocked(m)
	s.eventLocked(m, at, "launch", "created", "user", nil)
	started := &step{kind: stepState, state: stateStarted, evType: "start", evStatus: "started"}
	s.scheduleAt(m, simAt, launchToStarting, step{kind: stepState, state: stateStarting, then: started, thenAfter: startDuration})
	return m
}

// destroyLocked is a forced destroy (kill=true) at simAt.
func (s *Sim) destroyLocked(m *machine, simAt time.Time, actor string) {
	at := s.realAt(simAt)
	m.gen++
	s.setStateLocked(m, stateDestroying, at)
	s.eventLocked(m, at, "destroy", stateDestroying, "user", nil)
	s.scheduleAt(m, simAt, destroyDuration, step{kind: stepState, state: stateDestroyed, evType: "destroy", evStatus: "destroyed", force: true})
	m.changedBy = actor
}

// liveMachineLocked is a machine that still exists, for the actors outside
// any client, with the simulated clock brought up to date first.
func (s *Sim) liveMachineLocked(id string) (*machine, error) {
	s.advanceLocked()
	m, ok := s.machines[id]
	if !ok || m.state == stateDestroyed {
		return nil, fmt.Errorf("flysim: machine %s not found", id)
	}
	return m, nil
}
