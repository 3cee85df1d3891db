package flysim

import (
	"fmt"
	"strings"
	"time"
)

// Release statuses as the GraphQL API spells them.
const (
	ReleasePending     = "pending"
	ReleaseRunning     = "running"
	ReleaseComplete    = "complete"
	ReleaseFailed      = "failed"
	ReleaseInterrupted = "interrupted"
)

// ReleaseStatuses lists the statuses CreateRelease and SetReleaseStatus accept.
var ReleaseStatuses = []string{ReleasePending, ReleaseRunning, ReleaseComplete, ReleaseFailed, ReleaseInterrupted}

func validReleaseStatus(status string) error {
	for _, s := range ReleaseStatuses {
		if s == status {
			return nil
		}
	}
	return fmt.Errorf("flysim: unknown release status %q (valid: %s)", status, strings.Join(ReleaseStatuses, ", "))
}

// deployRun is Options.Deploying: one release rolled out machine by machine.
// Its release stays running until the mover has reached every machine it
// will reach and every update it made has settled; then it is complete if
// each of those machines ended started with passing checks (or stopped, for
// a machine that was stopped: flyctl leaves those stopped and does not check
// them), else failed. An update it made that someone else supersedes
// (another update, a kill, a destroy, a wedge) counts as failed, as flyctl's
// wait for that version would fail.
type deployRun struct {
	rel      *release
	pending  int               // deploy steps still queued
	awaiting map[string]uint64 // machine ID -> gen of the deploy's update still settling
	failed   bool
}

// deployPoppedLocked accounts for a queued step leaving the queue: applied
// (after applyLocked) or dropped because it was superseded.
func (s *Sim) deployPoppedLocked(q *queued, applied bool) {
	d := s.deploy
	if d == nil || q.m == nil {
		return
	}
	if q.st.kind == stepDeploy {
		d.pending--
	}
	gen, ok := d.awaiting[q.m.id]
	if !ok || gen != q.gen {
		return
	}
	m := q.m
	switch {
	case !applied:
		d.fail(m.id)
	case q.st.kind == stepUpdateDone:
		switch {
		case m.state == stateFailed || baseImage(m.cfg.Image) != d.rel.image:
			d.fail(m.id) // failed to boot, or flyd reverted it
		case m.state == stateStopped:
			delete(d.awaiting, m.id)
		}
		// started: the checks decide (stepChecks is queued).
	case q.st.kind == stepChecks:
		if !m.checksPassing {
			d.failed = true
		}
		delete(d.awaiting, m.id)
	}
}

func (d *deployRun) fail(id string) {
	d.failed = true
	delete(d.awaiting, id)
}

// settleDeployLocked ends a running deploy once nothing of it is left.
func (s *Sim) settleDeployLocked() {
	d := s.deploy
	if d == nil || d.rel.status != ReleaseRunning || d.pending > 0 || len(d.awaiting) > 0 {
		return
	}
	d.rel.status = ReleaseComplete
	if d.failed {
		d.rel.status = ReleaseFailed
	}
}

// CreateRelease puts a new release on top of the history, as someone
// deploying with flyctl would (a hotfix, or a rollback deploy of an older
// image). It becomes the current release (TargetImage, LatestImage,
// currentRelease); no machine is changed (see ChangeOutside) and a running
// Options.Deploying mover keeps rolling out its own release. PreviousImage
// does not move. An image of an older release reuses its label and digest.
// An unknown status panics: it is a mistake in the calling test.
func (s *Sim) CreateRelease(image, status string) ReleaseView {
	if err := validReleaseStatus(status); err != nil {
		panic(err)
	}
	if image == "" {
		panic("flysim: CreateRelease needs an image")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	return releaseView(s.createReleaseLocked(image, status))
}

// createReleaseLocked puts a release of image on top and makes it the
// current one (see CreateRelease).
func (s *Sim) createReleaseLocked(image, status string) *release {
	top := s.releases[len(s.releases)-1]
	r := &release{
		version: top.version + 1, id: s.hexID(12), image: baseImage(image), status: status, descr: "Deploy image",
		createdAt: time.Now().Truncate(time.Second),
	}
	if old := s.releaseForImageLocked(r.image); old != nil {
		r.label, r.digest, r.ref = old.label, old.digest, old.ref
	} else {
		ref := parseImageRef(r.image)
		r.label = strings.TrimPrefix(ref.Tag, s.app+".")
		r.digest = "sha256:" + hashHex(r.image, 64)
		ref.Digest = r.digest
		r.ref = ref
	}
	s.releases = append(s.releases, r)
	s.target = r
	s.notifyLocked()
	return r
}

// SetReleaseStatus changes a release's status, as flyctl does when a deploy
// ends. A deploy mover whose release is no longer running stops moving
// machines (its flyctl was interrupted), and its status is left as set.
func (s *Sim) SetReleaseStatus(version int, status string) error {
	if err := validReleaseStatus(status); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	r := s.releaseLocked(func(r *release) bool { return r.version == version })
	if r == nil {
		return fmt.Errorf("flysim: no release v%d (releases v%d..v%d)", version, s.releases[0].version, s.target.version)
	}
	r.status = status
	s.notifyLocked()
	return nil
}

// releaseLocked is the first release (oldest first) that match accepts.
func (s *Sim) releaseLocked(match func(*release) bool) *release {
	for _, r := range s.releases {
		if match(r) {
			return r
		}
	}
	return nil
}

// releaseForImageLocked is the oldest release of image (a base image, no
// digest), whose label and digest later releases of it share.
func (s *Sim) releaseForImageLocked(image string) *release {
	for _, r := range s.releases {
		if r.image == image {
			return r
		}
	}
	return nil
}

// baseImage drops an "@sha256:…" digest, which clones made from a machine's
// image_ref carry (fly-autoscaler clones with Machine.FullImageRef).
func baseImage(image string) string {
	if i := strings.Index(image, "@"); i >= 0 {
		return image[:i]
	}
	return image
}

func releaseView(r *release) ReleaseView {
	return ReleaseView{Version: r.version, ID: r.id, Image: r.image, Status: r.status, CreatedAt: r.createdAt}
}
