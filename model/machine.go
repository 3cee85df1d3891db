// Package model is flyrescue's pure fleet logic: machines, snapshots, grouping
// by image and state, the deploy target, runbook classification, the filter
// language and selections. It does no I/O and knows nothing of terminals or of
// fly-go; flyclient converts API objects into these types.
package model

import (
	"strconv"
	"time"
)

// Machine states as the Machines API reports them, plus "stuck", which is not
// an API state but a judgement (see Snapshot) used for grouping.
const (
	StateCreated    = "created"
	StateStarting   = "starting"
	StateStarted    = "started"
	StateStopping   = "stopping"
	StateStopped    = "stopped"
	StateSuspending = "suspending"
	StateSuspended  = "suspended"
	StateReplacing  = "replacing"
	StateUpdating   = "updating"
	StateRestarting = "restarting"
	StateDestroying = "destroying"
	StateDestroyed  = "destroyed"
	StateFailed     = "failed"
	StateStuck      = "stuck"
)

// Machine is what the dashboard and the recovery engine need to know about one
// Fly Machine. It is a value type; snapshots hold slices of them.
type Machine struct {
	ID         string
	Name       string
	State      string
	Region     string
	Group      string // fly_process_group metadata
	Image      string // full reference, e.g. registry.fly.io/app:app.v62-3-ga38cb23a
	ImageTag   string // the tag part only, e.g. app.v62-3-ga38cb23a
	InstanceID string // changes on every update

	ReleaseVersion int    // fly_release_version metadata; 0 when unknown
	ReleaseID      string // fly_release_id metadata
	ReleaseLabel   string // the RELEASE_LABEL (or configured) env value

	Checks    Checks
	LastEvent Event // the newest event, zero when the machine has none

	// StateSince is when the machine entered its current state: the
	// timestamp of its newest event, falling back to UpdatedAt.
	StateSince time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time

	HostStatus string // "ok", "unknown", "unreachable"
	LeaseOwner string // who holds a lease on it, when known
	// Cordoned: Fly Proxy routes nothing to it (flyrescue cordon), so it
	// serves nobody whatever its state and checks say.
	Cordoned bool

	// Mark is what flyrescue's own last change left in the machine's
	// metadata (any flyrescue, any journal); nil when there is none.
	Mark *Mark
}

// Mark is flyrescue's trace in a machine's config metadata, written with the
// same update call that changed it, so a teammate's flyrescue (another
// journal) knows who did what.
type Mark struct {
	Action string // flyrescue_action: the action ID
	By     string // flyrescue_by: the operator
	// RollbackVersion is the release a rollback put on the machine
	// (flyrescue_rollback), 0 when the change was not a rollback.
	RollbackVersion int
	RollbackAt      time.Time // flyrescue_rollback_at
	RollbackRegion  string    // flyrescue_rollback_region: "" when the whole app was rolled back
}

// Metadata keys of a Mark.
const (
	MarkAction         = "flyrescue_action"
	MarkBy             = "flyrescue_by"
	MarkRollback       = "flyrescue_rollback"
	MarkRollbackAt     = "flyrescue_rollback_at"
	MarkRollbackRegion = "flyrescue_rollback_region"
)

// MarkFromMetadata reads a Mark from config metadata, nil without one.
func MarkFromMetadata(md map[string]string) *Mark {
	action := md[MarkAction]
	if action == "" {
		return nil
	}
	m := &Mark{Action: action, By: md[MarkBy], RollbackRegion: md[MarkRollbackRegion]}
	if v := md[MarkRollback]; v != "" {
		n := 0
		for _, r := range v {
			if r < '0' || r > '9' {
				n = 0
				break
			}
			n = n*10 + int(r-'0')
		}
		m.RollbackVersion = n
		m.RollbackAt, _ = time.Parse(time.RFC3339, md[MarkRollbackAt])
	}
	return m
}

// Checks summarises a machine's health checks.
type Checks struct {
	Total    int
	Passing  int
	Warning  int
	Critical int
}

// Check statuses as the filter language names them.
const (
	ChecksNone     = "none"
	ChecksPassing  = "passing"
	ChecksWarning  = "warning"
	ChecksCritical = "critical"
)

// Status is the worst status among the checks, or ChecksNone without checks.
func (c Checks) Status() string {
	switch {
	case c.Total == 0:
		return ChecksNone
	case c.Critical > 0:
		return ChecksCritical
	case c.Warning > 0:
		return ChecksWarning
	default:
		return ChecksPassing
	}
}

// Event is one entry of a machine's event log.
type Event struct {
	Type   string // launch, start, update, exit, stop, restart, destroy ...
	Status string // the state it led to
	Source string // user, flyd
	At     time.Time
	// Exit is set on exit events that say how the process ended.
	Exit *Exit
}

// Exit is how a machine's process ended, from an exit event's request.
type Exit struct {
	Code          int
	OOMKilled     bool
	RequestedStop bool // we (or someone) asked it to stop
	RestartCount  int  // restarts so far under the restart policy
}

// Summary says the exit reason first, as an operator scans for it:
// "exit 137 oom", "exit 1 ×3 restarts", "exit 0 stop requested".
func (e *Exit) Summary() string {
	s := "exit " + strconv.Itoa(e.Code)
	switch {
	case e.OOMKilled:
		s += " oom"
	case e.RequestedStop:
		s += " stop requested"
	}
	if e.RestartCount > 0 {
		s += " ×" + Counted(e.RestartCount, "restart")
	}
	return s
}

// Release is one deploy of the app, as `fly releases --image` lists it.
type Release struct {
	ID          string
	Version     int
	Status      string // complete, failed, interrupted, running
	Description string
	Reason      string
	Image       string
	User        string
	CreatedAt   time.Time
}
