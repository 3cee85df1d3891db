package flysim

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// OutageMode is how the API fails while it is down. An outage hits every
// Machines API and GraphQL request; /_sim/stats keeps answering so tests can
// watch.
type OutageMode int

const (
	OutageNone  OutageMode = iota
	OutageReset            // the connection is reset (RST) at once; nothing is applied
	OutageHang             // accepted, never answered, closed when the outage ends; nothing is applied
	OutageDrip             // served, status and headers sent, the body held back until the outage ends
)

var outageNames = []string{"none", "reset", "hang", "drip"}

func (m OutageMode) String() string {
	if m < 0 || int(m) >= len(outageNames) {
		return fmt.Sprintf("OutageMode(%d)", int(m))
	}
	return outageNames[m]
}

// ParseOutage reads "reset|hang|drip[:DURATION]" (the sim's --outage flag);
// without a duration the outage lasts until switched off.
func ParseOutage(v string) (OutageMode, time.Duration, error) {
	name, dur, timed := strings.Cut(v, ":")
	var d time.Duration
	if timed {
		var err error
		if d, err = time.ParseDuration(dur); err != nil || d <= 0 {
			return OutageNone, 0, fmt.Errorf("outage %q: duration must be positive, e.g. hang:30s", v)
		}
	}
	for i, n := range outageNames {
		if n == name {
			return OutageMode(i), d, nil
		}
	}
	return OutageNone, 0, fmt.Errorf("outage %q: want reset, hang or drip, optionally with :DURATION", v)
}

// dripEvery paces OutageDrip's body: slow enough that no client finishes.
const dripEvery = time.Second

type outage struct {
	mode  OutageMode
	until time.Time // real time; zero: until switched off
	// changed is closed when the outage is switched, so hanging and
	// dripping requests end with it.
	changed chan struct{}
}

// SetOutage starts an outage of mode now for d real time (d <= 0: until
// SetOutage(OutageNone, 0)). Requests already hanging or dripping are closed
// without an answer when it ends.
func (s *Sim) SetOutage(mode OutageMode, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.outage.changed)
	s.outage = outage{mode: mode, changed: make(chan struct{})}
	if mode != OutageNone && d > 0 {
		s.outage.until = time.Now().Add(d)
	}
}

// outageFor reports the outage r meets, counting it; reset and hang are
// recorded under "outage" since they get no answer.
func (s *Sim) outageFor(route string) outage {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.outage
	if o.mode == OutageNone || !o.until.IsZero() && !time.Now().Before(o.until) {
		return outage{}
	}
	s.stats.outageDropped++
	if o.mode != OutageDrip {
		s.recordRequestLocked(route, "outage")
	}
	return o
}

// withOutage serves r through serve unless an outage is on. Reset and hang
// apply nothing. Drip serves r for real (a 200 means the change was made)
// and then holds its body back: one byte a second, then spaces before the
// last byte (valid JSON whitespace) until the outage ends, when the rest
// follows.
func (s *Sim) withOutage(w http.ResponseWriter, r *http.Request, route string, serve func(http.ResponseWriter)) {
	o := s.outageFor(route)
	switch o.mode {
	case OutageNone:
		serve(w)
	case OutageReset:
		dropConn(w, true)
	case OutageHang:
		// A drained body lets net/http notice the client leaving.
		_, _ = io.Copy(io.Discard, r.Body)
		o.wait(r.Context(), nil)
		dropConn(w, false)
	case OutageDrip:
		d := &dripWriter{captureWriter: captureWriter{header: http.Header{}}, w: w}
		serve(d)
		if !d.hijacked {
			d.drip(r.Context(), o)
		}
	}
}

// dripWriter captures an answer for OutageDrip. It lets a lost answer
// hijack the real connection, after which there is nothing to drip.
type dripWriter struct {
	captureWriter
	w        http.ResponseWriter
	hijacked bool
}

func (d *dripWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := d.w.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	d.hijacked = true
	return hj.Hijack()
}

func (d *dripWriter) drip(ctx context.Context, o outage) {
	for k, v := range d.header {
		d.w.Header()[k] = v
	}
	if d.status == 0 {
		d.status = http.StatusOK
	}
	d.w.WriteHeader(d.status)
	flusher, _ := d.w.(http.Flusher)
	body := d.body.Bytes()
	tick := time.NewTicker(dripEvery)
	defer tick.Stop()
	sent := 0
	for {
		if len(body) > 0 {
			b := []byte{' '}
			if sent < len(body)-1 {
				b = body[sent : sent+1]
				sent++
			}
			if _, err := d.w.Write(b); err != nil {
				return
			}
		}
		if flusher != nil {
			flusher.Flush()
		}
		if !o.wait(ctx, tick.C) {
			break
		}
	}
	if ctx.Err() == nil {
		_, _ = d.w.Write(body[sent:])
	}
}

// wait blocks until tick fires (true) or the outage ends or the client goes
// away (false).
func (o outage) wait(ctx context.Context, tick <-chan time.Time) bool {
	var end <-chan time.Time
	if !o.until.IsZero() {
		t := time.NewTimer(time.Until(o.until))
		defer t.Stop()
		end = t.C
	}
	select {
	case <-tick:
		return true
	case <-end:
	case <-o.changed:
	case <-ctx.Done():
	}
	return false
}
