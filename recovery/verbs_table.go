package recovery

import (
	"context"

	"github.com/flyrescue/flyrescue/model"
)

// Action kinds, one per entry of the verb registry below. An undo or a
// resume is recorded with the kind of what it does (e.g. an undo of a
// destroy is a "launch" action) plus Undoes/Resumes.
const (
	KindUpdate   Kind = "update"
	KindRestart  Kind = "restart"
	KindStart    Kind = "start"
	KindStop     Kind = "stop"
	KindSuspend  Kind = "suspend"
	KindCordon   Kind = "cordon"
	KindUncordon Kind = "uncordon"
	KindDestroy  Kind = "destroy"
	KindScale    Kind = "scale"
	KindRollback Kind = "rollback"
	KindUndo     Kind = "undo"
	KindResume   Kind = "resume"
	// KindClearLease clears leases whose holders are gone.
	KindClearLease Kind = "clear-lease"
	// KindApplyAdvice opens the plan of the runbook's first advised step;
	// it is never journaled: the action it opens is, under its own kind.
	KindApplyAdvice Kind = "apply-advice"
)

// verbRegistry is every verb, in help order. The dashboard's keymap, help
// screen, plan wording and advice mapping, and the command line's
// subcommands, help groups and `log --kind`, are built from it.
//
// Keys: never a ctrl+ key (too easy to hit by accident), never y (it
// confirms a plan), never a key the dashboard uses otherwise (registry_test
// lists those). The first verbs kept their keys (u r D s b U R f); the
// machine-state verbs take capitals, mnemonic where the letter was free: S
// stops, T starts (sTart: s scales), Z suspends (sleep), C cordons (c
// dismisses), O uncordons (open to traffic again), L clears leases.
var verbRegistry = []*VerbSpec{
	{
		Kind: KindUpdate, Binding: "update", Key: "u", Help: "update to target", Title: "Update to the target image:",
		Progressive: "updating", Dangerous: true, Mutating: true, Planner: PlansSelection, Op: OpUpdate, Advice: model.ActionUpdate,
		Command: Command{Name: "update", Group: "act", Selects: true,
			Short: "Update machines to the target image (or --image), with the release label and metadata",
			Long: `Update machines to the deploy's target image (the newest release's, or --image), setting the
release label env var (--label-env, RELEASE_LABEL by default) and the fly_release_* metadata as
"fly deploy" would. The rest of each machine's config is kept. Machines already on the target
and running are left alone; machines stuck in a transitional state are skipped (destroy them).`,
			Example: `  flyrescue update -a my-app --select 'image:old -stuck' --dry-run
  flyrescue update -a my-app --select 'group:worker_autoscale state:failed' --yes
  flyrescue update -a my-app 3d8d9e1f2b7689 --image registry.fly.io/my-app:deployment-01HX...`},
		plan: func(e *Engine, ctx context.Context, _ *VerbSpec, req VerbRequest) (*Plan, error) {
			return e.withLeases(ctx)(e.planUpdate(ctx, KindUpdate, UpdateRequest{Selector: req.Selector, Image: req.Image, Label: req.Label}))
		},
	},
	{
		Kind: KindRestart, Binding: "restart", Key: "r", Help: "restart", Title: "Restart",
		Progressive: "restarting", Dangerous: true, Mutating: true, Planner: PlansSelection, Op: OpRestart, Advice: model.ActionRestart,
		Command: Command{Name: "restart", Group: "act", Selects: true, Scoped: true,
			Short: "Restart machines (cannot be undone)",
			Example: `  flyrescue restart -a my-app --select 'group:worker_autoscale' --max-unavailable 1
  flyrescue restart -a my-app 3d8d9e1f2b7689`},
		plan: planEach,
	},
	{
		Kind: KindStart, Binding: "start", Key: "T", Help: "start", Title: "Start",
		Progressive: "starting", Mutating: true, Planner: PlansSelection, Op: OpStart,
		Command: Command{Name: "start", Group: "act", Selects: true,
			Short:   "Start stopped machines",
			Example: `  flyrescue start -a my-app --select 'state:stopped group:web'`},
		plan: planEach,
	},
	{
		Kind: KindStop, Binding: "stop", Key: "S", Help: "stop", Title: "Stop",
		Progressive: "stopping", Dangerous: true, Mutating: true, Planner: PlansSelection, Op: OpStop,
		Command: Command{Name: "stop", Group: "act", Selects: true, Scoped: true,
			Short:   "Stop machines",
			Example: `  flyrescue stop -a my-app --select 'group:worker image:old' --dry-run`},
		plan: planEach,
	},
	{
		Kind: KindSuspend, Binding: "suspend", Key: "Z", Help: "suspend", Title: "Suspend",
		Progressive: "suspending", Dangerous: true, Mutating: true, Planner: PlansSelection, Op: OpSuspend,
		Command: Command{Name: "suspend", Group: "act", Selects: true, Scoped: true,
			Short: "Suspend started machines: a start resumes them from memory, faster than a cold boot",
			Long: `Suspend started machines: flyd snapshots each one's memory and stops it, and the next start
resumes it where it was. Only started machines can be suspended; a machine flyd stops instead
(it could not snapshot it) is reported as failed, since its next start is a cold boot. Undo
starts them again.`,
			Example: `  flyrescue suspend -a my-app --select 'group:worker' --dry-run`},
		plan: planEach,
	},
	{
		Kind: KindCordon, Binding: "cordon", Key: "C", Help: "cordon (no traffic)", Title: "Cordon",
		Progressive: "cordoning", Dangerous: true, Mutating: true, Planner: PlansSelection, Op: OpCordon,
		Command: Command{Name: "cordon", Group: "act", Selects: true, Scoped: true,
			Short: "Take machines out of Fly Proxy's routing, leaving them running",
			Long: `Cordon machines: Fly Proxy stops routing requests to them (and stops autostarting them), while
they keep running, so you can look at one misbehaving machine without users reaching it. A
cordoned machine serves nothing, so it counts against --max-unavailable. Undo uncordons them.`,
			Example: `  flyrescue cordon -a my-app 3d8d9e1f2b7689
  flyrescue cordon -a my-app --select 'checks:critical group:web' --dry-run`},
		plan: planEach,
	},
	{
		Kind: KindUncordon, Binding: "uncordon", Key: "O", Help: "uncordon (traffic again)", Title: "Uncordon",
		Progressive: "uncordoning", Mutating: true, Planner: PlansSelection, Op: OpUncordon,
		Command: Command{Name: "uncordon", Group: "act", Selects: true,
			Short:   "Let Fly Proxy route to cordoned machines again",
			Example: `  flyrescue uncordon -a my-app 3d8d9e1f2b7689`},
		plan: planEach,
	},
	{
		Kind: KindDestroy, Binding: "destroy", Key: "D", Help: "destroy", Title: "Destroy", ForceTitle: "FORCE-destroy",
		Progressive: "destroying", Dangerous: true, Mutating: true, Planner: PlansSelection, Op: OpDestroy, Advice: model.ActionDestroy,
		Force: "Kill machines that are running or will not stop",
		Command: Command{Name: "destroy", Group: "act", Selects: true, Scoped: true,
			Short: "Destroy machines (undo relaunches their saved configs as new machines)",
			Example: `  flyrescue destroy -a my-app --select 'stuck group:worker' --force
  flyrescue destroy -a my-app 3d8d9e1f2b7689 918543d1c04e38 --force --yes`},
		plan: planEach,
	},
	{
		Kind: KindScale, Binding: "scale", Key: "s", Help: "scale group", Title: "Scale",
		Progressive: "scaling", Dangerous: true, Mutating: true, Planner: PlansForm, Advice: model.ActionScale,
		Command: Command{Name: "scale", Args: "GROUP [COUNT]", Group: "act",
			Short: "Scale a process group to a count; --back returns it to the count it had before the incident",
			Long: `Scale a process group (optionally in one region) to COUNT machines. Scaling up clones the
config of a healthy machine of the group on the target image; scaling down removes the worst
first: failed, stuck, old image, failing checks, then the newest. --back returns the group to the
count the journal first recorded for it, i.e. before the incident.`,
			Example: "  flyrescue scale worker 12 -a my-app\n  flyrescue scale web --back --region iad -a my-app"},
	},
	{
		Kind: KindRollback, Binding: "rollback", Key: "b", Help: "roll back", Title: "Roll back",
		Progressive: "rolling back", Dangerous: true, Mutating: true, Planner: PlansForm, Op: OpUpdate, Advice: model.ActionRollback,
		Command: Command{Name: "rollback", Args: "[MACHINE_ID...]", Group: "act",
			Short: "Update the app (or one region, or a selection) to an earlier release's image and label",
			Long: `Roll machines back to a release's image and label (--release, default: the last complete
release before the target). Config, secrets and database migrations are not rolled back. On a
multi-region app, roll back one region first (--region) and watch it.`,
			Example: "  flyrescue rollback -a my-app --release v61 --region iad"},
	},
	{
		Kind: KindUndo, Binding: "undo", Key: "U", Help: "undo last action", Title: "Undo: act on",
		Progressive: "undoing", Dangerous: true, Mutating: true, Planner: PlansJournal,
		Command: Command{Name: "undo", Args: "[ACTION]", Group: "recover",
			Short: "Undo an action from the journal (default: the newest not yet undone)",
			Long: `Builds the inverse of a journaled action from what it recorded: updates go back to the saved
configs, destroyed machines are relaunched from their saved configs (as NEW machines, same region and
group), scaling is reversed, stop and start swap. A restart cannot be undone; nor can an action twice.
ACTION is an action ID from "flyrescue log".

Machines that changed since the action (a later action, a deploy, someone with fly CLI) are left out
and listed with what changed, so the undo never silently overwrites that change; --include-changed
puts them back too.`,
			Example: "  flyrescue undo -a my-app --dry-run\n  flyrescue undo -a my-app 01JD3Q6T4Y8XK2\n  flyrescue undo -a my-app 01JD3Q6T4Y8XK2 --include-changed --dry-run"},
	},
	{
		Kind: KindResume, Binding: "resume", Key: "R", Help: "resume interrupted", Title: "Resume: finish",
		Progressive: "resuming", Dangerous: true, Mutating: true, Planner: PlansJournal,
		Command: Command{Name: "resume", Args: "[ACTION]", Group: "recover",
			Short: "Finish an action that was interrupted (the process died or was cancelled)",
			Long: `Reconciles steps that began but have no outcome against live state: the ones that happened are
shown as found done, and the rest, and steps that never began, are offered to run again. Planning
writes nothing: the steps found done are recorded in the journal only when the resume runs, so
--dry-run and --read-only leave it as it was. When every step was found done there is nothing to
confirm (no machine changes): resume just records that.`,
			Example: "  flyrescue resume -a my-app"},
	},
	{
		Kind: KindClearLease, Binding: "clear_lease", Key: "L", Help: "clear others' leases", Title: "Clear the leases of",
		Progressive: "clearing leases", Dangerous: true, Mutating: true, Planner: PlansSelection, Op: OpClearLease,
		Command: Command{Name: "clear-lease", Group: "act", Selects: true, Scoped: true,
			Short: "Clear leases whose holders are gone (a stalled deploy), so the machines can be repaired",
			Long: `Clear the leases other holders keep on machines, as "fly machine leases clear" does, for a
holder that is gone: a deploy that died holding day-long leases, a crashed script. The plan names
every holder and what it said it was doing. Each step clears only the very lease the plan saw: a
holder that is alive and renewed or re-took its lease is left alone. Leases flyrescue itself holds
are never cleared (they end with their action). A cleared lease cannot be undone.`,
			Example: `  flyrescue clear-lease -a my-app 3d8d9e1f2b7689 --dry-run
  flyrescue clear-lease -a my-app --select 'image:old' --yes`},
		plan: func(e *Engine, ctx context.Context, _ *VerbSpec, req VerbRequest) (*Plan, error) {
			return e.PlanClearLeases(ctx, req.Selector)
		},
	},
	{
		Kind: KindApplyAdvice, Binding: "advice", Key: "f", Help: "apply advised step", Title: "Apply the advised step:",
		Progressive: "applying advice", Dangerous: true, Mutating: true, Planner: PlansAdvice,
		Command: Command{NoCommand: "`flyrescue status` prints the runbook's advice: each step names its verb and machines, for that verb's command"},
	},
}
