package flysim

import "net/http"

// App-scoped Machines API reads flyctl makes around a deploy and a scale.

// handleIPAssignments answers GET /v1/apps/{app}/ip_assignments with no
// IPs: given one, flyctl's post-deploy DNS check would query real
// resolvers for the app's hostname, which a rehearsal must not do.
func (s *Sim) handleIPAssignments(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"ips": []any{}})
}

// handleVolumes answers GET /v1/apps/{app}/volumes: the scenario's app
// keeps no state on volumes.
func (s *Sim) handleVolumes(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, []any{})
}
