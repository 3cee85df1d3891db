package model

import (
	"fmt"
	"math/rand"
	"time"
)

// SyntheticNow is the clock synthetic fleets are built against; pass it as
// Options.Now so stuck detection is deterministic.
var SyntheticNow = time.Date(2025, 6, 2, 14, 30, 0, 0, time.UTC)

// SyntheticApp is the app name synthetic fleets pretend to belong to.
const SyntheticApp = "locksmith-api"

var (
	syntheticRegions = []string{"iad", "iad", "iad", "ord", "ord", "dfw", "ams", "fra", "lhr", "syd", "sin", "nrt"}
	syntheticAdjs    = []string{"bold", "calm", "dark", "eager", "fancy", "gentle", "holy", "icy", "jolly", "lively", "misty", "noisy", "proud", "quiet", "rapid", "shy"}
	syntheticNouns   = []string{"sun", "moon", "river", "forest", "cloud", "meadow", "stone", "wave", "flame", "leaf", "frost", "hill", "lake", "star", "wind", "field"}
)

// SyntheticFleet returns a deterministic fleet of n machines caught half-way
// through a deploy, and the releases behind it (newest, v62, is the target).
// It exists for benchmarks and demos here and in the dashboard: roughly 55%
// run the target image, most of the rest the previous release, a few an
// older one; some are replacing, created, failed or stuck, and a few target
// machines fail their checks, the way real half-finished deploys look.
func SyntheticFleet(n int, seed int64) ([]Machine, []Release) {
	rng := rand.New(rand.NewSource(seed))
	const newest = 62
	releases := make([]Release, 0, 8)
	for k := 0; k < 8; k++ {
		v := newest - k
		status := "complete"
		if k == 0 {
			status = "failed"
		}
		releases = append(releases, Release{
			ID:          fmt.Sprintf("01HXRELEASE%04d", v),
			Version:     v,
			Status:      status,
			Description: "Release",
			Reason:      "deploy",
			Image:       syntheticImage(v),
			User:        "ops@example.com",
			CreatedAt:   SyntheticNow.Add(-time.Duration(k)*24*time.Hour - 20*time.Minute),
		})
	}

	machines := make([]Machine, n)
	for i := range machines {
		version := newest
		switch p := rng.Float64(); {
		case p < 0.40:
			version = newest - 1
		case p < 0.45:
			version = newest - 2
		}
		group := "web"
		switch p := rng.Float64(); {
		case p < 0.30:
			group = "worker"
		case p < 0.60:
			group = "worker_autoscale"
		}
		state, checks := StateStarted, Checks{Total: 2, Passing: 2}
		since := SyntheticNow.Add(-time.Duration(30+rng.Intn(600)) * time.Minute)
		switch p := rng.Float64(); {
		case p < 0.03:
			state, checks = StateReplacing, Checks{Total: 2, Warning: 2}
			since = SyntheticNow.Add(-time.Duration(rng.Intn(40)) * time.Minute) // some stuck, some not
		case p < 0.05:
			state, checks = StateCreated, Checks{}
			since = SyntheticNow.Add(-time.Duration(rng.Intn(40)) * time.Minute)
		case p < 0.06:
			state, checks = StateFailed, Checks{Total: 2, Critical: 2}
		case p < 0.08:
			state, checks = StateStopped, Checks{Total: 2, Critical: 2}
		case p < 0.09:
			state = StateStarting
			since = SyntheticNow.Add(-time.Duration(rng.Intn(10)) * time.Minute)
		}
		if state == StateStarted && version == newest && rng.Float64() < 0.04 {
			checks = Checks{Total: 2, Passing: 1, Critical: 1}
		}
		if group == "worker" || group == "worker_autoscale" {
			// Sidekiq workers have no HTTP service, hence no checks.
			checks = Checks{}
		}
		id := fmt.Sprintf("%014x", rng.Uint64()>>8)
		machines[i] = Machine{
			ID:             id,
			Name:           fmt.Sprintf("%s-%s-%d", syntheticAdjs[rng.Intn(len(syntheticAdjs))], syntheticNouns[rng.Intn(len(syntheticNouns))], 1000+rng.Intn(9000)),
			State:          state,
			Region:         syntheticRegions[rng.Intn(len(syntheticRegions))],
			Group:          group,
			Image:          syntheticImage(version),
			ImageTag:       ImageTag(syntheticImage(version)),
			InstanceID:     fmt.Sprintf("01HX%022X", rng.Uint64()),
			ReleaseVersion: version,
			ReleaseID:      fmt.Sprintf("01HXRELEASE%04d", version),
			ReleaseLabel:   syntheticLabel(version),
			Checks:         checks,
			LastEvent:      Event{Type: "update", Status: state, Source: "user", At: since},
			StateSince:     since,
			CreatedAt:      SyntheticNow.Add(-90 * 24 * time.Hour),
			UpdatedAt:      since,
			HostStatus:     "ok",
		}
		// Without another draw from rng, so the fleet stays the same:
		// failed machines end as flysim's do (the workers killed out of
		// memory, the web servers crash-looping), and a few started ones
		// are cordoned.
		m := &machines[i]
		switch {
		case state == StateFailed && group == "web":
			m.LastEvent = Event{Type: "exit", Status: state, Source: "flyd", At: since, Exit: &Exit{Code: 1, RestartCount: 10}}
		case state == StateFailed:
			m.LastEvent = Event{Type: "exit", Status: state, Source: "flyd", At: since, Exit: &Exit{Code: 137, OOMKilled: true}}
		case state == StateStarted && i%61 == 7:
			m.Cordoned = true
		}
	}
	return machines, releases
}

func syntheticLabel(version int) string {
	return fmt.Sprintf("v%d-%d-g%07x", version, version%7, uint32(version)*2654435761%0xfffffff)
}

func syntheticImage(version int) string {
	return "registry.fly.io/" + SyntheticApp + ":" + SyntheticApp + "." + syntheticLabel(version)
}
