package flysim

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Machine states as the API spells them.
const (
	stateCreated    = "created"
	stateStarting   = "starting"
	stateStarted    = "started"
	stateStopping   = "stopping"
	stateStopped    = "stopped"
	stateRestarting = "restarting"
	stateSuspending = "suspending"
	stateSuspended  = "suspended"
	stateReplacing  = "replacing"
	stateFailed     = "failed"
	stateDestroying = "destroying"
	stateDestroyed  = "destroyed"
)

// transient states are the ones "settled" waits past (Fly docs, machine-states).
var transient = map[string]bool{
	"creating": true, stateStarting: true, stateStopping: true, stateRestarting: true,
	stateSuspending: true, stateDestroying: true, "launch_failed": true, "updating": true, stateReplacing: true,
}

// machineConfig mirrors the API's MachineConfig. Fields the sim reasons about
// are typed; the rest round-trip verbatim so a client's full-config update
// comes back exactly as sent.
type machineConfig struct {
	Env                     map[string]string `json:"env,omitempty"`
	Init                    json.RawMessage   `json:"init"`
	Guest                   json.RawMessage   `json:"guest,omitempty"`
	Metadata                map[string]string `json:"metadata,omitempty"`
	Mounts                  json.RawMessage   `json:"mounts,omitempty"`
	Services                json.RawMessage   `json:"services,omitempty"`
	Metrics                 json.RawMessage   `json:"metrics,omitempty"`
	Checks                  json.RawMessage   `json:"checks,omitempty"`
	Statics                 json.RawMessage   `json:"statics,omitempty"`
	Image                   string            `json:"image,omitempty"`
	Files                   json.RawMessage   `json:"files,omitempty"`
	Schedule                string            `json:"schedule,omitempty"`
	AutoDestroy             bool              `json:"auto_destroy,omitempty"`
	Restart                 json.RawMessage   `json:"restart,omitempty"`
	DNS                     json.RawMessage   `json:"dns,omitempty"`
	Processes               json.RawMessage   `json:"processes,omitempty"`
	Standbys                json.RawMessage   `json:"standbys,omitempty"`
	StopConfig              json.RawMessage   `json:"stop_config,omitempty"`
	Containers              json.RawMessage   `json:"containers,omitempty"`
	Volumes                 json.RawMessage   `json:"volumes,omitempty"`
	Rootfs                  json.RawMessage   `json:"rootfs,omitempty"`
	CacheDrive              json.RawMessage   `json:"cache_drive,omitempty"`
	Spot                    json.RawMessage   `json:"spot,omitempty"`
	VMSize                  string            `json:"size,omitempty"`
	DisableMachineAutostart *bool             `json:"disable_machine_autostart,omitempty"`
}

func (c machineConfig) clone() machineConfig {
	c.Env = copyMap(c.Env)
	c.Metadata = copyMap(c.Metadata)
	return c // RawMessages are never mutated in place, so sharing them is safe
}

