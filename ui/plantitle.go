package ui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

// planHeading is the question a plan dialog asks. An undo says what it
// undoes and when ("Undo stop 031500-a1b2c3 (4m ago): start 3 machines?"),
// a resume what it finishes; the rest say their verb and how many machines.
func planHeading(p *recovery.Plan, req planRequest, now time.Time) string {
	switch {
	case p.Undoes != "":
		return fmt.Sprintf("Undo %s: %s?", actionRef(p.Args["undoes_kind"], p.Undoes, now), stepsSummary(p.Steps))
	case p.Resumes != "" && len(p.Steps) == 0:
		return fmt.Sprintf("Resume %s: nothing left to run; record what was found?", actionRef(string(p.Kind), p.Resumes, now))
	case p.Resumes != "":
		return fmt.Sprintf("Resume %s: finish it, %s?", actionRef(string(p.Kind), p.Resumes, now), stepsSummary(p.Steps))
	case p.Kind == recovery.KindScale:
		group, count := p.Args["group"], p.Args["count"]
		if group == "" {
			group, count = req.group, fmt.Sprint(req.count)
		}
		return fmt.Sprintf("Scale %s to %s (%s)?", group, count, model.Counted(len(p.Steps), "step"))
	}
	return fmt.Sprintf("%s %s?", planTitle(p, req.force), model.Counted(len(p.Steps), "machine"))
}

// actionRef names a journaled action as the dialogs do: its kind, its short
// ID and how long ago it began (read from the ID, which starts with its UTC
// start time; an ID of another shape goes without).
func actionRef(kind, id string, now time.Time) string {
	ref := strings.TrimSpace(kind + " " + recovery.DisplayID(id))
	if at, ok := actionStart(id); ok {
		ref += " (" + humanAge(now.Sub(at), false) + " ago)"
	}
	return ref
}

// actionStart is when the action of id began.
func actionStart(id string) (time.Time, bool) {
	const layout = "20060102T150405"
	if len(id) < len(layout) {
		return time.Time{}, false
	}
	at, err := time.Parse(layout, id[:len(layout)])
	return at, err == nil
}

// stepsSummary says what steps do, op by op in the order they first come:
// "start 3 machines", "launch 2 new machines and destroy 1 machine".
func stepsSummary(steps []recovery.Step) string {
	var ops []recovery.Op
	n := map[recovery.Op]int{}
	for _, s := range steps {
		if n[s.Op] == 0 {
			ops = append(ops, s.Op)
		}
		n[s.Op]++
	}
	if len(ops) == 0 {
		return "nothing to run"
	}
	parts := make([]string, len(ops))
	for i, op := range ops {
		switch op {
		case recovery.OpLaunch:
			parts[i] = "launch " + model.Counted(n[op], "new machine")
		case recovery.OpClearLease:
			parts[i] = "clear the leases of " + model.Counted(n[op], "machine")
		default:
			parts[i] = string(op) + " " + model.Counted(n[op], "machine")
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// changesImages says whether any step puts another image on a machine: only
// then do the dialog's from and to rows say something the title does not
// (a restart, stop or destroy keeps the image it has).
func changesImages(steps []recovery.Step) bool {
	return slices.ContainsFunc(steps, func(s recovery.Step) bool {
		return s.ToImage != "" && s.ToImage != s.FromImage
	})
}
