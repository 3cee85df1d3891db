package main

import (
	"encoding/json"
	"io"
	"time"

	"github.com/flyrescue/flyrescue/recovery"
)

// jsonStream writes a run as JSON Lines for --json: one "event" object for
// each event that changes a step (or says something about the action), with
// the run's figures after it, then one "result" object. A program reads it
// line by line; people read the plan and messages on stderr.
type jsonStream struct {
	enc *json.Encoder
	// last is each step's phase and reason as last written: an event that
	// repeats them changes nothing and is not written again.
	last map[int]stepShown
}

type stepShown struct {
	phase  recovery.Phase
	reason string
}

func newJSONStream(w io.Writer) *jsonStream {
	return &jsonStream{enc: json.NewEncoder(w), last: map[int]stepShown{}}
}

type jsonEvent struct {
	Type         string         `json:"type"` // "event"
	ActionID     string         `json:"action_id"`
	Seq          int            `json:"seq,omitempty"`
	MachineID    string         `json:"machine_id,omitempty"`
	NewMachineID string         `json:"new_machine_id,omitempty"`
	Op           recovery.Op    `json:"op,omitempty"`
	Phase        recovery.Phase `json:"phase"`
	Group        string         `json:"group,omitempty"`
	Attempt      int            `json:"attempt,omitempty"`
	RetryInMS    int64          `json:"retry_in_ms,omitempty"`
	Reason       string         `json:"reason,omitempty"`
	At           time.Time      `json:"at"`
	Figures      jsonFigures    `json:"figures"`
}

// jsonFigures are recovery.ProgressFigures, with the line people see.
type jsonFigures struct {
	Total      int     `json:"total"`
	Done       int     `json:"done"`
	Failed     int     `json:"failed"`
	Skipped    int     `json:"skipped"`
	Halted     int     `json:"halted"`
	InFlight   int     `json:"in_flight"`
	Waiting    int     `json:"waiting_for_budget"`
	Queued     int     `json:"queued"`
	PerMinute  float64 `json:"per_minute"`
	ETASeconds *int64  `json:"eta_seconds"` // null until a machine has finished
	Stalled    bool    `json:"stalled,omitempty"`
	Text       string  `json:"text"`
}

func figuresJSON(f recovery.ProgressFigures) jsonFigures {
	j := jsonFigures{Total: f.Total, Done: f.Done, Failed: f.Failed, Skipped: f.Skipped, Halted: f.Halted,
		InFlight: f.InFlight, Waiting: f.Waiting, Queued: f.Queued, PerMinute: f.PerMinute, Stalled: f.Stalled, Text: f.String()}
	if f.ETAKnown {
		eta := int64(f.ETA / time.Second)
		j.ETASeconds = &eta
	}
	return j
}

func (s *jsonStream) event(ev recovery.Event, fig recovery.ProgressFigures) {
	if ev.Seq != 0 {
		shown := stepShown{ev.Phase, ev.Reason}
		if prev, ok := s.last[ev.Seq]; ok && prev == shown {
			return
		}
		s.last[ev.Seq] = shown
	}
	_ = s.enc.Encode(jsonEvent{Type: "event", ActionID: ev.ActionID, Seq: ev.Seq, MachineID: ev.MachineID, NewMachineID: ev.NewMachineID,
		Op: ev.Op, Phase: ev.Phase, Group: ev.Group, Attempt: ev.Attempt, RetryInMS: ev.RetryIn.Milliseconds(),
		Reason: ev.Reason, At: ev.At, Figures: figuresJSON(fig)})
}

type jsonResult struct {
	Type        string        `json:"type"` // "result"
	ActionID    string        `json:"action_id"`
	DisplayID   string        `json:"display_id"`
	Kind        recovery.Kind `json:"kind"`
	App         string        `json:"app"`
	Journal     string        `json:"journal"`
	OK          int           `json:"ok"`
	Failed      int           `json:"failed"`
	Skipped     int           `json:"skipped"`
	Interrupted int           `json:"interrupted"`
	Halted      int           `json:"halted"`
	Reconciled  int           `json:"reconciled"`
	Halts       []jsonHalt    `json:"halts"`
	ElapsedMS   int64         `json:"elapsed_ms"`
	Error       string        `json:"error,omitempty"` // the run ended early: why
	Machines    []logMachine  `json:"machines"`        // as log --json shows them
	Figures     jsonFigures   `json:"figures"`
}

type jsonHalt struct {
	Group  string `json:"group"`
	Reason string `json:"reason"`
}

func (s *jsonStream) result(p *recovery.Plan, journal string, res *recovery.Result, runErr error, fig recovery.ProgressFigures) {
	out := jsonResult{Type: "result", ActionID: p.ID, DisplayID: recovery.DisplayID(p.ID), Kind: p.Kind, App: p.App, Journal: journal,
		Halts: []jsonHalt{}, Machines: []logMachine{}, Figures: figuresJSON(fig)}
	if runErr != nil {
		out.Error = runErr.Error()
	}
	if res != nil {
		out.OK, out.Failed, out.Skipped, out.Interrupted, out.Halted, out.Reconciled = res.OK, res.Failed, res.Skipped, res.Interrupted, res.Halted, res.Reconciled
		out.ElapsedMS = res.Elapsed.Milliseconds()
		for _, h := range res.Halts {
			out.Halts = append(out.Halts, jsonHalt{h.Group, h.Reason})
		}
		for _, m := range res.Machines {
			out.Machines = append(out.Machines, logMachine{ID: m.MachineID, Seq: m.Seq, Op: m.Op, Outcome: m.Outcome,
				Error: m.Error, NewMachineID: m.NewMachineID, Attempts: m.Attempts})
		}
	}
	_ = s.enc.Encode(out)
}
