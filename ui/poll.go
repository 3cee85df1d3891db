package ui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

// pollCmd lists the machines (and, every releasesEvery polls, the releases)
// and builds the snapshot off the UI goroutine: at 10,000 machines the
// grouping is the expensive part and must not stall keystrokes.
func (m *Model) pollCmd() tea.Cmd {
	gen := m.pollGen
	api, opts := m.opts.API, m.opts
	withReleases := m.pollCount%releasesEvery == 0 || m.releases == nil
	knownReleases := m.releases
	facts := m.incidentFacts()
	var leaseIDs []string
	probeLeases := m.pollCount%leasesEvery == 0
	if probeLeases && m.snap != nil {
		leaseIDs = m.snap.LeaseCandidates()
	}
	var journal *recovery.Journal
	// While an action runs its own record is the journal's newest and
	// unfinished: only a poll begun and ended outside any run may say what
	// is (see applyPoll).
	readUnfinished, runSeq := !m.running(), m.runSeq
	if m.opts.Engine != nil {
		journal = m.opts.Engine.Journal()
	}
	base := m.baseCtx()
	return func() tea.Msg {
		start := time.Now()
		ctx, cancel := context.WithTimeout(base, pollTimeout)
		defer cancel()
		read, err := flyclient.ReadFleet(ctx, api, opts.App, flyclient.ReadOptions{LabelEnv: opts.LabelEnv, Releases: withReleases})
		if err != nil {
			return pollResultMsg{gen: gen, err: err, took: time.Since(start)}
		}
		var fresh []model.Release
		releases := knownReleases
		// A failing releases query is not fatal: the target then comes
		// from the machines themselves.
		if withReleases && read.ReleasesErr == nil {
			fresh, releases = read.Releases, read.Releases
		}
		machines := read.Machines
		var leases map[string]model.Lease
		if probeLeases {
			leases = flyclient.ProbeLeases(ctx, api, opts.App, leaseIDs)
			facts.Leases = leases
		}
		var journalRead bool
		var unfinished *recovery.ActionLog
		if journal != nil {
			// The journal says what was done (rollbacks, the baseline,
			// machines we touched) and what was left half done; a journal
			// that cannot be read is shown by the journal pane, and the
			// incident goes without it.
			if hist, jerr := journal.HistoryCached(); jerr == nil {
				jf := recovery.IncidentFacts(hist, opts.App)
				facts.Baseline, facts.RegionBaseline, facts.BaselineAt = jf.Baseline, jf.RegionBaseline, jf.BaselineAt
				facts.Rollbacks, facts.Touched = jf.Rollbacks, jf.Touched
				if readUnfinished {
					journalRead, unfinished = true, unfinishedOf(hist, opts.App)
				}
			}
		}
		snap := buildSnapshotFacts(opts, machines, releases, facts)
		inc := model.BuildIncident(snap, facts, snap.At)
		return pollResultMsg{gen: gen, snap: snap, inc: &inc, releases: fresh, leases: leases,
			journalRead: journalRead, unfinished: unfinished, runSeq: runSeq, took: time.Since(start)}
	}
}

// buildSnapshot applies the target rules and the stuck threshold.
func buildSnapshot(opts Options, machines []model.Machine, releases []model.Release) *model.Snapshot {
	return buildSnapshotFacts(opts, machines, releases, model.IncidentFacts{})
}

// buildSnapshotFacts is buildSnapshot with the target following the
// operators' intent (rollbacks from the journal and machine marks).
func buildSnapshotFacts(opts Options, machines []model.Machine, releases []model.Release, facts model.IncidentFacts) *model.Snapshot {
	target := model.FollowIntent(model.ChooseTarget(opts.FlagImage, releases, machines), releases, machines, facts)
	return model.NewSnapshot(opts.App, machines, releases, target, model.Options{StuckAfter: opts.StuckAfter, Now: opts.Now()})
}

// incidentFacts is what the dashboard itself knows of the incident: the
// counts of its first poll (the baseline when the journal has none), the
// poll before (to see changes nobody explains) and whether we act now.
func (m *Model) incidentFacts() model.IncidentFacts {
	f := model.IncidentFacts{
		FirstSeen: m.firstSeen, FirstSeenRegion: m.firstSeenRegion, Previous: m.snap,
		ActionRunning: m.running(), Leases: m.leases,
	}
	if m.opts.Engine != nil {
		f.Operator = m.opts.Engine.Operator()
	}
	for _, o := range m.incident.Others {
		if o.Kind == model.OtherUnexplained {
			f.Seen = append(f.Seen, o)
		}
	}
	return f
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
	if msg.leases != nil {
		m.leases = msg.leases
	}
	if msg.releases != nil {
		m.releases = msg.releases
	}
	if msg.journalRead && !m.running() && msg.runSeq == m.runSeq {
		m.notice.action = msg.unfinished
	}
	m.lastPoll = m.now()
	m.pollTook = msg.took
	m.setSnapshot(msg.snap, msg.inc)
}

// setSnapshot installs a new snapshot: highlights what changed, keeps marks
// and the cursor's machine, and re-derives the view and the advice.
func (m *Model) setSnapshot(snap *model.Snapshot, inc *model.Incident) {
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
	if inc == nil {
		built := model.BuildIncident(snap, m.incidentFacts(), snap.At)
		inc = &built
	}
	if m.firstSeen == nil {
		m.firstSeen, m.firstSeenRegion = map[string]int{}, map[string]map[string]int{}
		for i, mm := range snap.Machines {
			if inc.Phases[i] == model.PhaseGone {
				continue
			}
			m.firstSeen[mm.Group]++
			if m.firstSeenRegion[mm.Group] == nil {
				m.firstSeenRegion[mm.Group] = map[string]int{}
			}
			m.firstSeenRegion[mm.Group][mm.Region]++
		}
	}
	m.snap = snap
	m.pruneMarks()
	m.incident = *inc
	m.class = model.ClassifyIncident(snap, inc)
	m.rebuild()
}

// changeHighlight is how long a changed row stays highlighted.
const changeHighlight = 3 * time.Second
