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

// finish records the result; the pump then delivers the remaining events,
// closes the channel and marks the run done.
func (r *Run) finish(res *Result, err error) {
	r.mu.Lock()
	r.result, r.err = res, err
	r.closed = true
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *Run) pump() {
	for {
		r.mu.Lock()
		batch := r.queue
		r.queue = nil
		closed := r.closed
		r.mu.Unlock()
		for _, ev := range batch {
			r.events <- ev
		}
		if closed && len(batch) == 0 {
			close(r.events)
			close(r.done)
			return
		}
		if len(batch) == 0 {
			<-r.wake
		}
	}
}