type imageRef struct {
	Registry   string            `json:"registry,omitempty"`
	Repository string            `json:"repository,omitempty"`
	Tag        string            `json:"tag,omitempty"`
	Digest     string            `json:"digest,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
}

type event struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Status    string          `json:"status"`
	Request   json.RawMessage `json:"request,omitempty"`
	Source    string          `json:"source"`
	Timestamp int64           `json:"timestamp"`
}

type checkStatus struct {
	Name      string `json:"name"`
	Status    string `json:"status"`
	Output    string `json:"output"`
	UpdatedAt string `json:"updated_at"`
}

// wireMachine is the Machine JSON of the API (OpenAPI flydv1.Machine).
type wireMachine struct {
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	State      string         `json:"state"`
	Region     string         `json:"region"`
	ImageRef   imageRef       `json:"image_ref"`
	InstanceID string         `json:"instance_id"`
	Version    string         `json:"version,omitempty"`
	PrivateIP  string         `json:"private_ip"`
	CreatedAt  string         `json:"created_at"`
	UpdatedAt  string         `json:"updated_at"`
	Config     *machineConfig `json:"config,omitempty"`
	Events     []event        `json:"events,omitempty"`
	Checks     []checkStatus  `json:"checks,omitempty"`
	Nonce      string         `json:"nonce,omitempty"`
	HostStatus string         `json:"host_status,omitempty"`
	Cordoned   bool           `json:"cordoned"`
}

type lease struct {
	nonce, owner, description string
	expires                   time.Time
}

// machine is the sim's live record of one Machine.
type machine struct {
	id, name, region, privateIP string
	state                       string
	cfg                         machineConfig
	ref                         imageRef
	instanceID                  string
	createdAt, updatedAt        time.Time
	events                      []event // newest first
	checksPassing               bool
	checksOutput                string
	checksAt                    time.Time
	cordoned                    bool
	lease                       *lease
	fault                       MachineFault
	changedBy                   string // MachineView.ChangedBy
	bootedImage                 string // the image flyd last prepared (the logs say when it pulls)

	// prev holds the version an update replaced, so a reverted update can
	// put it back (config and instance_id).
	prevCfg        machineConfig
	prevRef        imageRef
	prevInstanceID string
	prevState      string

	gen  uint64 // bumped when a new operation supersedes queued transitions
	wire []byte // cached full JSON; nil after any change
}

func (m *machine) group() string { return m.cfg.Metadata["fly_process_group"] }

// touch invalidates the cached JSON after a change.
func (m *machine) touch() { m.wire = nil }

func (m *machine) activeLease(now time.Time) *lease {
	if m.lease == nil || !now.Before(m.lease.expires) {
		return nil
	}
	return m.lease
}

// maxEvents bounds history like the API does (it returns recent events only).
const maxEvents = 20

func (m *machine) addEvent(e event) {
	m.events = append(m.events, event{})
	copy(m.events[1:], m.events)
	m.events[0] = e
	if len(m.events) > maxEvents {
		m.events = m.events[:maxEvents]
	}
}

// checkNames lists the health checks a config defines: one per service
// check (named servicecheck-NN-TYPE-PORT like flyd does) plus top-level checks.
func (c *machineConfig) checkNames() []string {
	var names []string
	if len(c.Services) > 0 {
		var svcs []struct {
			InternalPort int `json:"internal_port"`
			Checks       []struct {
				Type string `json:"type"`
				Port *int   `json:"port"`
			} `json:"checks"`
		}
		if json.Unmarshal(c.Services, &svcs) == nil {
			n := 0
			for _, svc := range svcs {
				for _, ch := range svc.Checks {
					port := svc.InternalPort
					if ch.Port != nil {
						port = *ch.Port
					}
					typ := ch.Type
					if typ == "" {
						typ = "tcp"
					}
					names = append(names, fmt.Sprintf("servicecheck-%02d-%s-%d", n, typ, port))
					n++
				}
			}
		}
	}
	if len(c.Checks) > 0 {
		var top map[string]json.RawMessage
		if json.Unmarshal(c.Checks, &top) == nil {
			keys := make([]string, 0, len(top))
			for k := range top {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			names = append(names, keys...)
		}
	}
	return names
}

// parseImageRef splits "registry/repo:tag@digest" the way the API reports it.
func parseImageRef(image string) imageRef {
	ref := imageRef{}
	rest := image
	if i := strings.Index(rest, "@"); i >= 0 {
		ref.Digest = rest[i+1:]
		rest = rest[:i]
	}
	if i := strings.Index(rest, "/"); i >= 0 && strings.ContainsAny(rest[:i], ".:") {
		ref.Registry = rest[:i]
		rest = rest[i+1:]
	} else {
		ref.Registry = "docker-hub-mirror.fly.io"
	}
	if i := strings.LastIndex(rest, ":"); i >= 0 {
		ref.Repository, ref.Tag = rest[:i], rest[i+1:]
	} else {
		ref.Repository, ref.Tag = rest, "latest"
	}
	if ref.Digest == "" {
		ref.Digest = "sha256:" + hashHex(image, 64)
	}
	return ref
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// toWire renders m; summary drops what the API's summary=true drops.
func (m *machine) toWire(summary bool) wireMachine {
	w := wireMachine{
		ID: m.id, Name: m.name, State: m.state, Region: m.region, ImageRef: m.ref,
		InstanceID: m.instanceID, Version: m.instanceID, PrivateIP: m.privateIP,
		CreatedAt: rfc3339(m.createdAt), UpdatedAt: rfc3339(m.updatedAt), Cordoned: m.cordoned,
	}
	if summary {
		return w
	}
	cfg := m.cfg
	if len(cfg.Init) == 0 {
		cfg.Init = json.RawMessage(`{}`)
	}
	w.Config = &cfg
	w.Events = m.events
	w.HostStatus = "ok"
	status, output := "critical", m.checksOutput
	if m.checksPassing {
		status = "passing"
	}
	for _, name := range m.cfg.checkNames() {
		w.Checks = append(w.Checks, checkStatus{Name: name, Status: status, Output: output, UpdatedAt: rfc3339(m.checksAt)})
	}
	return w
}

// json returns the cached full JSON of m.
func (m *machine) json() []byte {
	if m.wire == nil {
		b, err := json.Marshal(m.toWire(false))
		if err != nil {
			panic(err) // only plain data: cannot fail
		}
		m.wire = b
	}
	return m.wire
}
