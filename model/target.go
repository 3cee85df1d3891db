package model

import (
	"strings"
	"time"
)

// TargetSource says where the deploy target image came from, so the
// dashboard can tell the operator how sure it is.
type TargetSource string

const (
	TargetFromFlag     TargetSource = "flag"
	TargetFromReleases TargetSource = "releases"
	TargetFromMachines TargetSource = "machines"
	TargetNone         TargetSource = "none"
	// TargetFromRollback: a rollback recorded in this journal.
	TargetFromRollback TargetSource = "rollback"
	// TargetFromMetadata: a rollback another flyrescue made, read from the
	// marks it left in machine metadata.
	TargetFromMetadata TargetSource = "metadata"
)

// Target is the image a deploy was trying to reach.
type Target struct {
	Image  string
	Tag    string
	Label  string // the RELEASE_LABEL the runbook sets alongside the image
	Source TargetSource
	// Release is the release whose image this is, when one is known. It is a
	// copy, so callers may keep it after the release slice changes.
	Release *Release
	// Since and By say when and by whom the source chose this target (the
	// rollback, or the release's creation); zero when unknown.
	Since time.Time
	By    string
	// ByRegion overrides the target in some regions: a one-region
	// rollback keeps its release there while the rest follows the newest.
	ByRegion map[string]Target
}

// For is the target in region.
func (t Target) For(region string) Target {
	if o, ok := t.ByRegion[region]; ok {
		return o
	}
	return t
}

// ChooseTarget picks the image the fleet should converge on. An explicit flag
// wins; otherwise the newest release's image, because after a total failure no
// machine runs the target and only the releases know it; otherwise the image
// carrying the highest fly_release_version among the machines.
func ChooseTarget(flagImage string, releases []Release, machines []Machine) Target {
	if flagImage = strings.TrimSpace(flagImage); flagImage != "" {
		return newTarget(flagImage, TargetFromFlag, releaseForImage(releases, flagImage))
	}
	if r := newestRelease(releases); r != nil {
		t := newTarget(r.Image, TargetFromReleases, r)
		t.Since, t.By = r.CreatedAt, r.User
		return t
	}
	best, bestVersion, bestCount := "", -1, 0
	counts := make(map[string]int)
	for _, m := range machines {
		if m.Image != "" {
			counts[imageKey(m.Image)]++
		}
	}
	for _, m := range machines {
		if m.Image == "" {
			continue
		}
		key := imageKey(m.Image)
		// Ties on version go to the image more machines run, then to the
		// smaller name, so the choice never depends on list order.
		if m.ReleaseVersion > bestVersion ||
			(m.ReleaseVersion == bestVersion && (counts[key] > bestCount || (counts[key] == bestCount && key < best))) {
			best, bestVersion, bestCount = key, m.ReleaseVersion, counts[key]
		}
	}
	if best == "" {
		return Target{Source: TargetNone}
	}
	return newTarget(best, TargetFromMachines, releaseForImage(releases, best))
}

func newTarget(image string, source TargetSource, r *Release) Target {
	return Target{Image: image, Tag: ImageTag(image), Label: LabelFromImage(image), Source: source, Release: r}
}

// newestRelease returns a copy of the release with the highest version that
// names an image, or nil. Status is ignored on purpose: the release of a
// failed deploy is exactly the one whose image we still want.
func newestRelease(releases []Release) *Release {
	var best *Release
	for i := range releases {
		r := &releases[i]
		if r.Image != "" && (best == nil || r.Version > best.Version) {
			best = r
		}
	}
	if best == nil {
		return nil
	}
	c := *best
	return &c
}

// releaseForImage returns a copy of the newest release that deployed image.
func releaseForImage(releases []Release, image string) *Release {
	key := imageKey(image)
	var best *Release
	for i := range releases {
		r := &releases[i]
		if r.Image != "" && imageKey(r.Image) == key && (best == nil || r.Version > best.Version) {
			best = r
		}
	}
	if best == nil {
		return nil
	}
	c := *best
	return &c
}

// imageKey is the form images are compared in. The API may report an image
// with a digest appended to its tag while releases list it without, so a
// digest is dropped when a tag identifies the image anyway.
func imageKey(image string) string {
	image = strings.TrimSpace(image)
	at := strings.IndexByte(image, '@')
	if at < 0 {
		return image
	}
	if ImageTag(image) != "" {
		return image[:at]
	}
	return image
}

// ImageTag returns the tag of an image reference, or "" when it has none.
// A digest is ignored, and a port in the registry host is not a tag.
func ImageTag(image string) string {
	image = strings.TrimSpace(image)
	if at := strings.IndexByte(image, '@'); at >= 0 {
		image = image[:at]
	}
	last := image[strings.LastIndexByte(image, '/')+1:]
	if colon := strings.LastIndexByte(last, ':'); colon >= 0 {
		return last[colon+1:]
	}
	return ""
}

// LabelFromImage returns the release label an image carries. Fly images are
// tagged "<repo>.<label>" (app.v62-3-ga38cb23a); a tag that is already a
// label, or that does not look like one (deployment-01HX...), is returned
// whole.
func LabelFromImage(image string) string {
	tag := ImageTag(image)
	if looksLikeLabel(tag) {
		return tag
	}
	for i := 0; i < len(tag); i++ {
		if tag[i] == '.' && looksLikeLabel(tag[i+1:]) {
			return tag[i+1:]
		}
	}
	return tag
}

// looksLikeLabel reports whether s starts like "v62": a v and a digit.
func looksLikeLabel(s string) bool {
	return len(s) >= 2 && (s[0] == 'v' || s[0] == 'V') && s[1] >= '0' && s[1] <= '9'
}
