package flysim

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Server is a Sim listening on a TCP address.
type Server struct {
	URL string
	Sim *Sim

	srv  *http.Server
	ln   net.Listener
	done chan struct{}
}

// Start serves a new Sim on 127.0.0.1 at a free port.
func Start(opts Options) (*Server, error) { return Listen("127.0.0.1:0", opts) }

// Listen serves a new Sim on addr.
func Listen(addr string, opts Options) (*Server, error) {
	sim, err := New(opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &Server{URL: "http://" + ln.Addr().String(), Sim: sim, ln: ln, done: make(chan struct{}),
		srv: &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		defer close(srv.done)
		_ = srv.srv.Serve(ln) // returns http.ErrServerClosed on Close
	}()
	return srv, nil
}

// Close stops the listener and waits (briefly) for in-flight requests such as
// long waits, which are cancelled through their contexts.
func (s *Server) Close() {
	// A hanging or dripping outage would hold Shutdown for its whole grace.
	s.Sim.SetOutage(OutageNone, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
	}
	<-s.done
}

// ServeHTTP serves the Machines API, /graphql, the REST API of api.fly.io
// that flyctl uses (FLY_UIEX_BASE_URL, app logs) and /_sim/stats.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.muxOnce.Do(s.buildMux)
	s.mux.ServeHTTP(w, r)
}

type scope int

const (
	scopeApp scope = iota
	scopeMachine
)

// route describes one endpoint for the shared middleware.
type route struct {
	action   string // rate-limit action name
	scope    scope
	mutating bool // subject to FaultRate, LostAnswerRate and AppliedErrorRate
}

func (s *Sim) buildMux() {
	mux := http.NewServeMux()
	h := func(pattern string, rt route, fn http.HandlerFunc) { mux.Handle(pattern, s.wrap(pattern, rt, fn)) }
	const base = "/v1/apps/{app}/machines"
	h("GET /v1/apps/{app}", route{"get_app", scopeApp, false}, s.handleGetApp)
	h("GET /v1/apps/{app}/ip_assignments", route{"list_ips", scopeApp, false}, s.handleIPAssignments)
	h("GET /v1/apps/{app}/volumes", route{"list_volumes", scopeApp, false}, s.handleVolumes)
	h("GET "+base, route{"list", scopeApp, false}, s.handleList)
	h("POST "+base, route{"create", scopeApp, true}, s.handleLaunch)
	h("GET "+base+"/{id}", route{"get", scopeMachine, false}, s.handleGet)
	h("POST "+base+"/{id}", route{"update", scopeMachine, true}, s.handleUpdate)
	h("DELETE "+base+"/{id}", route{"destroy", scopeMachine, true}, s.handleDestroy)
	h("POST "+base+"/{id}/start", route{"start", scopeMachine, true}, s.handleStart)
	h("POST "+base+"/{id}/stop", route{"stop", scopeMachine, true}, s.handleStop)
	h("POST "+base+"/{id}/restart", route{"restart", scopeMachine, true}, s.handleTransition(restartTransition))
	h("POST "+base+"/{id}/suspend", route{"suspend", scopeMachine, true}, s.handleTransition(suspendTransition))
	h("POST "+base+"/{id}/cordon", route{"cordon", scopeMachine, true}, s.handleCordon(true))
	h("POST "+base+"/{id}/uncordon", route{"uncordon", scopeMachine, true}, s.handleCordon(false))
	h("POST "+base+"/{id}/signal", route{"signal", scopeMachine, true}, s.handleSignal)
	h("GET "+base+"/{id}/wait", route{"wait", scopeMachine, false}, s.handleWait)
	h("GET "+base+"/{id}/lease", route{"get_lease", scopeMachine, false}, s.handleGetLease)
	h("POST "+base+"/{id}/lease", route{"lease", scopeMachine, false}, s.handleAcquireLease)
	h("DELETE "+base+"/{id}/lease", route{"release_lease", scopeMachine, false}, s.handleReleaseLease)
	h("GET "+base+"/{id}/ps", route{"ps", scopeMachine, false}, s.handlePs)
	h("GET "+base+"/{id}/metadata", route{"get_metadata", scopeMachine, false}, s.handleGetMetadata)
	h("POST "+base+"/{id}/metadata/{key}", route{"set_metadata", scopeMachine, true}, s.handleSetMetadata)
	h("DELETE "+base+"/{id}/metadata/{key}", route{"delete_metadata", scopeMachine, true}, s.handleDeleteMetadata)
	mux.HandleFunc("POST /graphql", s.handleGraphQL)
	s.webRoutes(mux)
	mux.HandleFunc("GET /_sim/stats", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Stats()) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found: no route for "+r.Method+" "+r.URL.Path)
	})
	s.mux = mux
}

