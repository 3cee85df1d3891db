package recovery

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
)

// UndoRequest asks for the inverse of a journaled action.
type UndoRequest struct {
	// ActionID names the action (a unique suffix will do); "" is the
	// newest action that is neither undone nor itself an undo.
	ActionID string
	// IncludeChanged also puts back machines that changed after the action
	// (by a later action or by anyone outside flyrescue). By default they
	// are left out and listed in Plan.Skipped with what changed, since
	// putting them back would silently overwrite that later change.
	IncludeChanged bool
}

// PlanUndoWith plans the inverse of a journaled action as req asks.
// PlanUndo is its default form.
func (e *Engine) PlanUndoWith(ctx context.Context, req UndoRequest) (*Plan, error) {
	return e.planUndoWith(ctx, req)
}

func (e *Engine) planUndo(ctx context.Context, id string) (*Plan, error) {
	return e.planUndoWith(ctx, UndoRequest{ActionID: id})
}

// undoItem is one machine an action (with its resumes) touched: the intent
// written before the first touch, which holds what to go back to, and the
// step that touched it last, whose outcome says what it was left as.
type undoItem struct {
	first *IntentRecord
	last  MachineLog
	by    *ActionLog
}

// planUndoWith builds the inverse of a journaled action from its intents:
// an update goes back to the saved config, a destroy relaunches the saved
// config (a new machine), a launch is destroyed, stop and start swap, a
// restart cannot be undone. Steps a resume finished are undone too.
// Machines that are no longer as the action left them are left out unless
// req.IncludeChanged.
func (e *Engine) planUndoWith(ctx context.Context, req UndoRequest) (*Plan, error) {
	hist, err := e.history()
	if err != nil {
		return nil, err
	}
	target, err := undoTarget(hist, req.ActionID)
	if err != nil {
		return nil, err
	}
	f, err := e.survey(ctx, "")
	if err != nil {
		return nil, err
	}
	p := e.newPlan(KindUndo, f, "machines changed by "+DisplayID(target.Action.ID))
	p.Undoes = target.Action.ID
	p.Args["undoes_kind"] = string(target.Action.Kind)
	if req.IncludeChanged {
		p.Args["include_changed"] = "true"
	}
	logs := []*ActionLog{target}
	for _, rid := range target.ResumedBy {
		if r, err := FindAction(hist, rid); err == nil {
			logs = append(logs, r)
		}
	}
	var changed []string
	relaunches := 0
	cannot := map[Op]int{}
	u := &undoPlanner{e: e, ctx: ctx, f: f, p: p}
	for _, it := range undoItems(logs) {
		op := opOf(it.first.Op)
		if op.undo == nil {
			if op.NoInverse != "" {
				cannot[op.Op]++
			}
			continue
		}
		s, live, ok := op.undo(u, it)
		if !ok {
			continue
		}
		if s.Config != nil && configRedacted(s.Config) {
			s.Reason = "its saved config held text shaped like a token, which the journal keeps only redacted: putting it back would break the machine; restore it by hand"
			p.Skipped = append(p.Skipped, s)
			continue
		}
		if live != nil {
			if what := op.driftSince(live, it); what != "" {
				why := "changed since " + DisplayID(target.Action.ID) + laterBy(hist, logs, live.ID) + ": " + what
				changed = append(changed, live.ID)
				if !req.IncludeChanged {
					s.Reason = why
					p.Skipped = append(p.Skipped, s)
					continue
				}
				s.Reason += "; put back although " + why
			}
		}
		if s.Op == OpLaunch {
			relaunches++
		}
		p.Steps = append(p.Steps, s)
	}
	if n := len(changed); n > 0 {
		shown := changed[:min(n, 5)]
		more := ""
		if n > len(shown) {
			more = fmt.Sprintf(" and %d more", n-len(shown))
		}
		if req.IncludeChanged {
			p.Notes = append(p.Notes, fmt.Sprintf("%s changed since %s: put back anyway, as asked (%s%s): their later changes are overwritten",
				model.Counted(n, "machine"), DisplayID(target.Action.ID), strings.Join(shown, ", "), more))
		} else {
			p.Notes = append(p.Notes, fmt.Sprintf("%s changed since %s: left out (%s%s): undoing them would overwrite a later change; see the skipped reasons, and include them on purpose with undo --include-changed",
				model.Counted(n, "machine"), DisplayID(target.Action.ID), strings.Join(shown, ", "), more))
		}
	}
	for _, o := range opRegistry {
		if n := cannot[o.Op]; n > 0 {
			p.Notes = append(p.Notes, fmt.Sprintf("%s left as %s: %s", model.Counted(n, string(o.Op)+" step")+model.Agree(n, " is", " are"), model.Agree(n, "it is", "they are"), o.NoInverse))
		}
	}
	if relaunches > 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("%s relaunched from %s saved %s as NEW %s (new IDs, same region and group)", model.Counted(relaunches, "destroyed machine")+model.Agree(relaunches, " is", " are"), model.Agree(relaunches, "its", "their"), model.Agree(relaunches, "config", "configs"), model.Agree(relaunches, "machine", "machines")))
	}
	if len(p.Steps) == 0 && len(p.Skipped) == 0 {
		if v, ok := VerbOf(target.Action.Kind); ok && v.NoUndo() != "" {
			return nil, nothingToDo("action %s was a %s: %s", target.Action.ID, v.Kind, v.NoUndo())
		}
		return nil, nothingToDo("action %s changed no machine that can be put back", target.Action.ID)
	}
	return p.sorted(), nil
}

