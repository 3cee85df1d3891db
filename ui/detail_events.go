package ui

import (
	"fmt"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
)

// lastExit is the newest exit event that says how the process ended, as
// flyctl's smoke check reads it, and that ending.
func lastExit(events []*flyclient.MachineEvent) (*flyclient.MachineEvent, *model.Exit) {
	for _, e := range events { // newest first
		if e == nil || e.Type != "exit" {
			continue
		}
		if x := flyclient.ExitOf(e); x != nil {
			return e, x
		}
	}
	return nil, nil
}

// exitLine is the detail's "last exit" row: the reason first (exit 137
// oom, ×3 restarts), then when.
func (d *detailPane) exitLine(mc *flyclient.Machine, width int) string {
	t := d.theme
	label := " " + t.Muted.Render(fmt.Sprintf("%-14s", "last exit"))
	e, x := lastExit(mc.Events)
	if x == nil {
		return truncate(label+t.Muted.Render("none in the machine's events"), width)
	}
	style := t.Bad
	if x.Code == 0 || x.RequestedStop && !x.OOMKilled {
		style = t.Muted
	}
	at := e.Time()
	return truncate(label+style.Render(x.Summary())+"   "+at.UTC().Format(time.DateTime)+" ("+humanAge(d.opts.Now().Sub(at), false)+" ago)", width)
}

// eventLines are every event the API returned, newest first; an exit
// event says how the process ended.
func (d *detailPane) eventLines(mc *flyclient.Machine, width int) []string {
	t := d.theme
	out := []string{"", t.Bold.Render(fmt.Sprintf(" Events (newest first, all %d the API returned)", len(mc.Events)))}
	for _, e := range mc.Events {
		if e == nil {
			continue
		}
		how := t.Muted.Render(e.Source)
		if x := flyclient.ExitOf(e); x != nil {
			how += "  " + x.Summary()
		}
		out = append(out, truncate(fmt.Sprintf(" %s  %-8s %s %s", e.Time().UTC().Format(time.DateTime), e.Type,
			t.State(e.Status).Render(fmt.Sprintf("%-10s", e.Status)), how), width))
	}
	return out
}
