package recovery

import "context"

// PlanUpdate plans moving the selection to req.Image (default: the deploy
// target) with the release label and metadata.
func (e *Engine) PlanUpdate(ctx context.Context, req UpdateRequest) (*Plan, error) {
	return e.withLeases(ctx)(e.planUpdate(ctx, KindUpdate, req))
}

// PlanRestart plans restarting the selected machines (PlanVerb's restart).
func (e *Engine) PlanRestart(ctx context.Context, sel Selector) (*Plan, error) {
	return e.PlanVerb(ctx, KindRestart, VerbRequest{Selector: sel})
}

// PlanStart plans starting the selected machines that are not started.
func (e *Engine) PlanStart(ctx context.Context, sel Selector) (*Plan, error) {
	return e.PlanVerb(ctx, KindStart, VerbRequest{Selector: sel})
}

// PlanStop plans stopping the selected machines that are running.
func (e *Engine) PlanStop(ctx context.Context, sel Selector) (*Plan, error) {
	return e.PlanVerb(ctx, KindStop, VerbRequest{Selector: sel})
}

// PlanDestroy plans destroying the selected machines.
func (e *Engine) PlanDestroy(ctx context.Context, req DestroyRequest) (*Plan, error) {
	return e.PlanVerb(ctx, KindDestroy, VerbRequest{Selector: req.Selector, Force: req.Force})
}

// PlanScale plans bringing a process group to a count (see scale.go).
func (e *Engine) PlanScale(ctx context.Context, req ScaleRequest) (*Plan, error) {
	return e.withLeases(ctx)(e.planScale(ctx, req))
}

// PlanRollback plans moving the selection to an earlier release's image.
func (e *Engine) PlanRollback(ctx context.Context, req RollbackRequest) (*Plan, error) {
	return e.withLeases(ctx)(e.planRollback(ctx, req))
}

// PlanUndo plans the inverse of a journaled action ("" = the newest action
// not yet undone).
func (e *Engine) PlanUndo(ctx context.Context, actionID string) (*Plan, error) {
	return e.planUndo(ctx, actionID)
}

// PlanResume reconciles interrupted actions against live state, journals
// the steps found done, and plans the rest ("" = every unfinished action).
func (e *Engine) PlanResume(ctx context.Context, actionID string) (*Plan, error) {
	return e.planResume(ctx, actionID)
}

// Start executes plan in the background; follow it with Run.Events and
// Run.Wait. Cancelling ctx stops new work, lets in-flight steps finish or
// marks them interrupted, and releases leases.
func (e *Engine) Start(ctx context.Context, plan *Plan) *Run {
	return e.start(ctx, plan)
}

// Execute runs plan to the end, calling onEvent (if not nil) for each event
// from a single goroutine.
func (e *Engine) Execute(ctx context.Context, plan *Plan, onEvent func(Event)) (*Result, error) {
	run := e.start(ctx, plan)
	for ev := range run.Events() {
		if onEvent != nil {
			onEvent(ev)
		}
	}
	return run.Wait()
}
