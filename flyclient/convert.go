package flyclient

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/flyrescue/flyrescue/model"
	fly "github.com/superfly/fly-go"
)

// DefaultLabelEnv is the env var deploys set to the release label.
const DefaultLabelEnv = "RELEASE_LABEL"

// ToModel converts an API machine into the model's view of it. labelEnv names
// the env var holding the release label ("" means RELEASE_LABEL).
func ToModel(m *Machine, labelEnv string) model.Machine {
	if labelEnv == "" {
		labelEnv = DefaultLabelEnv
	}
	out := model.Machine{
		ID: m.ID, Name: m.Name, State: m.State, Region: m.Region, InstanceID: m.InstanceID,
		Group: m.ProcessGroup(), HostStatus: string(m.HostStatus), Cordoned: m.Cordoned,
		CreatedAt: parseTime(m.CreatedAt), UpdatedAt: parseTime(m.UpdatedAt),
	}
	if cfg := m.GetConfig(); cfg != nil {
		out.Image = cfg.Image
		out.ReleaseLabel = cfg.Env[labelEnv]
		out.ReleaseID = cfg.Metadata[fly.MachineConfigMetadataKeyFlyReleaseId]
		out.ReleaseVersion = atoi(cfg.Metadata[fly.MachineConfigMetadataKeyFlyReleaseVersion])
		out.Mark = model.MarkFromMetadata(cfg.Metadata)
	}
	if out.Image == "" {
		out.Image = m.FullImageRef()
	}
	out.ImageTag = model.ImageTag(out.Image)
	for _, c := range m.Checks {
		if c == nil {
			continue
		}
		out.Checks.Total++
		switch c.Status {
		case fly.Passing:
			out.Checks.Passing++
		case fly.Warning:
			out.Checks.Warning++
		default:
			out.Checks.Critical++
		}
	}
	if len(m.Events) > 0 && m.Events[0] != nil {
		e := m.Events[0]
		out.LastEvent = model.Event{Type: e.Type, Status: e.Status, Source: e.Source, At: e.Time(), Exit: ExitOf(e)}
		out.StateSince = out.LastEvent.At
	}
	if out.StateSince.IsZero() {
		out.StateSince = out.UpdatedAt
	}
	return out
}

// ToModels converts a listing, skipping nils.
func ToModels(ms []*Machine, labelEnv string) []model.Machine {
	out := make([]model.Machine, 0, len(ms))
	for _, m := range ms {
		if m != nil {
			out = append(out, ToModel(m, labelEnv))
		}
	}
	return out
}

// CloneConfig deep-copies a config, so an edited copy never aliases the
// original (which the journal keeps for undo).
//
// A config that does not survive the round trip is an error for its step,
// never a panic on an engine goroutine.
func CloneConfig(c *MachineConfig) (*MachineConfig, error) {
	if c == nil {
		return nil, nil
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("the machine's config does not encode: %w", err)
	}
	var out MachineConfig
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("the machine's config does not decode back: %w", err)
	}
	return &out, nil
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return t
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0
		}
		n = n*10 + int(r-'0')
	}
	return n
}

// ExitOf reads how the process ended from an exit event's request (the
// monitor's view first, as flyctl does), nil when the event says nothing.
func ExitOf(e *fly.MachineEvent) *model.Exit {
	if e == nil || e.Request == nil {
		return nil
	}
	ee := e.Request.ExitEvent
	if me := e.Request.MonitorEvent; me != nil && me.ExitEvent != nil {
		ee = me.ExitEvent
	}
	if ee == nil {
		return nil
	}
	return &model.Exit{Code: ee.ExitCode, OOMKilled: ee.OOMKilled, RequestedStop: ee.RequestedStop, RestartCount: e.Request.RestartCount}
}
