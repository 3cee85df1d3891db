package flysim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// gqlRequest is what fly-go's two GraphQL clients (superfly/graphql and
// genqlient) POST to /graphql.
type gqlRequest struct {
	Query         string         `json:"query"`
	Variables     map[string]any `json:"variables"`
	OperationName string         `json:"operationName"`
}

type gqlError struct {
	Message    string            `json:"message"`
	Extensions map[string]string `json:"extensions,omitempty"`
}

// gqlFail answers like Fly's GraphQL API: HTTP 200 with errors, so fly-go
// surfaces the message (and graphql.IsUnauthorizedError / NOT_FOUND codes).
// With EchoAuth the message quotes the request's Authorization header.
func gqlFail(w http.ResponseWriter, echo, msg, code string) {
	if echo != "" {
		msg += echoAuth(echo)
	}
	e := gqlError{Message: msg}
	if code != "" {
		e.Extensions = map[string]string{"code": code}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": nil, "errors": []gqlError{e}})
}

func (s *Sim) releaseNode(r *release) map[string]any {
	return map[string]any{
		"id": r.id, "version": r.version, "description": r.descr, "reason": "deploy", "status": r.status,
		"imageRef": r.image, "stable": r.status == "complete", "inProgress": r.status == "running",
		"user":      map[string]string{"id": "U_deploybot", "email": LeaseBot, "name": "Deploy Bot"},
		"createdAt": rfc3339(r.createdAt),
	}
}

// handleGraphQL routes on operationName, else on the aliases fly-go v0.9.3
// uses (§6 of the reference): releasesUnprocessed, currentRelease,
// LatestImage, appcompact.
func (s *Sim) handleGraphQL(w http.ResponseWriter, r *http.Request) {
	s.withOutage(w, r, "POST /graphql", func(w http.ResponseWriter) { s.serveGraphQL(w, r) })
}

func (s *Sim) serveGraphQL(rw http.ResponseWriter, r *http.Request) {
	const route = "POST /graphql"
	w := &statusWriter{ResponseWriter: rw, route: route}
	echo := s.echoHeader(r) // GraphQL errors are 200s: gqlFail quotes it itself
	defer s.record(w)
	if !s.sleepLatency(r.Context()) {
		return
	}
	if !s.authorized(r.Header.Get("Authorization")) {
		gqlFail(w, echo, "You must be authenticated to view this.", "UNAUTHORIZED")
		return
	}
	var req gqlRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		gqlFail(w, echo, "could not parse request: "+err.Error(), "BAD_REQUEST")
		return
	}
	appName, _ := req.Variables["appName"].(string)
	if appName != s.app {
		gqlFail(w, echo, fmt.Sprintf("Could not find App %q", appName), "NOT_FOUND")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked() // a running deploy's status follows its machines
	q := req.Query
	var app map[string]any
	switch {
	case req.OperationName == "LatestImage" || strings.Contains(q, "LatestImage"):
		t := s.target
		app = map[string]any{"currentReleaseUnprocessed": map[string]any{"id": t.id, "version": t.version, "imageRef": t.image}}
	case strings.Contains(q, "releasesUnprocessed"):
		limit := len(s.releases)
		if f, ok := req.Variables["limit"].(float64); ok && int(f) < limit {
			limit = int(f)
		}
		status, _ := req.Variables["status"].(string)
		nodes := []map[string]any{}
		for i := len(s.releases) - 1; i >= 0 && len(nodes) < limit; i-- {
			if status == "" || s.releases[i].status == status {
				nodes = append(nodes, s.releaseNode(s.releases[i]))
			}
		}
		app = map[string]any{"releases": map[string]any{"nodes": nodes}}
	case strings.Contains(q, "currentReleaseUnprocessed"):
		app = map[string]any{"currentRelease": s.releaseNode(s.target)}
	case strings.Contains(q, "appcompact:app"):
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"appcompact": s.appCompact()}})
		return
	case strings.Contains(q, "appbasic:app"):
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"appbasic": s.appCompact()}})
		return
	default:
		gqlFail(w, echo, "flysim: unsupported GraphQL operation (supported: releases, currentRelease, LatestImage, appcompact)", "BAD_REQUEST")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"app": app}})
}

func (s *Sim) appCompact() map[string]any {
	return map[string]any{
		"id": s.app, "internalNumericId": 424242, "name": s.app, "hostname": s.app + ".fly.dev",
		"cnameTarget": hashHex(s.app, 6) + "." + s.app + ".fly.dev", "deployed": true, "network": "default",
		"status": "deployed", "appUrl": "https://" + s.app + ".fly.dev", "platformVersion": "machines",
		"organization": map[string]any{"id": "org_demo", "internalNumericId": "4242", "slug": "demo-org", "paidPlan": true,
			"name": "Demo Org", "rawSlug": "demo-org"},
		"postgresAppRole": nil,
	}
}
