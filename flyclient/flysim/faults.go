package flysim

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
)

// The hostile-world faults that hit an answer after the sim has decided it:
// lost answers, 500s after the change was applied, and gateways that echo the
// caller's Authorization header into error text.

// captureWriter holds a mutating handler's answer until the sim has decided
// whether the caller gets to see it.
type captureWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *captureWriter) Header() http.Header { return c.header }

func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}

func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(b)
}

// serveMutation runs a mutating handler; if it succeeded, the change stays
// applied but the answer may be lost (the connection closes without a byte)
// or replaced by a 500. Refused calls (4xx) changed nothing and are answered
// as they are, so LostAnswers and AppliedErrors count applied changes only.
func (s *Sim) serveMutation(w *statusWriter, r *http.Request, next http.HandlerFunc) {
	c := &captureWriter{header: http.Header{}}
	next(c, r)
	if c.status/100 == 2 {
		s.mu.Lock()
		lost := s.lostRate > 0 && s.rng.Float64() < s.lostRate
		applied := !lost && s.appliedRate > 0 && s.rng.Float64() < s.appliedRate
		switch {
		case lost:
			s.stats.lostAnswers++
		case applied:
			s.stats.appliedErrors++
		}
		s.mu.Unlock()
		if lost {
			w.dropped = "lost"
			s.record(w)
			dropConn(w.ResponseWriter, false)
			return
		}
		if applied {
			// The same text as a fault that changed nothing: a client
			// cannot tell the two apart, and must not be able to here.
			writeError(w, http.StatusInternalServerError, "internal: simulated fault")
			return
		}
	}
	for k, v := range c.header {
		w.Header()[k] = v
	}
	w.WriteHeader(c.status)
	_, _ = w.Write(c.body.Bytes())
}

// dropConn closes the request's connection without an answer; reset sends a
// TCP RST instead of a FIN. Without a hijackable connection (a
// ResponseRecorder) it aborts the handler, which net/http also answers by
// closing the connection.
func dropConn(w http.ResponseWriter, reset bool) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok && reset {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// echoAuth is what EchoAuth appends to an error message.
func echoAuth(auth string) string { return " (request Authorization: " + auth + ")" }

// echoAuthBody appends the Authorization header to a JSON error body's
// message: "message" when present (fly-go prefers it), else "error".
func echoAuthBody(b []byte, auth string) []byte {
	var body map[string]any
	if json.Unmarshal(b, &body) != nil {
		return b
	}
	key := "error"
	if _, ok := body["message"].(string); ok {
		key = "message"
	}
	msg, _ := body[key].(string)
	body[key] = msg + echoAuth(auth)
	out, err := json.Marshal(body)
	if err != nil {
		return b
	}
	return out
}

// echoHeader is the Authorization header to echo into r's errors ("" = off).
func (s *Sim) echoHeader(r *http.Request) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.echoAuth {
		return ""
	}
	return r.Header.Get("Authorization")
}

// SetLostAnswerRate changes the fraction of successful mutating calls whose
// answer is lost after the change was applied (Options.LostAnswerRate).
func (s *Sim) SetLostAnswerRate(f float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lostRate = f
}

// SetAppliedErrorRate changes the fraction of successful mutating calls
// answered 500 after the change was applied (Options.AppliedErrorRate).
func (s *Sim) SetAppliedErrorRate(f float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appliedRate = f
}

// SetEchoAuth makes API error messages quote the request's Authorization
// header (Options.EchoAuth).
func (s *Sim) SetEchoAuth(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.echoAuth = on
}
