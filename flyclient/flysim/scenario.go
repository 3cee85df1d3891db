package flysim

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"
)

// Scenarios, modelled on the deploy-recovery runbook. N = Options.Machines.
// Groups by index: web = N*5/10, worker = N*3/10, worker_autoscale = the rest;
// regions round-robin iad, ord, lhr, syd. Releases v58..v62; v62 is the target
// (TargetImage), v61 the previous good one (PreviousImage). Which machine gets
// which role is a seeded shuffle, so it is mixed across groups and regions.
//
//	healthy        N on target, started, checks passing. v62 complete. No leases.
//	total-failure  0 on target; N on previous, started, passing. v62 failed.
//	               N/100 machines leased by deploy-bot@example.com.
//	minority       N/5 on target (started, passing); the rest on previous, started.
//	               v62 failed. N/100 previous-image machines leased by deploy-bot.
//	majority       N*3/4 on target, of which N/50 replacing (N/100 of them stuck
//	               with FaultStuck, newest event 25 min old; the others finish
//	               within 20 s simulated), N/50 failed, N/50 created, the rest
//	               started. N - N*3/4 on previous, started. v62 interrupted.
//	               N/100 previous-image machines leased by deploy-bot.
//	stuck          all on target; N/100 stuck replacing and N/50 - N/100 stuck
//	               stopping (FaultStuck, newest event 20+ min old); the rest
//	               started. v62 complete. No leases.
//	bad-release    N*3/10 on target, started with critical checks (the target
//	               image has ImageFailsChecks); the rest on previous, started,
//	               passing. v62 failed. N/100 previous-image machines leased.
//
// With Options.Deploying, v62 is "running" and every unleased, started,
// previous-image machine is updated to the target over time (one every 1.5 s
// simulated, from 3 s on), like an immediate deploy still in progress, and
// v62 ends complete or failed when the mover is done (see deployRun). Each
// update keeps its machine replacing for 8 s (updateDuration), so the mover
// has 5 or 6 machines in flight at once, counted over the whole fleet, not
// per group. With a target that fails to start, the failed ones stay
// unavailable: one more every 1.5 s.
//
// Options.TargetBehavior applies to the machines a scenario already shows on
// the target, because a bad image is bad everywhere: with ImageFailsChecks
// those started have critical checks (as in bad-release); with
// ImageFailsStart they are failed instead of started; with ImageReverts they
// stay as they are (a revert is flyd's answer to an update, and these already
// run the version), while those still replacing revert to the previous image.
// ScenarioCounts gives the numbers for the scenario's own target behaviour.
func ScenarioCounts(scenario string, n int) Counts {
	c := Counts{Leased: n / 100}
	switch scenario {
	case "healthy":
		c.Target, c.Leased = n, 0
		c.Started = n
	case "total-failure":
		c.Previous, c.Started = n, n
	case "minority":
		c.Target = n / 5
		c.Previous, c.Started = n-c.Target, n
	case "majority":
		c.Target = n * 3 / 4
		c.Previous = n - c.Target
		c.Replacing, c.Stuck, c.Failed, c.Created = n/50, n/100, n/50, n/50
		c.Started = n - c.Replacing - c.Failed - c.Created
	case "stuck":
		c.Target, c.Leased = n, 0
		c.Stuck = n / 50
		c.Replacing = n / 100
		c.Stopping = n/50 - n/100
		c.Started = n - c.Stuck
	case "bad-release":
		c.Target = n * 3 / 10
		c.Previous, c.Started = n-c.Target, n
		c.CriticalChecks = c.Target
	}
	return c
}

// Counts are a scenario's exact starting numbers (see ScenarioCounts).
type Counts struct {
	Target, Previous                    int // machines per image
	Started, Replacing, Failed, Created int // per state
	Stopping                            int // stuck in stopping
	Stuck                               int // machines with FaultStuck
	CriticalChecks                      int // started machines whose checks fail
	Leased                              int // held by deploy-bot@example.com
}

// LeaseBot owns the leases scenarios start with, like a crashed deploy;
// LeaseBotDescription is their lease description.
const (
	LeaseBot            = "deploy-bot@example.com"
	LeaseBotDescription = "deploy-bot: fly deploy (stalled)"
)

var regions = []string{"iad", "ord", "lhr", "syd"}

type release struct {
	version                         int
	id, label, image, status, descr string
	digest                          string
	ref                             imageRef // what machines on it report as image_ref
	createdAt                       time.Time
	// Set for releases made through the API (POST /api/v1/releases):
	// who, how, the app config it deploys (fly.toml as JSON) and what
	// flyctl reported at the end.
	user, strategy string
	definition     map[string]any
	metadata       any
}