// statusWriter remembers the status for the request statistics and applies
// EchoAuth to error bodies.
type statusWriter struct {
	http.ResponseWriter
	route    string
	status   int
	echo     string // Authorization header to quote in error messages
	dropped  string // why no answer was sent, recorded instead of a status
	recorded bool
}

// record counts the request once, in Stats.Requests. A dropped connection
// is recorded before it closes, so a caller that saw the drop sees the count.
func (s *Sim) record(w *statusWriter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !w.recorded {
		w.recorded = true
		s.recordRequestLocked(w.route, w.label())
	}
}

// label is how the request is recorded in Stats.Requests.
func (w *statusWriter) label() string {
	if w.dropped != "" {
		return w.dropped
	}
	return strconv.Itoa(w.status)
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.echo != "" && w.status >= 400 {
		// Error bodies are written whole by writeRaw, so one rewrite suffices.
		if _, err := w.ResponseWriter.Write(echoAuthBody(b, w.echo)); err != nil {
			return 0, err
		}
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// wrap applies what every Machines API route shares, in the real API's order:
// outage, latency, auth (401), app (404), rate limit (429), injected fault
// (500), then for mutations a lost answer or a 500 after applying.
func (s *Sim) wrap(pattern string, rt route, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.withOutage(w, r, pattern, func(w http.ResponseWriter) { s.serveAPI(w, r, pattern, rt, next) })
	})
}

func (s *Sim) serveAPI(rw http.ResponseWriter, r *http.Request, key string, rt route, next http.HandlerFunc) {
	w := &statusWriter{ResponseWriter: rw, route: key, echo: s.echoHeader(r)}
	defer s.record(w)
	if !s.sleepLatency(r.Context()) {
		writeError(w, http.StatusRequestTimeout, "deadline_exceeded: request cancelled")
		return
	}
	if !s.authorized(r.Header.Get("Authorization")) {
		writeError(w, http.StatusUnauthorized, "unauthorized")
		return
	}
	if s.foreign(r.Header.Get("Authorization")) {
		// A valid token of an org that does not own the app.
		writeError(w, http.StatusForbidden, "forbidden: token does not have access to this app")
		return
	}
	if r.PathValue("app") != s.app {
		writeError(w, http.StatusNotFound, "app not found")
		return
	}
	s.mu.Lock()
	limited, throttled := s.rateLimit, s.throttled
	fault := rt.mutating && s.faultRate > 0 && s.rng.Float64() < s.faultRate
	if fault {
		s.stats.faults++
	}
	s.mu.Unlock()
	scopeID := r.PathValue("app")
	if rt.scope == scopeMachine {
		scopeID = r.PathValue("id")
	}
	if throttled || limited && !s.limiter.allow(rt.action, scopeID, time.Now()) {
		writeError(w, http.StatusTooManyRequests, "rate limit exceeded")
		return
	}
	if fault {
		// 500, never 502/503: fly-go retries those with an empty body (§0.8).
		writeError(w, http.StatusInternalServerError, "internal: simulated fault")
		return
	}
	if rt.mutating {
		s.serveMutation(w, r, next)
		return
	}
	next(w, r)
}

func (s *Sim) sleepLatency(ctx context.Context) bool {
	s.mu.Lock()
	d := s.latency
	s.mu.Unlock()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// authorized accepts "Bearer x" and "FlyV1 x" alike, as the real API does.
func (s *Sim) authorized(header string) bool {
	tok := bareToken(header)
	switch {
	case tok == "":
		return false
	case s.opts.ForeignToken != "" && tok == bareToken(s.opts.ForeignToken):
		return true // valid, but refused with 403 by foreign
	case s.opts.Token == "":
		return true
	}
	return tok == bareToken(s.opts.Token)
}

// foreign reports the token of another org (Options.ForeignToken).
func (s *Sim) foreign(header string) bool {
	return s.opts.ForeignToken != "" && bareToken(header) == bareToken(s.opts.ForeignToken)
}

func bareToken(header string) string {
	tok := strings.TrimSpace(header)
	for _, scheme := range []string{"Bearer ", "FlyV1 "} {
		if strings.HasPrefix(tok, scheme) {
			return strings.TrimSpace(tok[len(scheme):])
		}
	}
	return tok
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal: encoding response"}`)
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

var errNotFound = errors.New("machine not found")

// muxState is kept apart so the zero Sim fields stay obvious.
type muxState struct {
	muxOnce sync.Once
	mux     *http.ServeMux
}
