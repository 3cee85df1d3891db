package recovery

import (
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
)

// Selector picks machines: explicit IDs win, else Query in the model's filter
// language, else every machine (optionally one region).
type Selector struct {
	MachineIDs []string
	Query      string
	Region     string
}

// String renders the selection for plans and the journal.
func (s Selector) String() string { return s.describe() }

// UpdateRequest asks for machines to be moved to an image.
type UpdateRequest struct {
	Selector Selector
	// Image defaults to the deploy target (model.ChooseTarget).
	Image string
	// Label overrides the label derived from the image tag.
	Label string
	// ReleaseVersion/ReleaseID align fly_release_* metadata; when zero they
	// are looked up among the app's releases by image.
	ReleaseVersion int
	ReleaseID      string
}

// RollbackRequest asks for the selection (default: the whole app, or
// Region) to go back to an earlier release's image and label.
type RollbackRequest struct {
	Selector Selector
	// Release is "v61" or "61"; empty means the newest complete release
	// whose image differs from the current target.
	Release string
}

// ScaleRequest asks for a process group to have Count machines, in Region
// when set. Back scales to the count remembered in the journal instead.
type ScaleRequest struct {
	Group  string
	Count  int
	Region string
	Back   bool
}

// DestroyRequest asks for machines to be destroyed; Force kills machines
// that will not stop.
type DestroyRequest struct {
	Selector Selector
	Force    bool
}

// Plan is what an action will do, before it does it: printable and
// confirmable, then handed to Execute.
type Plan struct {
	ID        string // assigned when planned; the journal's action ID
	Kind      Kind
	App       string
	Selection string
	Args      map[string]string
	Undoes    string // the action this plan undoes, if any
	Resumes   string // the action this plan finishes, if any
	Steps     []Step
	// Skipped are machines the selection matched that need nothing, or
	// that someone else holds (HeldByOthers of them).
	Skipped      []Step
	HeldByOthers int `json:",omitempty"`
	// Held are the Skipped machines someone else holds: journaled with the
	// action, so the record explains why they were not touched.
	Held []Step `json:",omitempty"`
	// Reconciled are outcomes a resume decided from live state for steps
	// of the action it resumes (found done, or gone before they began).
	// Planning writes nothing: the run journals them right after its
	// action record, so a plan that is only shown leaves the journal alone.
	Reconciled []OutcomeRecord
	Limits     Limits
	// GroupCounts are the live machine counts per process group (and
	// region) when planned; the journal keeps them for "scale back".
	GroupCounts  map[string]int
	RegionCounts map[string]map[string]int
	// Notes say plainly what the plan cannot do or what is surprising
	// (a relaunch makes a new machine, a restart cannot be undone...).
	Notes     []string
	CreatedAt time.Time
	// seen is the fleet as planned: the run compares its first fresh read
	// with it to learn how fast others are taking machines down.
	seen *fleetRead
}

// Limits are the safety bounds a plan runs under.
type Limits struct {
	MaxUnavailable   float64
	GroupBudget      map[string]int // resolved per group
	Concurrency      int
	Retries          int
	WaitTimeout      time.Duration
	SkipHealthChecks bool
	LeaseTTL         time.Duration
	// HaltAfter: verification failures of one cause that halt a group, a
	// count (>= 1) or a fraction of the group (< 1).
	HaltAfter float64 `json:",omitempty"`
	// Canary names the groups whose new image goes to one machine first,
	// and why (it is not yet proven healthy there).
	Canary map[string]string `json:",omitempty"`
}

// Step is one machine's part of a plan.
type Step struct {
	Seq       int
	MachineID string // empty for a launch
	Name      string
	Op        Op
	Region    string
	Group     string
	FromImage string
	ToImage   string
	FromState string
	ToState   string // the state that counts as done ("started", "stopped", "destroyed")
	// FromInstanceID is the instance planned against; a different one at
	// execution means someone else changed the machine, so we skip it.
	FromInstanceID string
	Label          string            // RELEASE_LABEL value to set (update/rollback)
	Metadata       map[string]string // metadata to set (fly_release_*)
	// Config is the whole config to apply (undo of update) or launch with
	// (scale up, undo of destroy). Nil for image updates, which start from
	// the live config.
	Config *flyclient.MachineConfig `json:",omitempty"`
	Force  bool
	Reason string // why this machine (scale down order, skip reason)
	// LeaseRef names the lease a clear-lease step may release (a hash of
	// its nonce: the nonce itself is never journaled).
	LeaseRef string `json:",omitempty"`
}