const (
	servicesJSON = `[{"protocol":"tcp","internal_port":8080,"autostop":false,"autostart":true,"ports":[{"port":80,"handlers":["http"],"force_https":true},{"port":443,"handlers":["tls","http"]}],"checks":[{"type":"http","interval":"15s","timeout":"5s","grace_period":"10s","method":"GET","path":"/health"}],"concurrency":{"type":"requests","hard_limit":250,"soft_limit":200},"force_instance_key":null}]`
	guestJSON    = `{"cpu_kind":"shared","cpus":2,"memory_mb":2048}`
	restartJSON  = `{"policy":"on-failure","max_retries":10}`
)

var initByGroup = map[string]json.RawMessage{
	"web":              json.RawMessage(`{"cmd":["bin/rails","server"]}`),
	"worker":           json.RawMessage(`{"cmd":["bundle","exec","sidekiq"]}`),
	"worker_autoscale": json.RawMessage(`{"cmd":["bundle","exec","sidekiq","-q","autoscale"]}`),
}

func (s *Sim) buildReleases(now time.Time) {
	for v := 58; v <= 62; v++ {
		label := fmt.Sprintf("v%d-%d-g%s", v, 1+s.rng.IntN(5), s.hexID(8))
		r := &release{
			version: v, id: s.hexID(12), label: label,
			image:     fmt.Sprintf("registry.fly.io/%s:%s.%s", s.app, s.app, label),
			status:    "complete",
			descr:     "Deploy image",
			createdAt: now.Add(-time.Duration(62-v)*26*time.Hour - 40*time.Minute).Truncate(time.Second),
		}
		r.digest = "sha256:" + hashHex(r.image, 64)
		r.ref = imageRef{Registry: "registry.fly.io", Repository: s.app, Tag: s.app + "." + r.label, Digest: r.digest,
			Labels: map[string]string{"org.opencontainers.image.revision": r.label}}
		s.releases = append(s.releases, r)
	}
	s.target = s.releases[len(s.releases)-1]
	s.previous = s.releases[len(s.releases)-2]
	switch s.opts.Scenario {
	case "total-failure", "minority", "bad-release":
		s.target.status = "failed"
	case "majority":
		s.target.status = "interrupted"
	}
	if s.opts.Deploying {
		s.target.status = ReleaseRunning
		s.deploy = &deployRun{rel: s.target, awaiting: map[string]uint64{}}
	}
}

// applyRelease points cfg at rel the way flyctl's deploy does.
func (s *Sim) applyRelease(cfg *machineConfig, rel *release) {
	cfg.Image = rel.image
	if cfg.Env == nil {
		cfg.Env = map[string]string{}
	}
	cfg.Env["RELEASE_LABEL"] = rel.label
	if cfg.Metadata == nil {
		cfg.Metadata = map[string]string{}
	}
	cfg.Metadata["fly_release_version"] = strconv.Itoa(rel.version)
	cfg.Metadata["fly_release_id"] = rel.id
}

// refForImage reports a release image (with or without its digest) as the
// release's image_ref; others are parsed.
func (s *Sim) refForImage(image string) imageRef {
	if r := s.releaseForImageLocked(baseImage(image)); r != nil {
		return r.ref
	}
	return parseImageRef(image)
}

func (s *Sim) baseConfig(group, region string, rel *release) machineConfig {
	cfg := machineConfig{
		Env:      map[string]string{"PRIMARY_REGION": "iad", "FLY_PROCESS_GROUP": group},
		Init:     initByGroup[group],
		Guest:    json.RawMessage(guestJSON),
		Services: json.RawMessage(servicesJSON),
		Checks:   json.RawMessage(`{"alive":{"type":"tcp","port":8080,"interval":"15s","timeout":"10s"}}`),
		Restart:  json.RawMessage(restartJSON),
		Metadata: map[string]string{
			"fly_process_group":    group,
			"fly_platform_version": "v2",
			"fly_flyctl_version":   "0.3.172",
		},
	}
	s.applyRelease(&cfg, rel)
	return cfg
}

type role int

const (
	rolePrevious role = iota
	roleTarget
	roleReplacing
	roleStuckReplacing
	roleStuckStopping
	roleFailed
	roleCreated
)

// roles lays the scenario's counts out over N slots (then shuffled).
func scenarioRoles(c Counts, n int) []role {
	roles := make([]role, 0, n)
	add := func(r role, k int) {
		for i := 0; i < k; i++ {
			roles = append(roles, r)
		}
	}
	stuckReplacing := c.Stuck - c.Stopping
	add(roleStuckReplacing, stuckReplacing)
	add(roleStuckStopping, c.Stopping)
	add(roleReplacing, c.Replacing-stuckReplacing)
	add(roleFailed, c.Failed)
	add(roleCreated, c.Created)
	add(roleTarget, c.Target-len(roles))
	add(rolePrevious, n-len(roles))
	return roles
}

