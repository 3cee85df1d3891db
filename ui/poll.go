package ui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
)

// pollCmd lists the machines (and, every releasesEvery polls, the releases)
// and builds the snapshot off the UI goroutine: at 10,000 machines the
// grouping is the expensive part and must not stall keystrokes.
func (m *Model) pollCmd() tea.Cmd {
	gen := m.pollGen
	api, opts := m.opts.API, m.opts
	withReleases := m.pollCount%releasesEvery == 0 || m.releases == nil
	knownReleases := m.releases
	return func() tea.Msg {
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), pollTimeout)
		defer cancel()
		raw, err := api.List(ctx, opts.App, flyclient.ListOptions{})
		if err != nil {
			return pollResultMsg{gen: gen, err: err, took: time.Since(start)}
		}
		var fresh []model.Release
		releases := knownReleases
		if withReleases {
			// A failing releases query is not fatal: the target then
			// comes from the machines themselves.
			if rs, rerr := api.Releases(ctx, opts.App, flyclient.ReleasesRead); rerr == nil {
				fresh, releases = rs, rs
			}
		}
		machines := flyclient.ToModels(raw, opts.LabelEnv)
		snap := buildSnapshot(opts, machines, releases)
		return pollResultMsg{gen: gen, snap: snap, releases: fresh, took: time.Since(start)}
	}
}

// buildSnapshot applies the target rules and the stuck threshold.
func buildSnapshot(opts Options, machines []model.Machine, releases []model.Release) *model.Snapshot {
	target := model.ChooseTarget(opts.FlagImage, releases, machines)
	return model.NewSnapshot(opts.App, machines, releases, target, model.Options{StuckAfter: opts.StuckAfter, Now: opts.Now()})
}

// nextPoll schedules the poll after this one.
func (m *Model) nextPoll() tea.Cmd {
	if m.opts.NoPoll {
		return nil
	}
	gen := m.pollGen
	return tea.Tick(m.pollInterval(), func(time.Time) tea.Msg { return pollTickMsg{gen: gen} })
}

// maxPollBackoff caps the poll interval while polls fail.
const maxPollBackoff = 30 * time.Second

// pollInterval is the refresh, doubled for each poll that failed in a row
// (up to maxPollBackoff): a rate-limited or struggling API is not hammered,
// and the org's rate limit stays free for the recovery actions themselves.
func (m *Model) pollInterval() time.Duration {
	d := m.opts.Refresh
	for i := 0; i < m.pollFails && d < maxPollBackoff; i++ {
		d *= 2
	}
	return min(d, max(maxPollBackoff, m.opts.Refresh))
}

// pollNow starts a poll at once; any poll in flight becomes stale.
func (m *Model) pollNow() tea.Cmd {
	m.pollGen++
	m.polling = true
	return m.pollCmd()
}

// applyPoll folds a poll result into the model. On error the last snapshot
// stays on screen, with the error in the header: blanking the table would
// hide exactly what the operator needs when the API wobbles.
func (m *Model) applyPoll(msg pollResultMsg) {
	m.polling = false
	m.pollCount++
	if msg.err != nil {
		m.pollErr = msg.err
		m.pollErrAt = m.now()
		m.pollFails++
		return
	}
	m.pollFails = 0
	m.pollErr = nil
	if msg.releases != nil {
		m.releases = msg.releases
	}
	m.lastPoll = m.now()
	m.pollTook = msg.took
	m.setSnapshot(msg.snap)
}

// setSnapshot installs a new snapshot: highlights what changed, keeps marks
// and the cursor's machine, and re-derives the view and the advice.
func (m *Model) setSnapshot(snap *model.Snapshot) {
	if m.snap != nil {
		d := model.Diff(m.snap, snap)
		until := m.now().Add(changeHighlight)
		for _, id := range d.Changed {
			m.changed[id] = until
		}
		for _, id := range d.Added {
			m.changed[id] = until
		}
	}
	m.snap = snap
	m.class = model.Classify(snap)
	m.rebuild()
}

// changeHighlight is how long a changed row stays highlighted.
const changeHighlight = 3 * time.Second
