package ui

import (
	"context"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/flyrescue/flyrescue/recovery"
)

// What a verb's key does follows from how the registry says its plan is
// gathered (VerbSpec.Planner): a verb planned on a selection needs nothing
// here. Only the verbs that ask for more first (a form, a journaled action)
// name what asks.

// formVerb is a verb whose plan a form gathers: the form it opens and how
// the form's answer is planned.
type formVerb struct {
	open func(*Model) tea.Cmd
	plan func(ctx context.Context, eng *recovery.Engine, req planRequest) (*recovery.Plan, error)
}

// formVerbs are the PlansForm verbs' forms.
var formVerbs = map[recovery.Kind]formVerb{
	recovery.KindScale: {(*Model).openScaleForm, func(ctx context.Context, eng *recovery.Engine, req planRequest) (*recovery.Plan, error) {
		return eng.PlanScale(ctx, recovery.ScaleRequest{Group: req.group, Count: req.count, Region: req.region})
	}},
	recovery.KindRollback: {(*Model).openRollbackForm, func(ctx context.Context, eng *recovery.Engine, req planRequest) (*recovery.Plan, error) {
		return eng.PlanRollback(ctx, recovery.RollbackRequest{Selector: selectorOf(req), Release: req.release})
	}},
}

// journalVerbs plan the PlansJournal verbs on a journaled action ("" for
// the newest that fits).
var journalVerbs = map[recovery.Kind]func(*recovery.Engine, context.Context, string) (*recovery.Plan, error){
	recovery.KindUndo:   (*recovery.Engine).PlanUndo,
	recovery.KindResume: (*recovery.Engine).PlanResume,
}

// act does what a verb's key does.
func (m *Model) act(v recovery.VerbSpec) tea.Cmd {
	switch v.Planner {
	case recovery.PlansSelection:
		return m.planOnTargets(v.Kind)
	case recovery.PlansForm:
		if f, ok := formVerbs[v.Kind]; ok {
			return f.open(m)
		}
	case recovery.PlansJournal:
		req := planRequest{kind: v.Kind}
		if v.Kind == recovery.KindResume {
			req.actionID = m.resumeTarget() // the action the header names
		}
		return m.requestPlan(req)
	case recovery.PlansAdvice:
		return m.applyAdvice()
	}
	m.status = fmt.Sprintf("%s cannot be planned in the dashboard yet: use flyrescue %s", v.Kind, v.Command.Name)
	return nil
}

func selectorOf(req planRequest) recovery.Selector {
	return recovery.Selector{MachineIDs: req.ids, Region: req.region}
}

// planFor asks the engine for the plan of req, by its verb's planner.
func planFor(ctx context.Context, eng *recovery.Engine, req planRequest) (*recovery.Plan, error) {
	v, ok := recovery.VerbOf(req.kind)
	switch {
	case !ok:
		return nil, fmt.Errorf("unknown action %q", req.kind)
	case v.Planner == recovery.PlansSelection:
		return eng.PlanVerb(ctx, req.kind, recovery.VerbRequest{Selector: selectorOf(req), Force: req.force, Image: req.image})
	case formVerbs[req.kind].plan != nil:
		return formVerbs[req.kind].plan(ctx, eng, req)
	case journalVerbs[req.kind] != nil:
		return journalVerbs[req.kind](eng, ctx, req.actionID)
	}
	return nil, fmt.Errorf("%s is not planned in the dashboard", req.kind)
}

// verbOf is kind's registry entry; an unknown kind (a plan resuming an
// action of a newer flyrescue) gets one that words it as its name.
func verbOf(kind recovery.Kind) recovery.VerbSpec {
	if v, ok := recovery.VerbOf(kind); ok {
		return v
	}
	return recovery.VerbSpec{Kind: kind, Title: string(kind)}
}

// planTitle opens the plan dialog's title: "Stop", "FORCE-destroy". A
// resume is planned as the kind it resumes: "Resume: finish stop".
func planTitle(p *recovery.Plan, force bool) string {
	v := verbOf(p.Kind)
	if p.Resumes != "" {
		return verbOf(recovery.KindResume).Title + " " + string(p.Kind)
	}
	if force && v.ForceTitle != "" {
		return v.ForceTitle
	}
	return v.Title
}

// forceVerbs are the verbs whose plan can be forced, as the help words
// them ("destroy").
func forceVerbs() []recovery.VerbSpec {
	var out []recovery.VerbSpec
	for _, v := range recovery.Verbs() {
		if v.Force != "" {
			out = append(out, v)
		}
	}
	return out
}

// forceHelp is the plan dialog's force key's help: what force does, per
// verb, from the registry.
func forceHelp() string {
	var parts []string
	for _, v := range forceVerbs() {
		parts = append(parts, string(v.Kind)+": "+lowerFirst(v.Force))
	}
	return "toggle --force (" + strings.Join(parts, "; ") + ")"
}

// opProgressive is what a machine goes through while its step runs.
func opProgressive(op recovery.Op) string {
	if o, ok := recovery.OpOf(op); ok {
		return o.Progressive
	}
	return string(op)
}

// opPast is what a done step did to its machine.
func opPast(op recovery.Op) string {
	if o, ok := recovery.OpOf(op); ok {
		return o.Past
	}
	return "done"
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