func buildScenario(s *Sim) {
	now := time.Now()
	n := s.opts.Machines
	s.buildReleases(now)
	behavior := s.opts.TargetBehavior
	if behavior == ImageOK && s.opts.Scenario == "bad-release" {
		behavior = ImageFailsChecks
	}
	s.images[s.target.image] = behavior
	s.logs.lines = make([]logLine, 0, 16*n) // the deploy's history is about 20 lines a machine it reached
	c := ScenarioCounts(s.opts.Scenario, n)
	roles := scenarioRoles(c, n)
	s.rng.Shuffle(len(roles), func(i, j int) { roles[i], roles[j] = roles[j], roles[i] })
	web, worker := n*5/10, n*3/10
	deployAt := now.Add(-40 * time.Minute)
	leased, deploySlot := 0, 0
	for i := 0; i < n; i++ {
		group := "worker_autoscale"
		if i < web {
			group = "web"
		} else if i < web+worker {
			group = "worker"
		}
		region := regions[i%len(regions)]
		created := now.Add(-time.Duration(3+s.rng.IntN(60*24*20)) * time.Minute).Truncate(time.Second)
		m := &machine{
			id: s.newMachineID(), name: s.newName(), region: region, privateIP: s.newPrivateIP(),
			state: stateStarted, createdAt: created, checksPassing: true, checksOutput: checkOutput(true),
		}
		prevCfg := s.baseConfig(group, region, s.previous)
		m.prevCfg, m.prevRef, m.prevInstanceID, m.prevState = prevCfg, s.refForImage(prevCfg.Image), s.newInstanceID(), stateStarted
		m.cfg, m.ref = prevCfg, m.prevRef // what it booted with at creation (the logs say so)
		s.eventLocked(m, created, "launch", "created", "user", nil)
		s.eventLocked(m, created.Add(4*time.Second), "start", "started", "flyd", nil)
		r := roles[i]
		if r == rolePrevious {
			m.cfg, m.ref, m.instanceID = prevCfg, m.prevRef, m.prevInstanceID
			m.prevCfg = machineConfig{}
		} else {
			m.cfg = s.baseConfig(group, region, s.target)
			m.ref = s.refForImage(m.cfg.Image)
			m.instanceID = s.newInstanceID()
		}
		last := deployAt.Add(time.Duration(s.rng.IntN(600)) * time.Second)
		switch r {
		case rolePrevious:
			if leased < c.Leased {
				m.lease = &lease{nonce: s.hexID(12), owner: LeaseBot, description: LeaseBotDescription, expires: now.Add(24 * time.Hour)}
				leased++
			} else if s.opts.Deploying {
				s.scheduleAt(m, s.simNow(), 3*time.Second+time.Duration(deploySlot)*1500*time.Millisecond, step{kind: stepDeploy})
				s.deploy.pending++
				deploySlot++
			}
			last = created.Add(4 * time.Second)
		case roleTarget:
			s.eventLocked(m, last, "update", "replacing", "user", nil)
			if behavior == ImageFailsStart {
				m.state = stateFailed
				s.crashLoopLocked(m, last.Add(time.Second), last.Add(9*time.Second))
				last = last.Add(9 * time.Second)
				break
			}
			s.eventLocked(m, last.Add(8*time.Second), "start", "started", "flyd", nil)
			s.setChecksLocked(m, behavior != ImageFailsChecks, last.Add(8*time.Second+checksDelay), true)
			last = last.Add(8 * time.Second)
		case roleReplacing:
			last = now.Add(-time.Duration(1+s.rng.IntN(5)) * time.Second)
			m.state = stateReplacing
			s.eventLocked(m, last, "update", "replacing", "user", nil)
			s.scheduleAt(m, s.simNow(), time.Duration(2+s.rng.IntN(18))*time.Second, step{kind: stepUpdateDone, launch: true})
		case roleStuckReplacing, roleStuckStopping:
			last = now.Add(-time.Duration(20*60+s.rng.IntN(15*60)) * time.Second)
			m.state, m.fault = stateReplacing, FaultStuck
			if r == roleStuckStopping {
				m.state = stateStopping
				s.eventLocked(m, last, "stop", "stopping", "user", nil)
			} else {
				s.eventLocked(m, last, "update", "replacing", "user", nil)
			}
		case roleFailed:
			s.eventLocked(m, last, "update", "replacing", "user", nil)
			m.state = stateFailed
			s.crashLoopLocked(m, last.Add(time.Second), last.Add(9*time.Second))
			last = last.Add(9 * time.Second)
		case roleCreated:
			m.state = stateCreated
			s.eventLocked(m, last, "update", "created", "user", nil)
		}
		if m.state != stateStarted {
			m.checksPassing, m.checksOutput = false, "connect: connection refused"
		}
		m.updatedAt, m.checksAt = last, last
		s.machines[m.id] = m
		s.order = append(s.order, m.id)
	}
	// Sorting once keeps generating 5,000 machines linear-ish.
	sort.Strings(s.order)
	s.logScenarioLocked(deployAt, now)
}
