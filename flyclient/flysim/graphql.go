package flysim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// gqlRequest is what fly-go's two GraphQL clients (superfly/graphql and
// genqlient) and flyctl's own queries POST to /graphql.
type gqlRequest struct {
	Query         string         `json:"query"`
	Variables     map[string]any `json:"variables"`
	OperationName string         `json:"operationName"`
}

type gqlError struct {
	Message    string            `json:"message"`
	Path       []string          `json:"path,omitempty"`
	Extensions map[string]string `json:"extensions,omitempty"`
}

func (e *gqlError) Error() string { return e.Message }

func gqlNotFound(msg string, path ...string) *gqlError {
	return &gqlError{Message: msg, Path: path, Extensions: map[string]string{"code": "NOT_FOUND"}}
}

// gqlFail answers like Fly's GraphQL API: HTTP 200 with errors, so fly-go
// surfaces the message (and graphql.IsUnauthorizedError / NOT_FOUND codes).
// With EchoAuth the message quotes the request's Authorization header.
func gqlFail(w http.ResponseWriter, echo string, e *gqlError) {
	if echo != "" {
		e.Message += echoAuth(echo)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": nil, "errors": []*gqlError{e}})
}

// gqlObject answers the fields of one GraphQL object, its arguments already
// resolved. Plain map[string]any values are objects too.
type gqlObject func(field string, args map[string]any) (any, error)

// handleGraphQL serves the query and mutation fields the sim knows (see
// queryRoot): the answer carries exactly the fields asked for, under their
// aliases, so fly-go's and flyctl's decoders see what the real API sends.
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
		gqlFail(w, echo, &gqlError{Message: "You must be authenticated to view this.", Extensions: map[string]string{"code": "UNAUTHORIZED"}})
		return
	}
	var req gqlRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		gqlFail(w, echo, &gqlError{Message: "could not parse request: " + err.Error(), Extensions: map[string]string{"code": "BAD_REQUEST"}})
		return
	}
	doc, err := parseGraphQL(req.Query)
	if err != nil {
		gqlFail(w, echo, &gqlError{Message: err.Error(), Extensions: map[string]string{"code": "BAD_REQUEST"}})
		return
	}
	s.mu.Lock()
	s.advanceLocked() // a running deploy's status follows its machines
	x := &gqlExec{vars: req.Variables, doc: doc}
	root := s.queryRoot()
	if doc.opType != "query" {
		// No mutation is simulated: flyctl falls back where it can (its
		// WireGuard agent for NATS logs, then polling).
		root = func(field string, _ map[string]any) (any, error) { return nil, unknownField(field, doc.opType) }
	}
	data, err := x.project(root, doc.operation)
	s.mu.Unlock()
	if err != nil {
		ge, ok := err.(*gqlError)
		if !ok {
			ge = &gqlError{Message: err.Error()}
		}
		gqlFail(w, echo, ge)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
}

// gqlExec projects resolved values onto a query's selection sets.
type gqlExec struct {
	vars map[string]any
	doc  *gqlDocument
}

// fields flattens fragment spreads and inline fragments into plain fields.
func (x *gqlExec) fields(sel []gqlSelection) []gqlSelection {
	var out []gqlSelection
	for _, s := range sel {
		switch {
		case s.spread != "":
			out = append(out, x.fields(x.doc.fragments[s.spread])...)
		case s.name == "":
			out = append(out, x.fields(s.sel)...)
		default:
			out = append(out, s)
		}
	}
	return out
}

func (x *gqlExec) project(v any, sel []gqlSelection) (any, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case []map[string]any:
		items := make([]any, len(v))
		for i := range v {
			items[i] = v[i]
		}
		return x.project(items, sel)
	case []any:
		out := make([]any, 0, len(v))
		for _, item := range v {
			p, err := x.project(item, sel)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
		return out, nil
	case map[string]any:
		return x.project(gqlObject(func(f string, _ map[string]any) (any, error) { return v[f], nil }), sel)
	case gqlObject:
		out := map[string]any{}
		for _, f := range x.fields(sel) {
			if f.name == "__typename" {
				out[f.alias] = ""
				continue
			}
			args := map[string]any{}
			for k, a := range f.args {
				args[k] = a.resolve(x.vars)
			}
			val, err := v(f.name, args)
			if err != nil {
				return nil, err
			}
			if f.hasSel {
				if val, err = x.project(val, f.sel); err != nil {
					return nil, err
				}
			}
			out[f.alias] = val
		}
		return out, nil
	}
	return v, nil // a scalar, or a JSON scalar such as configDefinition
}

