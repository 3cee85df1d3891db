package flysim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// machineLocked resolves {id}; it answers 404 itself when there is none.
// Destroyed machines are found (GET shows them) unless live is set.
func (s *Sim) machineLocked(w http.ResponseWriter, r *http.Request, live bool) *machine {
	s.advanceLocked()
	m, ok := s.machines[r.PathValue("id")]
	if !ok || (live && m.state == stateDestroyed) {
		writeError(w, http.StatusNotFound, errNotFound.Error())
		return nil
	}
	return m
}

// leaseBlocksLocked answers 409 when someone else's lease guards m.
func (s *Sim) leaseBlocksLocked(w http.ResponseWriter, r *http.Request, m *machine) bool {
	l := m.activeLease(time.Now())
	if l == nil || r.Header.Get("fly-machine-lease-nonce") == l.nonce {
		return false
	}
	s.stats.leaseConflicts++
	writeJSON(w, http.StatusConflict, map[string]string{"status": "error", "message": heldMessage(m, l)})
	return true
}

func heldMessage(m *machine, l *lease) string {
	return fmt.Sprintf("machine ID %s lease currently held by %s, expires at %s", m.id, l.owner, rfc3339(l.expires))
}

func (s *Sim) mutatedLocked(id string) { s.stats.mutations[id]++ }

func (s *Sim) handleGetApp(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.advanceLocked()
	count := 0
	for _, m := range s.machines {
		if m.state != stateDestroyed {
			count++
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"id": hashHex(s.app, 12), "name": s.app, "internal_numeric_id": 424242, "network": "default",
		"status": "deployed", "machine_count": count, "volume_count": 0,
		"organization": map[string]any{"name": "Demo Org", "slug": "demo-org", "internal_numeric_id": 4242},
		"cname_target": hashHex(s.app, 6) + "." + s.app + ".fly.dev", "app_role": "",
	})
}

// handleList honours state= (comma list), region=, include_deleted,
// summary and metadata.KEY=VALUE; other keys (a bare "?started" that fly-go's
// List builds) are ignored like the real API does.
func (s *Sim) handleList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	states := map[string]bool{}
	for _, v := range q["state"] {
		for _, st := range strings.Split(v, ",") {
			if st = strings.TrimSpace(st); st != "" {
				states[st] = true
			}
		}
	}
	includeDeleted := q.Get("include_deleted") == "true"
	region := q.Get("region")
	summary := q.Get("summary") == "true"
	meta := map[string]string{}
	for k, v := range q {
		if strings.HasPrefix(k, "metadata.") && len(v) > 0 {
			meta[strings.TrimPrefix(k, "metadata.")] = v[0]
		}
	}
	var buf bytes.Buffer
	buf.WriteByte('[')
	s.mu.Lock()
	s.advanceLocked()
	first := true
	for _, id := range s.order {
		m := s.machines[id]
		if m.state == stateDestroyed && !includeDeleted {
			continue
		}
		if len(states) > 0 && !states[m.state] || region != "" && m.region != region {
			continue
		}
		skip := false
		for k, v := range meta {
			skip = skip || m.cfg.Metadata[k] != v
		}
		if skip {
			continue
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		if summary {
			b, _ := json.Marshal(m.toWire(true))
			buf.Write(b)
		} else {
			buf.Write(m.json())
		}
	}
	s.mu.Unlock()
	buf.WriteByte(']')
	writeRaw(w, http.StatusOK, buf.Bytes())
}

func (s *Sim) handleGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	m := s.machineLocked(w, r, false)
	var b []byte
	if m != nil {
		b = m.json()
	}
	s.mu.Unlock()
	if m != nil {
		writeRaw(w, http.StatusOK, b)
	}
}

