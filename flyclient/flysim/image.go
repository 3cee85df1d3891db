package flysim

import (
	"fmt"
	"strings"
	"time"
)

// ImageBehavior says what happens to a machine updated or started on an image.
type ImageBehavior int

const (
	ImageOK          ImageBehavior = iota
	ImageFailsChecks               // starts, but its health checks stay critical
	ImageReverts                   // flyd reverts the update: old version, still started (flyctl PR #4921)
	ImageFailsStart                // the new version never boots: ends failed
)

var imageBehaviorNames = []string{"ok", "fails-checks", "reverts", "fails-start"}

func (b ImageBehavior) String() string {
	if b < 0 || int(b) >= len(imageBehaviorNames) {
		return fmt.Sprintf("ImageBehavior(%d)", int(b))
	}
	return imageBehaviorNames[b]
}

// ImageBehaviors lists the names ParseImageBehavior accepts.
var ImageBehaviors = []string{"ok", "fails-checks", "fails-start", "reverts"}

// ParseImageBehavior reads ok, fails-checks, fails-start or reverts (the
// sim's --target flag).
func ParseImageBehavior(v string) (ImageBehavior, error) {
	for i, n := range imageBehaviorNames {
		if n == v {
			return ImageBehavior(i), nil
		}
	}
	return ImageOK, fmt.Errorf("image behaviour %q: want %s", v, strings.Join(ImageBehaviors, ", "))
}

// SetTargetBehavior decides how the deploy target behaves from now on. Checks
// are continuous, so started machines already on the target pass or fail at
// once; boot behaviour (fails-start, reverts) applies from their next update.
func (s *Sim) SetTargetBehavior(b ImageBehavior) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	s.images[s.target.image] = b
	now := time.Now()
	for _, m := range s.machines {
		if baseImage(m.cfg.Image) == s.target.image && m.state == stateStarted {
			s.setChecksLocked(m, b != ImageFailsChecks, now, false)
		}
	}
	s.notifyLocked()
}

// TargetBehavior reports how the deploy target behaves.
func (s *Sim) TargetBehavior() ImageBehavior {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.images[s.target.image]
}

// SetImageBehavior decides how machines behave on image from now on.
func (s *Sim) SetImageBehavior(image string, b ImageBehavior) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.images[baseImage(image)] = b
}