// queryRoot is the Query (and Mutation) type: the fields fly-go v0.9.3 and
// flyctl read. Unknown fields are refused the way a GraphQL server does,
// so a new query shows up as a clear error rather than as nulls.
func (s *Sim) queryRoot() gqlObject {
	return func(field string, args map[string]any) (any, error) {
		switch field {
		case "app":
			name, _ := args["name"].(string)
			if name != s.app {
				return nil, gqlNotFound(fmt.Sprintf("Could not find App %q", name), "app")
			}
			return s.appObject(), nil
		case "latestImageDetails":
			// The real API knows only Fly's own images (flyio/postgres...);
			// for any other repository it answers this, and `fly status`
			// skips the image.
			return nil, &gqlError{Message: "Unknown repository", Path: []string{"latestImageDetails"}}
		case "organization":
			slug, _ := args["slug"].(string)
			if slug != orgSlug {
				return nil, gqlNotFound(fmt.Sprintf("Could not find Organization %q", slug), "organization")
			}
			return s.organization(), nil
		}
		return nil, unknownField(field, "query")
	}
}

// unknownField refuses a field the sim does not answer, as a GraphQL
// server refuses one its schema lacks.
func unknownField(field, opType string) *gqlError {
	typ, known := "Query", " (the sim answers app, latestImageDetails and organization)"
	if opType != "query" {
		typ, known = strings.ToUpper(opType[:1])+opType[1:], " (the sim simulates no mutation)"
	}
	return &gqlError{Message: fmt.Sprintf("flysim: Cannot query field %q on type %q", field, typ) + known,
		Extensions: map[string]string{"code": "BAD_REQUEST"}}
}

// appObject is the App type: the fields fly-go's app queries, its release
// queries and flyctl's deploy, scale and status read.
func (s *Sim) appObject() gqlObject {
	compact := s.appCompact()
	return func(field string, args map[string]any) (any, error) {
		switch field {
		case "releasesUnprocessed", "releases":
			return map[string]any{"nodes": s.releaseNodes(args)}, nil
		case "currentReleaseUnprocessed", "currentRelease":
			return s.releaseNode(s.target), nil
		case "image":
			ref, _ := args["ref"].(string)
			return s.imageObject(ref), nil
		case "egressIpAddresses", "ipAddresses":
			// No IPs: flyctl's DNS check after a deploy would query real
			// resolvers for the app's hostname.
			return map[string]any{"nodes": []any{}, "totalCount": 0}, nil
		case "role", "sharedIpAddress":
			return nil, nil
		}
		return compact[field], nil
	}
}

// releaseNodes answers releasesUnprocessed(first:, status:), newest first.
func (s *Sim) releaseNodes(args map[string]any) []map[string]any {
	limit := len(s.releases)
	for _, k := range []string{"first", "last", "limit"} {
		if f, ok := args[k].(float64); ok && int(f) < limit {
			limit = int(f)
		}
	}
	status, _ := args["status"].(string)
	nodes := []map[string]any{}
	for i := len(s.releases) - 1; i >= 0 && len(nodes) < limit; i-- {
		if status == "" || s.releases[i].status == status {
			nodes = append(nodes, s.releaseNode(s.releases[i]))
		}
	}
	return nodes
}

func (s *Sim) releaseNode(r *release) map[string]any {
	user := r.user
	if user == "" {
		user = LeaseBot
	}
	return map[string]any{
		"id": r.id, "version": r.version, "description": r.descr, "reason": "deploy", "status": r.status,
		"imageRef": r.image, "stable": r.status == ReleaseComplete, "inProgress": r.status == ReleaseRunning,
		"user":             map[string]string{"id": "U_" + hashHex(user, 8), "email": user, "name": user},
		"createdAt":        rfc3339(r.createdAt),
		"configDefinition": s.definitionOf(r),
		"metadata":         r.metadata,
	}
}

const orgSlug = "demo-org"

func (s *Sim) organization() map[string]any {
	return map[string]any{"id": "org_demo", "internalNumericId": "4242", "slug": orgSlug, "paidPlan": true,
		"name": "Demo Org", "rawSlug": orgSlug, "type": "SHARED", "billable": true, "viewerRole": "admin"}
}

func (s *Sim) appCompact() map[string]any {
	return map[string]any{
		"id": s.app, "internalNumericId": 424242, "name": s.app, "hostname": s.app + ".fly.dev",
		"cnameTarget": hashHex(s.app, 6) + "." + s.app + ".fly.dev", "deployed": true, "network": "default",
		"status": "deployed", "appUrl": "https://" + s.app + ".fly.dev", "platformVersion": "machines",
		"organization": s.organization(),
	}
}