// undoItems lists the machines logs touched, once each, in journal order.
// A step a resume ran again after an interruption belongs to the machine
// the interrupted step began on: the first intent says what it was before,
// the resume's outcome what it was left as. Launches have no ID to match
// on until they are done and stay apart.
func undoItems(logs []*ActionLog) []*undoItem {
	var items []*undoItem
	byMachine := map[string]*undoItem{}
	for _, a := range logs {
		for _, ml := range a.Machines {
			if ml.Intent == nil || ml.Status() == OutcomeSkipped {
				continue // never touched
			}
			id := ml.Intent.MachineID
			if it := byMachine[id]; id != "" && it != nil {
				it.last, it.by = ml, a
				continue
			}
			it := &undoItem{first: ml.Intent, last: ml, by: a}
			items = append(items, it)
			if id != "" {
				byMachine[id] = it
			}
		}
	}
	return items
}

// changedSince says how live differs from what the action left it as
// ("" when it does not, or when that is not known). The outcome of the
// last step is the record; when a step has none (interrupted, never
// resumed), an update is still caught by an image that is neither the one
// it set nor the one before.
func changedSince(live *flyclient.Machine, it *undoItem) string {
	now := describeMachine(configImage(live), live.InstanceID, live.State)
	if o := it.last.Outcome; o != nil && (o.InstanceAfter != "" || o.ImageAfter != "" || o.StateAfter != "") {
		differs := o.InstanceAfter != "" && live.InstanceID != o.InstanceAfter ||
			o.ImageAfter != "" && !sameImage(configImage(live), o.ImageAfter) ||
			// A state the step saw mid-transition says nothing about where
			// the machine was headed.
			o.StateAfter != "" && !model.IsTransitional(o.StateAfter) && !sameState(live.State, o.StateAfter)
		if differs {
			return "now " + now + "; expected " + describeMachine(o.ImageAfter, o.InstanceAfter, o.StateAfter)
		}
		return ""
	}
	in := it.last.Intent
	if in.Op == OpUpdate && in.ToImage != "" && !sameImage(configImage(live), in.ToImage) && !sameImage(configImage(live), in.ImageBefore) {
		return "now " + now + "; expected " + imageTag(in.ToImage) + " (or " + imageTag(in.ImageBefore) + " if the interrupted update never took)"
	}
	return ""
}

func describeMachine(image, instance, state string) string {
	var parts []string
	if image != "" {
		parts = append(parts, "on "+imageTag(image))
	}
	if instance != "" {
		parts = append(parts, "instance "+instance)
	}
	if state != "" {
		parts = append(parts, state)
	}
	return strings.Join(parts, ", ")
}

func imageTag(image string) string {
	if t := model.ImageTag(image); t != "" {
		return t
	}
	return image
}

