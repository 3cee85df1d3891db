package recovery

import "time"

func newRun(actionID string) *Run {
	r := &Run{
		ActionID: actionID,
		events:   make(chan Event, 256),
		done:     make(chan struct{}),
		wake:     make(chan struct{}, 1),
	}
	go r.pump()
	return r
}

// emit queues an event without ever blocking the engine.
func (r *Run) emit(ev Event) {
	if ev.At.IsZero() {
		ev.At = time.Now()
	}
	if ev.ActionID == "" {
		ev.ActionID = r.ActionID
	}
	r.mu.Lock()
	r.queue = append(r.queue, ev)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// finish records the result and marks the run done (Wait returns at once,
// whoever still reads the events); the pump then delivers the remaining
// events and closes the channel.
func (r *Run) finish(res *Result, err error) {
	r.mu.Lock()
	r.result, r.err = res, err
	r.closed = true
	r.mu.Unlock()
	close(r.done)
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// abandonAfter: once the run is done, a reader that takes no event for
// this long has gone away; the pump stops rather than wait forever.
const abandonAfter = 30 * time.Second

func (r *Run) pump() {
	for {
		r.mu.Lock()
		batch := r.queue
		r.queue = nil
		closed := r.closed
		r.mu.Unlock()
		for _, ev := range batch {
			if !r.deliver(ev) {
				close(r.events)
				return
			}
		}
		if closed && len(batch) == 0 {
			close(r.events)
			return
		}
		if len(batch) == 0 {
			<-r.wake
		}
	}
}

// deliver sends ev; after the run is done it gives up on a reader that
// stopped reading.
func (r *Run) deliver(ev Event) bool {
	select {
	case r.events <- ev:
		return true
	case <-r.done:
	}
	t := time.NewTimer(abandonAfter)
	defer t.Stop()
	select {
	case r.events <- ev:
		return true
	case <-t.C:
		return false
	}
}
