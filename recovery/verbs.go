package recovery

import (
	"context"
	"fmt"

	"github.com/flyrescue/flyrescue/model"
)

// Kind names an action as the operator asked for it.
type Kind string

// Planner says what the dashboard gathers before it asks for a verb's plan.
type Planner string

// Planners.
const (
	// PlansSelection: the marked machines, else the cursor row, through
	// Engine.PlanVerb.
	PlansSelection Planner = "selection"
	// PlansForm: a form asks first (scale: group and count; rollback:
	// release and region).
	PlansForm Planner = "form"
	// PlansJournal: an action of the journal (the newest fitting one by
	// default): undo, resume.
	PlansJournal Planner = "journal"
	// PlansAdvice: the runbook's first advice names the verb and its
	// machines (see KindForAdvice).
	PlansAdvice Planner = "advice"
)

// VerbSpec is one verb as the operator meets it: its dashboard key and help,
// its plan's wording, its command, whether it is dangerous, and how its plan
// is gathered. What it does to each machine is its Op's OpSpec.
type VerbSpec struct {
	Kind Kind
	// Binding is the settings file's name for its dashboard key (keys.NAME).
	Binding string
	// Key is its default dashboard key: never a ctrl+ key, never y (which
	// confirms a plan).
	Key string
	// Help says what the key does, for the help screen and the footer.
	Help string
	// Title opens its plan dialog: "Stop" reads "Stop 3 machines?";
	// ForceTitle replaces it when the plan uses force.
	Title, ForceTitle string
	// Progressive is the action while it runs ("stopping").
	Progressive string
	// Dangerous: it takes machines down, replaces or destroys them, or
	// overrides someone else's claim on them. Every dangerous verb is
	// Mutating.
	Dangerous bool
	// Mutating: it changes machines (read-only mode strips it).
	Mutating bool
	Planner  Planner
	// Op is what each step of a PlansSelection verb does.
	Op Op
	// Force, when set, says what force does (destroy: kill machines that
	// will not stop): the command's --force, the plan dialog's toggle.
	Force string
	// Advice is the runbook verb that names this one ("" for none).
	Advice  model.Verb
	Command Command
	// plan plans a PlansSelection verb.
	plan func(e *Engine, ctx context.Context, v *VerbSpec, req VerbRequest) (*Plan, error)
}

// Command is a verb's subcommand on the command line.
type Command struct {
	// Name is the subcommand; NoCommand says why there is none.
	Name, NoCommand string
	// Args is the usage after the name for commands the CLI builds by
	// hand ("GROUP [COUNT]"); Selects commands take [MACHINE_ID...].
	Args string
	// Short is the one-line summary; Long, when set, the description
	// (the CLI appends how machines are chosen and how actions run).
	Short, Long, Example string
	// Group is the root help group: "act" or "recover".
	Group string
	// Selects: generated from this entry with MACHINE_IDs and --select,
	// planned by Engine.PlanVerb.
	Selects bool
	// Scoped: acting on the whole app needs --all, so a forgotten
	// --select cannot take the app down.
	Scoped bool
}

// VerbRequest is what a PlansSelection verb is planned from.
type VerbRequest struct {
	Selector Selector
	// Force applies to verbs with a Force (destroy).
	Force bool
	// Image and Label apply to update (default: the deploy target and
	// the label derived from its tag).
	Image, Label string
}

// Journaled says whether actions of this kind are written to the journal
// under it (and so what `log --kind` accepts).
func (v VerbSpec) Journaled() bool { return v.Planner != PlansAdvice }

// NoUndo says why an action of this kind cannot be undone, "" when it can.
func (v VerbSpec) NoUndo() string {
	if v.Op == "" {
		return ""
	}
	return opOf(v.Op).NoInverse
}

// Verbs lists the registry in the order the help screen and the command
// line show it.
func Verbs() []VerbSpec {
	out := make([]VerbSpec, len(verbRegistry))
	for i, v := range verbRegistry {
		out[i] = *v
	}
	return out
}

// VerbOf is kind's entry; false for a kind this version does not know.
func VerbOf(kind Kind) (VerbSpec, bool) {
	for _, v := range verbRegistry {
		if v.Kind == kind {
			return *v, true
		}
	}
	return VerbSpec{}, false
}

// ReadOnlyAllowed says whether read-only mode leaves kind bound: only a verb
// that is neither dangerous nor mutating (as k9s strips Dangerous actions).
func ReadOnlyAllowed(kind Kind) bool {
	v, ok := VerbOf(kind)
	return ok && !v.Dangerous && !v.Mutating
}

// KindForAdvice is the verb that carries out an advice's verb.
func KindForAdvice(a model.Verb) (Kind, bool) {
	for _, v := range verbRegistry {
		if a != "" && v.Advice == a {
			return v.Kind, true
		}
	}
	return "", false
}

// JournaledKinds are the kinds the journal records, in registry order.
func JournaledKinds() []Kind {
	var out []Kind
	for _, v := range verbRegistry {
		if v.Journaled() {
			out = append(out, v.Kind)
		}
	}
	return out
}

// PlanVerb plans a PlansSelection verb on req's machines.
func (e *Engine) PlanVerb(ctx context.Context, kind Kind, req VerbRequest) (*Plan, error) {
	for _, v := range verbRegistry {
		if v.Kind == kind && v.plan != nil {
			if v.Force == "" {
				req.Force = false
			}
			return v.plan(e, ctx, v, req)
		}
	}
	return nil, fmt.Errorf("%s is not planned on a selection of machines", kind)
}

// planEach plans a verb whose op acts on each selected machine as it is.
func planEach(e *Engine, ctx context.Context, v *VerbSpec, req VerbRequest) (*Plan, error) {
	return e.withLeases(ctx)(e.planSimple(ctx, v.Kind, v.Op, req.Selector, req.Force))
}