func sameState(a, b string) bool {
	stopped := func(s string) bool { return s == model.StateStopped || s == model.StateSuspended }
	return a == b || stopped(a) && stopped(b)
}

// laterBy names the newest journaled action, other than logs, that touched
// machine id after them, or says nothing in the journal did.
func laterBy(hist, logs []*ActionLog, id string) string {
	own := map[*ActionLog]bool{}
	for _, a := range logs {
		own[a] = true
	}
	for i := len(hist) - 1; i >= 0 && hist[i] != logs[0]; i-- {
		a := hist[i]
		if own[a] {
			continue
		}
		for _, ml := range a.Machines {
			if ml.Intent == nil || ml.Status() == OutcomeSkipped {
				continue
			}
			if ml.Intent.MachineID == id || ml.Outcome != nil && ml.Outcome.NewMachineID == id {
				return " by " + DisplayID(a.Action.ID) + " (" + string(a.Action.Kind) + ")"
			}
		}
	}
	return " outside flyrescue's journal (a deploy, fly CLI, another tool or flyd)"
}

// redactedMark is what flyclient.Redact puts in place of a secret.
const redactedMark = "[REDACTED]"

// configRedacted says whether a saved config lost part of itself to the
// journal's redaction; applying it would write the mark into the machine.
func configRedacted(c *flyclient.MachineConfig) bool {
	b, err := json.Marshal(c)
	return err != nil || strings.Contains(string(b), redactedMark)
}

// undoTarget finds the action to undo: the named one, else the newest that
// is neither undone nor itself an undo.
func undoTarget(hist []*ActionLog, id string) (*ActionLog, error) {
	if id != "" {
		a, err := FindAction(hist, id)
		if err != nil {
			return nil, err
		}
		if a.UndoneBy != "" {
			return nil, nothingToDo("action %s was already undone by %s", DisplayID(a.Action.ID), DisplayID(a.UndoneBy))
		}
		return a, nil
	}
	resumed := map[string]bool{}
	for _, a := range hist {
		if a.Action.Resumes != "" {
			resumed[a.Action.ID] = true
		}
	}
	for i := len(hist) - 1; i >= 0; i-- {
		a := hist[i]
		// A resume is undone together with the action it finished.
		if a.UndoneBy == "" && a.Action.Undoes == "" && !resumed[a.Action.ID] {
			return a, nil
		}
	}
	return nil, nothingToDo("nothing to undo: every journaled action is already undone")
}

// actionGuard is checked under the journal's lock just before a plan's
// action record is written (see Journal.AppendGuarded): whatever another
// flyrescue recorded since this plan was made, an action is undone once,
// resumed once, and a plan runs once.
func (e *Engine) actionGuard(p *Plan) func(hist []*ActionLog) error {
	if p == nil {
		return nil
	}
	id, undoes, resumes := p.ID, p.Undoes, p.Resumes
	return func(hist []*ActionLog) error {
		for _, a := range hist {
			switch {
			case a.Action.ID == id:
				return fmt.Errorf("plan %s was already started (its action is in the journal): plan again to run it again; nothing was changed", DisplayID(id))
			case undoes != "" && a.Action.Undoes == undoes:
				return nothingToDo("action %s was already undone by %s (another flyrescue?): nothing was changed", DisplayID(undoes), DisplayID(a.Action.ID))
			case resumes != "" && a.Action.Resumes == resumes:
				return nothingToDo("action %s was already resumed by %s (another flyrescue?): nothing was changed; if that run did not finish, resume %s", DisplayID(resumes), DisplayID(a.Action.ID), DisplayID(a.Action.ID))
			}
		}
		return nil
	}
}

// nothingToDoError has its own message and matches ErrNothingToDo, so the
// command line can tell "nothing left to do" from a failure.
type nothingToDoError struct{ msg string }

func nothingToDo(format string, args ...any) error {
	return &nothingToDoError{msg: fmt.Sprintf(format, args...)}
}

func (e *nothingToDoError) Error() string        { return e.msg }
func (e *nothingToDoError) Is(target error) bool { return target == ErrNothingToDo }
