package flysim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// The REST API of api.fly.io that flyctl reaches through FLY_UIEX_BASE_URL
// (flyctl internal/uiex): organizations, build records and releases. A
// release created here is a real one: it tops the history every reader
// sees (GraphQL, TargetImage) and moves through the statuses flyctl reports.

// webRoutes adds the api.fly.io REST routes to mux.
func (s *Sim) webRoutes(mux *http.ServeMux) {
	h := func(pattern string, app bool, fn http.HandlerFunc) { mux.Handle(pattern, s.wrapWeb(pattern, app, fn)) }
	h("GET /api/v1/organizations", false, s.handleListOrgs)
	h("GET /api/v1/organizations/{slug}", false, s.handleGetOrg)
	h("POST /api/v1/builds", false, s.handleBuild)
	h("POST /api/v1/builds/finish", false, s.handleBuild)
	h("POST /api/v1/releases", false, s.handleCreateRelease)
	h("PATCH /api/v1/releases/{id}", false, s.handleUpdateRelease)
	h("GET /api/v1/apps/{app}/releases", true, s.handleListReleases)
	h("GET /api/v1/apps/{app}/releases/current", true, s.handleCurrentRelease)
	h("GET /api/v1/apps/{app}/logs", true, s.handleLogs)
}

// wrapWeb applies what api.fly.io's REST routes share: outage, latency,
// auth (401) and, with app set, the app in the path (404). The Machines
// API's rate limits and injected faults do not apply.
func (s *Sim) wrapWeb(pattern string, app bool, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		s.withOutage(rw, r, pattern, func(rw http.ResponseWriter) {
			w := &statusWriter{ResponseWriter: rw, route: pattern, echo: s.echoHeader(r)}
			defer s.record(w)
			switch {
			case !s.sleepLatency(r.Context()):
				writeError(w, http.StatusRequestTimeout, "deadline_exceeded: request cancelled")
			case !s.authorized(r.Header.Get("Authorization")):
				writeError(w, http.StatusUnauthorized, "You must be authenticated to view this.")
			case s.foreign(r.Header.Get("Authorization")):
				writeError(w, http.StatusForbidden, "forbidden: token does not have access to this app")
			case app && r.PathValue("app") != s.app:
				writeError(w, http.StatusNotFound, "app not found")
			default:
				next(w, r)
			}
		})
	})
}

func (s *Sim) orgJSON() map[string]any {
	return map[string]any{
		"id": "org_demo", "internal_numeric_id": 4242, "slug": orgSlug, "raw_slug": orgSlug, "paid_plan": true,
		"personal": false, "billing_status": "CURRENT", "provisions_beta_extensions": false, "name": "Demo Org",
		"billable": true, "remote_builder_image": "docker-hub-mirror.fly.io/flyio/rchab:sha-9346699",
	}
}

func (s *Sim) handleListOrgs(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"organizations": []any{s.orgJSON()}})
}

func (s *Sim) handleGetOrg(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("slug") != orgSlug {
		writeError(w, http.StatusNotFound, "organization not found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"organization": s.orgJSON()})
}

// handleBuild records nothing: flyctl only needs a build ID back (and
// warns, without failing, when it gets none).
func (s *Sim) handleBuild(w http.ResponseWriter, r *http.Request) {
	var in struct {
		BuildID int64  `json:"build_id"`
		Status  string `json:"status"`
	}
	_ = json.NewDecoder(r.Body).Decode(&in)
	s.mu.Lock()
	id := in.BuildID
	if id == 0 {
		s.builds++
		id = s.builds
	}
	s.mu.Unlock()
	status := in.Status
	if status == "" {
		status = "started"
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "status": status, "wallclock_time_ms": 0})
}

// uiexRelease is a release as the REST API spells it (flyctl uiex.Release).
func uiexRelease(r *release) map[string]any {
	user := r.user
	if user == "" {
		user = LeaseBot
	}
	return map[string]any{
		"id": r.id, "version": r.version, "stable": r.status == ReleaseComplete, "in_progress": r.status == ReleaseRunning,
		"status": r.status, "strategy": r.strategy, "user": user, "created_at": r.createdAt.UTC().Format(time.RFC3339),
		"image_ref": r.image,
	}
}

// handleCreateRelease is flyctl's CreateRelease, sent before any machine
// is touched: {"app_name", "build_id", "definition", "image", "strategy"}.
// The release starts pending; flyctl then reports running, and at the end
// complete, failed or interrupted.
func (s *Sim) handleCreateRelease(w http.ResponseWriter, r *http.Request) {
	var in struct {
		AppName    string         `json:"app_name"`
		BuildID    int64          `json:"build_id"`
		Definition map[string]any `json:"definition"`
		Image      string         `json:"image"`
		Strategy   string         `json:"strategy"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "invalid request body: "+err.Error())
		return
	}
	switch {
	case in.AppName != s.app:
		writeError(w, http.StatusNotFound, fmt.Sprintf("app %q not found", in.AppName))
		return
	case in.Image == "":
		writeError(w, http.StatusUnprocessableEntity, "image is required")
		return
	}
	s.mu.Lock()
	s.advanceLocked()
	rel := s.createReleaseLocked(in.Image, ReleasePending)
	rel.user, rel.strategy, rel.definition = leaseOwner, in.Strategy, in.Definition
	body := uiexRelease(rel)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"release": body})
}

// handleUpdateRelease is flyctl's UpdateRelease: {"status", "metadata"}.
// Setting a status is idempotent, as flyctl's retries assume.
func (s *Sim) handleUpdateRelease(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Status   string `json:"status"`
		Metadata any    `json:"metadata"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "invalid request body: "+err.Error())
		return
	}
	if err := validReleaseStatus(in.Status); err != nil {
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("invalid status %q", in.Status))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	id := r.PathValue("id")
	rel := s.releaseLocked(func(r *release) bool { return r.id == id })
	if rel == nil {
		writeError(w, http.StatusNotFound, "release not found")
		return
	}
	rel.status = in.Status
	if in.Metadata != nil {
		rel.metadata = in.Metadata
	}
	s.notifyLocked()
	writeJSON(w, http.StatusOK, uiexRelease(rel))
}

func (s *Sim) handleListReleases(w http.ResponseWriter, r *http.Request) {
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "limit must be a positive number")
			return
		}
		limit = n
	}
	s.mu.Lock()
	s.advanceLocked()
	out := []any{}
	for i := len(s.releases) - 1; i >= 0 && (limit == 0 || len(out) < limit); i-- {
		out = append(out, uiexRelease(s.releases[i]))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"releases": out})
}

func (s *Sim) handleCurrentRelease(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	s.advanceLocked()
	body := uiexRelease(s.target)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}