// launchInput is the body of create and update (fly.LaunchMachineInput).
type launchInput struct {
	Config                  *machineConfig `json:"config"`
	Region                  string         `json:"region"`
	Name                    string         `json:"name"`
	SkipLaunch              bool           `json:"skip_launch"`
	SkipServiceRegistration bool           `json:"skip_service_registration"`
	SkipSecrets             bool           `json:"skip_secrets"`
	MinSecretsVersion       *uint64        `json:"min_secrets_version"`
	LeaseTTL                int            `json:"lease_ttl"`
}

func decodeLaunch(w http.ResponseWriter, r *http.Request) (*launchInput, bool) {
	var in launchInput
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_argument: could not decode request body: "+err.Error())
		return nil, false
	}
	if in.Config == nil || in.Config.Image == "" {
		writeError(w, http.StatusBadRequest, "invalid_argument: config.image is required")
		return nil, false
	}
	return &in, true
}

// leaseOwner is who the sim says holds leases the client takes.
const leaseOwner = "operator@example.com"

func (s *Sim) handleLaunch(w http.ResponseWriter, r *http.Request) {
	in, ok := decodeLaunch(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	now := time.Now()
	region := in.Region
	if region == "" {
		region = regions[0]
	}
	name := in.Name
	if name == "" {
		name = s.newName()
	}
	cfg := in.Config.clone()
	m := &machine{
		id: s.newMachineID(), name: name, region: region, privateIP: s.newPrivateIP(),
		state: stateCreated, cfg: cfg, ref: s.refForImage(cfg.Image), instanceID: s.newInstanceID(),
		createdAt: now, updatedAt: now, checksAt: now, checksOutput: "connect: connection refused",
	}
	s.addMachineLocked(m)
	s.countLocked(m)
	s.eventLocked(m, now, "launch", "created", "user", nil)
	if in.SkipLaunch {
		// flyd prepares it and leaves it stopped (flyctl's release command
		// waits for that before starting it).
		s.schedule(m, launchToStarting, step{kind: stepState, state: stateStopped})
	} else {
		started := &step{kind: stepState, state: stateStarted, evType: "start", evStatus: "started"}
		s.schedule(m, launchToStarting, step{kind: stepState, state: stateStarting, then: started, thenAfter: startDuration})
	}
	wm := m.toWire(false)
	if in.LeaseTTL > 0 {
		m.lease = &lease{nonce: s.hexID(12), owner: leaseOwner, expires: now.Add(time.Duration(in.LeaseTTL) * time.Second)}
		wm.Nonce = m.lease.nonce // only the launcher learns the nonce
	}
	s.mutatedLocked(m.id)
	s.notifyLocked()
	writeJSON(w, http.StatusOK, wm)
}

func (s *Sim) handleUpdate(w http.ResponseWriter, r *http.Request) {
	in, ok := decodeLaunch(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.machineLocked(w, r, true)
	if m == nil || s.leaseBlocksLocked(w, r, m) {
		return
	}
	if m.state == stateReplacing {
		writeError(w, http.StatusConflict, "aborted: machine is replacing: concurrent update in progress")
		return
	}
	if m.state == stateDestroying {
		writeError(w, http.StatusPreconditionFailed, "failed_precondition: unable to update machine from current state: destroying")
		return
	}
	if in.Region != "" && in.Region != m.region {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("invalid_argument: region is immutable (machine is in %s)", m.region))
		return
	}
	if in.Name != "" && in.Name != m.name {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("invalid_argument: name is immutable (machine is %s)", m.name))
		return
	}
	s.beginUpdateLocked(m, in.Config.clone(), in.SkipLaunch, "user", s.simNow())
	m.changedBy = ""
	wm := m.toWire(false)
	if in.LeaseTTL > 0 && m.activeLease(time.Now()) == nil {
		m.lease = &lease{nonce: s.hexID(12), owner: leaseOwner, expires: time.Now().Add(time.Duration(in.LeaseTTL) * time.Second)}
		wm.Nonce = m.lease.nonce
	}
	s.mutatedLocked(m.id)
	s.notifyLocked()
	writeJSON(w, http.StatusOK, wm)
}
